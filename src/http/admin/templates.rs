//! HTML templates from templates/, embedded so the binary works from any
//! directory. Auto-escaping is on for every `.html` template.

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, State};
use std::sync::OnceLock;

macro_rules! embed {
    ($env:ident: $($name:literal),* $(,)?) => {
        $($env
            .add_template($name, include_str!(concat!("../../../templates/", $name)))
            .expect(concat!("template ", $name, " parses"));)*
    };
}

pub fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        embed!(env:
            "bill.html",
            "shipping_note.html",
            "admin/base.html",
            "admin/login.html",
            "admin/orders.html",
            "admin/order.html",
            "admin/chat.html",
            "admin/products.html",
            "admin/books.html",
            "admin/settings.html",
            "admin/undelivered.html",
            "admin/_undelivered.html",
            "admin/claims.html",
            "admin/claim.html",
            "admin/new_order.html",
            "admin/carriers.html",
            "admin/dashboard.html",
            "admin/customers.html",
            "admin/tokens.html",
            "admin/carrier.html",
            "admin/_remittances.html",
        );
        use super::{lang, words};
        env.add_function(
            "t",
            |state: &State, text: String, places: Kwargs| -> Result<String, minijinja::Error> {
                let out = lang::with_places(lang_of(state), &text, |name| {
                    places.get::<Value>(name).ok().map(|v| v.to_string())
                });
                places.assert_all_used()?;
                Ok(out)
            },
        );
        // Text built in Rust (a flash message, a refusal): translated when
        // the catalog knows it.
        env.add_filter("tr", |state: &State, s: String| {
            lang::text(lang_of(state), &s).into_owned()
        });
        macro_rules! words_filter {
            ($($name:literal => $f:path),* $(,)?) => {
                $(env.add_filter($name, |state: &State, s: String| {
                    lang::text(lang_of(state), &$f(&s)).into_owned()
                });)*
            };
        }
        words_filter!(
            "fulfilment_words" => words::fulfilment,
            "payment_words" => words::payment,
            "method_words" => words::method,
            "payment_row_words" => words::payment_row,
            "channel_words" => words::channel,
            "event_words" => words::event,
        );
        env
    })
}

/// The page's language: `lang` in its context, else English.
fn lang_of(state: &State) -> &'static str {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(super::lang::known))
        .unwrap_or("en")
}

/// Renders a template; a failure is logged and shown as a plain message.
pub fn render(name: &str, ctx: minijinja::Value) -> Result<String, super::error::ApiError> {
    env()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| {
            tracing::error!(template = name, error = %e, "template failed");
            super::error::ApiError::Internal
        })
}

#[cfg(test)]
mod tests {
    /// Words that read the same in every language the console speaks.
    const SAME_IN_EVERY_LANGUAGE: &[&str] = &[
        "chatbill",
        "QR",
        "COD",
        "PromptPay",
        "VietQR",
        "Messenger",
        "LINE",
        "ID",
        "CSV",
        "OK",
    ];

