//! One test binary, one module per feature (it links once).

mod cli;
mod delivery;
mod discord;
mod helpers;
mod messages;
mod routing;
mod slack;
mod webhook;
