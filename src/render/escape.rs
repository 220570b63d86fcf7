//! The one escape function per platform, and the little markup each platform speaks.
//! Every value from the Hub goes through `escape` before it reaches a message.

use crate::route::Platform;

/// Makes text from the Hub inert: no pings, no formatting, and one line only (so a title
/// can never break the headline apart from the body).
pub fn escape(platform: Platform, s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        let c = if c.is_control() { ' ' } else { c };
        match platform {
            Platform::Discord => {
                // Backslash-escaped markdown renders as the bare character; `\@everyone`
                // and `\<@123>` render as text and mention nobody.
                if matches!(
                    c,
                    '\\' | '*'
                        | '_'
                        | '~'
                        | '`'
                        | '|'
                        | '>'
                        | '<'
                        | '#'
                        | '-'
                        | '['
                        | ']'
                        | '('
                        | ')'
                        | '@'
                        | ':'
                ) {
                    out.push('\\');
                }
                out.push(c);
            }
            Platform::Slack => match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                _ => out.push(c),
            },
            Platform::Console => out.push(c),
        }
    }
    out
}

pub fn bold(platform: Platform, text: &str) -> String {
    let t = escape(platform, text);
    match platform {
        Platform::Discord => format!("**{t}**"),
        Platform::Slack => format!("*{t}*"),
        Platform::Console => t,
    }
}

/// Inline code. Backticks cannot be escaped inside a code span, so they are dropped.
pub fn code(platform: Platform, text: &str) -> String {
    let t: String = text
        .chars()
        .filter(|c| *c != '`' && !c.is_control())
        .collect();
    match platform {
        Platform::Discord => format!("`{t}`"),
        Platform::Slack => format!("`{}`", escape(platform, &t)),
        Platform::Console => t,
    }
}

/// A link whose text is escaped and whose address cannot close the markup early.
pub fn link(platform: Platform, url: &str, text: &str) -> String {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return escape(platform, text);
    }
    let url: String = url
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '(' => "%28".to_string(),
            ')' => "%29".to_string(),
            '<' => "%3C".to_string(),
            '>' => "%3E".to_string(),
            '|' => "%7C".to_string(),
            c if c.is_control() => String::new(),
            c => c.to_string(),
        })
        .collect();
    let t = escape(platform, text);
    match platform {
        Platform::Discord => format!("[{t}]({url})"),
        Platform::Slack => format!("<{url}|{t}>"),
        Platform::Console => format!("{t} ({url})"),
    }
}

/// A block quote: each line escaped on its own and prefixed.
pub fn quote(platform: Platform, text: &str) -> String {
    let prefix = match platform {
        Platform::Slack => "&gt; ",
        _ => "> ",
    };
    text.lines()
        .map(|l| format!("{prefix}{}", escape(platform, l)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "@everyone <@&123> <!channel> **x** [a](http://e) & < > `c`\nline";

    #[test]
    fn discord_text_pings_nobody_and_formats_nothing() {
        let e = escape(Platform::Discord, HOSTILE);
        assert!(!e.contains('\n'));
        assert!(e.contains("\\@everyone"));
        assert!(e.contains("\\<\\@&123\\>"));
        assert!(e.contains("\\*\\*x\\*\\*"));
        assert!(e.contains("\\[a\\]\\(http\\://e\\)"));
    }

    #[test]
    fn slack_text_escapes_its_three_characters() {
        let e = escape(Platform::Slack, HOSTILE);
        assert!(e.contains("&lt;!channel&gt;"));
        assert!(e.contains("&amp; &lt; &gt;"));
        assert!(!e.contains('<'));
    }

    #[test]
    fn links_cannot_be_broken_out_of() {
        assert_eq!(
            link(Platform::Discord, "https://h/a)b", "x]y"),
            "[x\\]y](https://h/a%29b)"
        );
        assert_eq!(
            link(Platform::Slack, "https://h/a|b>", "t"),
            "<https://h/a%7Cb%3E|t>"
        );
        assert_eq!(link(Platform::Slack, "javascript:alert(1)", "t"), "t");
    }

    #[test]
    fn quotes_escape_every_line() {
        assert_eq!(
            quote(Platform::Slack, "a\n<!here>"),
            "&gt; a\n&gt; &lt;!here&gt;"
        );
        assert_eq!(quote(Platform::Discord, "@here"), "> \\@here");
    }
}
