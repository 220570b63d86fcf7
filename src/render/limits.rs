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

/// Splits `s` into at most `chunks` pieces of at most `max` characters each, between
/// lines where it can: a list is cut after an item, never inside one. What does not fit
/// ends the last piece with a line `…`; a single line longer than `max` is [`cut`].
pub fn split_lines(platform: Platform, s: &str, max: usize, chunks: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut len = 0;
    let mut lines = s.lines().peekable();
    while let Some(line) = lines.next() {
        let n = line.chars().count();
        let sep = usize::from(len > 0);
        // The last piece keeps room for the closing `…` line while more follows.
        let last = out.len() + 1 == chunks;
        let room = if last && lines.peek().is_some() {
            max - 2
        } else {
            max
        };
        if len + sep + n <= room {
            if sep == 1 {
                current.push('\n');
            }
            current.push_str(line);
            len += sep + n;
            continue;
        }
        if len > 0 {
            if last {
                current.push_str("\n…");
                out.push(current);
                return out;
            }
            out.push(std::mem::take(&mut current));
        }
        let reserve = out.len() + 1 == chunks && lines.peek().is_some();
        let room = if reserve { max.saturating_sub(2) } else { max };
        if n > room {
            current = cut(platform, line, room);
        } else {
            current = line.to_string();
        }
        len = current.chars().count();
    }
    if !current.is_empty() || out.is_empty() {
        out.push(current);
    }
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
    fn lines_split_between_items_and_say_when_some_are_left_out() {
        let list: String = (0..100).map(|i| format!("item {i:02}\n")).collect();
        let pieces = split_lines(Platform::Slack, &list, 80, 3);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.chars().count() <= 80), "{pieces:?}");
        assert!(pieces[0].starts_with("item 00\nitem 01"));
        assert!(pieces[2].ends_with("\n…"), "{pieces:?}");
        for p in &pieces {
            for line in p.lines() {
                assert!(
                    line == "…" || (line.starts_with("item ") && line.len() == 7),
                    "{line}"
                );
            }
        }
        assert_eq!(split_lines(Platform::Slack, "a\nb", 80, 3), ["a\nb"]);
        let long = "x".repeat(200);
        let one = split_lines(Platform::Discord, &long, 80, 1);
        assert_eq!(one[0].chars().count(), 80);
    }

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
