//! Delivery address, as seed 000 asks for it.

use super::phone::PhoneNumber;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub full_name: String,
    pub phone: PhoneNumber,
    pub line: String,
    pub province: String,
    pub district: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
}

impl Address {
    /// One line for lists and the shipping note.
    pub fn one_line(&self) -> String {
        let mut s = format!("{}, {}, {}", self.line, self.district, self.province);
        if let Some(pc) = &self.postcode {
            s.push(' ');
            s.push_str(pc);
        }
        s
    }
}
