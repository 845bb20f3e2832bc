//! `chatbill messenger setup`: Get Started, greeting and the persistent menu
//! per locale, in one idempotent call (the Profile API allows 10 calls per
//! 10 minutes per Page).

use crate::engine::{Tap, Texts};
use serde_json::{Value, json};

const MENU: &[(&str, Tap)] = &[
    ("btn_products", Tap::Products),
    ("btn_cart", Tap::Cart),
    ("btn_orders", Tap::Orders),
    ("btn_talk", Tap::TalkToShop),
];

fn fb_locale(l: &str) -> &'static str {
    match l {
        "th" => "th_TH",
        "vi" => "vi_VN",
        _ => "en_US",
    }
}

/// The profile body: `default` in the shop's language, plus each locale.
/// The shop's own greeting and menu labels (`messages`) come first.
pub fn body(
    texts: &Texts,
    messages: &crate::engine::texts::MessageOverrides,
    default_locale: &str,
    shop_name: &str,
) -> Value {
    let menu_for = |locale: &str, tag: &str| {
        json!({
            "locale": tag,
            "composer_input_disabled": false,
            "call_to_actions": MENU.iter().map(|(k, p)| json!({"type": "postback", "title": texts.get_with(Some(messages), locale, k, &[]), "payload": p.encode()})).collect::<Vec<_>>()
        })
    };
    let greeting_for = |locale: &str, tag: &str| {
        let text: String = texts
            .get_with(
                Some(messages),
                locale,
                "welcome",
                &[("shop", shop_name), ("name", "{{user_first_name}}")],
            )
            .chars()
            .take(160)
            .collect();
        json!({"locale": tag, "text": text})
    };
    let mut menus = vec![menu_for(default_locale, "default")];
    let mut greetings = vec![greeting_for(default_locale, "default")];
    for l in crate::engine::texts::LOCALES {
        menus.push(menu_for(l, fb_locale(l)));
        greetings.push(greeting_for(l, fb_locale(l)));
    }
    json!({
        "get_started": {"payload": Tap::GetStarted.encode()},
        "greeting": greetings,
        "persistent_menu": menus,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_has_the_four_entries_per_locale_and_a_default() {
        let b = body(&Texts::embedded(), &Default::default(), "th", "Shop");
        let menus = b["persistent_menu"].as_array().unwrap();
        assert_eq!(menus[0]["locale"], "default");
        assert_eq!(menus.len(), 4);
        for m in menus {
            assert_eq!(m["call_to_actions"].as_array().unwrap().len(), 4);
        }
        assert_eq!(b["get_started"]["payload"], "GET_STARTED");
        assert!(
            b["greeting"][1]["text"]
                .as_str()
                .unwrap()
                .contains("{{user_first_name}}")
        );
    }

    #[test]
    fn the_shop_s_menu_labels_and_greeting_are_used_in_their_language() {
        let messages = [(
            "th".to_string(),
            [
                ("btn_products".to_string(), "ดูสินค้า".to_string()),
                (
                    "welcome".to_string(),
                    "สวัสดีค่ะคุณ {name} ยินดีต้อนรับสู่ {shop}".to_string(),
                ),
            ]
            .into(),
        )]
        .into();
        let b = body(&Texts::embedded(), &messages, "en", "Shop");
        let th = b["persistent_menu"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["locale"] == "th_TH")
            .unwrap();
        assert_eq!(th["call_to_actions"][0]["title"], "ดูสินค้า");
        let en = &b["persistent_menu"][0];
        assert_ne!(en["call_to_actions"][0]["title"], "ดูสินค้า");
        let greeting = b["greeting"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["locale"] == "th_TH")
            .unwrap();
        assert_eq!(
            greeting["text"],
            "สวัสดีค่ะคุณ {{user_first_name}} ยินดีต้อนรับสู่ Shop"
        );
    }
}
