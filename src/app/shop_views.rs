//! Short-lived caches of what every message needs: which shop owns a Page,
//! and the shop with its catalog as chat shows it.

use crate::channels::Channel;
use crate::domain::ShopId;
use crate::store::shops::{self, Shop};
use crate::store::{Db, StoreError, catalog};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Page id → shop, cached briefly so intake does not query per request.
/// One map per channel, looked up by `&str` so intake allocates nothing.
type AccountCache = HashMap<String, (Option<ShopId>, Instant)>;

#[derive(Default)]
pub struct Accounts {
    cache: Mutex<[AccountCache; 2]>,
}

const ACCOUNT_TTL: Duration = Duration::from_secs(10);

impl Accounts {
    /// Drops what is cached for a Page after it is bound or unbound here
    /// (other instances see it within `ACCOUNT_TTL`).
    pub fn forget(&self, account: &str) {
        if let Ok(mut c) = self.cache.lock() {
            for slot in c.iter_mut() {
                slot.remove(account);
            }
        }
    }

    pub async fn shop_for(
        &self,
        db: &Db,
        channel: Channel,
        account: &str,
    ) -> Result<Option<ShopId>, StoreError> {
        if channel == Channel::Webchat {
            return Ok(account.parse().ok().map(ShopId));
        }
        let slot = usize::from(channel == Channel::Instagram);
        if let Ok(c) = self.cache.lock()
            && let Some((shop, at)) = c[slot].get(account)
            && at.elapsed() < ACCOUNT_TTL
        {
            return Ok(*shop);
        }
        // Instagram accounts are bound under their own channel name, but a
        // Page id may also carry its Instagram traffic.
        let mut found = shops::find_channel(db, channel.as_str(), account)
            .await?
            .map(|a| a.shop_id);
        if found.is_none() && channel == Channel::Instagram {
            found = shops::find_channel(db, "messenger", account)
                .await?
                .map(|a| a.shop_id);
        }
        if let Ok(mut c) = self.cache.lock() {
            c[slot].insert(account.to_string(), (found, Instant::now()));
        }
        Ok(found)
    }
}

/// A shop and its catalog as chat shows them, cached for a second per
/// shop: a burst of customers does not re-read them per message. Stock
/// shown may lag by that second; stock is enforced when the order is
/// placed. Settings changed in the console apply within the second.
type SharedCatalog = Arc<Vec<crate::domain::catalog::Product>>;

pub struct ShopView {
    pub shop: Shop,
    pub catalog: SharedCatalog,
    /// The Pages and accounts the shop is bound to, for sending.
    pub accounts: Vec<shops::ChannelAccount>,
}

#[derive(Default)]
pub struct ShopViews {
    cache: Mutex<HashMap<ShopId, (Arc<ShopView>, Instant)>>,
}

const SHOP_VIEW_TTL: Duration = Duration::from_secs(1);

impl ShopViews {
    /// Drops the cached view, so a change made here applies at once (other
    /// instances see it within the second).
    pub fn forget(&self, shop: ShopId) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(&shop);
        }
    }

    /// `None` when the shop does not exist.
    pub async fn get(&self, db: &Db, shop: ShopId) -> Result<Option<Arc<ShopView>>, StoreError> {
        if let Ok(c) = self.cache.lock()
            && let Some((view, at)) = c.get(&shop)
            && at.elapsed() < SHOP_VIEW_TTL
        {
            return Ok(Some(view.clone()));
        }
        let shop_row = match shops::get(db, shop).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let catalog = Arc::new(catalog::list_products(db, shop, false).await?);
        let accounts = shops::channels_of(db, shop).await?;
        let view = Arc::new(ShopView {
            shop: shop_row,
            catalog,
            accounts,
        });
        if let Ok(mut c) = self.cache.lock() {
            c.insert(shop, (view.clone(), Instant::now()));
        }
        Ok(Some(view))
    }
}

// ------------------------------------------------------------------ worker
