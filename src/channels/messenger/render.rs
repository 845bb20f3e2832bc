//! Engine messages → Send API `message` objects, shaped to fit Messenger's
//! limits so Meta never rejects them: 2000-character texts split on word
//! boundaries, 13 quick replies with 20-character titles, 10 carousel
//! elements per message, 3 buttons, 640-character button text, receipts.

use crate::domain::Money;
use crate::engine::{Button, Card, Choice, Message, Receipt};
use serde_json::{Value, json};

pub const MAX_TEXT: usize = 2000;
pub const MAX_QUICK_REPLIES: usize = 13;
pub const MAX_ELEMENTS: usize = 10;
pub const MAX_BUTTONS: usize = 3;
pub const MAX_TITLE: usize = 20;
const MAX_PAYLOAD: usize = 1000;
const MAX_BUTTON_TEXT: usize = 640;
const MAX_CARD_TEXT: usize = 80;

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Splits text into pieces of at most `max` characters, preferring line
/// breaks, then spaces; a single over-long word is cut.
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    while rest.len() > max {
        let window = &rest[..max];
        let at = window
            .iter()
            .rposition(|c| *c == '\n')
            .or_else(|| window.iter().rposition(|c| c.is_whitespace()))
            .filter(|p| *p > max / 4)
            .unwrap_or(max);
        let piece: String = rest[..at].iter().collect();
        parts.push(piece.trim_end().to_string());
        let skip = if at < rest.len() && rest[at].is_whitespace() {
            at + 1
        } else {
            at
        };
        rest = rest[skip..].to_vec();
    }
    let last: String = rest.iter().collect();
    if !last.trim().is_empty() || parts.is_empty() {
        parts.push(last);
    }
    parts
}

fn quick_replies(choices: &[Choice]) -> Value {
    Value::Array(
        choices
            .iter()
            .take(MAX_QUICK_REPLIES)
            .map(|c| json!({"content_type": "text", "title": cut(&c.title, MAX_TITLE), "payload": cut(&c.payload, MAX_PAYLOAD)}))
            .collect(),
    )
}

fn button(b: &Button) -> Value {
    match b {
        Button::Postback { title, payload } => {
            json!({"type": "postback", "title": cut(title, MAX_TITLE), "payload": cut(payload, MAX_PAYLOAD)})
        }
        Button::Url { title, url } => {
            json!({"type": "web_url", "title": cut(title, MAX_TITLE), "url": url})
        }
    }
}

fn element(c: &Card) -> Value {
    let mut e = json!({
        "title": cut(&c.title, MAX_CARD_TEXT),
        "subtitle": cut(&c.subtitle, MAX_CARD_TEXT),
    });
    if let Some(url) = &c.image_url {
        e["image_url"] = json!(url);
    }
    if !c.buttons.is_empty() {
        e["buttons"] = Value::Array(c.buttons.iter().take(MAX_BUTTONS).map(button).collect());
    }
    e
}

fn major(minor: i64, r: &Receipt) -> Value {
    let s = Money::new(minor, r.currency).to_decimal_string();
    s.parse::<f64>().map(|f| json!(f)).unwrap_or(json!(0))
}

fn receipt(r: &Receipt) -> Value {
    let mut payload = json!({
        "template_type": "receipt",
        "recipient_name": cut(&r.recipient_name, 80),
        "merchant_name": cut(&r.merchant_name, 80),
        // Meta wants a unique number per receipt; re-sent bills get a suffix.
        "order_number": format!("{}-{}", r.order_code, r.timestamp.millis() % 100_000),
        "currency": r.currency.code(),
        "payment_method": cut(&r.payment_method, 80),
        "timestamp": (r.timestamp.millis() / 1000).to_string(),
        "summary": {
            "subtotal": major(r.subtotal, r),
            "shipping_cost": major(r.shipping, r),
            "total_tax": 0,
            "total_cost": major(r.total, r),
        },
        "elements": r.lines.iter().take(100).map(|l| {
            let mut e = json!({"title": cut(&l.title, 80), "quantity": l.qty, "price": major(l.unit_price * l.qty, r), "currency": r.currency.code()});
            if !l.subtitle.is_empty() { e["subtitle"] = json!(cut(&l.subtitle, 80)); }
            e
        }).collect::<Vec<_>>(),
    });
    let mut adjustments = Vec::new();
    if r.fees > 0 {
        adjustments.push(json!({"name": "Extra services", "amount": major(r.fees, r)}));
    }
    if r.discount > 0 {
        adjustments.push(json!({"name": "Discount", "amount": major(r.discount, r)}));
    }
    if !adjustments.is_empty() {
        payload["adjustments"] = Value::Array(adjustments);
    }
    if let Some(a) = &r.address {
        payload["address"] = json!({
            "street_1": cut(&a.line, 80),
            "city": cut(&a.district, 80),
            "state": cut(&a.province, 80),
            "postal_code": a.postcode.clone().unwrap_or_else(|| "-".into()),
            "country": match r.currency.code() { "VND" => "VN", "THB" => "TH", _ => "--" },
        });
    }
    json!({"attachment": {"type": "template", "payload": payload}})
}

