//! Changing a shop's settings: a JSON merge patch (RFC 7396) applied to
//! what the shop has, then every rule a bill or a push relies on checked,
//! so a wrong account or QR id is refused with the field and the reason
//! instead of being printed on a customer's bill.

use super::Currency;
use super::calendar::Calendar;
use super::shop::{PaymentQr, ShopSettings};
use serde_json::{Map, Value};

/// A setting refused: `field` is its path as the API spells it
/// (`bank_accounts[1].account_number`), `reason` says why in words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct SettingsError {
    pub field: String,
    pub reason: String,
}

fn refuse<T>(field: impl Into<String>, reason: impl Into<String>) -> Result<T, SettingsError> {
    Err(SettingsError {
        field: field.into(),
        reason: reason.into(),
    })
}

/// The longest an unpaid order may hold stock: a month.
pub const MAX_HOLD_HOURS: i64 = 24 * 31;

/// VietQR (Napas 247) member banks by BIN, from the banks' published list.
pub const VIETQR_BANKS: &[(&str, &str)] = &[
    ("970400", "Saigonbank"),
    ("970403", "Sacombank"),
    ("970405", "Agribank"),
    ("970406", "DongA Bank"),
    ("970407", "Techcombank"),
    ("970408", "GPBank"),
    ("970409", "Bac A Bank"),
    ("970410", "Standard Chartered"),
    ("970412", "PVcomBank"),
    ("970414", "OceanBank"),
    ("970415", "VietinBank"),
    ("970416", "ACB"),
    ("970418", "BIDV"),
    ("970419", "NCB"),
    ("970421", "VRB"),
    ("970422", "MB Bank"),
    ("970423", "TPBank"),
    ("970424", "Shinhan Bank"),
    ("970425", "ABBANK"),
    ("970426", "MSB"),
    ("970427", "VietABank"),
    ("970428", "Nam A Bank"),
    ("970429", "SCB"),
    ("970430", "PG Bank"),
    ("970431", "Eximbank"),
    ("970432", "VPBank"),
    ("970433", "VietBank"),
    ("970434", "Indovina Bank"),
    ("970436", "Vietcombank"),
    ("970437", "HDBank"),
    ("970438", "BaoViet Bank"),
    ("970439", "Public Bank Vietnam"),
    ("970440", "SeABank"),
    ("970441", "VIB"),
    ("970442", "Hong Leong Bank"),
    ("970443", "SHB"),
    ("970444", "CBBank"),
    ("970446", "Co-opBank"),
    ("970448", "OCB"),
    ("970449", "LPBank"),
    ("970452", "KienlongBank"),
    ("970454", "Viet Capital Bank"),
    ("970455", "IBK"),
    ("970457", "Woori Bank"),
    ("970458", "UOB"),
    ("970462", "Kookmin Bank Hanoi"),
    ("970463", "Kookmin Bank HCMC"),
    ("970466", "KEB Hana HCMC"),
    ("970467", "KEB Hana Hanoi"),
    ("422589", "CIMB"),
    ("458761", "HSBC"),
    ("546034", "CAKE by VPBank"),
    ("546035", "Ubank by VPBank"),
    ("668888", "KBank"),
    ("796500", "DBS Bank"),
    ("801011", "Nonghyup Bank"),
    ("963388", "Timo"),
];

/// The bank a VietQR BIN belongs to.
pub fn vietqr_bank(bin: &str) -> Option<&'static str> {
    VIETQR_BANKS
        .iter()
        .find(|(b, _)| *b == bin)
        .map(|(_, name)| *name)
}

/// The cancel policy in words, per language: a chat message, not a contract.
pub const MAX_POLICY_CHARS: usize = 500;

/// At most this many province or region fees.
pub const MAX_PROVINCE_FEES: usize = 100;

/// The shop's address on a bill: a few lines.
pub const MAX_SHOP_ADDRESS_CHARS: usize = 300;

/// At most this many carriers.
pub const MAX_CARRIERS: usize = 30;

/// At most this many extra services.
pub const MAX_SERVICES: usize = 20;

