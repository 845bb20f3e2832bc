//! `Authorization: Bearer <token>`: the token names the shop and the role;
//! every handler is scoped by it. The role's permissions are checked here:
//! each route's row in the endpoint table puts the permissions it needs in
//! the request ([`Needs`]) and the extractor refuses a role without it;
//! checks that depend on the body or the order call [`Auth::require`]. Failed attempts are counted per client and
//! a client that keeps guessing is told to wait (429), valid token or not.

use super::error::ApiError;
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::http::limits::Window;
use crate::store::shops::{self, Shop};
use crate::store::tokens::{self, TokenInfo};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use std::sync::Arc;
use std::time::Duration;

/// Failures allowed per client in one window before it must wait.
pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(60);

/// Counts failed logins per client (by address, see `http::client`).
/// Lives with the router, not globally.
pub struct FailureLimiter {
    failures: Window,
}

impl Default for FailureLimiter {
    fn default() -> Self {
        FailureLimiter {
            failures: Window::new(u64::from(MAX_FAILURES), WINDOW),
        }
    }
}

impl FailureLimiter {
    /// Seconds to wait if `client` is locked out.
    pub fn locked(&self, client: &str) -> Option<u64> {
        self.failures.used_up(client)
    }
    pub fn fail(&self, client: &str) {
        let _ = self.failures.take(client, 1);
    }
}

/// The authenticated caller: the token's shop and role.
#[derive(Clone, Debug)]
pub struct Auth {
    pub shop: Shop,
    pub token: TokenInfo,
}

impl Auth {
    pub fn actor(&self) -> crate::domain::Actor {
        crate::domain::Actor::Seller(self.token.label.clone())
    }
    pub fn may(&self, p: Permission) -> bool {
        self.token.role.may(p)
    }
    /// A 403 naming the permission and the role unless the role holds it.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.may(p) {
            Ok(())
        } else {
            Err(ApiError::Denied {
                permission: p,
                role: self.token.role,
            })
        }
    }
    pub fn require_all(&self, ps: &[Permission]) -> Result<(), ApiError> {
        ps.iter().try_for_each(|p| self.require(*p))
    }
}

/// The permissions a route needs, set by its row in the endpoint table:
/// one, checked by the [`Auth`] extractor, or several when the order
/// decides (the order actions, checked in `order_actions::perform`). A
/// route that uses [`Auth`] without it is refused.
#[derive(Clone, Copy, Debug)]
pub struct Needs(pub &'static [Permission]);

pub fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing Authorization: Bearer <token>".into()))?
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not text".into()))?;
    let (scheme, token) = raw
        .split_once(' ')
        .ok_or_else(|| ApiError::Unauthorized("expected Authorization: Bearer <token>".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized(
            "expected Authorization: Bearer <token>".into(),
        ));
    }
    Ok(token.trim())
}

/// Checks a token, counting failures against `client`. A valid token
/// always gets in, even from an address that is locked out: behind a
/// proxy the seller and the attacker may share one. A client that keeps
/// guessing is told to wait instead of told it guessed wrong.
pub async fn check_token(
    state: &AppState,
    limiter: &FailureLimiter,
    client: &str,
    token: &str,
) -> Result<Auth, ApiError> {
    match tokens::authenticate(&state.db, token).await? {
        Some(info) => {
            let shop = shops::get(&state.db, info.shop_id).await?;
            Ok(Auth { shop, token: info })
        }
        None => Err(refuse_guess(limiter, client)),
    }
}

/// A wrong or missing token: counted, and a 429 once too many.
pub fn refuse_guess(limiter: &FailureLimiter, client: &str) -> ApiError {
    if let Some(wait) = limiter.locked(client) {
        return ApiError::TooManyRequests {
            message: format!("too many failed attempts; try again in {wait} s"),
            retry_after_secs: wait,
        };
    }
    limiter.fail(client);
    ApiError::Unauthorized("unknown or revoked token".into())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let limiter = parts
            .extensions
            .get::<Arc<FailureLimiter>>()
            .cloned()
            .ok_or(ApiError::Internal)?;
        let client = crate::http::client::client_key(parts, &state.config.trusted_proxies);
        let token = match bearer(&parts.headers) {
            Ok(t) => t.to_string(),
            Err(e) => {
                if parts.headers.contains_key(header::AUTHORIZATION) {
                    return Err(match refuse_guess(&limiter, &client) {
                        locked @ ApiError::TooManyRequests { .. } => locked,
                        _ => e,
                    });
                }
                return Err(e);
            }
        };
        let auth = check_token(state, &limiter, &client, &token).await?;
        match parts.extensions.get::<Needs>() {
            // One permission: checked here. Several: which one depends on
            // the order, and `order_actions::perform` checks exactly that
            // (so the refusal names the permission the order needed).
            Some(Needs([p])) => auth.require(*p)?,
            Some(Needs(ps)) if !ps.is_empty() => {}
            _ => {
                tracing::error!(path = %parts.uri.path(), "an admin route without a permission");
                return Err(ApiError::Internal);
            }
        }
        Ok(auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_locked_after_the_allowed_failures_and_others_are_not() {
        let l = FailureLimiter::default();
        for _ in 0..MAX_FAILURES - 1 {
            l.fail("1.2.3.4");
        }
        assert_eq!(l.locked("1.2.3.4"), None);
        l.fail("1.2.3.4");
        let wait = l.locked("1.2.3.4").expect("locked");
        assert!((1..=WINDOW.as_secs()).contains(&wait));
        assert_eq!(l.locked("5.6.7.8"), None);
    }

    #[test]
    fn bearer_parsing_names_the_problem() {
        let mut h = HeaderMap::new();
        assert!(bearer(&h).is_err());
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert!(bearer(&h).is_err());
        h.insert(header::AUTHORIZATION, "bearer  cbk_x ".parse().unwrap());
        assert_eq!(bearer(&h).unwrap(), "cbk_x");
    }
}
