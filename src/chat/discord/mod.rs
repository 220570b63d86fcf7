//! Discord over HTTP interactions: verify, turn the interaction into a [`Command`], answer
//! with serenity's builders.

mod definition;
mod payload;
pub use definition::command_definition;
pub use payload::Interaction;

use super::command::RuleArgs;
use super::{Actor, Chat, Command, Reply, TemplateAction};
use crate::render::limits::cut;
use crate::route::subscription::Source;
use crate::route::{Channel, Platform};
use crate::store::subscriptions;
use payload::{Data, Opt};
use serde::Serialize;
use serenity::builder::{
    AutocompleteChoice, CreateActionRow, CreateAllowedMentions, CreateAutocompleteResponse,
    CreateInputText, CreateInteractionResponse, CreateInteractionResponseMessage, CreateModal,
    EditInteractionResponse,
};
use serenity::interactions_endpoint::Verifier;
use serenity::model::application::{InputTextStyle, InteractionType};
use serenity::model::Permissions;

const MODAL_PREFIX: &str = "herald:template:";

/// Checks the Ed25519 signature, and that the timestamp is recent (Discord sets no window;
/// a replayed request older than `max_skew_s` is refused all the same).
pub fn verify(
    verifier: &Verifier,
    signature: &str,
    timestamp: &str,
    body: &[u8],
    now_s: i64,
    max_skew_s: u64,
) -> bool {
    let fresh = super::fresh(timestamp, now_s, max_skew_s);
    fresh && verifier.verify(signature, timestamp, body).is_ok()
}

/// The HTTP answer to an interaction.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// `{"type": 1}`, as Discord documents it (serenity's adds `"data": null`).
    Pong {
        r#type: u8,
    },
    Respond(Box<CreateInteractionResponse>),
}

fn respond_with(r: CreateInteractionResponse) -> Answer {
    Answer::Respond(Box::new(r))
}

