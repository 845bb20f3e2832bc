//! Money as integer minor units with an ISO 4217 currency.
//! Arithmetic is checked: a currency mix-up or an overflow is an error, never
//! a silently wrong total.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("unknown currency {0:?} (use an ISO 4217 code such as THB, VND, USD)")]
    UnknownCurrency(String),
    #[error("cannot combine {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
    #[error("not an amount: {0:?}")]
    BadAmount(String),
    #[error("{0} must be between 0 and {MAX_MINOR} minor units")]
    OutOfRange(String),
}

/// The largest amount a shop can hold, in minor units (10^12: ten billion
/// baht or dollars). Every amount taken from input, and every total, stays
/// within `0..=MAX_MINOR`, so sums of a few of them cannot overflow `i64`.
pub const MAX_MINOR: i64 = 1_000_000_000_000;

/// `minor` if it is an amount a shop can hold, else why not.
pub fn in_range(minor: i64, what: &str) -> Result<i64, MoneyError> {
    if (0..=MAX_MINOR).contains(&minor) {
        Ok(minor)
    } else {
        Err(MoneyError::OutOfRange(what.to_string()))
    }
}

/// (code, minor digits, symbol, symbol goes after the number)
const CURRENCIES: &[(&str, u8, &str, bool)] = &[
    ("THB", 2, "฿", false),
    ("VND", 0, "₫", true),
    ("USD", 2, "$", false),
    ("EUR", 2, "€", false),
    ("GBP", 2, "£", false),
    ("JPY", 0, "¥", false),
    ("SGD", 2, "S$", false),
    ("MYR", 2, "RM", false),
    ("IDR", 2, "Rp", false),
    ("PHP", 2, "₱", false),
    ("LAK", 2, "₭", false),
    ("KHR", 2, "៛", true),
];

impl Currency {
    pub const THB: Currency = Currency(*b"THB");
    pub const VND: Currency = Currency(*b"VND");
    pub const USD: Currency = Currency(*b"USD");

    fn entry(self) -> &'static (&'static str, u8, &'static str, bool) {
        CURRENCIES
            .iter()
            .find(|c| c.0.as_bytes() == self.0)
            .unwrap_or(&CURRENCIES[2])
    }
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
    pub fn minor_digits(self) -> u8 {
        self.entry().1
    }
    pub fn symbol(self) -> &'static str {
        self.entry().2
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|c| c.0 == up)
            .map(|c| {
                let b = c.0.as_bytes();
                Currency([b[0], b[1], b[2]])
            })
            .ok_or(MoneyError::UnknownCurrency(s.to_string()))
    }
}
impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }
    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }
    pub fn is_zero(self) -> bool {
        self.minor == 0
    }
    fn same(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }
    pub fn checked_mul(self, qty: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(qty).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// Parses a human amount ("1,250.50", "1250", "฿1,250") in this currency's
    /// major units. Used for admin input and typed chat amounts.
    pub fn parse_major(input: &str, currency: Currency) -> Result<Money, MoneyError> {
        let bad = || MoneyError::BadAmount(input.to_string());
        let digits_only: String = input
            .trim()
            .trim_start_matches(currency.symbol())
            .trim_end_matches(currency.symbol())
            .chars()
            .filter(|c| *c != ',' && *c != '_' && !c.is_whitespace())
            .collect();
        if digits_only.is_empty() || digits_only.starts_with('-') {
            return Err(bad());
        }
        let (whole, frac) = match digits_only.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits_only.as_str(), ""),
        };
        let md = usize::from(currency.minor_digits());
        if frac.len() > md
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
            || whole.is_empty()
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let mut frac_val: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| bad())?
        };
        for _ in frac.len()..md {
            frac_val *= 10;
        }
        let minor = whole
            .checked_mul(10_i64.pow(md as u32))
            .and_then(|v| v.checked_add(frac_val))
            .ok_or(MoneyError::Overflow)?;
        in_range(minor, "the amount")?;
        Ok(Money::new(minor, currency))
    }

    /// The amount in major units as a plain decimal string ("1250.00"), as
    /// payment QR payloads and receipts want it.
    pub fn to_decimal_string(self) -> String {
        let md = u32::from(self.currency.minor_digits());
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if md == 0 {
            return format!("{sign}{abs}");
        }
        let p = 10_u64.pow(md);
        format!("{sign}{}.{:0width$}", abs / p, abs % p, width = md as usize)
    }

    /// Locale-aware display: `฿1,250.00` in en/th, `1.250.000 ₫` in vi.
    pub fn display(self, locale: &str) -> String {
        self.display_as(locale, AmountStyle::default())
    }

    /// As [`display`](Self::display), written the shop's way: with the
    /// symbol, the code or the word, and with or without `.00`.
    pub fn display_as(self, locale: &str, style: AmountStyle) -> String {
        let vi = locale.starts_with("vi");
        let (group, decimal) = if vi { ('.', ',') } else { (',', '.') };
        let md = u32::from(self.currency.minor_digits());
        let abs = self.minor.unsigned_abs();
        let p = 10_u64.pow(md);
        let whole = (abs / p).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (i, ch) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(group);
            }
            grouped.push(ch);
        }
        if md > 0 && !(style.whole_without_decimals && abs.is_multiple_of(p)) {
            grouped.push(decimal);
            grouped.push_str(&format!("{:0width$}", abs % p, width = md as usize));
        }
        let sign = if self.minor < 0 { "-" } else { "" };
        let (code, _, symbol, after) = *self.currency.entry();
        match style.unit {
            CurrencyUnit::Symbol if !(after || vi) => format!("{sign}{symbol}{grouped}"),
            CurrencyUnit::Symbol => format!("{sign}{grouped} {symbol}"),
            CurrencyUnit::Code => format!("{sign}{grouped} {code}"),
            CurrencyUnit::Word => {
                let word = currency_word(code, locale).unwrap_or(code);
                format!("{sign}{grouped} {word}")
            }
        }
    }
}

