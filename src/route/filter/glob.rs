//! `*` (any text, `/` included) and `?` (one character); everything else as written.

use super::look::Work;

/// Whether `text` matches `pattern`; `None` when that takes more than the work left. Only
/// the last star is ever resumed, so a match costs at most the product of the lengths.
pub fn matches(pattern: &str, text: &str, work: &Work) -> Option<bool> {
    if !work.take(pattern.len() + text.len()) {
        return None;
    }
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
            // Each resumption is the costly step; it is what the work counts.
            if !work.take(pi - sp) {
                return None;
            }
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return Some(false);
        }
    }
    Some(p[pi..].iter().all(|c| *c == '*'))
}

#[cfg(test)]
mod tests {
    use super::super::look::Work;

    fn matches(p: &str, t: &str) -> bool {
        super::matches(p, t, &Work::new()).expect("within the work")
    }

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
    fn a_hostile_pattern_runs_out_of_work_instead_of_time() {
        let text = "a".repeat(5000);
        let pattern = format!("*{}b", "a".repeat(98));
        let work = Work::new();
        assert_eq!(super::matches(&pattern, &text, &work), None);
        assert_eq!(work.left(), 0);
        // Ordinary names cost their length.
        let work = Work::new();
        assert_eq!(
            super::matches("*.safetensors", "a/b/model.safetensors", &work),
            Some(true)
        );
        assert!(work.left() > super::super::look::WORK_MAX - 100);
    }
}
