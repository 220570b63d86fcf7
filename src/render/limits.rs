//! Cutting text to a platform's limits without splitting a character or an escape.

use crate::route::Platform;

/// Cuts `s` to at most `max` characters, ending with `…` when cut. A cut never leaves a
/// dangling backslash (Discord) or half an entity such as `&am` (Slack).
pub fn cut(platform: Platform, s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    match platform {
        Platform::Discord => {
            let trailing = out.chars().rev().take_while(|c| *c == '\\').count();
            if trailing % 2 == 1 {
                out.pop();
            }
        }
        Platform::Slack => {
            if let Some(amp) = out.rfind('&') {
                if !out[amp..].contains(';') {
                    out.truncate(amp);
                }
            }
            // An unclosed `<url|text` would swallow the rest of the message.
            if let Some(lt) = out.rfind('<') {
                if !out[lt..].contains('>') {
                    out.truncate(lt);
                }
            }
        }
        Platform::Console => {}
    }
    out.push('…');
    out
}

/// An excerpt of about `max` characters, cut at a word boundary.
pub fn excerpt(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    let at = head
        .rfind(char::is_whitespace)
        .filter(|i| *i > max / 2)
        .unwrap_or(head.len());
    format!("{}…", head[..at].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_count_characters_not_bytes() {
        let s = "é".repeat(300);
        let c = cut(Platform::Discord, &s, 256);
        assert_eq!(c.chars().count(), 256);
        assert!(c.ends_with('…'));
    }

    #[test]
    fn cuts_never_leave_half_an_escape() {
        assert_eq!(cut(Platform::Discord, "abc\\*def", 5), "abc…");
        assert_eq!(cut(Platform::Slack, "ab &amp; cd", 6), "ab …");
        assert_eq!(cut(Platform::Slack, "x <https://h|t> y", 8), "x …");
    }

    #[test]
    fn excerpts_end_at_a_word() {
        assert_eq!(excerpt("hello wonderful world", 18), "hello wonderful…");
        assert_eq!(excerpt("abcdefghijklmnop qr", 12), "abcdefghijkl…");
        assert_eq!(excerpt("short", 12), "short");
    }
}
