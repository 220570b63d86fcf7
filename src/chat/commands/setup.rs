//! `setup [rotate]`: this workspace's own Hub webhook.

use crate::chat::{internal, Actor, Chat, Outcome, Reply};
use crate::store::{endpoints, now_ms};

pub async fn run(chat: &Chat, actor: &Actor, rotate: bool) -> Outcome {
    chat.may_change(actor)?;
    let Some(ws) = &actor.workspace else {
        return Err(
            "The operator's webhook is POST /webhooks/hf with hub.secret from the config.".into(),
        );
    };
    let pool = &chat.store.pool;
    let base = chat.settings.server.public_url.trim_end_matches('/');
    let connected: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM hub_accounts WHERE workspace = ?)")
            .bind(ws)
            .fetch_one(pool)
            .await
            .map_err(internal)?;
    if rotate && connected {
        return Err("This workspace is connected to a Hugging Face account, and herald gives the webhook it manages a secret of its own. Run disconnect first to manage a webhook by hand.".into());
    }
    let existing = endpoints::for_workspace(pool, ws).await.map_err(internal)?;
    let (ep, secret, note) = match (existing, rotate) {
        (Some(ep), false) => {
            return Ok(Reply::Text(format!(
                "This workspace's webhook is {base}/webhooks/hf/{}. Its secret was shown once, when it was made; \
                 run setup rotate for a new one.",
                ep.id
            )))
        }
        (Some(_), true) => {
            let grace = chat.rotation_grace();
            let until = now_ms() + grace.as_millis() as i64;
            let (ep, secret) = endpoints::rotate(pool, ws, until).await.map_err(internal)?.ok_or_else(|| internal("endpoint vanished"))?;
            let hours = grace.as_secs() / 3600;
            (ep, secret, format!("The old secret keeps working for {hours} hours, so events are not lost while you change it on the Hub."))
        }
        (None, _) => {
            let (ep, secret) = endpoints::create(pool, ws, &actor.user, now_ms()).await.map_err(internal)?;
            (ep, secret, "This secret is shown only now and only to you: copy it into the Hub.".to_string())
        }
    };
    Ok(Reply::Text(format!(
        "This workspace's Hub webhook:\n\
         URL: {base}/webhooks/hf/{id}\n\
         Secret: {secret}\n\
         {note}\n\
         On huggingface.co: Settings → Webhooks → Add a new webhook (or edit the existing one). \
         Pick the repos or organisations to watch and the events you want, paste the URL and the secret, \
         and save. Events that arrive there reach only this workspace, private repos included.",
        id = ep.id
    )))
}
