//! Admin API tokens: shown once, stored as SHA-256, revocable, with a role.

use super::{Db, Result, StoreError, col};
use crate::clock::{hex, random_token};
use crate::domain::{ShopId, Timestamp};
use sha2::{Digest, Sha256};

/// The role is stored by its name (`Role::as_str`); see `domain::access`.
pub use crate::domain::access::Role;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub shop_id: ShopId,
    pub label: String,
    pub role: Role,
    pub prefix: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// The language this person reads the console in (`en`, `th`, `vi`);
    /// `None`: the shop's.
    pub language: Option<String>,
}

pub const TOKEN_PREFIX: &str = "cbk_";

fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Creates a token and returns its plaintext, the only time it exists.
pub async fn create(
    db: &Db,
    shop: ShopId,
    label: &str,
    role: Role,
    now: Timestamp,
) -> Result<(String, TokenInfo)> {
    let token = random_token(TOKEN_PREFIX);
    let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let row = sqlx::query(
        "insert into api_tokens (shop_id, token_hash, prefix, label, role, created_at) values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(shop.get())
    .bind(digest(&token))
    .bind(&prefix)
    .bind(label)
    .bind(role.as_str())
    .bind(now.millis())
    .fetch_one(&db.pool)
    .await?;
    let info = TokenInfo {
        id: col(&row, "id")?,
        shop_id: shop,
        label: label.to_string(),
        role,
        prefix,
        created_at: now,
        revoked_at: None,
        language: None,
    };
    Ok((token, info))
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<TokenInfo> {
    let role: String = col(r, "role")?;
    Ok(TokenInfo {
        id: col(r, "id")?,
        shop_id: ShopId(col(r, "shop_id")?),
        label: col(r, "label")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        prefix: col(r, "prefix")?,
        created_at: Timestamp(col(r, "created_at")?),
        revoked_at: col::<Option<i64>>(r, "revoked_at")?.map(Timestamp),
        language: col(r, "language")?,
    })
}

/// The token's shop and role, if it is known and not revoked. The lookup is
/// by hash, so timing reveals nothing about stored tokens.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<TokenInfo>> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    let row = sqlx::query(
        "select id, shop_id, label, role, prefix, created_at, revoked_at, language from api_tokens where token_hash = $1 and revoked_at is null",
    )
    .bind(digest(token))
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(db: &Db, shop: ShopId) -> Result<Vec<TokenInfo>> {
    let rows = sqlx::query(
        "select id, shop_id, label, role, prefix, created_at, revoked_at, language from api_tokens where shop_id = $1 order by id",
    )
    .bind(shop.get())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn revoke(db: &Db, shop: ShopId, id: i64, now: Timestamp) -> Result<()> {
    let n = sqlx::query("update api_tokens set revoked_at = $1 where id = $2 and shop_id = $3 and revoked_at is null")
        .bind(now.millis())
        .bind(id)
        .bind(shop.get())
        .execute(&db.writer)
        .await?
        .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// How long a console sign-in lasts.
pub const SESSION_DAYS: i64 = 14;

/// Starts a console session for `token`; returns the cookie's value, the
/// only time it exists in the clear.
pub async fn start_session(db: &Db, token: &TokenInfo, now: Timestamp) -> Result<String> {
    let id = random_token("cbs_");
    sqlx::query(
        "insert into console_sessions (token_id, id_hash, created_at, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(token.id)
    .bind(digest(&id))
    .bind(now.millis())
    .bind(now.plus_secs(SESSION_DAYS * 86_400).millis())
    .execute(&db.writer)
    .await?;
    Ok(id)
}

/// The token behind a live session: not expired, not ended, its token not
/// revoked.
pub async fn session_token(db: &Db, session: &str, now: Timestamp) -> Result<Option<TokenInfo>> {
    if !session.starts_with("cbs_") || session.len() > 128 {
        return Ok(None);
    }
    let row = sqlx::query(
        "select t.id, t.shop_id, t.label, t.role, t.prefix, t.created_at, t.revoked_at, t.language \
         from console_sessions s join api_tokens t on t.id = s.token_id \
         where s.id_hash = $1 and s.ended_at is null and s.expires_at > $2 and t.revoked_at is null",
    )
    .bind(digest(session))
    .bind(now.millis())
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Ends a session (logout). Unknown ids are ignored.
pub async fn end_session(db: &Db, session: &str, now: Timestamp) -> Result<()> {
    sqlx::query(
        "update console_sessions set ended_at = $1 where id_hash = $2 and ended_at is null",
    )
    .bind(now.millis())
    .bind(digest(session))
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Sets the language the token's holder reads the console in; `None`
/// goes back to the shop's.
pub async fn set_language(db: &Db, shop: ShopId, id: i64, language: Option<&str>) -> Result<()> {
    let done = sqlx::query("update api_tokens set language = $1 where shop_id = $2 and id = $3")
        .bind(language)
        .bind(shop.get())
        .bind(id)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
