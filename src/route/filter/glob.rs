//! `*` (any text, `/` included) and `?` (one character); everything else as written.

/// Whether `text` matches `pattern`. Linear in their lengths times the stars, with no
/// backtracking blow-up: only the last star is ever resumed.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_marks() {
        assert!(matches("main", "main"));
        assert!(!matches("main", "mains"));
        assert!(matches("v*", "v1.2"));
        assert!(!matches("v*", "release"));
        assert!(matches("refs/pr/*", "refs/pr/12"));
        assert!(matches("*.safetensors", "sub/model-00001.safetensors"));
        assert!(matches("*bot*", "librarian-bot"));
        assert!(matches("v?", "v1"));
        assert!(!matches("v?", "v12"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
    }

    #[test]
    fn a_hostile_pattern_stays_linear() {
        let text = "a".repeat(5000);
        assert!(!matches(&format!("{}b", "*a".repeat(50)), &text));
    }
}
