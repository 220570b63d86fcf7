//! The console: one readable block per message on stdout.

use super::{Place, Post, Sent};
use crate::render::Message;
use std::io::Write;

#[derive(Default)]
pub struct Console;

/// The block as printed, also what `herald render --platform console` shows.
pub fn block(label: &str, msg: &Message) -> String {
    let mut out = format!("── {label} ──\n{}\n", msg.headline);
    if !msg.body.is_empty() {
        out.push_str(&msg.body);
        out.push('\n');
    }
    out
}

impl Console {
    pub fn send(&self, post: &Post<'_>) -> Sent {
        let label = match &post.place {
            Place::Channel => post.channel.id.clone(),
            Place::Thread { id, .. } => format!("{} › {id}", post.channel.id),
        };
        let mut out = std::io::stdout().lock();
        // A closed stdout must not stop deliveries to other channels.
        let _ = writeln!(out, "{}", block(&label, post.msg)).and_then(|_| out.flush());
        Sent {
            id: post.nonce.clone(),
            wait: None,
        }
    }
}
