//! The console's settings page: how customers pay, shipping, holds, the
//! time zone and the utility templates, in words; saved through the same
//! checks and history as `PATCH /api/v1/settings`. A refused save shows
//! the form again as typed, with the setting that is wrong named.

use super::{Console, Flash, back_to, can, page, page_error, unread_total};
use crate::app::AppState;
use crate::app::settings::{self as app_settings, ChangeError, Edit};
use crate::domain::access::Permission;
use crate::domain::order::PaymentMethod;
use crate::domain::settings::{SettingsError, VIETQR_BANKS};
use crate::domain::shop::{PaymentQr, ShopSettings};
use crate::domain::{Currency, Money};
use crate::http::admin::auth::Auth;
use crate::store::shops;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

const METHODS: &[(PaymentMethod, &str)] = &[
    (
        PaymentMethod::BankTransfer,
        "Bank transfer (customer sends a slip)",
    ),
    (
        PaymentMethod::QrTransfer,
        "QR payment (PromptPay or VietQR, exact amount)",
    ),
    (PaymentMethod::Cod, "Cash on delivery"),
    (PaymentMethod::Balance, "Shop balance"),
];

/// The pushes a utility template can stand in for, as a seller calls them.
pub(super) fn notice_label(kind: &str) -> &str {
    match kind {
        "order_confirmed" => "Order confirmed",
        "slip_received" => "Slip received (payment pending)",
        "slip_needs_shop_check" => "Slip needs the shop's check",
        "slip_problem" => "Slip could not be read",
        "hold_reminder" => "Reminder before an unpaid order lapses",
        "payment_confirmed" => "Payment confirmed",
        "payment_rejected" => "Slip rejected",
        "shipped" => "Shipped (with tracking)",
        "delivered" => "Delivered",
        "delivery_failed" => "Delivery failed",
        "cancelled" => "Cancelled",
        "expired" => "Unpaid order lapsed",
        "cod_collected" => "Cash on delivery collected",
        "amount_due" => "Amount still due",
        "credited_to_balance" => "Credited to shop balance",
        "refund_due" => "Refund to be paid back",
        "refund_paid_back" => "Refund paid back",
        "line_change_proposed" => "Item change to accept",
        "order_updated_notice" => "Order updated",
        "balance_moved" => "Deposit to or withdrawal from the shop balance",
        "address_changed" => "Delivery address changed",
        "returned_to_stock" => "Returned to the shop",
        "made_by_shop" => "Order made by the shop, with its bill",
        "claim_update" => "Claim taken up or resolved",
        "service_done" => "Extra service done",
        "tracking_update" => "Where the parcel is (from the carrier)",
        other => other,
    }
}

/// A setting's name as the page shows it.
fn field_label(field: &str) -> String {
    let (head, rest) = field.split_once(['.', '[']).unwrap_or((field, ""));
    let row = rest
        .split_once(']')
        .and_then(|(n, _)| n.parse::<usize>().ok())
        .map(|n| format!(" (row {})", n + 1))
        .unwrap_or_default();
    let name = match (head, rest) {
        ("bank_accounts", r) if r.ends_with("account_number") => "Account number",
        ("bank_accounts", r) if r.ends_with("account_name") => "Account name",
        ("bank_accounts", r) if r.ends_with("bank") => "Bank",
        ("bank_accounts", _) => "Bank accounts",
        ("payment_qr", "id") => "PromptPay id",
        ("payment_qr", "bank_bin") => "VietQR bank",
        ("payment_qr", "account") => "VietQR account",
        ("payment_qr", _) => "QR payment",
        ("payment_methods", _) => "Ways to pay",
        ("hold_hours", _) => "Hold unpaid orders for",
        ("reminder_before_hours", _) => "Remind the customer before",
        ("shipping_flat_fee", _) => "Shipping fee",
        ("free_shipping_over", _) => "Free shipping from",
        ("shipping_by_province", _) => "Shipping fee per province",
        ("carriers", _) => "Carriers",
        ("services", _) => "Extra services",
        ("cod_fee", _) => "Cash on delivery fee",
        ("messages", rest) => return super::wording::label(rest),
        ("cancel_rule", _) => "Customers may cancel",
        ("cancel_policy", "en") => "Cancel policy in English",
        ("cancel_policy", "th") => "Cancel policy in Thai",
        ("cancel_policy", "vi") => "Cancel policy in Vietnamese",
        ("time_zone", _) => "Time zone",
        ("language", _) => "Language",
        ("shop_address", _) => "Shop address",
        ("currency_display", _) => "How amounts are written",
        ("utility_templates", kind) => return format!("Template for “{}”", notice_label(kind)),
        _ => head,
    };
    format!("{name}{row}")
}

