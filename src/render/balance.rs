//! What markup a cut leaves open, and how to close it: a code span or bold left open
//! would turn the rest of a message into code or bold, and half a link prints its
//! address. Only the markup the helpers write is tracked (escape.rs): Discord's `**`,
//! `` ` `` and `[text](url)` with backslash escapes; Slack's `*`, `` ` `` and `<url|text>`.

use crate::route::Platform;

/// Truncates `s` before a link it cuts, and returns the markers that close what is left
/// open, innermost first.
pub fn close(platform: Platform, s: &mut String) -> String {
    loop {
        let open = match platform {
            Platform::Discord => discord(s),
            Platform::Slack => slack(s),
            Platform::Console => return String::new(),
        };
        if let Some(at) = open.link {
            s.truncate(at);
            continue;
        }
        let mut closers = String::new();
        if open.code {
            closers.push('`');
        }
        if open.bold {
            closers.push_str(if platform == Platform::Discord {
                "**"
            } else {
                "*"
            });
        }
        return closers;
    }
}

#[derive(Default)]
struct Open {
    code: bool,
    bold: bool,
    /// Where a link that is not closed starts.
    link: Option<usize>,
}

fn discord(s: &str) -> Open {
    let mut open = Open::default();
    let mut chars = s.char_indices().peekable();
    let mut in_url = false;
    while let Some((i, c)) = chars.next() {
        if open.code {
            open.code = c != '`';
            continue;
        }
        // An address is not markup: only its end counts.
        if in_url {
            if c == ')' {
                in_url = false;
                open.link = None;
            }
            continue;
        }
        match c {
            '\\' => {
                chars.next();
            }
            '`' => open.code = true,
            '*' if chars.peek().is_some_and(|(_, n)| *n == '*') => {
                chars.next();
                open.bold = !open.bold;
            }
            '[' if open.link.is_none() => open.link = Some(i),
            ']' if open.link.is_some() && chars.peek().is_some_and(|(_, n)| *n == '(') => {
                chars.next();
                in_url = true;
            }
            _ => {}
        }
    }
    open
}

fn slack(s: &str) -> Open {
    let mut open = Open::default();
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        if open.code {
            open.code = c != '`';
            continue;
        }
        if open.link.is_some() {
            if c == '>' {
                open.link = None;
            }
            continue;
        }
        let prev = k.checked_sub(1).map(|p| chars[p].1);
        let next = chars.get(k + 1).map(|n| n.1);
        // A marker between two letters or digits is text (escape.rs keeps those).
        let in_word =
            prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric);
        match c {
            '`' if !in_word => open.code = true,
            '*' if !in_word => open.bold = !open.bold,
            '<' => open.link = Some(i),
            _ => {}
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(p: Platform, s: &str) -> String {
        let mut s = s.to_string();
        let closers = close(p, &mut s);
        s + &closers
    }

    #[test]
    fn open_markup_is_closed_and_half_links_dropped() {
        let d = Platform::Discord;
        assert_eq!(closed(d, "1 push to `mai"), "1 push to `mai`");
        assert_eq!(closed(d, "of **acme/mo"), "of **acme/mo**");
        assert_eq!(closed(d, "a \\` b \\*\\* c"), "a \\` b \\*\\* c");
        assert_eq!(closed(d, "see [the com](https://x"), "see ");
        assert_eq!(
            closed(d, "see [a](https://x) and **b"),
            "see [a](https://x) and **b**"
        );
        let s = Platform::Slack;
        assert_eq!(closed(s, "in *acme/mo"), "in *acme/mo*");
        assert_eq!(closed(s, "snake*case `co"), "snake*case `co`");
        assert_eq!(closed(s, "see <https://x|the"), "see ");
        assert_eq!(closed(Platform::Console, "`x"), "`x");
    }
}
