//! herald's own notices to a channel (its Hub webhook was disabled, its daily quota is
//! nearly spent): sentences herald writes, shown like messages, never through templates.
//! Names in them (repos, the Hub's reasons) are escaped like any text from the Hub.

use super::escape::escape;
use super::Message;
use crate::route::Platform;
use serde::{Deserialize, Serialize};

/// Amber: something needs attention, nothing failed for good yet.
pub const AMBER: u32 = 0xD29922;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// What it is about: `webhook-disabled`, `quota`.
    pub kind: String,
    pub headline: String,
    #[serde(default)]
    pub lines: Vec<String>,
    pub url: String,
    /// Unique, so that two notices in a row are never merged into one message.
    pub key: String,
    /// A digest's summary, when this notice is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<super::digest::Digest>,
}

impl Notice {
    pub fn new(kind: &str, headline: String, lines: Vec<String>, url: &str) -> Notice {
        let mut key = [0u8; 8];
        getrandom::getrandom(&mut key).expect("the system's random source");
        Notice {
            kind: kind.into(),
            headline,
            lines,
            url: url.into(),
            key: hex::encode(key),
            digest: None,
        }
    }

    pub fn message(&self, platform: Platform) -> Message {
        if let Some(d) = &self.digest {
            return d.message(platform);
        }
        let lines: Vec<String> = self.lines.iter().map(|l| escape(platform, l)).collect();
        Message {
            headline: escape(platform, &self.headline),
            body: lines.join("\n"),
            url: self.url.clone(),
            color: AMBER,
            author: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_names_things_inertly() {
        let n = Notice::new(
            "quota",
            "Quota of <@everyone>".into(),
            vec!["**acme/m** <!channel> sent 5".into()],
            "https://huggingface.co/settings/webhooks",
        );
        let d = n.message(Platform::Discord);
        assert!(!d.headline.contains("<@everyone>"), "{}", d.headline);
        assert!(!d.body.contains("**acme"), "{}", d.body);
        let s = n.message(Platform::Slack);
        assert!(s.body.contains("&lt;!channel&gt;"), "{}", s.body);
        assert_ne!(n.key, Notice::new("quota", String::new(), vec![], "").key);
    }
}