/// One engine message → one or more Send API `message` objects, in order.
pub fn render(message: &Message) -> Vec<Value> {
    match message {
        Message::Text {
            text,
            quick_replies: choices,
        } => {
            let parts = split_text(text, MAX_TEXT);
            let last = parts.len() - 1;
            parts
                .into_iter()
                .enumerate()
                .map(|(i, p)| {
                    let mut m = json!({"text": p});
                    // Quick replies belong on the last piece, where the customer looks.
                    if i == last && !choices.is_empty() {
                        m["quick_replies"] = quick_replies(choices);
                    }
                    m
                })
                .collect()
        }
        Message::Buttons { text, buttons } => {
            if buttons.is_empty() {
                return render(&Message::text(text.clone()));
            }
            let mut out = Vec::new();
            let mut pieces = split_text(text, MAX_BUTTON_TEXT);
            let head = pieces.pop().unwrap_or_default();
            for p in pieces {
                out.push(json!({"text": p}));
            }
            for (i, chunk) in buttons.chunks(MAX_BUTTONS).enumerate() {
                let t = if i == 0 { head.clone() } else { "…".into() };
                out.push(json!({"attachment": {"type": "template", "payload": {
                    "template_type": "button", "text": t,
                    "buttons": chunk.iter().map(button).collect::<Vec<_>>()}}}));
            }
            out
        }
        Message::Carousel { cards } => cards
            .chunks(MAX_ELEMENTS)
            .map(|chunk| {
                json!({"attachment": {"type": "template", "payload": {
                    "template_type": "generic", "image_aspect_ratio": "square",
                    "elements": chunk.iter().map(element).collect::<Vec<_>>()}}})
            })
            .collect(),
        Message::Receipt { receipt: r } => vec![receipt(r)],
        Message::Image { url } => vec![
            json!({"attachment": {"type": "image", "payload": {"url": url, "is_reusable": false}}}),
        ],
    }
}

/// A Utility Message template with its body parameters, in Meta's
/// language code for the customer's locale.
pub fn utility_template(name: &str, locale: &str, parameters: &[String]) -> Value {
    let lang = match locale {
        "th" => "th_TH",
        "vi" => "vi_VN",
        _ => "en_US",
    };
    let params: Vec<Value> = parameters
        .iter()
        .map(|p| json!({"type": "text", "text": p}))
        .collect();
    json!({"template": {"name": name, "language": {"code": lang},
        "components": [{"type": "body", "parameters": params}]}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_splits_on_words_within_the_limit() {
        let word = "สวัสดี ";
        let text = word.repeat(700);
        let parts = split_text(&text, MAX_TEXT);
        assert!(parts.len() >= 3);
        assert!(parts.iter().all(|p| p.chars().count() <= MAX_TEXT));
        assert_eq!(parts.concat().replace(' ', ""), text.replace(' ', ""));
        let one_word = "x".repeat(4500);
        let parts = split_text(&one_word, MAX_TEXT);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![2000, 2000, 500]
        );
        assert_eq!(split_text("hi", MAX_TEXT), vec!["hi"]);
    }

    #[test]
    fn limits_are_enforced_not_passed_to_meta() {
        let choices: Vec<Choice> = (0..20)
            .map(|i| Choice {
                title: format!("A very long chip title {i}"),
                payload: "P".repeat(2000),
            })
            .collect();
        let m = render(&Message::Text {
            text: "pick".into(),
            quick_replies: choices,
        });
        let qr = m[0]["quick_replies"].as_array().unwrap();
        assert_eq!(qr.len(), 13);
        assert!(
            qr.iter()
                .all(|q| q["title"].as_str().unwrap().chars().count() <= 20)
        );
        assert!(
            qr.iter()
                .all(|q| q["payload"].as_str().unwrap().chars().count() <= 1000)
        );

        let cards: Vec<Card> = (0..23)
            .map(|i| Card {
                title: format!("{i} {}", "t".repeat(100)),
                subtitle: "s".into(),
                image_url: None,
                buttons: (0..5)
                    .map(|b| Button::Postback {
                        title: format!("b{b}"),
                        payload: "x".into(),
                    })
                    .collect(),
            })
            .collect();
        let m = render(&Message::Carousel { cards });
        assert_eq!(m.len(), 3);
        for msg in &m {
            let els = msg["attachment"]["payload"]["elements"].as_array().unwrap();
            assert!(els.len() <= 10);
            assert!(
                els.iter()
                    .all(|e| e["buttons"].as_array().unwrap().len() <= 3)
            );
            assert!(
                els.iter()
                    .all(|e| e["title"].as_str().unwrap().chars().count() <= 80)
            );
        }
        let buttons: Vec<Button> = (0..5)
            .map(|b| Button::Postback {
                title: format!("b{b}"),
                payload: "x".into(),
            })
            .collect();
        let m = render(&Message::Buttons {
            text: "t".repeat(700),
            buttons,
        });
        assert_eq!(m.len(), 3, "text overflow first, then two button templates");
        assert!(
            m[1]["attachment"]["payload"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 640
        );
    }
}
