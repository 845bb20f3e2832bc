//! Every customer-facing sentence lives in `templates/messages/<locale>.txt`
//! (`key = text` lines, `{name}` placeholders). The files are embedded as
//! defaults and can be overridden from a folder at start-up.

pub use crate::domain::shop::MessageOverrides;
use std::collections::HashMap;
use std::path::Path;

pub const LOCALES: &[&str] = crate::domain::shop::LANGUAGES;

const EMBEDDED: &[(&str, &str)] = &[
    ("en", include_str!("../../templates/messages/en.txt")),
    ("th", include_str!("../../templates/messages/th.txt")),
    ("vi", include_str!("../../templates/messages/vi.txt")),
];

#[derive(Clone, Debug, Default)]
pub struct Texts {
    by_locale: HashMap<String, HashMap<String, String>>,
}

fn parse(src: &str) -> HashMap<String, String> {
    src.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().replace("\\n", "\n")))
        .collect()
}

impl Texts {
    pub fn embedded() -> Texts {
        let by_locale = EMBEDDED
            .iter()
            .map(|(l, src)| (l.to_string(), parse(src)))
            .collect();
        Texts { by_locale }
    }

    /// Embedded defaults with `<dir>/<locale>.txt` layered on top.
    pub fn load(dir: Option<&Path>) -> Texts {
        let mut texts = Texts::embedded();
        if let Some(dir) = dir {
            for locale in LOCALES {
                if let Ok(src) = std::fs::read_to_string(dir.join(format!("{locale}.txt"))) {
                    texts
                        .by_locale
                        .entry(locale.to_string())
                        .or_default()
                        .extend(parse(&src));
                }
            }
        }
        texts
    }

    pub fn has(&self, locale: &str, key: &str) -> bool {
        self.by_locale
            .get(locale)
            .is_some_and(|m| m.contains_key(key))
    }

    pub fn keys(&self, locale: &str) -> Vec<String> {
        let mut k: Vec<String> = self
            .by_locale
            .get(locale)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    }

    /// The sentence in `locale`, falling back to English, with `{name}`
    /// placeholders filled.
    pub fn get(&self, locale: &str, key: &str, args: &[(&str, &str)]) -> String {
        self.get_with(None, locale, key, args)
    }

    /// As [`Texts::get`], the shop's own wording first when it has one.
    pub fn get_with(
        &self,
        shop: Option<&MessageOverrides>,
        locale: &str,
        key: &str,
        args: &[(&str, &str)],
    ) -> String {
        let template = shop
            .and_then(|o| o.get(locale))
            .and_then(|m| m.get(key))
            .or_else(|| self.by_locale.get(locale).and_then(|m| m.get(key)))
            .or_else(|| self.by_locale.get("en").and_then(|m| m.get(key)))
            .map(String::as_str)
            .unwrap_or(key);
        fill(template, args)
    }

    /// chatbill's own wording, before any shop's.
    pub fn default_text(&self, locale: &str, key: &str) -> Option<&str> {
        self.by_locale
            .get(locale)
            .and_then(|m| m.get(key))
            .map(String::as_str)
    }
}

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The `{name}` placeholders of a sentence, in order.
pub fn placeholders(text: &str) -> Vec<&str> {
    text.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}'))
        .map(|(p, _)| p)
        .collect()
}

