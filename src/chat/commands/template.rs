//! `template show|edit|preview|reset <scope> [subscription]`, and saving the editor.

use super::{block, owns, plain};
use crate::chat::{internal, Actor, Chat, Failure, Outcome, Reply, TemplateAction};
use crate::hub::Scope;
use crate::render::context::LIST_CAP;
use crate::render::{custom, samples, Message, Renderer};
use crate::route::Platform;
use crate::store::{now_ms, subscriptions, templates};

/// Where a template is kept: a workspace, and a subscription of it (`None`: all of them).
struct Slot {
    workspace: String,
    subscription: Option<i64>,
    /// `default`, or a scope.
    name: String,
}

async fn slot(
    chat: &Chat,
    actor: &Actor,
    scope: &str,
    subscription: Option<i64>,
) -> Result<Slot, Failure> {
    let Some(workspace) = actor.workspace.clone() else {
        return Err(
            "The operator's templates are the files in templates.dir; edit them there.".into(),
        );
    };
    let name = if scope == "default" {
        scope.to_string()
    } else {
        Scope::parse_subscribable(scope)
            .map_err(|e| e.to_string())?
            .to_string()
    };
    if let Some(id) = subscription {
        let sub = subscriptions::get(&chat.store.pool, id)
            .await
            .map_err(internal)?;
        if !sub.is_some_and(|s| owns(actor, &s)) {
            return Err(super::no_such(actor, id).into());
        }
    }
    Ok(Slot {
        workspace,
        subscription,
        name,
    })
}

/// The template in force for the slot, and whether it is the user's.
async fn current(chat: &Chat, slot: &Slot) -> Result<(String, bool), Failure> {
    let pool = &chat.store.pool;
    let own = templates::get(pool, &slot.workspace, slot.subscription, &slot.name)
        .await
        .map_err(internal)?;
    let inherited = if slot.subscription.is_some() && own.is_none() {
        templates::get(pool, &slot.workspace, None, &slot.name)
            .await
            .map_err(internal)?
    } else {
        None
    };
    Ok(match own.or(inherited) {
        Some(t) => (t, true),
        None => (chat.renderer.builtin_source(&slot.name).to_string(), false),
    })
}

fn sample_scope(name: &str) -> Scope {
    Scope::parse(name).unwrap_or_else(|_| Scope::parse("repo").expect("static scope"))
}

fn show_message(p: Platform, msg: &Message) -> String {
    if msg.body.is_empty() {
        msg.headline.clone()
    } else {
        format!("{}\n{}", msg.headline, msg.body)
    }
    .lines()
    .map(|l| {
        if p == Platform::Console {
            l.to_string()
        } else {
            format!("│ {l}")
        }
    })
    .collect::<Vec<_>>()
    .join("\n")
}

/// Renders `source` against the real sample of its scope on every platform, so that a
/// template that works in Slack but breaks in Discord is caught before it is saved; and
/// against the largest event a template can see, so that none can blow up later.
/// It runs on one of the blocking threads every render of a user's template shares.
async fn preview(chat: &Chat, actor: &Actor, source: &str, name: &str) -> Result<String, Failure> {
    let (renderer, source, name) = (chat.renderer.clone(), source.to_string(), name.to_string());
    let platform = actor.platform;
    // On the threads every user template shares, so previews cannot take every core.
    let turn = crate::render::custom::shared_threads()
        .acquire_owned()
        .await
        .map_err(internal)?;
    tokio::task::spawn_blocking(move || {
        let done = try_preview(&renderer, platform, &source, &name);
        drop(turn);
        done
    })
    .await
    .map_err(internal)?
    .map_err(Failure::Mistake)
}

fn try_preview(
    renderer: &Renderer,
    platform: Platform,
    source: &str,
    name: &str,
) -> Result<String, String> {
    let scope = sample_scope(name);
    let event = samples::event(&scope);
    let mut shown = String::new();
    for p in [Platform::Discord, Platform::Slack, Platform::Console] {
        let msg = renderer.render_source(source, &scope, &event, p)?;
        if p == platform {
            shown = show_message(p, &msg);
        }
    }
    renderer
        .render_source(source, &scope, &samples::largest(&scope), Platform::Discord)
        .map_err(|e| {
            format!(
                "with the largest event herald passes to a template ({} refs, long texts): {e}",
                LIST_CAP
            )
        })?;
    Ok(shown)
}

pub async fn run(
    chat: &Chat,
    actor: &Actor,
    action: TemplateAction,
    scope: &str,
    subscription: Option<i64>,
) -> Outcome {
    let slot = slot(chat, actor, scope, subscription).await?;
    let (source, custom) = current(chat, &slot).await?;
    let kind = if custom { "custom" } else { "built-in" };
    match action {
        TemplateAction::Show => Ok(Reply::Text(format!(
            "The {kind} template for {}:\n{}",
            plain(actor, &slot.name),
            block(actor.platform, &source)
        ))),
        TemplateAction::Preview => {
            let shown = preview(chat, actor, &source, &slot.name)
                .await
                .map_err(|e| {
                    e.reworded(|e| {
                        format!(
                            "The {kind} template for {} fails: {}",
                            plain(actor, &slot.name),
                            plain(actor, e)
                        )
                    })
                })?;
            Ok(Reply::Text(format!(
                "Preview of the {kind} template for {}, with a real sample event:\n{shown}",
                plain(actor, &slot.name)
            )))
        }
        TemplateAction::Edit => {
            chat.may_change(actor)?;
            Ok(Reply::Editor {
                scope: slot.name,
                subscription,
                current: source,
            })
        }
        TemplateAction::Reset => {
            chat.may_change(actor)?;
            let pool = &chat.store.pool;
            let removed = templates::reset(pool, &slot.workspace, slot.subscription, &slot.name)
                .await
                .map_err(internal)?;
            Ok(Reply::Text(if removed {
                format!(
                    "The template for {} is the built-in one again.",
                    plain(actor, &slot.name)
                )
            } else {
                format!(
                    "The template for {} was already the built-in one.",
                    plain(actor, &slot.name)
                )
            }))
        }
    }
}

pub async fn save(
    chat: &Chat,
    actor: &Actor,
    scope: &str,
    subscription: Option<i64>,
    body: &str,
) -> Outcome {
    chat.may_change(actor)?;
    let slot = slot(chat, actor, scope, subscription).await?;
    custom::validate(body).map_err(|e| format!("Not saved: {}", plain(actor, &e)))?;
    let shown = preview(chat, actor, body, &slot.name).await.map_err(|e| {
        e.reworded(|e| {
            format!(
                "Not saved: the template fails on a real sample event: {}",
                plain(actor, e)
            )
        })
    })?;
    templates::set(
        &chat.store.pool,
        &slot.workspace,
        slot.subscription,
        &slot.name,
        body,
        &actor.user,
        now_ms(),
    )
    .await
    .map_err(internal)?;
    Ok(Reply::Text(format!(
        "Saved the template for {}. New messages look like this:\n{shown}",
        plain(actor, &slot.name)
    )))
}
