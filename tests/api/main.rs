//! One test binary, one module per feature (it links once).

mod cli;
mod delivery;
mod helpers;
mod messages;
mod routing;
mod webhook;
