//! Subscriptions stored before herald checked channels: each workspace subscription whose
//! channel was never confirmed to be of its workspace gets no events (routing skips it)
//! until the platform confirms it, and is paused, with the reason, if it is not. Asked at
//! start and every ten minutes while some remain, so a platform that is down only delays.

use crate::deliver::Senders;
use crate::route::Channel;
use crate::store::{subscriptions, Store};

/// Runs the check now and then every ten minutes.
pub async fn keep_checking(store: Store, senders: std::sync::Arc<Senders>) {
    loop {
        check_stored_channels(&store, &senders).await;
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    }
}

pub async fn check_stored_channels(store: &Store, senders: &Senders) {
    let unchecked = match subscriptions::unchecked(&store.pool).await {
        Ok(u) => u,
        Err(e) => return tracing::warn!(error = %e, "stored channels could not be checked"),
    };
    for (id, workspace, channel) in unchecked {
        let foreign = || {
            Some(format!(
                "the channel {channel} is not of this workspace; subscribe in one of its own channels"
            ))
        };
        let refused = match Channel::parse(&channel) {
            Err(_) => Some(format!("unreadable channel {channel:?}")),
            Ok(c) => match senders.is_of(&c, &workspace).await {
                Ok(true) => None,
                Ok(false) => foreign(),
                Err(e) => {
                    // Asked again in ten minutes; no events reach it meanwhile.
                    tracing::warn!(subscription = id, error = %e, "channel not confirmed yet; the subscription waits");
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
