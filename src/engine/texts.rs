//! Every customer-facing sentence lives in `templates/messages/<locale>.txt`
//! (`key = text` lines, `{name}` placeholders). The files are embedded as
//! defaults and can be overridden from a folder at start-up.

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
        let template = self
            .by_locale
            .get(locale)
            .and_then(|m| m.get(key))
            .or_else(|| self.by_locale.get("en").and_then(|m| m.get(key)))
            .map(String::as_str)
            .unwrap_or(key);
        let mut out = template.to_string();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
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
