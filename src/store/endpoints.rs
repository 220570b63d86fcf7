//! Workspaces' own webhook endpoints. Secrets are stored hashed and shown once.

use crate::hub::secret::SecretCheck;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Endpoint {
    pub id: String,
    pub workspace: String,
    secret_hash: String,
    previous_hash: Option<String>,
    previous_until: Option<i64>,
}

/// Random bytes from the operating system, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).expect("the operating system's random source works");
    hex::encode(buf)
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

impl Endpoint {
    /// The current secret, or the previous one during its grace period; compared as hashes
    /// in constant time.
    pub fn check(&self, given: Option<&str>, now: i64) -> SecretCheck {
        let Some(given) = given.filter(|g| !g.is_empty()) else {
            return SecretCheck::Missing;
        };
        let h = hash(given);
        let current = same(&h, &self.secret_hash);
        let previous = self.previous_until.is_some_and(|t| now < t)
            && self.previous_hash.as_deref().is_some_and(|p| same(&h, p));
        if current | previous {
            SecretCheck::Valid
        } else {
            SecretCheck::Wrong
        }
    }
}

const COLUMNS: &str = "id, workspace, secret_hash, previous_hash, previous_until";

pub async fn get(pool: &SqlitePool, id: &str) -> sqlx::Result<Option<Endpoint>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM endpoints WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn for_workspace(pool: &SqlitePool, workspace: &str) -> sqlx::Result<Option<Endpoint>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM endpoints WHERE workspace = ?"
    ))
    .bind(workspace)
    .fetch_optional(pool)
    .await
}

/// Creates the workspace's endpoint; returns it with its new secret.
pub async fn create(
    pool: &SqlitePool,
    workspace: &str,
    by: &str,
    now: i64,
) -> sqlx::Result<(Endpoint, String)> {
    let secret = random_hex(24);
    let id = random_hex(12);
    sqlx::query("INSERT INTO endpoints (id, workspace, secret_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)")
        .bind(&id)
        .bind(workspace)
        .bind(hash(&secret))
        .bind(now)
        .bind(by)
        .execute(pool)
        .await?;
    let ep = get(pool, &id).await?.expect("just inserted");
    Ok((ep, secret))
}

/// Replaces the secret; the old one stays valid until `grace_until`.
pub async fn rotate(
    pool: &SqlitePool,
    workspace: &str,
    grace_until: i64,
) -> sqlx::Result<Option<(Endpoint, String)>> {
    let secret = random_hex(24);
    let done = sqlx::query(
        "UPDATE endpoints SET previous_hash = secret_hash, previous_until = ?, secret_hash = ? WHERE workspace = ?",
    )
    .bind(grace_until)
    .bind(hash(&secret))
    .bind(workspace)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let ep = for_workspace(pool, workspace).await?.expect("just updated");
    Ok(Some((ep, secret)))
}
