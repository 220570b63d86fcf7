//! Webhook secrets: several may be valid at once while one is being rotated.

use subtle::ConstantTimeEq;

#[derive(Debug, PartialEq, Eq)]
pub enum SecretCheck {
    Missing,
    Wrong,
    Valid,
}

#[derive(Clone, Default)]
pub struct Secrets(Vec<String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} redacted)", self.0.len())
    }
}

impl Secrets {
    /// Empty strings are dropped: an empty secret would accept an empty header.
    pub fn new<I: IntoIterator<Item = String>>(secrets: I) -> Secrets {
        Secrets(secrets.into_iter().filter(|s| !s.is_empty()).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares against every secret in constant time, without stopping at a match.
    pub fn check(&self, given: Option<&str>) -> SecretCheck {
        let Some(given) = given.filter(|g| !g.is_empty()) else {
            return SecretCheck::Missing;
        };
        let matched = self.0.iter().fold(0u8, |acc, s| {
            acc | s.as_bytes().ct_eq(given.as_bytes()).unwrap_u8()
        });
        if matched == 1 {
            SecretCheck::Valid
        } else {
            SecretCheck::Wrong
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_accepts_old_and_new_and_nothing_else() {
        let s = Secrets::new(["old".to_string(), "new".to_string(), String::new()]);
        assert_eq!(s.check(Some("old")), SecretCheck::Valid);
        assert_eq!(s.check(Some("new")), SecretCheck::Valid);
        assert_eq!(s.check(Some("ne")), SecretCheck::Wrong);
        assert_eq!(s.check(Some("")), SecretCheck::Missing);
        assert_eq!(s.check(None), SecretCheck::Missing);
        assert!(!format!("{s:?}").contains("old"));
    }
}
