//! Subscriptions stored before herald checked channels: each workspace subscription whose
//! channel was never confirmed to be of its workspace is checked once with the platform,
//! and paused, with the reason, if it is not.

use crate::deliver::Senders;
use crate::route::Channel;
use crate::store::{subscriptions, Store};

pub async fn check_stored_channels(store: &Store, senders: &Senders) {
    let unchecked = match subscriptions::unchecked(&store.pool).await {
        Ok(u) => u,
        Err(e) => return tracing::warn!(error = %e, "stored channels could not be checked"),
    };
    for (id, workspace, channel) in unchecked {
        let refused = match Channel::parse(&channel) {
            Err(_) => Some(format!("unreadable channel {channel:?}")),
            Ok(c) => match senders.is_of(&c, &workspace).await {
                Ok(true) => None,
                Ok(false) => Some(format!(
                    "the channel {channel} is not of this workspace; subscribe in one of its own channels"
                )),
                Err(e) => {
                    // Asked again at the next start.
                    tracing::warn!(subscription = id, error = %e, "channel not checked yet");
                    continue;
                }
            },
        };
        if let Some(why) = &refused {
            tracing::error!(subscription = id, %workspace, reason = %why, "subscription paused");
        }
        if let Err(e) = subscriptions::checked(&store.pool, id, refused.as_deref()).await {
            tracing::warn!(subscription = id, error = %e, "channel check not recorded");
        }
    }
}
