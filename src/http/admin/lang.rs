//! The console's languages. Pages, bills and shipping notes are written in
//! English and translated on the way out, gettext-style: the English text
//! is the key (`{{ t("Confirm payment") }}` in a template), and
//! `templates/console/<part>.<lang>.txt` hold `English = translation`
//! lines. A key may hold `{name}` places, filled from the template's
//! arguments, or, for a message built in Rust ("Order {code} is paid"),
//! matched against the finished text, so a refusal reads in the seller's
//! language too. Text with no translation is shown in English rather than
//! not at all; a test keeps every key the templates use translated.

use super::auth::Auth;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The console's languages, each named in itself for the switch.
pub const LANGUAGES: &[(&str, &str)] = &[("en", "English"), ("th", "ไทย"), ("vi", "Tiếng Việt")];

/// `tag` (`th`, `th-TH`, `vi_VN`) as one of the console's languages.
pub fn known(tag: &str) -> Option<&'static str> {
    if !matches!(tag.as_bytes().get(2), None | Some(b'-' | b'_')) {
        return None;
    }
    let lang = tag.get(..2)?.to_ascii_lowercase();
    LANGUAGES
        .iter()
        .map(|(code, _)| *code)
        .find(|code| *code == lang)
}

/// What `auth`'s holder reads: their own choice, else the shop's
/// language, else the shop's locale, else English.
pub fn of(auth: &Auth) -> &'static str {
    auth.token
        .language
        .as_deref()
        .and_then(known)
        .or_else(|| auth.shop.settings.language.as_deref().and_then(known))
        .or_else(|| known(&auth.shop.locale))
        .unwrap_or("en")
}

/// `english` in `lang`: its own entry, else an entry with places that
/// matches it, else `english` itself.
pub fn text<'a>(lang: &str, english: &'a str) -> Cow<'a, str> {
    let Some(catalog) = catalog(lang) else {
        return Cow::Borrowed(english);
    };
    if let Some(t) = catalog.exact.get(english) {
        return Cow::Borrowed(t);
    }
    catalog
        .patterns
        .iter()
        .find_map(|p| p.fill(english, &catalog.exact))
        .map(Cow::Owned)
        .unwrap_or(Cow::Borrowed(english))
}

/// The key `english` (with `{name}` places) in `lang`, its places filled
/// by `value`.
pub fn with_places(lang: &str, english: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let template = catalog(lang)
        .and_then(|c| c.exact.get(english).copied())
        .unwrap_or(english);
    substitute(template, |name| value(name))
}

fn substitute(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(len) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + len];
        out.push_str(&rest[..open]);
        match value(name) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[open..=open + len]),
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out
}

struct Catalog {
    exact: HashMap<&'static str, &'static str>,
    patterns: Vec<Pattern>,
}

/// A key with places, as a matcher for finished English text.
struct Pattern {
    /// The fixed text around the places: one more than `names`.
    literals: Vec<&'static str>,
    names: Vec<&'static str>,
    translation: &'static str,
}

impl Pattern {
    fn new(key: &'static str, translation: &'static str) -> Option<Pattern> {
        let mut literals = Vec::new();
        let mut names = Vec::new();
        let mut rest = key;
        while let Some(open) = rest.find('{') {
            let len = rest[open..].find('}')?;
            literals.push(&rest[..open]);
            names.push(&rest[open + 1..open + len]);
            rest = &rest[open + len + 1..];
        }
        literals.push(rest);
        (!names.is_empty()).then_some(Pattern {
            literals,
            names,
            translation,
        })
    }

    /// The translation with the places taken from `text`, if `text` is
    /// this key with something in each place; a place that is itself a
    /// catalog entry ("out for delivery" in "the order is {state}; …") is
    /// translated too.
    fn fill(&self, text: &str, words: &HashMap<&'static str, &'static str>) -> Option<String> {
        let mut rest = text.strip_prefix(self.literals[0])?;
        let mut values = Vec::with_capacity(self.names.len());
        let last = self.literals.len() - 1;
        for (i, literal) in self.literals.iter().enumerate().skip(1) {
            let end = if i == last {
                if !rest.ends_with(literal) {
                    return None;
                }
                rest.len() - literal.len()
            } else {
                rest.find(literal)?
            };
            if end == 0 {
                return None;
            }
            values.push(&rest[..end]);
            rest = &rest[end + literal.len()..];
        }
        Some(substitute(self.translation, |name| {
            self.names.iter().position(|n| *n == name).map(|i| {
                words
                    .get(values[i])
                    .copied()
                    .unwrap_or(values[i])
                    .to_string()
            })
        }))
    }
}

/// The catalog files, embedded: what the pages say, and the words and
/// messages built in Rust.
const FILES: &[(&str, &str)] = &[
    (
        "th",
        include_str!("../../../templates/console/pages.th.txt"),
    ),
    (
        "th",
        include_str!("../../../templates/console/words.th.txt"),
    ),
    (
        "vi",
        include_str!("../../../templates/console/pages.vi.txt"),
    ),
    (
        "vi",
        include_str!("../../../templates/console/words.vi.txt"),
    ),
];

/// `English = translation` lines; `#` starts a comment line.
fn entries(file: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    file.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim(), v.trim()))
}