fn amount_text(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).to_decimal_string()
}

/// The ways an amount can be written, each shown as this shop would write
/// its customers a price with satang or cents.
fn amount_units(auth: &Auth, s: &ShopSettings) -> Vec<Value> {
    use crate::domain::money::{AmountStyle, CurrencyUnit};
    let sample = Money::new(125_050, auth.shop.currency);
    [CurrencyUnit::Symbol, CurrencyUnit::Code, CurrencyUnit::Word]
        .iter()
        .map(|unit| {
            let style = AmountStyle {
                unit: *unit,
                whole_without_decimals: false,
            };
            json!({
                "key": serde_json::to_value(unit).unwrap_or_default(),
                "example": sample.display_as(&auth.shop.locale, style),
                "on": s.currency_display.unit == *unit,
            })
        })
        .collect()
}

fn view(auth: &Auth, s: &ShopSettings) -> Value {
    let currency = auth.shop.currency;
    let mut accounts: Vec<Value> = s
        .bank_accounts
        .iter()
        .map(|a| json!({"bank": a.bank, "name": a.account_name, "number": a.account_number, "default": a.default}))
        .collect();
    accounts.push(json!({"bank": "", "name": "", "number": "", "default": false}));
    let (scheme, promptpay, bin, vietqr) = match &s.payment_qr {
        Some(PaymentQr::Promptpay { id }) => ("promptpay", id.as_str(), "", ""),
        Some(PaymentQr::Vietqr { bank_bin, account }) => {
            ("vietqr", "", bank_bin.as_str(), account.as_str())
        }
        None => ("none", "", "", ""),
    };
    let languages = [
        ("en", "English"),
        ("th", "ไทย (Thai)"),
        ("vi", "Tiếng Việt (Vietnamese)"),
    ];
    let policies: Vec<Value> = languages
        .iter()
        .map(|(l, name)| json!({"locale": l, "language": name, "text": s.cancel_policy.get(*l).cloned().unwrap_or_default()}))
        .collect();
    json!({
        "methods": METHODS.iter().map(|(m, label)| json!({"key": m.as_str(), "label": label, "on": s.payment_methods.contains(m)})).collect::<Vec<_>>(),
        "accounts": accounts,
        "qr": {"scheme": scheme, "promptpay": promptpay, "bin": bin, "vietqr": vietqr},
        "banks": VIETQR_BANKS.iter().map(|(b, n)| json!({"bin": b, "name": n})).collect::<Vec<_>>(),
        "thb": currency == Currency::THB, "vnd": currency == Currency::VND,
        "shipping_fee": amount_text(s.shipping_flat_fee, currency),
        "free_over": s.free_shipping_over.map(|m| amount_text(m, currency)).unwrap_or_default(),
        "province_fees": province_fees_text(s, currency),
        "carriers": carriers_text(s),
        "shop_address": s.shop_address.clone().unwrap_or_default(),
        "services": services_text(s, currency),
        "cod_fee": if s.cod_fee > 0 { amount_text(s.cod_fee, currency) } else { String::new() },
        "cancel_rule": serde_json::to_value(s.cancel_rule).unwrap_or_default(),
        "policies": policies,
        "hold_hours": s.hold_hours, "reminder_hours": s.reminder_before_hours, "expiry_cancels": s.expiry_cancels,
        "excess_refund": s.excess_payment == crate::domain::order::ExcessPolicy::RefundDue,
        "allow_negative": s.allow_negative_balance,
        "time_zone": s.time_zone.clone().unwrap_or_default(),
        "amount_units": amount_units(auth, s),
        "whole_amounts": s.currency_display.whole_without_decimals,
        "languages": languages.iter().map(|(code, name)| json!({"code": code, "name": name, "on": *code == auth.shop.locale})).collect::<Vec<_>>(),
        "templates": crate::engine::notices::KINDS.iter().map(|k| json!({"kind": k, "label": notice_label(k), "name": s.utility_templates.get(*k).cloned().unwrap_or_default()})).collect::<Vec<_>>(),
    })
}

