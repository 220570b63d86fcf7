//! "Sign in with Hugging Face" (shared HUB-API.md, OAuth): the authorization code flow
//! with PKCE, the code exchanged and tokens refreshed at `{api_base}/oauth/token`, and
//! who signed in from `whoami-v2`.

use super::client::{ApiError, HubApi};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use url::Url;

/// What `/herald connect` asks for: who you are, managing webhooks, reading your repos.
pub const SCOPES: &str = "openid profile webhooks read-repos";

/// A random value for a URL: 32 bytes, base64url.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).expect("the system's random source");
    URL_SAFE_NO_PAD.encode(b)
}

/// A code a person reads on one screen and types on another: 8 letters and digits that
/// cannot be confused (40 bits), as `ABCD-EFGH`.
pub fn confirmation_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b).expect("the system's random source");
    let c: String = b
        .iter()
        .map(|x| ALPHABET[(*x % 32) as usize] as char)
        .collect();
    format!("{}-{}", &c[..4], &c[4..])
}

/// A confirmation code as typed: case, spaces and dashes do not matter.
pub fn typed_code(s: &str) -> String {
    let c: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .take(8)
        .collect();
    match c.len() {
        8 => format!("{}-{}", &c[..4], &c[4..]),
        _ => c,
    }
}

/// The PKCE challenge for a verifier (S256).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The page a user signs in at.
pub fn authorize_url(
    api: &HubApi,
    client_id: &str,
    redirect: &str,
    state: &str,
    verifier: &str,
) -> Url {
    api.site_url(
        &["oauth", "authorize"],
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("scope", SCOPES),
            ("state", state),
            ("code_challenge", &challenge(verifier)),
            ("code_challenge_method", "S256"),
        ],
    )
}

/// The token endpoint's answer; `expires_in` and `refresh_token` may be absent.
#[derive(Deserialize)]
pub struct Granted {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<i64>,
}

impl std::fmt::Debug for Granted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Granted")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

pub struct App<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
}

pub async fn exchange(
    api: &HubApi,
    app: &App<'_>,
    code: &str,
    redirect: &str,
    verifier: &str,
    deadline: Instant,
) -> Result<Granted, ApiError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("client_id", app.client_id),
        ("code_verifier", verifier),
    ];
    let creds = (app.client_id, app.client_secret);
    api.post_form(&["oauth", "token"], &form, creds, deadline)
        .await
}

pub async fn refresh(
    api: &HubApi,
    app: &App<'_>,
    refresh_token: &str,
    deadline: Instant,
) -> Result<Granted, ApiError> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", app.client_id),
    ];
    let creds = (app.client_id, app.client_secret);
    api.post_form(&["oauth", "token"], &form, creds, deadline)
        .await
}

#[derive(Deserialize)]
struct Whoami {
    name: String,
}

/// The username the api's token belongs to.
pub async fn username(api: &HubApi, deadline: Instant) -> Result<String, ApiError> {
    let (me, _): (Whoami, _) = api.json(api.url(&["whoami-v2"]), deadline).await?;
    super::Person::new(&me.name, None, None)
        .map(|p| p.name)
        .ok_or_else(|| ApiError::Unreadable("no usable username".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_ne!(random_token(), random_token());
        let code = confirmation_code();
        assert_eq!(typed_code(&code.to_lowercase().replace('-', " ")), code);
        assert_eq!(random_token().len(), 43);
    }
}
