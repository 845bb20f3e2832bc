//! A customer's name and where it came from. A name the seller typed wins
//! over the Messenger profile, which wins over the recipient of the first
//! delivery address; a weaker source never overwrites a stronger one.

use std::fmt;

pub const MAX_CHARS: usize = 80;

/// A name fit to show: trimmed, inner whitespace collapsed, no control
/// characters, at most [`MAX_CHARS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is longer than {MAX_CHARS} characters")]
    TooLong,
    #[error("the name contains a control character")]
    ControlCharacter,
}

impl CustomerName {
    pub fn parse(raw: &str) -> Result<CustomerName, NameError> {
        if raw.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(NameError::ControlCharacter);
        }
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > MAX_CHARS {
            return Err(NameError::TooLong);
        }
        Ok(CustomerName(name))
    }

    /// First and last name as Meta gives them; either may be missing.
    pub fn from_profile(first: &str, last: &str) -> Option<CustomerName> {
        let full: String = format!("{first} {last}").chars().take(MAX_CHARS).collect();
        CustomerName::parse(&full).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What a search compares: the same folding for every database, so
    /// "ĐỨC" finds "Đức" on SQLite, whose `lower()` folds only ASCII.
    pub fn search_key(&self) -> String {
        search_key(&self.0)
    }
}

pub fn search_key(text: &str) -> String {
    text.to_lowercase()
}

impl fmt::Display for CustomerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a customer's name came from, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameSource {
    None,
    Address,
    Messenger,
    Seller,
}

impl NameSource {
    pub fn as_str(self) -> &'static str {
        match self {
            NameSource::None => "",
            NameSource::Address => "address",
            NameSource::Messenger => "messenger",
            NameSource::Seller => "seller",
        }
    }

    pub fn parse(s: &str) -> NameSource {
        match s {
            "address" => NameSource::Address,
            "messenger" => NameSource::Messenger,
            "seller" => NameSource::Seller,
            _ => NameSource::None,
        }
    }

    /// The sources a name from `self` may replace: an address names only
    /// a customer nobody named (the first address, not a later gift); a
    /// fresh profile replaces an older one.
    pub fn replaces(self) -> &'static [&'static str] {
        match self {
            NameSource::None => &[],
            NameSource::Address => &[""],
            NameSource::Messenger => &["", "address", "messenger"],
            NameSource::Seller => &["", "address", "messenger", "seller"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tidied_and_bad_ones_refused() {
        assert_eq!(
            CustomerName::parse("  Nok \t Srisuk ").map(|n| n.0),
            Ok("Nok Srisuk".into())
        );
        assert_eq!(CustomerName::parse("   "), Err(NameError::Empty));
        assert_eq!(
            CustomerName::parse("a\u{0}b"),
            Err(NameError::ControlCharacter)
        );
        assert_eq!(
            CustomerName::parse(&"x".repeat(MAX_CHARS + 1)),
            Err(NameError::TooLong)
        );
        assert!(CustomerName::parse(&"ก".repeat(MAX_CHARS)).is_ok());
    }

    #[test]
    fn a_profile_name_joins_first_and_last_and_may_lack_one() {
        assert_eq!(
            CustomerName::from_profile("Mai", "Trần").map(|n| n.0),
            Some("Mai Trần".into())
        );
        assert_eq!(
            CustomerName::from_profile("Mai", "").map(|n| n.0),
            Some("Mai".into())
        );
        assert_eq!(CustomerName::from_profile("", ""), None);
    }

    #[test]
    fn the_search_key_folds_letters_beyond_ascii() {
        assert_eq!(search_key("ĐỨC Nguyễn"), "đức nguyễn");
    }

    #[test]
    fn a_weaker_source_never_replaces_a_stronger_one() {
        assert_eq!(NameSource::Address.replaces(), [""]);
        assert_eq!(
            NameSource::Messenger.replaces(),
            ["", "address", "messenger"]
        );
        assert_eq!(NameSource::Seller.replaces().len(), 4);
        for s in ["", "address", "messenger", "seller"] {
            assert_eq!(NameSource::parse(s).as_str(), s);
        }
    }
}
