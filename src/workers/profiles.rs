//! Customer names from Messenger: fetches the profile of each customer
//! whose profile is due (new, or stale when they write again) with the
//! Page token, drawing each call from the Page's send budget so that names
//! never crowd out replies. A refusal (no permission) leaves the name to
//! the customer's first address or the seller.

use super::{Next, Work};
use crate::app::AppState;
use crate::app::shop_views::ShopView;
use crate::channels::messenger::send::{Graph, SendError};
use crate::clock;
use crate::config::ExposeSecret;
use crate::domain::{CustomerName, ShopId, Timestamp};
use crate::store::profiles::{self, Due};
use crate::store::{StoreError, send_budgets};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tracing::Instrument;

const CLAIM: i64 = 32;
/// Longer than one fetch can take (the client's 15 s timeout).
const LEASE_MS: i64 = 60_000;
/// Transient failures before the fetch waits for the next refresh.
const MAX_ATTEMPTS: i64 = 5;

pub struct Profiles;

impl Work for Profiles {
    const NAME: &'static str = "profiles";
    const IDLE: Duration = Duration::from_secs(2);

    fn wake(&self, state: &AppState) -> Option<Arc<Notify>> {
        Some(state.outbox_wake.clone())
    }

    async fn pass(&mut self, state: &AppState, _: &str) -> Result<Next, String> {
        let claimed = run_once(state).await.map_err(|e| e.to_string())?;
        Ok(if claimed as i64 >= CLAIM {
            Next::Busy
        } else {
            Next::Idle
        })
    }
}

/// A fetch that may go now.
struct Fetch {
    due: Due,
    page_key: String,
    token: String,
}

/// Claims due profiles, takes their calls from each Page's budget, fetches
/// those that fit and settles every one. Returns how many were claimed.
pub async fn run_once(state: &AppState) -> Result<usize, StoreError> {
    let now = clock::now();
    let claimed = profiles::claim(&state.db, now, LEASE_MS, CLAIM).await?;
    let count = claimed.len();
    let mut views: HashMap<ShopId, Option<Arc<ShopView>>> = HashMap::new();
    let mut by_page: HashMap<String, Vec<Fetch>> = HashMap::new();
    for due in claimed {
        let view = match views.get(&due.shop_id) {
            Some(v) => v.clone(),
            None => {
                let v = state.shop_views.get(&state.db, due.shop_id).await?;
                views.insert(due.shop_id, v.clone());
                v
            }
        };
        let account = view.as_ref().and_then(|v| {
            v.accounts
                .iter()
                .find(|a| a.channel == "messenger" && a.access_token.is_some())
                .cloned()
        });
        let Some(account) = account else {
            profiles::refused(
                &state.db,
                due.customer_id,
                "the shop has no Page bound",
                now,
                None,
            )
            .await?;
            continue;
        };
        let page_key = send_budgets::page_key(&account.channel, &account.external_id);
        let token = account
            .access_token
            .as_ref()
            .map(|t| t.expose_secret().to_string())
            .unwrap_or_default();
        by_page.entry(page_key.clone()).or_default().push(Fetch {
            due,
            page_key,
            token,
        });
    }
    let go = take_budgets(state, by_page, now).await?;
    let fetches = go.into_iter().map(|f| {
        let state = state.clone();
        let span = tracing::info_span!(
            "profile",
            shop = f.due.shop_id.get(),
            customer = f.due.customer_id.get()
        );
        async move { settle(&state, f).await }.instrument(span)
    });
    for outcome in futures_util::future::join_all(fetches).await {
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "a profile fetch could not be settled; its lease expires and it is tried again");
        }
    }
    Ok(count)
}

/// The calls each Page has room for now; the rest wait for the budget.
async fn take_budgets(
    state: &AppState,
    by_page: HashMap<String, Vec<Fetch>>,
    now: Timestamp,
) -> Result<Vec<Fetch>, StoreError> {
    let rate = state.config.send_rate;
    if rate.is_unlimited() {
        return Ok(by_page.into_values().flatten().collect());
    }
    let mut go = Vec::new();
    for (page_key, mut list) in by_page {
        let calls = vec![1; list.len()];
        let grant = send_budgets::take(&state.db, &page_key, now, rate, &calls).await?;
        let rest = list.split_off(grant.messages.min(list.len()));
        go.extend(list);
        let at = grant
            .retry_at
            .unwrap_or(Timestamp(now.millis() + rate.refill_ms().max(1)));
        for f in rest {
            profiles::again_at(&state.db, f.due.customer_id, at, None).await?;
        }
    }
    Ok(go)
}

async fn settle(state: &AppState, f: Fetch) -> Result<(), StoreError> {
    let graph = Graph {
        http: state.http.clone(),
        base: state.config.meta_graph_url.clone(),
    };
    let id = f.due.customer_id;
    let now = clock::now();
    match graph.user_profile(&f.due.psid, &f.token).await {
        Ok(p) => {
            let name = CustomerName::from_profile(&p.first_name, &p.last_name);
            profiles::fetched(&state.db, id, name.as_ref(), p.picture.as_deref(), now).await?;
            state.metrics.incr("profiles_fetched", 1);
        }
        Err(SendError::Transient(e)) if f.due.attempts + 1 < MAX_ATTEMPTS => {
            let wait = 30_000_i64.saturating_mul(1 << f.due.attempts.clamp(0, 6));
            profiles::again_at(&state.db, id, Timestamp(now.millis() + wait), Some(&e)).await?;
        }
        Err(SendError::PageThrottled { wait_ms, message }) => {
            let until =
                send_budgets::pause(&state.db, &f.page_key, now, state.config.send_rate, wait_ms)
                    .await?;
            tracing::warn!(error = %message, "Meta rate-limited the Page while fetching a profile");
            profiles::again_at(&state.db, id, until, None).await?;
        }
        Err(e) => {
            tracing::info!(error = %e, "Meta gave no profile; the name comes from the address or the seller");
            profiles::refused(&state.db, id, &e.to_string(), now, None).await?;
            state.metrics.incr("profiles_refused", 1);
        }
    }
    Ok(())
}