/// Placeholders a shop may leave out of its wording: the message still
/// says what it must without them.
const OPTIONAL: &[&str] = &["name", "shop"];
/// Messenger cuts button and quick-reply titles at 20 characters.
pub const MAX_BUTTON_CHARS: usize = 20;
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// Refuses a shop's wording that names a language chatbill does not
/// speak, a message it never sends, a placeholder the message does not
/// fill, or leaves out one it needs. Returns `(field, reason)`.
pub fn check_overrides(
    texts: &Texts,
    overrides: &MessageOverrides,
) -> Result<(), (String, String)> {
    for (locale, messages) in overrides {
        if !LOCALES.contains(&locale.as_str()) {
            return Err((
                format!("messages.{locale}"),
                "a language chatbill speaks: en, th or vi".into(),
            ));
        }
        for (key, text) in messages {
            let field = format!("messages.{locale}.{key}");
            let Some(default) = texts.default_text("en", key) else {
                return Err((field, "not a message chatbill sends".into()));
            };
            if text.trim().is_empty() {
                return Err((
                    field,
                    "empty; send null to go back to chatbill's wording".into(),
                ));
            }
            let limit = if key.starts_with("btn_") {
                MAX_BUTTON_CHARS
            } else {
                MAX_MESSAGE_CHARS
            };
            if text.chars().count() > limit {
                return Err((field, format!("at most {limit} characters")));
            }
            let has = placeholders(default);
            if let Some(unknown) = placeholders(text).into_iter().find(|p| !has.contains(p)) {
                let known = has.iter().map(|p| format!("{{{p}}}")).collect::<Vec<_>>();
                return Err((
                    field,
                    format!(
                        "{{{unknown}}} is not filled in this message{}",
                        if known.is_empty() {
                            String::from(" (it has no placeholders)")
                        } else {
                            format!(" (it has {})", known.join(", "))
                        }
                    ),
                ));
            }
            if let Some(missing) = has
                .iter()
                .find(|p| !OPTIONAL.contains(p) && !text.contains(&format!("{{{p}}}")))
            {
                return Err((
                    field,
                    format!("must keep {{{missing}}}: the customer needs it"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod override_tests {
    use super::*;

    fn one(locale: &str, key: &str, text: &str) -> MessageOverrides {
        [(
            locale.to_string(),
            [(key.to_string(), text.to_string())].into(),
        )]
        .into()
    }

    #[test]
    fn a_shop_s_wording_comes_first_in_its_language_only() {
        let t = Texts::embedded();
        let o = one("th", "btn_products", "ดูสินค้า");
        assert_eq!(t.get_with(Some(&o), "th", "btn_products", &[]), "ดูสินค้า");
        assert_eq!(
            t.get_with(Some(&o), "en", "btn_products", &[]),
            t.get("en", "btn_products", &[])
        );
        let o = one("en", "welcome", "Hello {name}, this is {shop}!");
        assert_eq!(
            t.get_with(
                Some(&o),
                "en",
                "welcome",
                &[("name", "Mai"), ("shop", "Tote Co")]
            ),
            "Hello Mai, this is Tote Co!"
        );
    }

    #[test]
    fn wording_is_checked_against_the_message_s_placeholders() {
        let t = Texts::embedded();
        let field =
            |o: MessageOverrides| check_overrides(&t, &o).map_err(|(f, r)| format!("{f}: {r}"));
        assert!(
            field(one("en", "welcome", "Hi there!")).is_ok(),
            "name and shop are optional"
        );
        let e = field(one("en", "notice_cancelled", "Your order was cancelled.")).unwrap_err();
        assert!(
            e.contains("messages.en.notice_cancelled") && e.contains("must keep {code}"),
            "{e}"
        );
        let e = field(one("en", "welcome", "Hi {first_name}")).unwrap_err();
        assert!(e.contains("{first_name} is not filled"), "{e}");
        let e = field(one("fr", "welcome", "Salut")).unwrap_err();
        assert!(e.starts_with("messages.fr"), "{e}");
        let e = field(one("en", "no_such_message", "x")).unwrap_err();
        assert!(e.contains("not a message"), "{e}");
        let e = field(one("th", "btn_products", "สินค้าทั้งหมดของร้านเรานะคะ")).unwrap_err();
        assert!(e.contains("at most 20"), "{e}");
    }
}

/// A supported locale from a tag like `th_TH` or `vi-VN`.
pub fn normalize_locale(tag: &str) -> Option<&'static str> {
    let lower = tag.to_ascii_lowercase();
    LOCALES.iter().copied().find(|l| lower.starts_with(l))
}

/// Guesses the language of typed text from its script.
pub fn detect_locale(text: &str) -> Option<&'static str> {
    if text.chars().any(|c| ('\u{0E00}'..='\u{0E7F}').contains(&c)) {
        return Some("th");
    }
    const VI: &str = "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ";
    if text.to_lowercase().chars().any(|c| VI.contains(c)) {
        return Some("vi");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_every_english_key() {
        let t = Texts::embedded();
        let en = t.keys("en");
        assert!(en.len() > 40);
        for locale in ["th", "vi"] {
            let missing: Vec<_> = en.iter().filter(|k| !t.has(locale, k)).collect();
            assert!(missing.is_empty(), "{locale} lacks {missing:?}");
            // Placeholders must survive translation.
            for k in &en {
                let en_text = t.get("en", k, &[]);
                let other = t.get(locale, k, &[]);
                for ph in en_text
                    .split('{')
                    .skip(1)
                    .filter_map(|s| s.split_once('}'))
                    .map(|(p, _)| p)
                {
                    assert!(
                        other.contains(&format!("{{{ph}}}")),
                        "{locale}:{k} lost {{{ph}}}"
                    );
                }
            }
        }
    }

    #[test]
    fn detects_scripts_and_fills_placeholders() {
        assert_eq!(detect_locale("สวัสดีค่ะ"), Some("th"));
        assert_eq!(detect_locale("Tôi muốn mua áo"), Some("vi"));
        assert_eq!(detect_locale("hello"), None);
        assert_eq!(normalize_locale("th_TH"), Some("th"));
        let t = Texts::embedded();
        assert!(
            t.get("en", "added_to_cart", &[("qty", "2"), ("name", "Tee")])
                .contains("2 × Tee")
        );
        assert_eq!(t.get("xx", "no_such_key", &[]), "no_such_key");
    }
}
