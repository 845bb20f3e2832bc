//! Changing a shop's settings: checked, stored with a record of who changed
//! what and when in one transaction, and in effect at once.

use crate::domain::settings::{self, SettingsError};
use crate::domain::shop::ShopSettings;
use crate::domain::{Actor, Money, Timestamp};
use crate::engine::notices;
use crate::store::shops::{self, SettingsChange, Shop};
use crate::store::{self, Db, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    Invalid(#[from] SettingsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every rule the settings must keep in `shop`'s currency, including that
/// the payment QR can really be printed.
pub fn check(settings: &ShopSettings, shop: &Shop) -> Result<(), SettingsError> {
    settings::validate(settings, shop.currency, notices::KINDS)?;
    crate::engine::texts::check_overrides(&crate::engine::Texts::embedded(), &settings.messages)
        .map_err(|(field, reason)| SettingsError { field, reason })?;
    if let Some(qr) = &settings.payment_qr
        && let Err(e) = crate::slips::payment_qr::payload(qr, Money::new(100, shop.currency))
    {
        return Err(SettingsError {
            field: "payment_qr".into(),
            reason: e.to_string(),
        });
    }
    Ok(())
}

/// What a change did: the settings now, and the names that changed (none
/// when the patch changed nothing, and then nothing is recorded).
pub struct Changed {
    pub settings: ShopSettings,
    pub fields: Vec<String>,
}

/// How the settings are changed.
#[derive(Clone, Copy, Debug)]
pub enum Edit<'a> {
    /// A JSON merge patch: only the settings named change.
    Patch(&'a serde_json::Value),
    /// The whole object: settings left out go back to their defaults.
    Replace(&'a serde_json::Value),
}

/// Changes `shop`'s settings by `edit`.
pub async fn change(
    db: &Db,
    shop: &Shop,
    edit: Edit<'_>,
    actor: &Actor,
    now: Timestamp,
) -> Result<Changed, ChangeError> {
    let mut tx = db.begin().await?;
    let before = shops::settings_for_update(db, &mut tx, shop.id).await?;
    let after = match edit {
        Edit::Patch(patch) => settings::apply_patch(&before, patch)?,
        Edit::Replace(whole) => settings::apply_patch(&ShopSettings::default(), whole)?,
    };
    check(&after, shop)?;
    let fields = settings::changed_fields(&before, &after);
    if !fields.is_empty() {
        let change = SettingsChange {
            id: 0,
            actor: actor.to_db(),
            fields: fields.clone(),
            before,
            after: after.clone(),
            at: now,
        };
        shops::record_settings(&mut tx, shop.id, &change).await?;
    }
    store::commit(tx).await?;
    Ok(Changed {
        settings: after,
        fields,
    })
}

/// What a seller should fix before customers can use a setting: a way to
/// pay that is on but cannot show (bank transfer without an account).
pub fn warnings(s: &ShopSettings) -> Vec<String> {
    use crate::domain::order::PaymentMethod as M;
    let mut out = Vec::new();
    if s.payment_methods.contains(&M::BankTransfer) && s.bank_accounts.is_empty() {
        out.push(
            "Bank transfer is on but there is no bank account: customers will not be offered it."
                .into(),
        );
    }
    if s.payment_methods.contains(&M::QrTransfer) && s.payment_qr.is_none() {
        out.push("QR payment is on but there is no PromptPay or VietQR account: customers will not be offered it.".into());
    }
    out
}
