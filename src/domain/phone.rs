//! Phone numbers as customers type them, normalised to E.164.

use std::fmt;

/// Deserialising validates too: a stored or submitted number must already
/// be in international form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl TryFrom<String> for PhoneNumber {
    type Error = BadPhone;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PhoneNumber::parse(&s, None)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a phone number: {0:?}")]
pub struct BadPhone(pub String);

impl PhoneNumber {
    /// `default_calling_code` (66 for Thailand, 84 for Vietnam) turns a local
    /// number with a trunk 0 into international form.
    pub fn parse(input: &str, default_calling_code: Option<u16>) -> Result<PhoneNumber, BadPhone> {
        let bad = || BadPhone(input.to_string());
        let trimmed = input.trim();
        let mut digits = String::new();
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                // Thai and Arabic-Indic digits do occur in typed input.
                '๐'..='๙' => digits.push(char::from(b'0' + (c as u32 - '๐' as u32) as u8)),
                '+' if i == 0 => {}
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(bad()),
            }
        }
        let international = if trimmed.starts_with('+') {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_string()
        } else if let (Some(rest), Some(cc)) = (digits.strip_prefix('0'), default_calling_code) {
            format!("{cc}{rest}")
        } else if default_calling_code
            .map(|cc| digits.starts_with(&cc.to_string()))
            .unwrap_or(false)
        {
            digits
        } else {
            return Err(bad());
        };
        if !(8..=15).contains(&international.len()) || international.starts_with('0') {
            return Err(bad());
        }
        Ok(PhoneNumber(format!("+{international}")))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The calling code a number typed without one most likely has, from the
/// shop's currency (a THB shop's customers dial +66).
pub fn calling_code_for(currency: super::Currency) -> Option<u16> {
    match currency.code() {
        "THB" => Some(66),
        "VND" => Some(84),
        "LAK" => Some(856),
        "KHR" => Some(855),
        "MYR" => Some(60),
        "SGD" => Some(65),
        "IDR" => Some(62),
        "PHP" => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_local_and_international_forms() {
        let th = Some(66);
        assert_eq!(
            PhoneNumber::parse("081-234-5678", th).unwrap().as_str(),
            "+66812345678"
        );
        assert_eq!(
            PhoneNumber::parse("+66 81 234 5678", th).unwrap().as_str(),
            "+66812345678"
        );
        assert_eq!(
            PhoneNumber::parse("0066812345678", th).unwrap().as_str(),
            "+66812345678"
        );
        assert_eq!(
            PhoneNumber::parse("๐๘๑๒๓๔๕๖๗๘", th).unwrap().as_str(),
            "+66812345678"
        );
        assert_eq!(
            PhoneNumber::parse("0912 345 678", Some(84))
                .unwrap()
                .as_str(),
            "+84912345678"
        );
        assert!(PhoneNumber::parse("12345", th).is_err());
        assert!(PhoneNumber::parse("call me", th).is_err());
        assert!(PhoneNumber::parse("0812345678", None).is_err());
        assert!(PhoneNumber::parse("+1 (555) 010-9999 ext 2", None).is_err());
    }
}
