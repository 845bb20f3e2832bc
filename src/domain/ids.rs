//! Identifiers and instants, parsed at the edge.

use std::fmt;
use std::str::FromStr;

macro_rules! int_id {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
        impl $name {
            pub fn get(self) -> i64 { self.0 }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { self.0.fmt(f) }
        }
    )*};
}

int_id!(ShopId, CustomerId, OrderId, ProductId, VariantId);

/// Milliseconds since the Unix epoch. The database never supplies "now":
/// the shell reads the clock once and passes it down, so tests can pin time.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn millis(self) -> i64 {
        self.0
    }
    pub fn plus_secs(self, secs: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs.saturating_mul(1000)))
    }
}

/// Public order reference a customer can read over the phone: a prefix and
/// eight characters of Crockford base32 (no I, L, O, U), e.g. `CB-7KQ2M9XA`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderCode(String);

const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LEN: usize = 8;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an order code (expected CB- followed by 8 letters or digits): {0:?}")]
pub struct BadOrderCode(pub String);

impl OrderCode {
    /// Builds a code from random bytes (the caller owns the randomness).
    pub fn from_random(bytes: [u8; CODE_LEN]) -> OrderCode {
        let body: String = bytes
            .iter()
            .map(|b| CODE_ALPHABET[(*b & 31) as usize] as char)
            .collect();
        OrderCode(format!("CB-{body}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for OrderCode {
    type Err = BadOrderCode;
    /// Accepts what people type: lower case, spaces, missing dash or prefix,
    /// and the look-alikes O→0, I/L→1.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let cleaned: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != '#')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let body = cleaned.strip_prefix("CB").unwrap_or(&cleaned);
        if body.len() != CODE_LEN {
            return Err(BadOrderCode(input.to_string()));
        }
        let mut out = String::with_capacity(CODE_LEN + 3);
        out.push_str("CB-");
        for c in body.chars() {
            let c = match c {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            };
            if !c.is_ascii() || !CODE_ALPHABET.contains(&(c as u8)) {
                return Err(BadOrderCode(input.to_string()));
            }
            out.push(c);
        }
        Ok(OrderCode(out))
    }
}

impl TryFrom<String> for OrderCode {
    type Error = BadOrderCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}
impl From<OrderCode> for String {
    fn from(c: OrderCode) -> String {
        c.0
    }
}
impl fmt::Display for OrderCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_code_round_trips_and_forgives_typing() {
        let code = OrderCode::from_random([1, 2, 3, 4, 5, 6, 7, 40]);
        assert_eq!(code.as_str(), "CB-12345678");
        assert_eq!("cb 1234 5678".parse::<OrderCode>().unwrap(), code);
        assert_eq!("12345678".parse::<OrderCode>().unwrap(), code);
        assert_eq!(
            "CB-O1I2L3".parse::<OrderCode>(),
            Err(BadOrderCode("CB-O1I2L3".into()))
        );
        assert_eq!(
            "CB-OOIILL00".parse::<OrderCode>().unwrap().as_str(),
            "CB-00111100"
        );
        assert!("CB-1234567U".parse::<OrderCode>().is_err());
        assert!("'; drop table orders; --".parse::<OrderCode>().is_err());
    }
}
