//! chatbill's integration tests, in one binary: each module starts the
//! real server on a random port with a fresh database (SQLite by default,
//! PostgreSQL with TEST_DATABASE_URL) and, where chat is involved, the
//! fake Graph API from `chatbill-load`.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod common;
mod console_pages;
mod console_parity;
mod slips_support;

mod admin_api;
mod books;
mod browser;
mod chat_requests;
mod claims;
mod cli;
mod customer_names;
mod fuzz_props;
mod hostile;
mod http;
mod load;
mod messenger;
mod migrations;
mod money;
mod pictures;
mod roles;
mod security;
mod services_carriers;
mod shop_made_orders;
mod shop_setup;
mod slips;
mod store;
mod timers;
mod undelivered;
mod webchat;
