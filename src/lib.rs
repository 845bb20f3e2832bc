//! chatbill: sell inside a chat app without a person answering every message.
//!
//! The layout follows the flow of one message: `channels` turn webhooks into
//! events, `engine` decides (pure), `store` persists, `outbox` delivers; the
//! order rules live in `domain` (pure) and the seller works through `admin`.

pub mod admin;
pub mod bench;
pub mod channels;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod inbox;
pub mod metrics;
pub mod outbox;
pub mod server;
pub mod slips;
pub mod store;
