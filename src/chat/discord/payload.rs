//! The interaction as herald reads it: only the fields it uses, typed with serenity's ids.
//! serenity's own `Interaction` requires fields herald never reads (`locale`,
//! `entitlements`, `attachment_size_limit`…), so a payload lacking one would refuse every
//! command, and it has no shape for a modal's label component (type 18).

use serde::Deserialize;
use serenity::model::application::{CommandOptionType, InteractionType};
use serenity::model::id::{ApplicationId, ChannelId, GuildId, InteractionId, UserId};
use serenity::model::Permissions;
use std::collections::HashMap;

#[derive(Debug, Deserialize)]
pub struct Interaction {
    pub id: Option<InteractionId>,
    #[serde(rename = "type")]
    pub kind: InteractionType,
    pub application_id: Option<ApplicationId>,
    #[serde(default)]
    pub token: String,
    pub guild_id: Option<GuildId>,
    pub channel_id: Option<ChannelId>,
    /// Present in a server; a direct message has `user` instead.
    pub member: Option<Member>,
    #[serde(default)]
    pub data: Data,
}

#[derive(Debug, Deserialize)]
pub struct Member {
    /// Absent means none: the safe reading.
    #[serde(default)]
    pub permissions: Permissions,
    pub user: User,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub id: UserId,
}

/// A command's, an autocompletion's or a submitted modal's data: each uses its own fields.
#[derive(Debug, Default, Deserialize)]
pub struct Data {
    #[serde(default)]
    pub options: Vec<Opt>,
    #[serde(default)]
    pub resolved: Resolved,
    pub custom_id: Option<String>,
    #[serde(default)]
    pub components: Vec<Row>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Resolved {
    /// Discord resolves a channel option only to a channel of the guild.
    #[serde(default)]
    pub channels: HashMap<ChannelId, serde::de::IgnoredAny>,
}

/// A subcommand (with `options`) or a value.
#[derive(Debug, Deserialize)]
pub struct Opt {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: CommandOptionType,
    pub value: Option<Value>,
    #[serde(default)]
    pub options: Vec<Opt>,
    /// The option being typed, in an autocompletion.
    #[serde(default)]
    pub focused: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Number(f64),
    Text(String),
}

impl Value {
    /// Text as typed; an integer option (a subscription's number) as its digits.
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Text(s) => Some(s.clone()),
            Value::Int(n) => Some(n.to_string()),
            Value::Bool(_) | Value::Number(_) => None,
        }
    }
}

impl Opt {
    /// The value of the named option among `options`.
    pub fn find<'a>(options: &'a [Opt], name: &str) -> Option<&'a Value> {
        options
            .iter()
            .find(|o| o.name == name && !is_sub(o.kind))
            .and_then(|o| o.value.as_ref())
    }

    pub fn text(options: &[Opt], name: &str) -> Option<String> {
        Opt::find(options, name).and_then(Value::text)
    }

    pub fn flag(options: &[Opt], name: &str) -> bool {
        matches!(Opt::find(options, name), Some(Value::Bool(true)))
    }

    /// A boolean option, if it was given.
    pub fn given(options: &[Opt], name: &str) -> Option<bool> {
        match Opt::find(options, name) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn int(options: &[Opt], name: &str) -> Option<i64> {
        match Opt::find(options, name)? {
            Value::Int(n) => Some(*n),
            Value::Text(s) => s.trim().trim_start_matches('#').parse().ok(),
            Value::Bool(_) | Value::Number(_) => None,
        }
    }

    /// The first subcommand (or group) among `options`.
    pub fn sub(options: &[Opt]) -> Option<&Opt> {
        options.iter().find(|o| is_sub(o.kind))
    }
}

fn is_sub(kind: CommandOptionType) -> bool {
    matches!(
        kind,
        CommandOptionType::SubCommand | CommandOptionType::SubCommandGroup
    )
}

/// An action row of inputs, or (in newer modals) a label around one input.
#[derive(Debug, Deserialize)]
pub struct Row {
    #[serde(default)]
    pub components: Vec<Input>,
    pub component: Option<Input>,
}

#[derive(Debug, Deserialize)]
pub struct Input {
    pub custom_id: Option<String>,
    pub value: Option<String>,
}

impl Data {
    /// The submitted value of the modal input `custom_id`.
    pub fn input(&self, custom_id: &str) -> Option<&str> {
        self.components
            .iter()
            .flat_map(|row| row.components.iter().chain(&row.component))
            .find(|c| c.custom_id.as_deref() == Some(custom_id))
            .and_then(|c| c.value.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Interaction {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn reads_the_minimal_and_the_documented_command_payloads() {
        let minimal = parse(include_str!(
            "../../../tests/fixtures/discord/interaction_application_command_minimal_discord-interactions-js_test.json"
        ));
        assert_eq!(minimal.kind, InteractionType::Command);
        assert!(minimal.member.is_none());
        let composed = parse(include_str!(
            "../../../tests/fixtures/discord/interaction_application_command_subcommand_COMPOSED.json"
        ));
        let sub = Opt::sub(&composed.data.options).unwrap();
        assert_eq!(sub.name, "search");
        assert_eq!(
            Opt::text(&sub.options, "cardname").as_deref(),
            Some("The Gitrog Monster")
        );
        let member = composed.member.unwrap();
        assert!(member.permissions.administrator());
        assert_eq!(member.user.id.get(), 53908232506183680);
    }

    #[test]
    fn reads_a_modal_in_either_layout() {
        for file in [
            include_str!(
                "../../../tests/fixtures/discord/interaction_modal_submit_label_text_input_COMPOSED.json"
            ),
            include_str!(
                "../../../tests/fixtures/discord/interaction_modal_submit_legacy_action_row_COMPOSED.json"
            ),
        ] {
            let i = parse(file);
            assert_eq!(i.kind, InteractionType::Modal);
            assert!(i.data.custom_id.is_some());
            assert!(i.data.components.iter().any(|r| r.component.is_some()
                || !r.components.is_empty()));
        }
    }

    #[test]
    fn a_missing_needed_field_is_named() {
        let err = serde_json::from_str::<Interaction>(r#"{"id":"1"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `type`"), "{err}");
        let err = serde_json::from_str::<Interaction>(
            r#"{"type":2,"guild_id":"1","member":{"permissions":"8"}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("missing field `user`"), "{err}");
    }
}
