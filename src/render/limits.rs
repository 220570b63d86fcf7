//! Cutting text to a platform's limits without splitting a character or an escape.

use crate::route::Platform;

/// Cuts `s` to at most `max` characters, ending with `…` when cut. A cut never leaves a
/// dangling backslash (Discord), half an entity such as `&am` (Slack), or markup open: an
/// open code span or bold is closed, a link cut in half is dropped (balance.rs).
pub fn cut(platform: Platform, s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut keep = max.saturating_sub(1);
    loop {
        let mut out = cut_at(platform, s, keep);
        let closers = super::balance::close(platform, &mut out);
        let over = (out.chars().count() + closers.chars().count() + 1).saturating_sub(max);
        if over == 0 || keep == 0 {
            out.push_str(&closers);
            out.push('…');
            return out;
        }
        keep = keep.saturating_sub(over);
    }
}

/// The first `keep` characters of `s`, without half an escape or entity.
fn cut_at(platform: Platform, s: &str, keep: usize) -> String {
    let mut out: String = s.chars().take(keep).collect();
    match platform {
        Platform::Discord => {
            let trailing = out.chars().rev().take_while(|c| *c == '\\').count();
            if trailing % 2 == 1 {
                out.pop();
            }
        }
        Platform::Slack => {
            // Half an entity (a `&` in a link's address is a whole character).
            if let Some(amp) = out.rfind('&') {
                if !out[amp..].contains(';') && !out[amp..].contains('>') {
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
    out
}

/// Splits `s` into at most `chunks` pieces of at most `max` characters each, between
/// lines: a list is cut after an item, never inside one (a single line longer than `max`
/// is [`cut`]). When lines are left out, the last piece ends with a line saying how many,
/// linked to `more_url` where they can be seen: "and 14 more".
pub fn split_lines(
    platform: Platform,
    s: &str,
    max: usize,
    chunks: usize,
    more_url: &str,
) -> Vec<String> {
    let lines: Vec<&str> = s.lines().collect();
    let mut pieces: Vec<Vec<String>> = Vec::new();
    let mut i = 0;
    while i < lines.len() && pieces.len() < chunks.max(1) {
        let (mut piece, mut len) = (Vec::new(), 0);
        while let Some(line) = lines.get(i) {
            let n = line.chars().count() + usize::from(!piece.is_empty());
            if len + n <= max {
                piece.push(line.to_string());
                len += n;
            } else if piece.is_empty() {
                let cut = cut(platform, line, max);
                len = cut.chars().count();
                piece.push(cut);
            } else {
                break;
            }
            i += 1;
        }
        pieces.push(piece);
    }
    if i < lines.len() {
        let last = pieces.last_mut().expect("one piece at least");
        loop {
            let (n, tail) = left_out(platform, &lines[i..]);
            let mut end = vec![more(platform, n, more_url)];
            end.extend(tail.iter().map(|l| l.to_string()));
            let end_len: usize = end.iter().map(|l| l.chars().count() + 1).sum();
            let len: usize = last.iter().map(|l| l.chars().count() + 1).sum();
            if len + end_len <= max + 1 || last.is_empty() {
                // The end alone may still be too long (a long summary): cut it.
                let end = split_lines(platform, &end.join("\n"), max.saturating_sub(len), 1, "");
                last.extend(end.into_iter().filter(|e| !e.is_empty()));
                break;
            }
            last.pop();
            i -= 1;
        }
    }
    pieces.into_iter().map(|p| p.join("\n")).collect()
}

/// The count a template's own line says it left out: `and N more`.
fn count_of(line: &str) -> Option<usize> {
    let n = line.trim().strip_prefix("and ")?.strip_suffix(" more")?;
    n.parse().ok()
}

/// A line after the list, kept when the list is cut: a change summary, or a link alone.
fn after_list(platform: Platform, line: &str) -> bool {
    let l = line.trim();
    let lone_link = match platform {
        Platform::Discord => l.starts_with('[') && l.ends_with(')') && !l[1..].contains("]("),
        Platform::Slack => l.starts_with('<') && l.ends_with('>') && l.matches('<').count() == 1,
        Platform::Console => false,
    };
    lone_link || l.is_empty() || l.starts_with("Changed: ")
}

/// What `rest` leaves out, and the lines after its list, which are kept: the list ends at
/// a template's own `and N more` (counted as N), else before the trailing lines that
/// [`after_list`] keeps.
fn left_out<'a>(platform: Platform, rest: &[&'a str]) -> (usize, Vec<&'a str>) {
    let (list, tail, extra) = match rest.iter().rposition(|l| count_of(l).is_some()) {
        Some(m) => (&rest[..m], &rest[m + 1..], count_of(rest[m]).unwrap_or(0)),
        None => {
            let t = rest
                .iter()
                .rev()
                .take_while(|l| after_list(platform, l))
                .count();
            (&rest[..rest.len() - t], &rest[rest.len() - t..], 0)
        }
    };
    let items = list.iter().filter(|l| !l.trim().is_empty()).count();
    let tail = tail
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    (items.saturating_add(extra), tail)
}

/// "and 14 more", linked where the rest can be seen.
fn more(platform: Platform, n: usize, url: &str) -> String {
    super::escape::link(platform, url, &format!("and {n} more"))
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
    fn lines_split_between_items_and_say_how_many_are_left_out() {
        let list: String = (0..100).map(|i| format!("item {i:02}\n")).collect();
        let pieces = split_lines(Platform::Slack, &list, 80, 3, "https://x/refs");
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.chars().count() <= 80), "{pieces:?}");
        assert!(pieces[0].starts_with("item 00\nitem 01"));
        let shown = pieces
            .iter()
            .flat_map(|p| p.lines())
            .filter(|l| l.starts_with("item "))
            .count();
        let last = pieces[2].lines().last().unwrap();
        assert_eq!(last, format!("<https://x/refs|and {} more>", 100 - shown));
        for line in pieces
            .iter()
            .flat_map(|p| p.lines())
            .filter(|l| l.starts_with("item"))
        {
            assert_eq!(line.len(), 7, "never an item cut in half: {line}");
        }
        assert_eq!(split_lines(Platform::Slack, "a\nb", 80, 3, ""), ["a\nb"]);
        let long = "x".repeat(200);
        let one = split_lines(Platform::Discord, &long, 80, 1, "");
        assert_eq!(one[0].chars().count(), 80);
        // A template's own count is added to what is left out, and what follows the list
        // (a change summary, a link alone) is kept.
        let listed: String = (0..40)
            .map(|i| format!("item {i:02}\n"))
            .collect::<String>()
            + "and 960 more\nChanged: weights\n<https://x|Open>";
        let one = split_lines(Platform::Slack, &listed, 120, 1, "https://x");
        let lines: Vec<&str> = one[0].lines().collect();
        let shown = lines.iter().filter(|l| l.starts_with("item ")).count();
        assert_eq!(
            lines[shown..],
            [
                &format!("<https://x|and {} more>", 1000 - shown) as &str,
                "Changed: weights",
                "<https://x|Open>"
            ]
        );
        assert!(one[0].chars().count() <= 120);
        let listed: String = (0..40)
            .map(|i| format!("item {i:02}\n"))
            .collect::<String>()
            + "and 60 more";
        let one = split_lines(Platform::Console, &listed, 80, 1, "https://x");
        assert!(
            one[0].ends_with(&format!(
                "and {} more (https://x)",
                100 - (one[0].lines().count() - 1)
            )),
            "{one:?}"
        );
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
