//! The command grammar shared by Discord, Slack and the CLI. Discord fills it from typed
//! options; Slack and the CLI from words.

use super::words::{after_words, option, unlink, words};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Follow `target` in this channel (or `channel`, of the same workspace).
    Subscribe {
        target: String,
        scopes: Vec<String>,
        channel: Option<String>,
        /// `none`, `thread` or `thread+channel`; unset: `thread+channel`.
        threads: Option<String>,
        rules: RuleArgs,
    },
    /// Sets a subscription's filter; an empty one removes it.
    Filter {
        subscription: String,
        expr: String,
    },
    /// Why a stored event reached the channels it did, and not others.
    Why {
        /// An event id, or a Hub link to the discussion, commit or repo it was about.
        what: String,
        /// Only this channel (the CLI's `--channel`).
        channel: Option<String>,
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

/// A subscription's filter, noise defaults and schedule, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleArgs {
    /// Empty: removes the filter. Unset, like the others: kept as it was.
    pub filter: Option<String>,
    /// Turns the noise defaults off (or on again).
    pub all: Option<bool>,
    /// `instant`, `daily HH:MM` or `weekly DAY HH:MM`.
    pub mode: Option<String>,
    pub tz: Option<String>,
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

pub const USAGE: &str = r#"subscribe <target> [scope…] [#channel] [threads=none|thread|thread+channel] [filter:"EXPR"] [all:true] [mode:"daily 09:00"] [tz:Europe/Paris]
                                         follow a repo (owner/name, datasets/owner/name, a huggingface.co link), owner/* or *
unsubscribe <id or target>               stop one
filter <id> [EXPR]                       change a subscription's filter (is:pr is:merged, ref:main -author:bot…); none removes it
why <event id or Hub link>               why an event reached this workspace's channels, or did not
list [all] [page N]                      this channel's subscriptions, or the whole workspace's
template show|edit|preview|reset <scope> [subscription id]   change how messages look
setup [rotate]                           this workspace's own Hub webhook (admins)
connect [CODE]                           sign in with Hugging Face, then confirm with the page's code: herald manages this workspace's Hub webhook (admins)
disconnect                               unlink that account and delete its webhook (admins)
test                                     post a sample message here
help                                     this text"#;

/// Parses the words after `/herald`. A channel is a Slack reference `<#C123|name>`.
pub fn parse(text: &str) -> Result<Command, String> {
    let words = words(text).map_err(|e| format!("{e}\nUsage:\n{USAGE}"))?;
    let words: Vec<&str> = words.iter().map(|w| unlink(w)).collect();
    let Some((verb, rest)) = words.split_first() else {
        return Ok(Command::Help);
    };
    let usage = |what: &str| Err(format!("{what}\nUsage:\n{USAGE}"));
    match verb.to_ascii_lowercase().as_str() {
        "help" => Ok(Command::Help),
        "subscribe" | "sub" => {
            let (channels, args): (Vec<&str>, Vec<&str>) =
                rest.iter().partition(|w| w.starts_with("<#"));
            let (options, args): (Vec<&str>, Vec<&str>) =
                args.iter().partition(|w| option(w).is_some());
            let mut threads = None;
            let mut rules = RuleArgs::default();
            for (key, value) in options.iter().filter_map(|w| option(w)) {
                match key {
                    "threads" => threads = Some(value.to_string()),
                    "filter" => rules.filter = Some(value.to_string()),
                    "mode" => rules.mode = Some(value.to_string()),
                    "tz" => rules.tz = Some(value.to_string()),
                    _ => match value {
                        "true" | "yes" | "" => rules.all = Some(true),
                        "false" | "no" => rules.all = Some(false),
                        _ => return usage("all takes true or false (all:true)"),
                    },
                }
            }
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
                threads,
                rules,
            })
        }
        "filter" => match rest {
            [id, ..] => Ok(Command::Filter {
                subscription: id.trim_start_matches('#').to_string(),
                // The rest as typed: a filter has its own quotes and spaces.
                expr: after_words(text, 2).replace(['“', '”'], "\""),
            }),
            [] => usage("filter needs a subscription id (see list) and a filter, e.g. filter 12 is:pr is:merged"),
        },
        "why" => match rest {
            [what] => Ok(Command::Why {
                what: what.trim_start_matches('#').to_string(),
                channel: None,
            }),
            _ => usage("why needs one event id (herald events, or a message's footer) or a Hub link"),
        },
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
                rules: RuleArgs::default(),
            }
        );
        assert_eq!(
            parse(r#"subscribe acme/x filter:"is:pr title:\"release notes\"" all:true mode:“daily 09:00” tz:Europe/Paris threads=none"#).unwrap(),
            Command::Subscribe {
                target: "acme/x".into(),
                scopes: vec![],
                channel: None,
                threads: Some("none".into()),
                rules: RuleArgs {
                    filter: Some(r#"is:pr title:"release notes""#.into()),
                    all: Some(true),
                    mode: Some("daily 09:00".into()),
                    tz: Some("Europe/Paris".into()),
                },
            }
        );
        assert_eq!(
            parse(r#"subscribe acme/x filter:'ref:main -author:bot'"#).unwrap(),
            Command::Subscribe {
                target: "acme/x".into(),
                scopes: vec![],
                channel: None,
                threads: None,
                rules: RuleArgs {
                    filter: Some("ref:main -author:bot".into()),
                    ..RuleArgs::default()
                },
            }
        );
        assert_eq!(
            parse(r#"filter #12  is:pr  title:"a b" "#).unwrap(),
            Command::Filter {
                subscription: "12".into(),
                expr: r#"is:pr  title:"a b""#.into()
            }
        );
        assert_eq!(
            parse("filter 12").unwrap(),
            Command::Filter {
                subscription: "12".into(),
                expr: String::new()
            }
        );
        assert_eq!(
            parse("why <https://huggingface.co/acme/m/discussions/7|huggingface.co/acme/m/discussions/7>").unwrap(),
            Command::Why {
                what: "https://huggingface.co/acme/m/discussions/7".into(),
                channel: None
            }
        );
        assert!(matches!(
            parse("subscribe <https://huggingface.co/acme/x>").unwrap(),
            Command::Subscribe { target, .. } if target == "https://huggingface.co/acme/x"
        ));
        assert_eq!(
            parse("why 881").unwrap(),
            Command::Why {
                what: "881".into(),
                channel: None
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
            "filter",
            "why",
            "subscribe acme/x all:maybe",
            "subscribe acme/x filter:\"is:pr",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("Usage:"), "{bad}: {err}");
        }
    }
}
