//! Where messages go: `discord:<channel id>`, `slack:<channel id>`, `console:<label>`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Discord,
    Slack,
    Console,
}

impl Platform {
    pub fn parse(s: &str) -> Option<Platform> {
        match s.to_ascii_lowercase().as_str() {
            "discord" => Some(Platform::Discord),
            "slack" => Some(Platform::Slack),
            "console" => Some(Platform::Console),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Discord => "discord",
            Platform::Slack => "slack",
            Platform::Console => "console",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Channel {
    pub platform: Platform,
    pub id: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ChannelError(String);

impl Channel {
    pub fn parse(s: &str) -> Result<Channel, ChannelError> {
        let usage = "use discord:<channel id>, slack:<channel id> or console:<label>";
        let Some((platform, id)) = s.trim().split_once(':') else {
            return Err(ChannelError(format!("\"{s}\" names no platform: {usage}")));
        };
        let platform = Platform::parse(platform)
            .ok_or_else(|| ChannelError(format!("unknown platform \"{platform}\": {usage}")))?;
        let ok = match platform {
            // Discord ids are snowflakes: 17 to 20 digits.
            Platform::Discord => {
                (17..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
            }
            // Slack ids look like C0123ABCD (channels), G... (private), D... (DMs).
            Platform::Slack => {
                (9..=20).contains(&id.len())
                    && id.starts_with(['C', 'G', 'D'])
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            }
            Platform::Console => {
                (1..=64).contains(&id.len())
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            }
        };
        if !ok {
            let hint = match platform {
                Platform::Discord => {
                    "a Discord channel id is 17 to 20 digits (Developer Mode, then Copy Channel ID)"
                }
                Platform::Slack => {
                    "a Slack channel id looks like C0123ABCDEF (channel details, at the bottom)"
                }
                Platform::Console => "a console label is letters, digits, '-', '_' or '.'",
            };
            return Err(ChannelError(format!(
                "\"{s}\" is not a valid channel: {hint}"
            )));
        }
        Ok(Channel {
            platform,
            id: id.to_string(),
        })
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform.as_str(), self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_parse_and_print_back() {
        for s in [
            "discord:123456789012345678",
            "slack:C0123ABCDEF",
            "console:stdout",
        ] {
            assert_eq!(Channel::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn bad_channels_say_how_to_fix_them() {
        let e = Channel::parse("discord:general").unwrap_err().to_string();
        assert!(e.contains("17 to 20 digits"), "{e}");
        let e = Channel::parse("teams:x").unwrap_err().to_string();
        assert!(e.contains("discord:<channel id>"), "{e}");
        assert!(Channel::parse("slack:#general").is_err());
        assert!(Channel::parse("console:").is_err());
    }
}