/// How a shop writes amounts to its customers and on its bills.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmountStyle {
    pub unit: CurrencyUnit,
    /// `฿1,250` rather than `฿1,250.00` when there are no satang or cents.
    pub whole_without_decimals: bool,
}

/// `symbol`: ฿1,250.00 · `code`: 1,250.00 THB · `word`: 1,250.00 บาท.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurrencyUnit {
    #[default]
    Symbol,
    Code,
    Word,
}

/// The currency's name as a customer writes it after an amount, where
/// chatbill knows it; otherwise the code is written.
fn currency_word(code: &str, locale: &str) -> Option<&'static str> {
    let lang = locale.get(..2).unwrap_or(locale);
    Some(match (code, lang) {
        ("THB", "th") => "บาท",
        ("THB", _) => "baht",
        ("VND", "vi") => "đồng",
        ("VND", "th") => "ดอง",
        ("VND", _) => "dong",
        ("USD", "th") => "ดอลลาร์",
        ("USD", "vi") => "đô la",
        ("USD", _) => "dollars",
        ("LAK", "th") => "กีบ",
        ("LAK", _) => "kip",
        _ => return None,
    })
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display("en"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_per_locale_and_currency() {
        assert_eq!(
            Money::new(125_000, Currency::THB).display("th"),
            "฿1,250.00"
        );
        assert_eq!(
            Money::new(125_000, Currency::THB).display("en"),
            "฿1,250.00"
        );
        assert_eq!(
            Money::new(1_250_000, Currency::VND).display("vi"),
            "1.250.000 ₫"
        );
        assert_eq!(
            Money::new(1_250_000, Currency::VND).display("en"),
            "1,250,000 ₫"
        );
        assert_eq!(Money::new(-5, Currency::USD).display("en"), "-$0.05");
        let style = |unit, whole_without_decimals| AmountStyle {
            unit,
            whole_without_decimals,
        };
        let thb = Money::new(125_000, Currency::THB);
        assert_eq!(
            thb.display_as("th", style(CurrencyUnit::Word, true)),
            "1,250 บาท"
        );
        assert_eq!(
            thb.display_as("en", style(CurrencyUnit::Code, false)),
            "1,250.00 THB"
        );
        assert_eq!(
            Money::new(125_050, Currency::THB).display_as("en", style(CurrencyUnit::Word, true)),
            "1,250.50 baht",
            "satang are never dropped"
        );
        assert_eq!(
            Money::new(1_250_000, Currency::VND).display_as("vi", style(CurrencyUnit::Word, true)),
            "1.250.000 đồng"
        );
        assert_eq!(
            Money::new(100, "EUR".parse::<Currency>().unwrap())
                .display_as("th", style(CurrencyUnit::Word, false)),
            "1.00 EUR",
            "a currency without a known word is written by its code"
        );
        assert_eq!(Money::new(99, Currency::THB).to_decimal_string(), "0.99");
        assert_eq!(Money::new(1_000, Currency::VND).to_decimal_string(), "1000");
    }

    #[test]
    fn parses_major_units_strictly() {
        let thb = |s| Money::parse_major(s, Currency::THB);
        assert_eq!(thb("1,250.5").unwrap().minor, 125_050);
        assert_eq!(thb("฿1,250").unwrap().minor, 125_000);
        assert_eq!(thb(" 7 ").unwrap().minor, 700);
        assert!(thb("1.234").is_err());
        assert!(thb("-5").is_err());
        assert!(thb("abc").is_err());
        assert!(thb("").is_err());
        assert!(thb("99999999999999999999").is_err());
        assert!(Money::parse_major("10.5", Currency::VND).is_err());
    }

    #[test]
    fn arithmetic_refuses_mixing_and_overflow() {
        let a = Money::new(100, Currency::THB);
        let b = Money::new(100, Currency::VND);
        assert!(matches!(
            a.checked_add(b),
            Err(MoneyError::CurrencyMismatch(..))
        ));
        assert_eq!(
            Money::new(i64::MAX, Currency::THB).checked_add(a),
            Err(MoneyError::Overflow)
        );
        assert_eq!(a.checked_mul(3).unwrap().minor, 300);
        assert!("xyz".parse::<Currency>().is_err());
        assert_eq!("thb".parse::<Currency>().unwrap(), Currency::THB);
    }
}
