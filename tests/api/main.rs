//! One test binary, one module per feature (it links once).

mod accuracy;
mod cli;
mod config;
mod connect;
mod crash;
mod delivery;
mod deploy;
mod discord;
mod doctor;
mod enrich;
mod fakehooks;
mod fakehub;
mod fakeoauth;
mod helpers;
mod hostile;
mod lanes;
mod messages;
mod missed;
mod props;
mod routing;
mod security;
mod slack;
mod watch;
mod webhook;
