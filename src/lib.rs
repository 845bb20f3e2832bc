//! chatbill: sell inside a chat app without a person answering every message.
//!
//! Layers, and which way they may depend (see docs/architecture.md):
//!
//! - edges: `http` (routes, console, webhooks, web chat), `channels`
//!   (parse / render / send per chat app), `cli` (one file per command);
//! - `workers`: loops over one runner (claim → app → ack);
//! - `app`: the only code that opens write transactions;
//! - `engine` and `domain`: pure decisions, no I/O;
//! - `store`: all SQL, and the only code that knows the dialect.
//!
//! Edges and workers call `app`; `app` calls `engine`, `domain` and
//! `store`; nothing calls back up.

pub mod app;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod engine;
pub mod http;
pub mod metrics;
pub mod slips;
pub mod startup;
pub mod store;
pub mod workers;
