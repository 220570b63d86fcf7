//! What Slack sends herald, typed: the slash command's form and the editor's submission.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Slack's probe of the endpoint's certificate, sent instead of a command.
#[derive(Debug, Deserialize)]
pub struct Probe {
    pub ssl_check: Option<String>,
}

/// `/herald <text>` (the form's other fields are not used).
#[derive(Debug, Deserialize)]
pub struct SlashCommand {
    pub team_id: String,
    pub user_id: String,
    pub channel_id: Option<String>,
    #[serde(default)]
    pub text: String,
    /// Needed only to open the template editor.
    #[serde(default)]
    pub trigger_id: String,
    /// Needed only to follow up on `/herald test`.
    #[serde(default)]
    pub response_url: String,
}

/// An interaction (`payload=` form field): herald handles only its editor's submission.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Interaction {
    ViewSubmission(Submission),
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
pub struct Submission {
    /// Absent for an org-wide app: the user's team is used.
    pub team: Option<Team>,
    pub user: User,
    pub view: View,
}

#[derive(Debug, Deserialize)]
pub struct Team {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub id: String,
    pub team_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct View {
    pub callback_id: String,
    #[serde(default)]
    pub private_metadata: String,
    pub state: State,
}

/// Each input's value, by block id and then action id.
#[derive(Debug, Deserialize)]
pub struct State {
    pub values: HashMap<String, HashMap<String, Input>>,
}

#[derive(Debug, Deserialize)]
pub struct Input {
    pub value: Option<String>,
}

/// What the editor carries from opening to submission (`private_metadata`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Meta {
    pub scope: String,
    pub subscription: Option<i64>,
}

impl Submission {
    pub fn team(&self) -> Option<&str> {
        self.team
            .as_ref()
            .map(|t| t.id.as_str())
            .or(self.user.team_id.as_deref())
    }

    /// The value typed into `block` / `action`.
    pub fn input(&self, block: &str, action: &str) -> Option<&str> {
        self.view
            .state
            .values
            .get(block)?
            .get(action)?
            .value
            .as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_published_submission_and_command() {
        let i: Interaction = serde_json::from_str(include_str!(
            "../../../tests/fixtures/slack/view_submission_payload_bolt-python_test.json"
        ))
        .unwrap();
        let Interaction::ViewSubmission(s) = i else {
            panic!("a view submission")
        };
        assert_eq!(s.team(), Some("T111"));
        assert_eq!(s.input("hspI", "maBWU"), Some("test"));
        assert_eq!(s.view.callback_id, "view-id");
        let form = include_str!(
            "../../../tests/fixtures/slack/slash_command_body_bolt-python_test.form.txt"
        );
        let c: SlashCommand = serde_urlencoded::from_str(form).unwrap();
        assert_eq!((c.team_id.as_str(), c.text.as_str()), ("T111", "Hi"));
        let other: Interaction = serde_json::from_str(r#"{"type":"block_actions"}"#).unwrap();
        assert!(matches!(other, Interaction::Other));
    }

    #[test]
    fn a_command_without_its_team_is_named() {
        let err = serde_urlencoded::from_str::<SlashCommand>("user_id=U1&text=help").unwrap_err();
        assert!(err.to_string().contains("team_id"), "{err}");
    }
}