    /// The English keys a template passes to `t(...)`.
    fn keys_in(source: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for quote in ['"', '\''] {
            let open = format!("t({quote}");
            let mut rest = source;
            while let Some(i) = rest.find(&open) {
                let before = rest[..i].chars().last();
                rest = &rest[i + open.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                if let Some(end) = rest.find(quote) {
                    keys.push(rest[..end].to_string());
                }
            }
        }
        keys
    }

    /// What a reader would see in `source` that is not passed through
    /// `t(...)`: text between tags and in the attributes people read.
    fn untranslated(source: &str) -> Vec<String> {
        fn strip(s: &str, open: &str, close: &str) -> String {
            let mut out = String::new();
            let mut rest = s;
            while let Some(i) = rest.find(open) {
                out.push_str(&rest[..i]);
                out.push(' ');
                match rest[i..].find(close) {
                    Some(j) => rest = &rest[i + j + close.len()..],
                    None => return out,
                }
            }
            out.push_str(rest);
            out
        }
        let mut s = strip(source, "<style", "</style>");
        s = strip(&s, "<script", "</script>");
        s = strip(&s, "<svg", "</svg>");
        s = strip(&s, "{{", "}}");
        s = strip(&s, "{%", "%}");
        s = strip(&s, "{#", "#}");
        let mut found = Vec::new();
        let readable = |text: &str| {
            text.split(|c: char| !c.is_alphabetic())
                .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
                .any(|w| !SAME_IN_EVERY_LANGUAGE.contains(&w))
        };
        let mut rest = s.as_str();
        while let Some(i) = rest.find('<') {
            let text = rest[..i].trim();
            if readable(text) {
                found.push(text.to_string());
            }
            let Some(j) = rest[i..].find('>') else { break };
            let tag = &rest[i..i + j];
            for attr in ["placeholder=\"", "aria-label=\"", "alt=\"", "title=\""] {
                if let Some(k) = tag.find(attr) {
                    let v = &tag[k + attr.len()..];
                    let v = &v[..v.find('"').unwrap_or(v.len())];
                    if readable(v) {
                        found.push(format!("{attr}{v}"));
                    }
                }
            }
            rest = &rest[i + j + 1..];
        }
        if readable(rest.trim()) {
            found.push(rest.trim().to_string());
        }
        found
    }

    #[test]
    fn every_page_speaks_only_through_the_catalogs() {
        let env = super::env();
        let mut missing = Vec::new();
        for (name, template) in env.templates() {
            for text in untranslated(template.source()) {
                missing.push(format!("{name}: not through t(): {text:?}"));
            }
            for key in keys_in(template.source()) {
                for lang in ["th", "vi"] {
                    if !super::super::lang::keys(lang).contains(&key.as_str()) {
                        missing.push(format!("{name}: no {lang} for {key:?}"));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    #[test]
    fn a_translation_keeps_its_places() {
        for lang in ["th", "vi"] {
            for key in super::super::lang::keys(lang) {
                let translated = super::super::lang::text(lang, key);
                let places = |s: &str| {
                    let mut v: Vec<String> = s
                        .split('{')
                        .skip(1)
                        .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                        .collect();
                    v.sort();
                    v
                };
                assert_eq!(places(key), places(&translated), "{lang}: {key}");
            }
        }
    }

    #[test]
    fn a_bill_prints_in_its_readers_language() {
        let order = minijinja::context! {
            code => "A-1", customer => "Som", total => "฿100.00", remaining => "฿40.00",
            qr => "/qr.png", shipping_label => "Shipping to Chiang Mai", payment => "partially_paid",
            lines => vec![minijinja::context! { name => "Tea", qty => 1, status => "Refused by the customer" }],
        };
        let bill = |lang: &str| {
            super::render(
                "bill.html",
                minijinja::context! { shop => "Shop", lang => lang, orders => vec![order.clone()] },
            )
            .unwrap()
        };
        let th = bill("th");
        for thai in [
            "ยอดรวม",
            "สแกนเพื่อชำระ ฿40.00",
            "ค่าจัดส่งไปChiang Mai",
            "ชำระบางส่วน",
            "ลูกค้าปฏิเสธ",
        ] {
            assert!(th.contains(thai), "{thai} in {th}");
        }
        assert!(!th.contains("Total") && !th.contains("Scan to pay"));
        let en = bill("en");
        assert!(en.contains("Scan to pay ฿40.00") && en.contains("Shipping to Chiang Mai"));
        assert!(bill("vi").contains("Tổng cộng"));
    }

    #[test]
    fn every_template_parses_and_escapes() {
        let env = super::env();
        for name in [
            "bill.html",
            "shipping_note.html",
            "admin/login.html",
            "admin/orders.html",
        ] {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
        let html = super::render(
            "admin/login.html",
            minijinja::context! { error => "<script>x</script>" },
        )
        .unwrap();
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>x"));
    }
}
