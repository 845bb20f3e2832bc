//! Facebook Messenger (and the Instagram variant of its webhook).

pub mod parse;
pub mod profile;
pub mod render;
pub mod send;
pub mod signature;
