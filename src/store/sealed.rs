//! Secrets at rest (Hub tokens, a managed webhook's secret): sealed with ChaCha20-Poly1305
//! under `security.key`, each with a random nonce and bound to what it belongs to (the
//! associated data), so that a sealed value copied to another row does not open.

use anyhow::Context;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};

pub struct Sealer(LessSafeKey);

/// The sealer of `security.key`, if one is set.
pub fn from_key(key: &str) -> anyhow::Result<Option<std::sync::Arc<Sealer>>> {
    match key.trim() {
        "" => Ok(None),
        key => Ok(Some(std::sync::Arc::new(Sealer::new(key)?))),
    }
}

impl Sealer {
    /// From 64 hex characters (what `openssl rand -hex 32` prints).
    pub fn new(key_hex: &str) -> anyhow::Result<Sealer> {
        let key: [u8; 32] = hex::decode(key_hex.trim())
            .ok()
            .and_then(|k| k.try_into().ok())
            .context("security.key must be 32 bytes as 64 hex characters (openssl rand -hex 32)")?;
        let key = UnboundKey::new(&CHACHA20_POLY1305, &key).expect("a 32-byte key");
        Ok(Sealer(LessSafeKey::new(key)))
    }

    /// `nonce ‖ ciphertext ‖ tag`.
    pub fn seal(&self, plain: &[u8], belongs_to: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).expect("the system's random source");
        let mut out = plain.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(belongs_to.as_bytes()),
                &mut out,
            )
            .expect("sealing never fails for small values");
        [nonce.as_slice(), &out].concat()
    }

    /// The plain value, or an error when the key or the owner is not the one it was
    /// sealed with (or the bytes were changed).
    pub fn open(&self, sealed: &[u8], belongs_to: &str) -> anyhow::Result<String> {
        anyhow::ensure!(sealed.len() > NONCE_LEN, "a sealed value too short");
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).expect("NONCE_LEN bytes");
        let mut buf = rest.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(belongs_to.as_bytes()), &mut buf)
            .map_err(|_| {
                anyhow::anyhow!(
                    "a stored secret does not open with security.key: was the key changed?"
                )
            })?;
        Ok(String::from_utf8(plain.to_vec())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn sealed_values_open_only_with_their_key_and_owner() {
        let s = Sealer::new(KEY).unwrap();
        let sealed = s.seal(b"hf_secret_token", "discord:1");
        assert!(!sealed.windows(9).any(|w| w == b"hf_secret"));
        assert_eq!(s.open(&sealed, "discord:1").unwrap(), "hf_secret_token");
        assert!(s.open(&sealed, "discord:2").is_err(), "another owner's row");
        let other = Sealer::new(&KEY.replace("00", "ff")).unwrap();
        assert!(other.open(&sealed, "discord:1").is_err());
        assert_ne!(
            sealed,
            s.seal(b"hf_secret_token", "discord:1"),
            "a fresh nonce"
        );
        for bad in ["", "abc", &KEY[..62], &format!("{}zz", &KEY[..62])] {
            assert!(Sealer::new(bad).is_err(), "{bad}");
        }
    }
}
