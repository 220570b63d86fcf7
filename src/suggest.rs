//! "Did you mean …?": the known name nearest to a mistyped one, for config keys, scopes and
//! targets alike.

/// The candidate nearest to `input` (case-insensitively), if it is close enough to be what
/// was meant: within `max` edits, a swap of two letters counting as one, or one of the two
/// starting with the other (`listen_address` for `listen`).
pub fn nearest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Option<&'a str> {
    let input = input.to_lowercase();
    candidates
        .into_iter()
        .filter_map(|c| {
            let lower = c.to_lowercase();
            let d = strsim::osa_distance(&input, &lower);
            let prefix = input.len().min(lower.len()) >= 4
                && (input.starts_with(&lower) || lower.starts_with(&input));
            (d <= max || prefix).then_some((d, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `; did you mean X?` for the nearest candidate, or nothing.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    quote: impl Fn(&str) -> String,
) -> String {
    match nearest(input, candidates, 2) {
        Some(c) => format!("; did you mean {}?", quote(c)),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_and_longer_names_find_the_known_one() {
        let keys = ["listen", "public_url", "body_limit"];
        assert_eq!(nearest("listen_address", keys, 2), Some("listen"));
        assert_eq!(nearest("pubilc_url", keys, 2), Some("public_url"));
        assert_eq!(nearest("discrod", ["discord", "slack"], 2), Some("discord"));
        assert_eq!(nearest("timeout", keys, 2), None);
    }
}