fn check_carriers(s: &ShopSettings) -> Result<(), SettingsError> {
    if s.carriers.len() > MAX_CARRIERS {
        return refuse("carriers", format!("at most {MAX_CARRIERS} carriers"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (name, carrier) in &s.carriers {
        let field = format!("carriers.{name}");
        if name.trim().is_empty() || name.chars().count() > 40 || name.trim() != name {
            return refuse(
                field,
                "a carrier's name is 1 to 40 characters, without spaces around it",
            );
        }
        if !seen.insert(name.to_lowercase()) {
            return refuse(field, "another carrier has this name");
        }
        let Some(url) = &carrier.tracking_url else {
            continue;
        };
        let field = format!("carriers.{name}.tracking_url");
        if !url.starts_with("https://")
            || !url.contains("{tracking}")
            || url.len() > 300
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return refuse(
                field,
                "an https:// link of at most 300 characters with {tracking} where the tracking number goes",
            );
        }
    }
    Ok(())
}

fn check_services(s: &ShopSettings) -> Result<(), SettingsError> {
    if s.services.len() > MAX_SERVICES {
        return refuse("services", format!("at most {MAX_SERVICES} services"));
    }
    for (i, service) in s.services.iter().enumerate() {
        let field = format!("services[{i}]");
        if !crate::domain::order::ServiceOffer::valid_id(&service.id) {
            return refuse(
                format!("{field}.id"),
                "an id is 1 to 32 of a-z, 0-9, _ and -",
            );
        }
        if s.services[..i].iter().any(|o| o.id == service.id) {
            return refuse(format!("{field}.id"), "another service has this id");
        }
        let name = service.name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return refuse(format!("{field}.name"), "a name is 1 to 40 characters");
        }
        if !(0..=crate::domain::money::MAX_MINOR).contains(&service.price) {
            return refuse(format!("{field}.price"), "a price of 0 or more");
        }
    }
    Ok(())
}

fn check_province_fees(s: &ShopSettings) -> Result<(), SettingsError> {
    if s.shipping_by_province.len() > MAX_PROVINCE_FEES {
        return refuse(
            "shipping_by_province",
            format!("at most {MAX_PROVINCE_FEES} provinces or regions"),
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for (names, fee) in &s.shipping_by_province {
        let field = format!("shipping_by_province.{names}");
        if super::money::in_range(*fee, "a fee").is_err() {
            return refuse(
                field,
                format!("a fee from 0 to {} minor units", super::money::MAX_MINOR),
            );
        }
        for name in names.split('/') {
            let key = super::shop::region_key(name);
            if key.is_empty() || name.chars().count() > 60 {
                return refuse(
                    field,
                    "each name is 1 to 60 characters (separate names with /)",
                );
            }
            if seen.contains(&key) {
                return refuse(field, format!("“{}” has a fee already", name.trim()));
            }
            seen.push(key);
        }
    }
    Ok(())
}

/// Applies `patch` to `current`. Top-level names must be settings; a
/// `null` puts a setting back to its default; objects merge, anything
/// else replaces. The result is not yet [`validate`]d.
pub fn apply_patch(current: &ShopSettings, patch: &Value) -> Result<ShopSettings, SettingsError> {
    let Value::Object(changes) = patch else {
        return refuse("settings", "send a JSON object of the settings to change");
    };
    let defaults = to_object(&ShopSettings::default());
    let mut merged = to_object(current);
    for (name, change) in changes {
        // The older name of `carriers`, still accepted.
        let name = &if name == "tracking_links" {
            "carriers".to_string()
        } else {
            name.clone()
        };
        let Some(default) = defaults.get(name) else {
            return refuse(name.as_str(), "not a setting");
        };
        let value = match (change, merged.get(name)) {
            (Value::Null, _) => default.clone(),
            (Value::Object(_), Some(Value::Object(have))) => {
                merge(Value::Object(have.clone()), change)
            }
            _ => change.clone(),
        };
        // Read alone so that a wrong value names its own setting.
        let mut one = Map::new();
        one.insert(name.clone(), value.clone());
        if let Err(e) = serde_json::from_value::<ShopSettings>(Value::Object(one)) {
            return refuse(name.as_str(), e.to_string());
        }
        merged.insert(name.clone(), value);
    }
    serde_json::from_value(Value::Object(merged)).or_else(|e| refuse("settings", e.to_string()))
}

fn to_object(s: &ShopSettings) -> Map<String, Value> {
    match serde_json::to_value(s) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn merge(target: Value, patch: &Value) -> Value {
    let Value::Object(changes) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, v) in changes {
        if v.is_null() {
            out.remove(k);
        } else {
            let old = out.remove(k).unwrap_or(Value::Null);
            out.insert(k.clone(), merge(old, v));
        }
    }
    Value::Object(out)
}

/// The top-level settings whose values differ, in name order.
pub fn changed_fields(before: &ShopSettings, after: &ShopSettings) -> Vec<String> {
    let (a, b) = (to_object(before), to_object(after));
    let mut names: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Every rule the settings must keep. `notice_kinds` are the pushes a
/// utility template can stand in for.
pub fn validate(
    s: &ShopSettings,
    currency: Currency,
    notice_kinds: &[&str],
) -> Result<(), SettingsError> {
    if !(1..=MAX_HOLD_HOURS).contains(&s.hold_hours) {
        return refuse(
            "hold_hours",
            format!("must be from 1 to {MAX_HOLD_HOURS} hours"),
        );
    }
    if s.reminder_before_hours < 0 || s.reminder_before_hours >= s.hold_hours {
        return refuse(
            "reminder_before_hours",
            "must be 0 (no reminder) or more, and less than hold_hours",
        );
    }
    let amounts = [
        ("shipping_flat_fee", Some(s.shipping_flat_fee)),
        ("free_shipping_over", s.free_shipping_over),
        ("cod_fee", Some(s.cod_fee)),
    ];
    for (field, amount) in amounts {
        if amount.is_some_and(|a| super::money::in_range(a, field).is_err()) {
            return refuse(
                field,
                format!(
                    "an amount from 0 to {} minor units",
                    super::money::MAX_MINOR
                ),
            );
        }
    }
    check_province_fees(s)?;
    check_carriers(s)?;
    if let Some(a) = &s.shop_address
        && (a.chars().count() > MAX_SHOP_ADDRESS_CHARS
            || a.chars().any(|c| c.is_control() && c != '\n'))
    {
        return refuse(
            "shop_address",
            format!("at most {MAX_SHOP_ADDRESS_CHARS} characters, on one or more lines"),
        );
    }
    check_services(s)?;
    if let Some(language) = &s.language
        && !super::shop::LANGUAGES.contains(&language.as_str())
    {
        return refuse("language", "a language chatbill speaks: en, th or vi");
    }
    for (locale, text) in &s.cancel_policy {
        let field = format!("cancel_policy.{locale}");
        if !super::shop::LANGUAGES.contains(&locale.as_str()) {
            return refuse(field, "a language chatbill speaks: en, th or vi");
        }
        if text.chars().count() > MAX_POLICY_CHARS {
            return refuse(field, format!("at most {MAX_POLICY_CHARS} characters"));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return refuse(field, "no control characters (line breaks are fine)");
        }
    }
    if !(-14 * 60..=14 * 60).contains(&s.utc_offset_minutes) {
        return refuse("utc_offset_minutes", "must be within ±14 hours");
    }
    if let Some(zone) = &s.time_zone
        && !Calendar::knows(zone)
    {
        return refuse(
            "time_zone",
            format!("{zone:?} is not a time zone name such as Asia/Bangkok"),
        );
    }
    check_methods(s)?;
    check_accounts(s)?;
    if let Some(qr) = &s.payment_qr {
        check_qr(qr, currency)?;
    }
    for (kind, template) in &s.utility_templates {
        let field = format!("utility_templates.{kind}");
        if !notice_kinds.contains(&kind.as_str()) {
            return refuse(
                field,
                format!(
                    "not a message the shop sends; one of {}",
                    notice_kinds.join(", ")
                ),
            );
        }
        if template.is_empty()
            || template.len() > 512
            || !template
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return refuse(
                field,
                "a template name is lowercase letters, digits and underscores, as Meta approved it",
            );
        }
    }
    Ok(())
}

fn check_methods(s: &ShopSettings) -> Result<(), SettingsError> {
    if s.payment_methods.is_empty() {
        return refuse(
            "payment_methods",
            "turn on at least one way to pay, or customers cannot finish an order",
        );
    }
    for (i, m) in s.payment_methods.iter().enumerate() {
        if s.payment_methods[..i].contains(m) {
            return refuse("payment_methods", format!("{m} is listed twice"));
        }
    }
    Ok(())
}

fn check_accounts(s: &ShopSettings) -> Result<(), SettingsError> {
    for (i, a) in s.bank_accounts.iter().enumerate() {
        let field = |f: &str| format!("bank_accounts[{i}].{f}");
        if a.bank.trim().is_empty() {
            return refuse(field("bank"), "name the bank");
        }
        if a.account_name.trim().is_empty() {
            return refuse(field("account_name"), "give the name the account is under");
        }
        let number = a.account_number.trim();
        if number
            .chars()
            .any(|c| !(c.is_ascii_digit() || c == '-' || c == ' '))
        {
            return refuse(
                field("account_number"),
                "an account number is digits (dashes and spaces allowed)",
            );
        }
        let digits = number.chars().filter(char::is_ascii_digit).count();
        if !(6..=20).contains(&digits) {
            return refuse(
                field("account_number"),
                "an account number has 6 to 20 digits",
            );
        }
        let same = |b: &super::shop::BankAccount| {
            b.account_number
                .chars()
                .filter(char::is_ascii_digit)
                .eq(number.chars().filter(char::is_ascii_digit))
                && b.bank.trim().eq_ignore_ascii_case(a.bank.trim())
        };
        if s.bank_accounts[..i].iter().any(same) {
            return refuse(field("account_number"), "this account is listed twice");
        }
    }
    if s.bank_accounts.iter().filter(|a| a.default).count() > 1 {
        return refuse("bank_accounts", "only one account can be the default");
    }
    Ok(())
}

fn check_qr(qr: &PaymentQr, currency: Currency) -> Result<(), SettingsError> {
    match qr {
        PaymentQr::Promptpay { id } => {
            if currency != Currency::THB {
                return refuse(
                    "payment_qr.scheme",
                    format!(
                        "PromptPay is paid in THB; this shop sells in {}",
                        currency.code()
                    ),
                );
            }
            if let Err(reason) = promptpay_id(id) {
                return refuse("payment_qr.id", reason);
            }
        }
        PaymentQr::Vietqr { bank_bin, account } => {
            if currency != Currency::VND {
                return refuse(
                    "payment_qr.scheme",
                    format!(
                        "VietQR is paid in VND; this shop sells in {}",
                        currency.code()
                    ),
                );
            }
            if vietqr_bank(bank_bin.trim()).is_none() {
                return refuse(
                    "payment_qr.bank_bin",
                    format!(
                        "{bank_bin:?} is not the BIN of a VietQR bank (6 digits, e.g. 970436 for Vietcombank)"
                    ),
                );
            }
            let account = account.trim();
            if account.is_empty()
                || account.len() > 19
                || !account.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return refuse(
                    "payment_qr.account",
                    "a VietQR account is 1 to 19 letters or digits",
                );
            }
        }
    }
    Ok(())
}

/// What kind of PromptPay id `id` is, or why it is none.
pub fn promptpay_id(id: &str) -> Result<&'static str, String> {
    if id
        .chars()
        .any(|c| !(c.is_ascii_digit() || c == '-' || c == ' '))
    {
        return Err(
            "a PromptPay id is digits: a phone number, a national or tax id, or an e-wallet id"
                .into(),
        );
    }
    let digits: Vec<u32> = id.chars().filter_map(|c| c.to_digit(10)).collect();
    match digits.len() {
        10 if digits[0] == 0 && digits[1] != 0 => Ok("phone"),
        13 => {
            // The Thai id check digit: 11 − (Σ dᵢ·(13−i) mod 11), mod 10.
            let sum: u32 = digits[..12]
                .iter()
                .enumerate()
                .map(|(i, d)| d * (13 - i as u32))
                .sum();
            if (11 - sum % 11) % 10 == digits[12] {
                Ok("national or tax id")
            } else {
                Err("this 13-digit id fails its check digit: look for a typing mistake".into())
            }
        }
        15 => Ok("e-wallet id"),
        _ => Err("a PromptPay id is a 10-digit phone number (0…), a 13-digit national or tax id, or a 15-digit e-wallet id".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KINDS: &[&str] = &["shipped", "payment_confirmed"];

    fn thai() -> ShopSettings {
        apply_patch(
            &ShopSettings::default(),
            &json!({
                "bank_accounts": [{"bank": "Kasikornbank", "account_name": "My shop", "account_number": "123-4-56789-0"}],
                "payment_qr": {"scheme": "promptpay", "id": "0812345678"},
            }),
        )
        .expect("patch")
    }

    fn refused(patch: Value, currency: Currency) -> SettingsError {
        match apply_patch(&thai(), &patch) {
            Err(e) => e,
            Ok(s) => validate(&s, currency, KINDS).expect_err("should be refused"),
        }
    }

    #[test]
    fn a_tracking_link_escapes_the_number_and_matches_the_carrier_in_any_case() {
        let mut s = thai();
        s.carriers.insert(
            "Kerry".into(),
            crate::domain::shop::Carrier {
                tracking_url: Some("https://th.kerryexpress.com/en/track/?track={tracking}".into()),
                collects_cod: true,
            },
        );
        assert_eq!(validate(&s, Currency::THB, KINDS), Ok(()));
        assert_eq!(
            s.tracking_url("kerry ", "KEX123").as_deref(),
            Some("https://th.kerryexpress.com/en/track/?track=KEX123")
        );
        assert_eq!(
            s.tracking_url("Kerry", "A&b=1#x").as_deref(),
            Some("https://th.kerryexpress.com/en/track/?track=A%26b%3D1%23x")
        );
        assert_eq!(s.tracking_url("Flash", "F1"), None);
        assert_eq!(s.tracking_url("Kerry", "  "), None);
    }

    #[test]
    fn a_good_shop_passes() {
        assert_eq!(validate(&thai(), Currency::THB, KINDS), Ok(()));
    }

    #[test]
    fn each_bad_value_names_its_field() {
        let cases = [
            (
                json!({"carriers": {"Kerry": "http://kerry.example/{tracking}"}}),
                "carriers.Kerry.tracking_url",
            ),
            (
                json!({"carriers": {"Kerry": {"tracking_url": "https://kerry.example/track"}}}),
                "carriers.Kerry.tracking_url",
            ),
            (
                json!({"carriers": {"Kerry": {}, "kerry": {}}}),
                "carriers.kerry",
            ),
            (json!({"shop_address": "x".repeat(301)}), "shop_address"),
            (
                json!({"services": [{"id": "Gift Wrap", "name": "Gift wrap", "price": 100, "charged": "always"}]}),
                "services[0].id",
            ),
            (
                json!({"services": [
                    {"id": "wrap", "name": "Gift wrap", "price": 100, "charged": "always"},
                    {"id": "wrap", "name": "Wrap again", "price": 100, "charged": "when_done"}
                ]}),
                "services[1].id",
            ),
            (
                json!({"services": [{"id": "wrap", "name": " ", "price": 100, "charged": "always"}]}),
                "services[0].name",
            ),
            (
                json!({"payment_qr": {"scheme": "promptpay", "id": "12345"}}),
                "payment_qr.id",
            ),
            (
                json!({"payment_qr": {"scheme": "promptpay", "id": "1101700230706"}}),
                "payment_qr.id",
            ),
            (
                json!({"payment_qr": {"scheme": "promptpay", "id": "08l2345678"}}),
                "payment_qr.id",
            ),
            (
                json!({"bank_accounts": [{"bank": "KBank", "account_name": "A", "account_number": "12A-456789"}]}),
                "bank_accounts[0].account_number",
            ),
            (
                json!({"bank_accounts": [{"bank": "", "account_name": "A", "account_number": "1234567"}]}),
                "bank_accounts[0].bank",
            ),
            (json!({"shipping_flat_fee": -1}), "shipping_flat_fee"),
            (json!({"free_shipping_over": -100}), "free_shipping_over"),
            (
                json!({"shipping_by_province": {"Bangkok": -1}}),
                "shipping_by_province.Bangkok",
            ),
            (
                json!({"shipping_by_province": {"Bangkok / กรุงเทพ": 40, "bangkok": 50}}),
                "shipping_by_province.bangkok",
            ),
            (json!({"cancel_policy": {"fr": "Non"}}), "cancel_policy.fr"),
            (json!({"cod_fee": -1}), "cod_fee"),
            (json!({"language": "fr"}), "language"),
            (
                json!({"cancel_policy": {"en": "x".repeat(501)}}),
                "cancel_policy.en",
            ),
            (json!({"cancel_rule": "whenever"}), "cancel_rule"),
            (
                json!({"shipping_by_province": {"Hanoi / ": 10}}),
                "shipping_by_province.Hanoi / ",
            ),
            (json!({"hold_hours": 0}), "hold_hours"),
            (
                json!({"hold_hours": 2, "reminder_before_hours": 2}),
                "reminder_before_hours",
            ),
            (
                json!({"utility_templates": {"shipped": "order shipped"}}),
                "utility_templates.shipped",
            ),
            (
                json!({"utility_templates": {"weather": "order_shipped"}}),
                "utility_templates.weather",
            ),
            (json!({"time_zone": "Bangkok"}), "time_zone"),
            (json!({"payment_methods": []}), "payment_methods"),
            (
                json!({"payment_methods": ["cod", "cod"]}),
                "payment_methods",
            ),
            (json!({"payment_methods": ["cheque"]}), "payment_methods"),
            (json!({"hold_hours": "a day"}), "hold_hours"),
            (json!({"colour": "red"}), "colour"),
            (
                json!({"payment_qr": {"scheme": "vietqr", "bank_bin": "970436", "account": "0011"}}),
                "payment_qr.scheme",
            ),
        ];
        for (patch, field) in cases {
            assert_eq!(
                refused(patch.clone(), Currency::THB).field,
                field,
                "{patch}"
            );
        }
        let vn = |patch: Value| {
            let s = apply_patch(&ShopSettings::default(), &patch).expect("patch");
            validate(&s, Currency::VND, KINDS)
        };
        let bad_bin = vn(
            json!({"payment_qr": {"scheme": "vietqr", "bank_bin": "123456", "account": "0011000123456"}}),
        );
        assert_eq!(bad_bin.expect_err("bin").field, "payment_qr.bank_bin");
        let good = vn(
            json!({"payment_qr": {"scheme": "vietqr", "bank_bin": "970436", "account": "0011000123456"}}),
        );
        assert_eq!(good, Ok(()));
    }

    #[test]
    fn promptpay_ids_of_each_kind() {
        assert_eq!(promptpay_id("081-234-5678"), Ok("phone"));
        assert_eq!(promptpay_id("3101700230704"), Ok("national or tax id"));
        assert_eq!(promptpay_id("0107537000254"), Ok("national or tax id"));
        assert_eq!(promptpay_id("004999000288505"), Ok("e-wallet id"));
        assert!(promptpay_id("0012345678").is_err());
    }

    #[test]
    fn a_patch_merges_objects_and_null_resets() {
        let s = apply_patch(
            &thai(),
            &json!({"utility_templates": {"shipped": "order_shipped"}}),
        )
        .expect("a");
        let s = apply_patch(
            &s,
            &json!({"utility_templates": {"payment_confirmed": "paid_v2"}}),
        )
        .expect("b");
        assert_eq!(s.utility_templates.len(), 2, "objects merge");
        let s = apply_patch(
            &s,
            &json!({"utility_templates": {"shipped": null}, "payment_qr": null}),
        )
        .expect("c");
        assert_eq!(
            s.utility_templates.keys().collect::<Vec<_>>(),
            ["payment_confirmed"]
        );
        assert_eq!(s.payment_qr, None);
        assert_eq!(s.bank_accounts.len(), 1, "untouched settings stay");
        assert_eq!(
            changed_fields(&thai(), &s),
            ["payment_qr", "utility_templates"]
        );
    }

    #[test]
    fn one_default_account() {
        let two = json!({"bank_accounts": [
            {"bank": "KBank", "account_name": "A", "account_number": "1234567", "default": true},
            {"bank": "SCB", "account_name": "A", "account_number": "7654321", "default": true}]});
        assert_eq!(refused(two, Currency::THB).field, "bank_accounts");
    }
}