async fn render(
    state: &AppState,
    auth: &Auth,
    shown: &ShopSettings,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let unread = unread_total(state, auth).await;
    let cal = super::calendar(auth);
    let history: Vec<Value> = match shops::settings_history(&state.db, auth.shop.id, None, 20).await
    {
        Ok(h) => h
            .iter()
            .map(|c| {
                let who = c
                    .actor
                    .strip_prefix("seller:")
                    .unwrap_or(&c.actor)
                    .to_string();
                let what: Vec<String> = c.fields.iter().map(|f| field_label(f)).collect();
                json!({"at": cal.date_time(c.at), "who": who, "what": what.join(", ")})
            })
            .collect(),
        Err(e) => return page_error(e.into()),
    };
    let pages: Vec<Value> = match shops::channels_of(&state.db, auth.shop.id).await {
        Ok(c) => c
            .iter()
            .filter(|c| c.channel == "messenger" || c.channel == "instagram")
            .map(|c| json!({"id": c.external_id, "has_token": c.access_token.is_some(), "instagram": c.channel == "instagram"}))
            .collect(),
        Err(e) => return page_error(e.into()),
    };
    page(
        auth,
        "admin/settings.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, can => can(auth), error => error, notice => notice,
            s => view(auth, shown), wording => super::wording::view(&state.texts, shown), pages => pages, warnings => app_settings::warnings(shown), history => history,
            currency => auth.shop.currency.code().to_string(), zone => cal.zone_name(),
        },
    )
}

pub(super) async fn settings_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(f): Query<Flash>,
) -> Response {
    if let Err(e) = auth.require(Permission::ChangeSettings) {
        return page_error(e);
    }
    render(&state, &auth, &auth.shop.settings, f.error, f.notice).await
}

fn money_field(
    form: &HashMap<String, String>,
    key: &str,
    field: &str,
    currency: Currency,
) -> Result<Option<i64>, SettingsError> {
    let text = form.get(key).map(|s| s.trim()).unwrap_or("");
    if text.is_empty() {
        return Ok(None);
    }
    Money::parse_major(text, currency)
        .map(|m| Some(m.minor))
        .map_err(|_| SettingsError {
            field: field.into(),
            reason: format!("{text:?} is not an amount of 0 or more"),
        })
}

fn hours_field(form: &HashMap<String, String>, key: &str) -> Result<i64, SettingsError> {
    let text = form.get(key).map(|s| s.trim()).unwrap_or("");
    text.parse().map_err(|_| SettingsError {
        field: key.replace("reminder_hours", "reminder_before_hours"),
        reason: format!("{text:?} is not a whole number of hours"),
    })
}

/// The merge patch the form describes: every setting on the page.
/// The province fees typed one per line, `names = amount`, as a merge
/// patch that also removes the lines the seller deleted.
fn province_fees(
    text: &str,
    current: &ShopSettings,
    currency: Currency,
) -> Result<Value, SettingsError> {
    let mut out = Map::new();
    for name in current.shipping_by_province.keys() {
        out.insert(name.clone(), Value::Null);
    }
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let refuse = |reason: String| SettingsError {
            field: "shipping_by_province".into(),
            reason: format!("line {}: {reason}", n + 1),
        };
        let Some((names, amount)) = line.rsplit_once('=') else {
            return Err(refuse("write it as “Chiang Mai / เชียงใหม่ = 90”".into()));
        };
        let names = names
            .split('/')
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" / ");
        let fee = Money::parse_major(amount.trim(), currency)
            .map_err(|_| refuse(format!("{:?} is not an amount of 0 or more", amount.trim())))?;
        out.insert(names, json!(fee.minor));
    }
    Ok(Value::Object(out))
}

/// The carriers typed one per line, `Kerry | https://…{tracking} | COD`
/// (link and COD optional; the older `Kerry = link` still reads), as a
/// merge patch that also removes the lines the seller deleted.
fn carriers(text: &str, current: &ShopSettings) -> Result<Value, SettingsError> {
    let mut out = Map::new();
    for name in current.carriers.keys() {
        out.insert(name.clone(), Value::Null);
    }
    let refuse = |n: usize, why: &str| SettingsError {
        field: "carriers".into(),
        reason: format!(
            "line {}: {why}; write it as “Kerry | https://th.kerryexpress.com/en/track/?track={{tracking}} | COD”",
            n + 1
        ),
    };
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parts: Vec<&str> = if line.contains('|') {
            line.split('|').map(str::trim).collect()
        } else {
            match line.split_once('=') {
                Some((name, url)) => vec![name.trim(), url.trim()],
                None => vec![line.trim()],
            }
        };
        let (mut url, mut cod) = (None, false);
        for part in &parts[1..] {
            if part.eq_ignore_ascii_case("cod") {
                cod = true;
            } else if part.starts_with("https://") {
                url = Some(*part);
            } else if !part.is_empty() {
                return Err(refuse(n, &format!("“{part}” is neither a link nor COD")));
            }
        }
        out.insert(
            parts[0].to_string(),
            json!({"tracking_url": url, "collects_cod": cod}),
        );
    }
    Ok(Value::Object(out))
}

