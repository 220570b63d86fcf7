//! The words of a command typed in Slack (or anywhere as text): quotes keep spaces
//! together, links come unwrapped, and `key:value` options are told from the rest.

/// A link as Slack sends it (`<https://…|label>`, the app escapes links) as its address.
pub(super) fn unlink(word: &str) -> &str {
    match word
        .strip_prefix("<http")
        .and_then(|_| word.strip_suffix('>'))
    {
        Some(inner) => inner[1..].split('|').next().unwrap_or_default(),
        None => word,
    }
}

/// The options of subscribe: `key:value` or `key=value` for the keys it knows.
pub(super) fn option(word: &str) -> Option<(&str, &str)> {
    let at = word.find([':', '='])?;
    let key = &word[..at];
    ["threads", "filter", "all", "mode", "tz"]
        .contains(&key)
        .then(|| (key, &word[at + 1..]))
}

/// The text after its first `n` words, as typed.
pub(super) fn after_words(text: &str, n: usize) -> &str {
    let mut rest = text.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest.trim_end()
}

/// Splits on spaces, except inside quotes (`"…"`, `“…”`, and `'…'` after `:` or `=`),
/// which are taken off; `\"` inside `"…"` is a quote, so a quoted filter may quote.
pub(super) fn words(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    let mut started = false;
    while let Some(c) = chars.next() {
        let close = match c {
            '"' => Some('"'),
            '“' => Some('”'),
            '\'' if word.ends_with([':', '=']) => Some('\''),
            _ => None,
        };
        if let Some(close) = close {
            started = true;
            loop {
                match chars.next() {
                    None => return Err(format!("a quote opened with {c} is never closed")),
                    Some('\\') if close == '"' && chars.peek() == Some(&'"') => {
                        word.push(chars.next().expect("peeked"));
                    }
                    Some(x) if x == close || (close == '”' && x == '"') => break,
                    Some(x) => word.push(x),
                }
            }
        } else if c.is_whitespace() {
            if started || !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            started = false;
        } else {
            word.push(c);
        }
    }
    if started || !word.is_empty() {
        out.push(word);
    }
    Ok(out)
}
