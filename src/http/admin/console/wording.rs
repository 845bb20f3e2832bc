//! The settings page's "Your wording" card: every customer message in
//! each language, shown by chatbill's own words (never its key), with the
//! shop's wording where it has one.

use crate::domain::shop::{LANGUAGES, ShopSettings};
use crate::engine::Texts;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("en", "English"),
    ("th", "ไทย (Thai)"),
    ("vi", "Tiếng Việt (Vietnamese)"),
];

/// The greeting and the menu's buttons first: what a seller changes most.
fn in_page_order(texts: &Texts) -> Vec<String> {
    let mut keys = texts.keys("en");
    keys.sort_by_key(|k| {
        (
            !k.starts_with("welcome"),
            !k.starts_with("btn_"),
            !k.starts_with("notice_"),
            k.clone(),
        )
    });
    keys
}

pub(super) fn view(texts: &Texts, s: &ShopSettings) -> Vec<Value> {
    let keys = in_page_order(texts);
    LANGUAGE_NAMES
        .iter()
        .map(|(locale, language)| {
            let own = s.messages.get(*locale);
            let rows: Vec<Value> = keys
                .iter()
                .map(|k| {
                    json!({
                        "field": format!("msg_{locale}_{k}"),
                        "default": texts.default_text(locale, k).unwrap_or(""),
                        "text": own.and_then(|m| m.get(k)).cloned().unwrap_or_default(),
                        "button": k.starts_with("btn_"),
                    })
                })
                .collect();
            let changed = own.map(|m| m.len()).unwrap_or(0);
            json!({"locale": locale, "language": language, "rows": rows, "changed": changed})
        })
        .collect()
}

/// The merge patch of `messages` the form describes: an empty box goes
/// back to chatbill's wording.
pub(super) fn patch(form: &HashMap<String, String>) -> Value {
    let texts = Texts::embedded();
    let keys = texts.keys("en");
    let mut out = Map::new();
    for locale in LANGUAGES {
        let mut one = Map::new();
        for k in &keys {
            let text = form
                .get(&format!("msg_{locale}_{k}"))
                .map(|t| t.trim().replace("\r\n", "\n"))
                .unwrap_or_default();
            one.insert(
                k.clone(),
                if text.is_empty() {
                    Value::Null
                } else {
                    json!(text)
                },
            );
        }
        out.insert((*locale).to_string(), Value::Object(one));
    }
    Value::Object(out)
}

/// `messages.th.welcome` in words: the language and chatbill's own
/// wording of the message.
pub(super) fn label(rest: &str) -> String {
    let (locale, key) = rest.split_once('.').unwrap_or((rest, ""));
    let language = LANGUAGE_NAMES
        .iter()
        .find(|(l, _)| *l == locale)
        .map(|(_, n)| *n)
        .unwrap_or(locale);
    let texts = Texts::embedded();
    let default: String = texts
        .default_text(locale, key)
        .or_else(|| texts.default_text("en", key))
        .unwrap_or("")
        .chars()
        .take(60)
        .collect();
    if default.is_empty() {
        format!("Your wording ({language})")
    } else {
        format!("Your wording ({language}) of “{default}”")
    }
}