/// The answer to one verified interaction, and what to do after answering.
pub async fn handle(chat: &Chat, interaction: &Interaction) -> (Answer, Option<FollowUp>) {
    if interaction.kind == InteractionType::Ping {
        return (Answer::Pong { r#type: 1 }, None);
    }
    let Some(actor) = actor(interaction) else {
        return (
            message("herald works in servers, not in direct messages."),
            None,
        );
    };
    let data = &interaction.data;
    match interaction.kind {
        InteractionType::Command => match command(data) {
            Ok(cmd) => respond(chat, &actor, cmd, interaction).await,
            Err(e) => (message(e), None),
        },
        InteractionType::Autocomplete => (autocomplete(chat, &actor, data).await, None),
        InteractionType::Modal => match modal_command(data) {
            Some(cmd) => respond(chat, &actor, cmd, interaction).await,
            None => (message("That form is not herald's."), None),
        },
        _ => (
            message("herald does not handle that kind of interaction."),
            None,
        ),
    }
}

/// Edits the deferred answer once a test message is sent or has failed.
pub struct FollowUp {
    pub url: String,
    pub delivery_id: i64,
}

async fn respond(
    chat: &Chat,
    actor: &Actor,
    cmd: Command,
    interaction: &Interaction,
) -> (Answer, Option<FollowUp>) {
    let reply = match chat.execute(actor, cmd).await {
        Ok(r) => r,
        Err(e) => return (message(e.text()), None),
    };
    match reply {
        Reply::Text(t) => (message(&t), None),
        Reply::Editor {
            scope,
            subscription,
            current,
        } => (editor(&scope, subscription, &current), None),
        Reply::Sending {
            text: _,
            delivery_id,
        } => {
            let app = match interaction.application_id {
                Some(id) => id.to_string(),
                None => chat.settings.discord.application_id.clone(),
            };
            let token = &interaction.token;
            let base = chat.settings.discord.api_base.trim_end_matches('/');
            let url = format!("{base}/api/v10/webhooks/{app}/{token}/messages/@original");
            let defer = CreateInteractionResponseMessage::new().ephemeral(true);
            (
                respond_with(CreateInteractionResponse::Defer(defer)),
                Some(FollowUp { url, delivery_id }),
            )
        }
    }
}

/// Waits (up to two minutes) for the delivery to settle and says how it went.
pub async fn follow_up(chat: Chat, f: FollowUp) {
    let text = super::settled_text(&chat, f.delivery_id).await;
    let body = EditInteractionResponse::new()
        .content(cut(Platform::Discord, &text, 2000))
        .allowed_mentions(CreateAllowedMentions::new());
    let sent = chat.http.patch(&f.url).json(&body).send().await;
    if let Err(e) = sent.and_then(|r| r.error_for_status()) {
        tracing::warn!(error = %e.without_url(), "could not edit the Discord interaction answer");
    }
}

/// An ephemeral answer that pings nobody.
fn message(text: &str) -> Answer {
    let answer = CreateInteractionResponseMessage::new()
        .content(cut(Platform::Discord, text, 2000))
        .ephemeral(true)
        .allowed_mentions(CreateAllowedMentions::new());
    respond_with(CreateInteractionResponse::Message(answer))
}

fn editor(scope: &str, subscription: Option<i64>, current: &str) -> Answer {
    let title = match subscription {
        Some(id) => format!("Template {scope} of #{id}"),
        None => format!("Template for {scope}"),
    };
    let input = CreateInputText::new(InputTextStyle::Paragraph, "Handlebars template", "body")
        .value(current)
        .min_length(1)
        .max_length(crate::render::custom::MAX_LEN as u16)
        .required(true);
    let modal = CreateModal::new(
        format!("{MODAL_PREFIX}{scope}:{}", subscription.unwrap_or(0)),
        cut(Platform::Console, &title, 45),
    )
    .components(vec![CreateActionRow::InputText(input)]);
    respond_with(CreateInteractionResponse::Modal(modal))
}

fn actor(interaction: &Interaction) -> Option<Actor> {
    let guild = interaction.guild_id?;
    let member = interaction.member.as_ref()?;
    let admin = member
        .permissions
        .intersects(Permissions::ADMINISTRATOR | Permissions::MANAGE_GUILD);
    Some(Actor {
        platform: Platform::Discord,
        workspace: Some(format!("discord:{guild}")),
        channel: interaction
            .channel_id
            .and_then(|c| Channel::parse(&format!("discord:{c}")).ok()),
        user: format!("discord:{}", member.user.id),
        admin,
        vouched: interaction
            .data
            .resolved
            .channels
            .keys()
            .map(|c| c.to_string())
            .collect(),
    })
}

/// `/herald <sub> [options]` or `/herald template <action> [options]` as a [`Command`].
fn command(data: &Data) -> Result<Command, &'static str> {
    let Some(top) = Opt::sub(&data.options) else {
        return Ok(Command::Help);
    };
    let o = &top.options;
    Ok(match top.name.as_str() {
        "subscribe" => Command::Subscribe {
            target: Opt::text(o, "target").ok_or("subscribe needs a target")?,
            scopes: Opt::text(o, "scope").into_iter().collect(),
            channel: Opt::text(o, "channel"),
            threads: Opt::text(o, "threads"),
            rules: RuleArgs {
                filter: Opt::text(o, "filter"),
                all: Opt::given(o, "all"),
                mode: Opt::text(o, "mode"),
                tz: Opt::text(o, "tz"),
            },
        },
        "filter" => Command::Filter {
            subscription: Opt::text(o, "subscription").ok_or("filter needs a subscription")?,
            expr: Opt::text(o, "filter").unwrap_or_default(),
        },
        "why" => Command::Why {
            what: Opt::text(o, "event").ok_or("why needs an event id or a Hub link")?,
            channel: None,
        },
        "unsubscribe" => Command::Unsubscribe {
            what: Opt::text(o, "subscription").ok_or("unsubscribe needs a subscription")?,
        },
        "list" => Command::List {
            everywhere: Opt::flag(o, "all"),
            page: Opt::int(o, "page")
                .and_then(|p| usize::try_from(p).ok())
                .unwrap_or(1),
        },
        "template" => {
            let action = Opt::sub(o).ok_or("template needs show, edit, preview or reset")?;
            Command::Template {
                action: TemplateAction::parse(&action.name)
                    .ok_or("template needs show, edit, preview or reset")?,
                scope: Opt::text(&action.options, "scope").ok_or("template needs a scope")?,
                subscription: Opt::int(&action.options, "subscription"),
            }
        }
        "setup" => Command::Setup {
            rotate: Opt::flag(o, "rotate"),
        },
        "test" => Command::Test,
        "connect" => Command::Connect {
            code: Opt::text(o, "code"),
        },
        "disconnect" => Command::Disconnect,
        _ => Command::Help,
    })
}

/// The submitted template editor, in either layout (an action row, or a label around the input).
fn modal_command(data: &Data) -> Option<Command> {
    let rest = data.custom_id.as_deref()?.strip_prefix(MODAL_PREFIX)?;
    let (scope, sub) = rest.rsplit_once(':')?;
    let sub: i64 = sub.parse().ok()?;
    Some(Command::SaveTemplate {
        scope: scope.to_string(),
        subscription: (sub != 0).then_some(sub),
        body: data.input("body")?.to_string(),
    })
}

/// Suggests this channel's subscriptions (then the server's) for `unsubscribe`.
async fn autocomplete(chat: &Chat, actor: &Actor, data: &Data) -> Answer {
    let typed = Opt::sub(&data.options)
        .and_then(|sub| sub.options.iter().find(|o| o.focused))
        .and_then(|o| o.value.as_ref()?.text())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let subs = subscriptions::list_for(&chat.store.pool, actor.workspace.as_deref())
        .await
        .unwrap_or_default();
    let mut subs: Vec<_> = subs
        .into_iter()
        .filter(|s| s.source != Source::Config)
        .filter(|s| {
            typed.is_empty()
                || s.id.to_string().starts_with(&typed)
                || s.target.to_string().to_ascii_lowercase().contains(&typed)
        })
        .collect();
    subs.sort_by_key(|s| (actor.channel.as_ref() != Some(&s.channel), s.id));
    let choices = subs
        .iter()
        .take(25)
        .map(|s| {
            let name = format!("#{} {} → {}", s.id, s.target, s.channel);
            AutocompleteChoice::new(cut(Platform::Console, &name, 100), s.id.to_string())
        })
        .collect();
    let answer = CreateAutocompleteResponse::new().set_choices(choices);
    respond_with(CreateInteractionResponse::Autocomplete(answer))
}
