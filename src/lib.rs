//! herald: Hugging Face Hub webhooks turned into well-written Discord and Slack messages.
//!
//! The modules follow the data's path: [`hub`] (payloads, scopes, secrets) → [`store`]
//! (SQLite) → [`route`] (subscriptions) → [`render`] (templates) → [`deliver`] (outbox,
//! senders). [`http`] wires the endpoints, [`config`] loads settings, [`cli`] is the
//! command line, [`startup`] runs it all.

// The only unsafe code, the SQLite calls of the ingest writer, is in `store/raw.rs`.
#![deny(unsafe_code)]

pub mod chat;
pub mod cli;
pub mod config;
pub mod deliver;
pub mod enrich;
pub mod http;
pub mod hub;
pub mod ingest;
pub mod metrics;
pub mod render;
pub mod route;
pub mod startup;
pub mod store;
pub mod suggest;
pub mod watch;
