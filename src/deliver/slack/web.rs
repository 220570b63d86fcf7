//! Slack's Web API answers as herald reads them (`{"ok": …, "error": …}` and each method's
//! fields), and the calls other than posting: who owns a channel, who is an admin, the
//! template editor.

use super::Slack;
use crate::deliver::network_error;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Every Web API answer: `ok`, an error code when not, and the method's own fields.
#[derive(Debug, Deserialize)]
pub struct Answer<T> {
    #[serde(default)]
    pub ok: bool,
    pub error: Option<String>,
    #[serde(flatten)]
    pub data: T,
}

impl<T: DeserializeOwned> Answer<T> {
    /// The answer in `text`; one that is not Slack's JSON (a proxy's error page) says so.
    pub fn read(text: &str) -> Answer<T>
    where
        T: Default,
    {
        serde_json::from_str(text).unwrap_or_else(|_| Answer {
            ok: false,
            error: Some("the answer was not Slack's JSON".into()),
            data: T::default(),
        })
    }

    /// The error code, or a stand-in when Slack gave none.
    pub fn error(&self) -> &str {
        self.error
            .as_deref()
            .unwrap_or("no error code in the answer")
    }
}

/// `chat.postMessage`
#[derive(Debug, Default, Deserialize)]
pub struct Posted {
    /// The message's id, and the thread of its replies.
    pub ts: Option<String>,
}

/// `conversations.info`
#[derive(Debug, Default, Deserialize)]
pub struct ChannelInfo {
    pub channel: Option<ChannelFacts>,
}

#[derive(Debug, Deserialize)]
pub struct ChannelFacts {
    #[serde(default)]
    pub shared_team_ids: Vec<String>,
    pub context_team_id: Option<String>,
}

/// `users.info`
#[derive(Debug, Default, Deserialize)]
pub struct UserInfo {
    pub user: Option<UserFacts>,
}

#[derive(Debug, Deserialize)]
pub struct UserFacts {
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub is_owner: bool,
    #[serde(default)]
    pub is_primary_owner: bool,
}

/// A method whose answer herald only checks for `ok`.
#[derive(Debug, Default, Deserialize)]
pub struct Nothing {}

impl Slack {
    /// Sends a Web API request with the bot's token, and reads its answer.
    async fn answer<T: DeserializeOwned + Default>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<Answer<T>, String> {
        let failed = |e| network_error("slack", e).reason().to_string();
        let resp = req.bearer_auth(&self.token).send().await.map_err(failed)?;
        let text = resp.text().await.map_err(failed)?;
        Ok(Answer::read(&text))
    }

    /// GET a Web API method, and its answer.
    async fn call<T: DeserializeOwned + Default>(
        &self,
        method: &str,
        query: &[(&str, &str)],
    ) -> Result<Answer<T>, String> {
        let url = format!("{}/{method}", self.api_base);
        self.answer(self.http.get(url).query(query)).await
    }

    /// The teams a channel is part of (several for a shared channel); none when the app
    /// cannot see it.
    pub async fn channel_teams(&self, channel_id: &str) -> Result<Vec<String>, String> {
        let answer: Answer<ChannelInfo> = self
            .call("conversations.info", &[("channel", channel_id)])
            .await?;
        match (answer.ok, answer.data.channel, answer.error.as_deref()) {
            (true, Some(c), _) => Ok(c.shared_team_ids.into_iter().chain(c.context_team_id).collect()),
            (_, _, Some("channel_not_found")) => Ok(vec![]),
            (_, _, Some("missing_scope")) => Err(
                "slack: missing_scope: the app needs the channels:read and groups:read scopes (docs/slack.md)"
                    .into(),
            ),
            (true, None, _) => Err("slack: conversations.info answered without the channel".into()),
            (false, _, other) => Err(format!(
                "slack: {}",
                other.unwrap_or("conversations.info failed")
            )),
        }
    }

    /// Whether a user is a workspace admin or owner (`users.info`).
    pub async fn is_admin(&self, user: &str) -> Result<bool, String> {
        let answer: Answer<UserInfo> = self.call("users.info", &[("user", user)]).await?;
        match (answer.ok, &answer.data.user) {
            (true, Some(u)) => Ok(u.is_admin || u.is_owner || u.is_primary_owner),
            _ => Err(format!("slack: users.info: {}", answer.error())),
        }
    }

    /// Opens a modal for the user who triggered a command (`views.open`).
    pub async fn open_view(&self, trigger_id: &str, view: &impl Serialize) -> Result<(), String> {
        #[derive(Serialize)]
        struct Open<'a, V> {
            trigger_id: &'a str,
            view: &'a V,
        }
        let url = format!("{}/views.open", self.api_base);
        let req = self.http.post(url).json(&Open { trigger_id, view });
        let answer: Answer<Nothing> = self.answer(req).await?;
        match answer.ok {
            true => Ok(()),
            false => Err(answer.error().to_string()),
        }
    }
}