fn catalog(lang: &str) -> Option<&'static Catalog> {
    static CATALOGS: OnceLock<HashMap<&'static str, Catalog>> = OnceLock::new();
    CATALOGS
        .get_or_init(|| {
            let mut all: HashMap<&'static str, Catalog> = HashMap::new();
            for (lang, file) in FILES {
                let c = all.entry(lang).or_insert_with(|| Catalog {
                    exact: HashMap::new(),
                    patterns: Vec::new(),
                });
                for (key, translation) in entries(file) {
                    c.exact.insert(key, translation);
                    c.patterns.extend(Pattern::new(key, translation));
                }
            }
            // The most specific key first: "Order {code} is paid" before
            // "{what} is paid".
            for c in all.values_mut() {
                c.patterns.sort_by_key(|p| {
                    std::cmp::Reverse(p.literals.iter().map(|l| l.len()).sum::<usize>())
                });
            }
            all
        })
        .get(lang)
}

/// Every key of `lang`'s catalog (for the completeness test).
#[cfg(test)]
pub fn keys(lang: &str) -> Vec<&'static str> {
    FILES
        .iter()
        .filter(|(l, _)| *l == lang)
        .flat_map(|(_, f)| entries(f).map(|(k, _)| k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_with_places_translates_finished_text() {
        let p = Pattern::new("Order {code} is {state}", "คำสั่งซื้อ {code} {state}").unwrap();
        let words = HashMap::from([("paid", "ชำระแล้ว")]);
        assert_eq!(
            p.fill("Order A-12 is paid", &words).as_deref(),
            Some("คำสั่งซื้อ A-12 ชำระแล้ว"),
            "a place that is a word is translated too"
        );
        assert_eq!(
            p.fill("Order A-12 is late", &words).as_deref(),
            Some("คำสั่งซื้อ A-12 late")
        );
        assert_eq!(p.fill("Order  is paid", &words), None, "an empty place");
        assert_eq!(p.fill("Invoice A-12 is paid", &words), None);
        assert_eq!(p.fill("Order A-12 is", &words), None);
    }

    #[test]
    fn english_and_unknown_text_pass_through() {
        assert_eq!(text("en", "Orders"), "Orders");
        assert_eq!(
            text("th", "Something no one wrote"),
            "Something no one wrote"
        );
        assert_eq!(text("th", "Orders"), "คำสั่งซื้อ");
        assert_eq!(known("th-TH"), Some("th"));
        assert_eq!(known("fr"), None);
        assert_eq!(known("thai"), None);
        assert_eq!(known("vi_VN"), Some("vi"));
        assert_eq!(
            with_places("en", "Scan to pay {amount}", |n| (n == "amount")
                .then(|| "฿5.00".to_string())),
            "Scan to pay ฿5.00"
        );
    }

    /// A refusal from the order rules reads in the seller's language
    /// whole: no English state or move is left in it.
    #[test]
    fn every_refusal_of_a_move_reads_in_thai_and_vietnamese() {
        use crate::domain::Actor;
        use crate::domain::lifecycle::{self as lc, Fulfilment, PaymentStatus};
        let seller = Actor::Seller("Som".into());
        let mut refusals = Vec::new();
        for f in Fulfilment::ALL {
            for e in lc::FulfilmentEvent::ALL {
                for actor in [&seller, &Actor::Customer, &Actor::System] {
                    if let Err(err) = lc::next_fulfilment(*f, *e, actor) {
                        refusals.push(err.to_string());
                    }
                }
            }
        }
        for p in PaymentStatus::ALL {
            for e in lc::PaymentEvent::ALL {
                for actor in [&seller, &Actor::Customer] {
                    if let Err(err) = lc::next_payment(*p, *e, actor) {
                        refusals.push(err.to_string());
                    }
                }
            }
        }
        assert!(refusals.len() > 50, "{}", refusals.len());
        for lang in ["th", "vi"] {
            for english in &refusals {
                let said = text(lang, english);
                let tokens: Vec<&str> = said.split(|c: char| !c.is_ascii_alphabetic()).collect();
                let left: Vec<&str> = english
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .filter(|w| w.len() > 3 && tokens.contains(w))
                    .collect();
                assert!(left.is_empty(), "{lang}: {english:?} reads {said:?}");
            }
        }
    }

    /// Every status, method, flag and history word the console shows has
    /// its Thai and Vietnamese.
    #[test]
    fn every_word_has_its_translations() {
        use super::super::words;
        use crate::domain::lifecycle::{Fulfilment, FulfilmentEvent, PaymentEvent, PaymentStatus};
        use crate::domain::order::PaymentMethod;
        let mut shown: Vec<String> = Vec::new();
        shown.extend(
            Fulfilment::ALL
                .iter()
                .map(|f| words::fulfilment(f.as_str())),
        );
        shown.extend(
            PaymentStatus::ALL
                .iter()
                .map(|p| words::payment(p.as_str())),
        );
        shown.extend(PaymentMethod::ALL.iter().map(|m| words::method(m.as_str())));
        shown.extend(
            FulfilmentEvent::ALL
                .iter()
                .map(|e| words::event(e.as_str())),
        );
        shown.extend(PaymentEvent::ALL.iter().map(|e| words::event(e.as_str())));
        for row in [
            "fetching",
            "pending",
            "flagged",
            "failed",
            "confirmed",
            "rejected",
            "difference",
            "refund_due",
        ] {
            shown.push(words::payment_row(row));
        }
        for flag in [
            "exact_duplicate",
            "reused_slip",
            "qr_bad_checksum",
            "payment_qr_not_slip",
            "qr_malformed",
            "no_qr",
            "order_not_awaiting_payment",
        ] {
            shown.push(words::flag(flag));
        }
        for lang in ["th", "vi"] {
            let missing: Vec<&String> = shown
                .iter()
                .filter(|w| text(lang, w) == w.as_str())
                .collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        }
    }
}