fn carriers_text(s: &ShopSettings) -> String {
    s.carriers
        .iter()
        .map(|(name, c)| {
            let mut line = name.clone();
            if let Some(url) = &c.tracking_url {
                line.push_str(&format!(" | {url}"));
            }
            if c.collects_cod {
                line.push_str(" | COD");
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The extra services typed one per line, `Gift wrap | 30 | always` or
/// `… | when done` (an id first is optional: one is made from the name,
/// and a service keeps the id it had).
fn services(
    text: &str,
    current: &ShopSettings,
    currency: Currency,
) -> Result<Value, SettingsError> {
    let refuse = |n: usize, why: &str| SettingsError {
        field: "services".into(),
        reason: format!(
            "line {}: {why}; write it as “Gift wrap | 30 | always” or “Inspection | 15 | when done”",
            n + 1
        ),
    };
    let mut out: Vec<Value> = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let (id, name, price, rule) = match parts.as_slice() {
            [name, price, rule] => (None, *name, *price, *rule),
            [id, name, price, rule] => (Some(*id), *name, *price, *rule),
            _ => return Err(refuse(n, "three parts separated by |")),
        };
        let charged = match rule.to_lowercase().replace(['_', '-'], " ").as_str() {
            "always" => "always",
            "when done" | "after done" | "once done" => "when_done",
            _ => return Err(refuse(n, &format!("“{rule}” is not always or when done"))),
        };
        let price = Money::parse_major(price, currency)
            .map_err(|_| refuse(n, &format!("“{price}” is not an amount of 0 or more")))?;
        let id = match id {
            Some(id) => id.to_string(),
            None => current
                .services
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.id.clone())
                .unwrap_or_else(|| service_id(name, out.len())),
        };
        out.push(json!({"id": id, "name": name, "price": price.minor, "charged": charged}));
    }
    Ok(Value::Array(out))
}

/// An id made from a name: its ASCII letters and digits, else its place.
fn service_id(name: &str, at: usize) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let id: String = words.join("_").chars().take(32).collect();
    if id.is_empty() {
        format!("service_{}", at + 1)
    } else {
        id
    }
}

fn services_text(s: &ShopSettings, currency: Currency) -> String {
    s.services
        .iter()
        .map(|o| {
            let rule = match o.charged {
                crate::domain::order::Charging::Always => "always",
                crate::domain::order::Charging::WhenDone => "when done",
            };
            format!(
                "{} | {} | {} | {rule}",
                o.id,
                o.name,
                amount_text(o.price, currency)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn province_fees_text(s: &ShopSettings, currency: Currency) -> String {
    s.shipping_by_province
        .iter()
        .map(|(names, fee)| format!("{names} = {}", amount_text(*fee, currency)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn patch_from_form(
    form: &HashMap<String, String>,
    current: &ShopSettings,
    currency: Currency,
) -> Result<Value, SettingsError> {
    let get = |k: &str| {
        form.get(k)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let methods: Vec<&str> = METHODS
        .iter()
        .map(|(m, _)| m.as_str())
        .filter(|m| form.contains_key(&format!("method_{m}")))
        .collect();
    let default_row = get("default_account");
    let mut accounts = Vec::new();
    for i in 0..50 {
        let (bank, name, number) = (
            get(&format!("bank_{i}")),
            get(&format!("name_{i}")),
            get(&format!("number_{i}")),
        );
        if !form.contains_key(&format!("bank_{i}")) {
            break;
        }
        if bank.is_empty() && name.is_empty() && number.is_empty() {
            continue;
        }
        accounts.push(json!({"bank": bank, "account_name": name, "account_number": number, "default": default_row == i.to_string()}));
    }
    let qr = match get("qr_scheme").as_str() {
        "promptpay" => json!({"scheme": "promptpay", "id": get("promptpay_id")}),
        "vietqr" => {
            json!({"scheme": "vietqr", "bank_bin": get("vietqr_bin"), "account": get("vietqr_account")})
        }
        _ => Value::Null,
    };
    let mut templates = Map::new();
    for kind in crate::engine::notices::KINDS {
        let name = get(&format!("template_{kind}"));
        templates.insert(
            (*kind).into(),
            if name.is_empty() {
                Value::Null
            } else {
                json!(name)
            },
        );
    }
    let zone = get("time_zone");
    let language = get("language");
    Ok(json!({
        "payment_methods": methods,
        "bank_accounts": accounts,
        "payment_qr": qr,
        "shipping_flat_fee": money_field(form, "shipping_fee", "shipping_flat_fee", currency)?.unwrap_or(0),
        "free_shipping_over": money_field(form, "free_over", "free_shipping_over", currency)?,
        "shipping_by_province": province_fees(&get("province_fees"), current, currency)?,
        "carriers": carriers(&get("carriers"), current)?,
        "services": services(&get("services"), current, currency)?,
        "cod_fee": money_field(form, "cod_fee", "cod_fee", currency)?.unwrap_or(0),
        "cancel_rule": match get("cancel_rule").as_str() { "" => json!("until_paid"), rule => json!(rule) },
        "cancel_policy": crate::domain::shop::LANGUAGES.iter().map(|l| {
            let text = get(&format!("cancel_policy_{l}")).replace("\r\n", "\n");
            ((*l).to_string(), if text.is_empty() { Value::Null } else { json!(text) })
        }).collect::<Map<String, Value>>(),
        "hold_hours": hours_field(form, "hold_hours")?,
        "reminder_before_hours": hours_field(form, "reminder_hours")?,
        "expiry_cancels": form.contains_key("expiry_cancels"),
        "messages": super::wording::patch(form),
        "excess_payment": if form.contains_key("excess_refund") { "refund_due" } else { "balance" },
        "allow_negative_balance": form.contains_key("allow_negative"),
        "time_zone": if zone.is_empty() { Value::Null } else { json!(zone) },
        "language": if language.is_empty() { Value::Null } else { json!(language) },
        "shop_address": match get("shop_address").replace("\r\n", "\n").trim() { "" => Value::Null, a => json!(a) },
        "currency_display": {
            "unit": match get("amount_unit").as_str() { "" => "symbol", unit => unit },
            "whole_without_decimals": form.contains_key("whole_amounts"),
        },
        "utility_templates": templates,
    }))
}

pub(super) async fn settings_save(
    State(state): State<AppState>,
    Console(auth): Console,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth.require(Permission::ChangeSettings) {
        return page_error(e);
    }
    let refused = |e: SettingsError, shown: &ShopSettings| {
        let message = format!("{}: {}", field_label(&e.field), e.reason);
        let shown = shown.clone();
        let (state, auth) = (state.clone(), &auth);
        async move {
            let mut r = render(&state, auth, &shown, Some(message), None).await;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            r
        }
    };
    let patch = match patch_from_form(&form, &auth.shop.settings, auth.shop.currency) {
        Ok(p) => p,
        Err(e) => return refused(e, &auth.shop.settings).await,
    };
    let now = crate::clock::now();
    match app_settings::change(
        &state.db,
        &auth.shop,
        Edit::Patch(&patch),
        &auth.actor(),
        now,
    )
    .await
    {
        Ok(changed) => {
            state.shop_views.forget(auth.shop.id);
            let msg = if changed.fields.is_empty() {
                "Nothing changed.".to_string()
            } else {
                let names: Vec<String> = changed.fields.iter().map(|f| field_label(f)).collect();
                format!(
                    "Saved: {}. Customers see it from their next message.",
                    names.join(", ")
                )
            };
            back_to("/admin/settings", "notice", &msg)
        }
        Err(ChangeError::Invalid(e)) => {
            let typed = crate::domain::settings::apply_patch(&auth.shop.settings, &patch)
                .unwrap_or_else(|_| auth.shop.settings.clone());
            refused(e, &typed).await
        }
        Err(ChangeError::Store(e)) => page_error(e.into()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_push_kind_has_words_for_the_seller() {
        for kind in crate::engine::notices::KINDS {
            assert_ne!(super::notice_label(kind), *kind, "{kind} has no label");
        }
    }
}
