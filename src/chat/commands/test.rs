//! `test`: a message from a real sample payload, posted here through the normal outbox.

use crate::chat::{internal, Actor, Chat, Outcome, Reply};
use crate::hub::Scope;
use crate::render::samples;
use crate::route::Origin;
use crate::store::{deliveries, events, now_ms, subscriptions};

pub async fn run(chat: &Chat, actor: &Actor) -> Outcome {
    chat.may_change(actor)?;
    let channel = actor
        .channel
        .clone()
        .ok_or("test posts to the channel it is typed in")?;
    chat.settings
        .check_channel(&channel)
        .map_err(|e| e.to_string())?;
    let scope = Scope::parse("repo.content").expect("static scope");
    let raw = samples::raw(&scope);
    let event = samples::event(&scope);
    let origin = actor
        .workspace
        .clone()
        .map(Origin::Workspace)
        .unwrap_or(Origin::Operator);
    // Rendered with this channel's templates, as its real messages would be.
    let subs = subscriptions::list_for(&chat.store.pool, actor.workspace.as_deref())
        .await
        .map_err(internal)?;
    let sub_id = subs.iter().find(|s| s.channel == channel).map(|s| s.id);
    let now = now_ms();
    let mut tx = chat.store.pool.begin().await.map_err(internal)?;
    let event_id = events::insert(&mut tx, origin.as_str(), raw.as_bytes(), &event, now)
        .await
        .map_err(internal)?;
    let delivery = deliveries::enqueue(&mut tx, event_id, sub_id, &channel.to_string(), now)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    chat.wake.notify_one();
    Ok(Reply::Sending {
        text: "Posting a sample message (a push to a model) here…".into(),
        delivery_id: delivery,
    })
}
