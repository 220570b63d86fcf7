//! The command grammar shared by Discord, Slack and the CLI. Discord fills it from typed
//! options; Slack and the CLI from words.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Follow `target` in this channel (or `channel`, of the same workspace).
    Subscribe {
        target: String,
        scopes: Vec<String>,
        channel: Option<String>,
        /// `none`, `thread` or `thread+channel`; unset: `thread+channel`.
        threads: Option<String>,
    },
    /// Stop a subscription, by id or by target (in this channel).
    Unsubscribe {
        what: String,
    },
    /// This channel's subscriptions, or the whole workspace's; one page of them in chat.
    List {
        everywhere: bool,
        /// From 1.
        page: usize,
    },
    Template {
        action: TemplateAction,
        scope: String,
        /// A subscription's own template rather than the workspace's.
        subscription: Option<i64>,
    },
    /// Saves a template (the submitted editor).
    SaveTemplate {
        scope: String,
        subscription: Option<i64>,
        body: String,
    },
    /// Creates this workspace's webhook endpoint, or rotates its secret.
    Setup {
        rotate: bool,
    },
    /// Posts a message rendered from a real sample payload to this channel.
    Test,
    /// Links the workspace to a Hugging Face account: without a code, the sign-in link;
    /// with the code the sign-in page showed, the account is connected.
    Connect {
        code: Option<String>,
    },
    /// Unlinks it: herald deletes its webhook under that account and forgets the token.
    Disconnect,
    Help,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateAction {
    Show,
    Edit,
    Preview,
    Reset,
}

impl TemplateAction {
    pub fn parse(s: &str) -> Option<TemplateAction> {
        match s {
            "show" => Some(TemplateAction::Show),
            "edit" => Some(TemplateAction::Edit),
            "preview" => Some(TemplateAction::Preview),
            "reset" => Some(TemplateAction::Reset),
            _ => None,
        }
    }
}

pub const USAGE: &str = "\
subscribe <target> [scope…] [#channel] [threads=none|thread|thread+channel]   follow a repo (owner/name, datasets/owner/name, a huggingface.co link), owner/* or *
unsubscribe <id or target>               stop one
list [all] [page N]                      this channel's subscriptions, or the whole workspace's
template show|edit|preview|reset <scope> [subscription id]   change how messages look
setup [rotate]                           this workspace's own Hub webhook (admins)
connect [CODE]                           sign in with Hugging Face, then confirm with the page's code: herald manages this workspace's Hub webhook (admins)
disconnect                               unlink that account and delete its webhook (admins)
test                                     post a sample message here
help                                     this text";

/// Parses the words after `/herald`. A channel is a Slack reference `<#C123|name>`.
pub fn parse(text: &str) -> Result<Command, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some((verb, rest)) = words.split_first() else {
        return Ok(Command::Help);
    };
    let usage = |what: &str| Err(format!("{what}\nUsage:\n{USAGE}"));
    match verb.to_ascii_lowercase().as_str() {
        "help" => Ok(Command::Help),
        "subscribe" | "sub" => {
            let (channels, args): (Vec<&str>, Vec<&str>) =
                rest.iter().partition(|w| w.starts_with("<#"));
            let (threads, args): (Vec<&str>, Vec<&str>) =
                args.iter().partition(|w| w.starts_with("threads="));
            let Some((target, scopes)) = args.split_first() else {
                return usage("subscribe needs a target, e.g. subscribe acme/llama-7b");
            };
            if channels.len() > 1 {
                return usage("subscribe takes at most one channel");
            }
            Ok(Command::Subscribe {
                target: target.to_string(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                channel: channels.first().map(|c| c.to_string()),
                threads: threads
                    .last()
                    .map(|t| t.trim_start_matches("threads=").to_string()),
            })
        }
        "unsubscribe" | "unsub" => match rest {
            [what] => Ok(Command::Unsubscribe {
                what: what.trim_start_matches('#').to_string(),
            }),
            _ => usage("unsubscribe needs one subscription id (see list) or target"),
        },
        "list" | "ls" => {
            let (everywhere, rest) = match rest {
                ["all", rest @ ..] => (true, rest),
                rest => (false, rest),
            };
            let page = match rest {
                [] => Some(1),
                [n] | ["page", n] => n.parse().ok().filter(|n| *n >= 1),
                _ => None,
            };
            match page {
                Some(page) => Ok(Command::List { everywhere, page }),
                None => usage("list takes nothing, all, and a page number (list all page 2)"),
            }
        }
        "template" => {
            let (Some(action), Some(scope)) = (
                rest.first().and_then(|a| TemplateAction::parse(a)),
                rest.get(1),
            ) else {
                return usage(
                    "template needs an action and a scope, e.g. template edit repo.content",
                );
            };
            let subscription = match rest.get(2) {
                None => None,
                Some(id) => Some(
                    id.trim_start_matches('#')
                        .parse()
                        .map_err(|_| format!("\"{id}\" is not a subscription id (see list)"))?,
                ),
            };
            Ok(Command::Template {
                action,
                scope: scope.to_string(),
                subscription,
            })
        }
        "setup" => match rest {
            [] => Ok(Command::Setup { rotate: false }),
            ["rotate"] => Ok(Command::Setup { rotate: true }),
            _ => usage("setup takes nothing, or rotate"),
        },
        "test" => Ok(Command::Test),
        "connect" => match rest {
            [] => Ok(Command::Connect { code: None }),
            [code] => Ok(Command::Connect {
                code: Some(code.to_string()),
            }),
            _ => usage("connect takes nothing, or the code the sign-in page showed"),
        },
        "disconnect" => Ok(Command::Disconnect),
        other => usage(&format!("unknown command \"{other}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_commands() {
        assert_eq!(
            parse("subscribe datasets/acme/* repo.content <#C0123ABCDEF|ops> discussion").unwrap(),
            Command::Subscribe {
                target: "datasets/acme/*".into(),
                scopes: vec!["repo.content".into(), "discussion".into()],
                channel: Some("<#C0123ABCDEF|ops>".into()),
                threads: None,
            }
        );
        assert_eq!(parse("").unwrap(), Command::Help);
        assert_eq!(
            parse("list all").unwrap(),
            Command::List {
                everywhere: true,
                page: 1
            }
        );
        assert_eq!(
            parse("list page 3").unwrap(),
            Command::List {
                everywhere: false,
                page: 3
            }
        );
        assert_eq!(
            parse("unsubscribe #4").unwrap(),
            Command::Unsubscribe { what: "4".into() }
        );
        assert_eq!(
            parse("template edit repo.content 7").unwrap(),
            Command::Template {
                action: TemplateAction::Edit,
                scope: "repo.content".into(),
                subscription: Some(7)
            }
        );
        assert_eq!(
            parse("setup rotate").unwrap(),
            Command::Setup { rotate: true }
        );
    }

    #[test]
    fn mistakes_come_with_the_usage() {
        for bad in [
            "subscribe",
            "frobnicate",
            "template edit",
            "template burn repo",
            "list everything",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("Usage:"), "{bad}: {err}");
        }
    }
}
