//! The one escape function per platform, and the little markup each platform speaks.
//! Every value from the Hub goes through `escape` before it reaches a message.

use crate::route::Platform;

/// What a character from the Hub becomes before any markup: controls and line or
/// paragraph separators a space; bidi overrides and zero-width characters nothing (they
/// could reorder or hide what a reader sees, or split a word a filter looks for).
pub fn neutral(c: char) -> Option<char> {
    match c {
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' => None,
        '\u{2066}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}' | '\u{00AD}' | '\u{034F}' => None,
        // Invisible fillers, interlinear annotations and tag characters.
        '\u{180E}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' => None,
        '\u{FFF9}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}' => None,
        '\u{2028}' | '\u{2029}' => Some(' '),
        c if c.is_control() => Some(' '),
        c => Some(c),
    }
}

/// Slack has no escape for its formatting markers: one that could open or close bold,
/// italics, strikes or code (not between two letters or digits, as in `snake_case`)
/// becomes its look-alike.
fn slack_marker(prev: Option<char>, c: char, next: Option<char>) -> char {
    let inside_word =
        prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric);
    match c {
        _ if inside_word => c,
        '*' => '\u{2217}',
        '_' => '\u{02CD}',
        '~' => '\u{02DC}',
        '`' => '\u{02CB}',
        c => c,
    }
}

/// Slack's three entities, and the neutral characters only: for text that is not from the
/// Hub and whose markers must read as typed.
pub fn entities(s: &str) -> String {
    s.chars()
        .filter_map(neutral)
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Makes text from the Hub inert: no pings, no formatting, and one line only (so a title
/// can never break the headline apart from the body).
pub fn escape(platform: Platform, s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let chars: Vec<char> = s.chars().filter_map(neutral).collect();
    for (i, &c) in chars.iter().enumerate() {
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
                _ => {
                    let prev = i.checked_sub(1).map(|p| chars[p]);
                    out.push(slack_marker(prev, c, chars.get(i + 1).copied()));
                }
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
        .filter_map(neutral)
        .filter(|c| *c != '`')
        .collect();
    match platform {
        Platform::Discord => format!("`{t}`"),
        // Inside code, Slack shows markers as they are: only the entities are needed.
        Platform::Slack => format!("`{}`", entities(&t)),
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
            c if neutral(c) != Some(c) => String::new(),
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
    fn slack_markers_from_the_hub_format_nothing_but_words_keep_theirs() {
        let e = escape(Platform::Slack, "*bold* _it_ ~gone~ `code` snake_case a*b");
        assert!(
            !e.contains("*bold*") && !e.contains("_it_") && !e.contains("~gone~"),
            "{e}"
        );
        assert!(!e.contains('`'), "{e}");
        assert!(e.contains("snake_case") && e.contains("a*b"), "{e}");
    }

    #[test]
    fn bidi_zero_width_and_separators_are_neutralised_everywhere() {
        let hostile = "evil\u{202E}gpj.exe\u{200B}x\u{2028}y\u{2029}z\u{2066}w\u{FEFF}";
        for p in [Platform::Discord, Platform::Slack, Platform::Console] {
            let e = escape(p, hostile);
            for c in [
                '\u{202E}', '\u{200B}', '\u{2028}', '\u{2029}', '\u{2066}', '\u{FEFF}',
            ] {
                assert!(!e.contains(c), "{p:?}: {e:?}");
            }
            assert!(e.contains("gpj.exex y z"), "{p:?}: {e:?}");
            assert!(!code(p, hostile).contains('\u{202E}'));
            assert!(!link(p, "https://h/\u{202E}x", hostile).contains('\u{202E}'));
        }
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
