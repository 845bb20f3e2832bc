//! The owner binds the shop's Facebook Page: the token is checked with the
//! Graph API before it is stored (and never shown again), a Page another
//! shop holds is refused, and unbinding stops the shop answering there.
//! The Instagram professional account linked to the Page is bound with it:
//! its messages come to the same shop and are answered through the Page.

use super::AppState;
use crate::channels::messenger::profile;
use crate::channels::messenger::send::Graph;
use crate::config::ExposeSecret;
use crate::domain::Timestamp;
use crate::store::StoreError;
use crate::store::shops::{self, Shop};

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// What the owner typed is not a Page id or a token.
    #[error("{0}")]
    Invalid(String),
    /// Meta refused the token, or it speaks for another Page.
    #[error("{0}")]
    Refused(String),
    /// Another shop has this Page.
    #[error("this Page is bound to another shop; unbind it there first")]
    Taken,
    #[error("this shop has no Facebook Page {0} bound")]
    NotBound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A Page as Meta named it when its token was checked.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckedPage {
    pub id: String,
    pub name: String,
    /// The Page's Instagram account, bound with it.
    pub instagram: Option<InstagramAccount>,
    /// Why no Instagram account was bound, when the Page has one or Meta
    /// could not say.
    pub instagram_note: Option<String>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct InstagramAccount {
    pub id: String,
    pub username: String,
}

fn graph(state: &AppState) -> Graph {
    Graph {
        http: state.http.clone(),
        base: state.config.meta_graph_url.clone(),
    }
}

/// Binds `page_id` to `shop` with `token`, or replaces the token of a Page
/// the shop already has (after Meta rotated it).
pub async fn bind_messenger(
    state: &AppState,
    shop: &Shop,
    page_id: &str,
    token: &str,
    now: Timestamp,
) -> Result<CheckedPage, ChannelError> {
    let page_id = page_id.trim();
    let token = token.trim();
    if page_id.is_empty() || page_id.len() > 30 || !page_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ChannelError::Invalid(
            "page_id: a Page id is the number in the Page's About section".into(),
        ));
    }
    if token.len() < 20 || token.len() > 1000 || token.chars().any(char::is_whitespace) {
        return Err(ChannelError::Invalid(
            "access_token: paste the whole Page access token (one line, no spaces)".into(),
        ));
    }
    let (id, name) = graph(state)
        .whoami(token)
        .await
        .map_err(|e| ChannelError::Refused(format!("Meta did not accept this token: {e}")))?;
    if id != page_id {
        return Err(ChannelError::Refused(format!(
            "this token is for the Page {name:?} ({id}), not {page_id}"
        )));
    }
    if !shops::bind_own_channel(&state.db, shop.id, "messenger", page_id, token, now).await? {
        return Err(ChannelError::Taken);
    }
    let (instagram, instagram_note) = bind_instagram(state, shop, page_id, token, now).await?;
    state.accounts.forget(page_id);
    state.shop_views.forget(shop.id);
    tracing::info!(shop = shop.id.get(), page = page_id, instagram = ?instagram, "Facebook Page bound");
    Ok(CheckedPage {
        id,
        name,
        instagram,
        instagram_note,
    })
}

/// Binds the Page's Instagram account, when it has one, with the Page's
/// token. The Page stays bound whatever happens here.
async fn bind_instagram(
    state: &AppState,
    shop: &Shop,
    page_id: &str,
    token: &str,
    now: Timestamp,
) -> Result<(Option<InstagramAccount>, Option<String>), ChannelError> {
    let found = match graph(state).instagram_account(page_id, token).await {
        Ok(Some(found)) => found,
        Ok(None) => return Ok((None, None)),
        Err(e) => {
            return Ok((
                None,
                Some(format!(
                    "Meta did not say which Instagram account the Page has: {e}"
                )),
            ));
        }
    };
    let (ig_id, username) = found;
    if !shops::bind_own_channel(&state.db, shop.id, "instagram", &ig_id, token, now).await? {
        return Ok((
            None,
            Some(format!(
                "the Page's Instagram account @{username} is bound to another shop"
            )),
        ));
    }
    state.accounts.forget(&ig_id);
    Ok((
        Some(InstagramAccount {
            id: ig_id,
            username,
        }),
        None,
    ))
}

pub async fn unbind_messenger(
    state: &AppState,
    shop: &Shop,
    page_id: &str,
) -> Result<(), ChannelError> {
    let bound = shops::channels_of(&state.db, shop.id).await?;
    let page_token = bound
        .iter()
        .find(|c| c.channel == "messenger" && c.external_id == page_id)
        .and_then(|c| {
            c.access_token
                .as_ref()
                .map(|t| t.expose_secret().to_string())
        });
    if !shops::unbind_channel(&state.db, shop.id, "messenger", page_id).await? {
        return Err(ChannelError::NotBound(page_id.to_string()));
    }
    // Its Instagram account was bound with it (same token): it goes too.
    for ig in bound.iter().filter(|c| {
        c.channel == "instagram"
            && c.access_token.as_ref().map(|t| t.expose_secret()) == page_token.as_deref()
    }) {
        shops::unbind_channel(&state.db, shop.id, "instagram", &ig.external_id).await?;
        state.accounts.forget(&ig.external_id);
    }
    state.accounts.forget(page_id);
    state.shop_views.forget(shop.id);
    tracing::info!(
        shop = shop.id.get(),
        page = page_id,
        "Facebook Page unbound"
    );
    Ok(())
}

/// Sets Get Started, the greeting and the persistent menu on the Page
/// (what `chatbill messenger setup` does).
pub async fn messenger_setup(
    state: &AppState,
    shop: &Shop,
    page_id: &str,
) -> Result<(), ChannelError> {
    let page = shops::channels_of(&state.db, shop.id)
        .await?
        .into_iter()
        .find(|c| c.channel == "messenger" && c.external_id == page_id)
        .ok_or_else(|| ChannelError::NotBound(page_id.to_string()))?;
    let body = profile::body(
        &state.texts,
        &shop.settings.messages,
        &shop.locale,
        &shop.name,
    );
    let g = graph(state);
    g.post(
        &format!("{}/me/messenger_profile", g.base),
        page.access_token.as_ref().map_or("", |t| t.expose_secret()),
        &body,
    )
    .await
    .map_err(|e| ChannelError::Refused(format!("Messenger Profile API: {e}")))?;
    Ok(())
}
