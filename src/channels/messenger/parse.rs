//! Messenger and Instagram webhook bodies → channel-neutral events.
//!
//! Tolerant by design: unknown fields are ignored, unknown event kinds are
//! counted and skipped, ids are strings, timestamps may be numbers or strings.
//! Reads and deliveries are dropped here: they never reach the engine.

use crate::channels::{Attachment, AttachmentKind, Channel, InboundEvent, InboundKind};
use serde_json::Value;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub events: Vec<InboundEvent>,
    /// Reads, deliveries and kinds we do not handle.
    pub skipped: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("body is not JSON: {0}")]
pub struct NotJson(pub String);

/// The thumbs-up "like" arrives as an image carrying this sticker id.
const LIKE_STICKER_ID: &str = "369239263222822";

fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn millis(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    // Some payloads give seconds; anything before 2001 in ms is seconds.
    .filter(|t| *t >= 0)
    .and_then(|t| {
        if t < 1_000_000_000_000 {
            t.checked_mul(1000)
        } else {
            Some(t)
        }
    })
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

pub fn parse(body: &[u8]) -> Result<Parsed, NotJson> {
    let root: Value = serde_json::from_slice(body).map_err(|e| NotJson(e.to_string()))?;
    let channel = match root.get("object").and_then(Value::as_str) {
        Some("page") => Channel::Messenger,
        Some("instagram") => Channel::Instagram,
        other => {
            tracing::warn!(object = ?other, "webhook for an unknown object ignored");
            return Ok(Parsed {
                events: vec![],
                skipped: 1,
            });
        }
    };
    let mut out = Parsed::default();
    for entry in root
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let entry_time = millis(entry.get("time"));
        for (list, standby) in [("messaging", false), ("standby", true)] {
            for item in entry
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match parse_item(channel, entry, entry_time, item, standby) {
                    Some(e) => out.events.push(e),
                    None => out.skipped += 1,
                }
            }
        }
        if entry.get("changes").is_some() {
            out.skipped += 1;
        }
    }
    Ok(out)
}

/// Who an item is between and when: what every event from it shares.
struct Envelope {
    channel: Channel,
    account_id: String,
    customer: String,
    timestamp: i64,
}

impl Envelope {
    /// `None` when the item does not say which account and customer it is
    /// between.
    fn of(
        channel: Channel,
        entry: &Value,
        entry_time: Option<i64>,
        item: &Value,
        is_echo: bool,
    ) -> Option<Envelope> {
        let sender = item.get("sender").and_then(|s| s.get("id")).and_then(id_of);
        let recipient = item
            .get("recipient")
            .and_then(|s| s.get("id"))
            .and_then(id_of);
        let timestamp = millis(item.get("timestamp")).or(entry_time).unwrap_or(0);
        let entry_id = entry.get("id").and_then(id_of);
        // Echoes swap sender and recipient: the customer is the recipient.
        let (account_id, customer) = if is_echo {
            (sender.or(entry_id)?, recipient?)
        } else {
            (recipient.or(entry_id)?, sender?)
        };
        Some(Envelope {
            channel,
            account_id,
            customer,
            timestamp,
        })
    }

    fn event(&self, message_id: String, kind: InboundKind) -> InboundEvent {
        InboundEvent {
            channel: self.channel,
            account_id: self.account_id.clone(),
            sender_id: self.customer.clone(),
            message_id,
            timestamp: self.timestamp,
            kind,
        }
    }
}

fn parse_item(
    channel: Channel,
    entry: &Value,
    entry_time: Option<i64>,
    item: &Value,
    standby: bool,
) -> Option<InboundEvent> {
    let message = item.get("message");
    let is_echo = message
        .and_then(|m| m.get("is_echo"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let env = Envelope::of(channel, entry, entry_time, item, is_echo)?;
    if item.get("read").is_some() || item.get("delivery").is_some() {
        return None;
    }
    if let Some(m) = message {
        return Some(message_event(&env, m, is_echo, standby));
    }
    if standby {
        // Another app owns the thread: only that something happened matters.
        let kind = event_kind(item);
        return Some(env.event(
            format!(
                "sb:{}:{}:{}",
                env.customer,
                env.timestamp,
                kind.as_deref().unwrap_or("?")
            ),
            InboundKind::Standby { text: None },
        ));
    }
    if let Some(pb) = item.get("postback") {
        return Some(postback(&env, pb));
    }
    if let Some(r) = item.get("referral") {
        return Some(referral(&env, r));
    }
    if let Some(r) = item.get("reaction") {
        return Some(reaction(&env, r));
    }
    if let Some(e) = item.get("message_edit") {
        return Some(edit(&env, e));
    }
    let kind = event_kind(item).unwrap_or_else(|| "unknown".into());
    tracing::info!(kind = %kind, "webhook event kind not handled; ignored");
    None
}

/// The item's first key that is not part of the envelope: its event kind.
fn event_kind(item: &Value) -> Option<String> {
    item.as_object().and_then(|o| {
        o.keys()
            .find(|k| !matches!(k.as_str(), "sender" | "recipient" | "timestamp"))
            .cloned()
    })
}

/// A message, an echo of the Page's own, or one seen on standby.
fn message_event(env: &Envelope, m: &Value, is_echo: bool, standby: bool) -> InboundEvent {
    let mid = m
        .get("mid")
        .and_then(id_of)
        .unwrap_or_else(|| format!("msg:{}:{}", env.customer, env.timestamp));
    // PostgreSQL text cannot hold NUL; it carries no meaning in chat.
    let text = m
        .get("text")
        .and_then(Value::as_str)
        .map(|t| t.replace('\0', ""));
    if is_echo {
        let app_id = m.get("app_id").and_then(id_of);
        let metadata = m
            .get("metadata")
            .and_then(Value::as_str)
            .map(str::to_string);
        return env.event(
            mid,
            InboundKind::Echo {
                app_id,
                metadata,
                text,
            },
        );
    }
    if standby {
        return env.event(mid, InboundKind::Standby { text });
    }
    if m.get("is_deleted")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return env.event(
            format!("deleted:{mid}"),
            InboundKind::Other {
                kind: "deleted".into(),
            },
        );
    }
    if let Some(payload) = str_at(m, &["quick_reply", "payload"]) {
        return env.event(
            mid,
            InboundKind::QuickReply {
                payload: payload.to_string(),
                text: text.unwrap_or_default(),
            },
        );
    }
    if let Some(list) = m.get("attachments").and_then(Value::as_array) {
        let attachments = list.iter().map(attachment).collect::<Vec<_>>();
        return env.event(mid, InboundKind::Attachments { attachments, text });
    }
    if m.get("sticker_id").is_some() {
        let a = Attachment {
            kind: AttachmentKind::Sticker,
            url: None,
        };
        return env.event(
            mid,
            InboundKind::Attachments {
                attachments: vec![a],
                text: None,
            },
        );
    }
    match text {
        Some(text) => env.event(mid, InboundKind::Text { text }),
        None => env.event(
            mid,
            InboundKind::Other {
                kind: "empty_message".into(),
            },
        ),
    }
}

fn postback(env: &Envelope, pb: &Value) -> InboundEvent {
    let payload = pb
        .get("payload")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let title = pb
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let referral = str_at(pb, &["referral", "ref"]).map(str::to_string);
    let mid = pb
        .get("mid")
        .and_then(id_of)
        .unwrap_or_else(|| format!("pb:{}:{}:{payload}", env.customer, env.timestamp));
    env.event(
        mid,
        InboundKind::Postback {
            payload,
            title,
            referral,
        },
    )
}

fn referral(env: &Envelope, r: &Value) -> InboundEvent {
    let referral = r
        .get("ref")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    env.event(
        format!("ref:{}:{}", env.customer, env.timestamp),
        InboundKind::Referral { referral },
    )
}

fn reaction(env: &Envelope, r: &Value) -> InboundEvent {
    let emoji = r
        .get("emoji")
        .or(r.get("reaction"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let action = r
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("react")
        .to_string();
    let target = r.get("mid").and_then(id_of).unwrap_or_default();
    env.event(
        format!(
            "rx:{}:{target}:{action}:{emoji}:{}",
            env.customer, env.timestamp
        ),
        InboundKind::Reaction {
            emoji,
            action,
            target,
        },
    )
}

fn edit(env: &Envelope, e: &Value) -> InboundEvent {
    let target = e.get("mid").and_then(id_of).unwrap_or_default();
    let n = e.get("num_edit").and_then(Value::as_i64).unwrap_or(0);
    let text = e
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    env.event(
        format!("edit:{target}:{n}"),
        InboundKind::Edit { target, text },
    )
}

fn attachment(a: &Value) -> Attachment {
    let payload = a.get("payload");
    let url = payload
        .and_then(|p| p.get("url"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let sticker = payload.and_then(|p| p.get("sticker_id")).and_then(id_of);
    let kind = match a.get("type").and_then(Value::as_str) {
        Some("image") if sticker.is_some() => AttachmentKind::Sticker,
        Some("image") => AttachmentKind::Image,
        Some("sticker") => AttachmentKind::Sticker,
        Some("video") | Some("reel") | Some("ig_reel") => AttachmentKind::Video,
        Some("audio") => AttachmentKind::Audio,
        Some("file") => AttachmentKind::File,
        Some("location") => AttachmentKind::Location,
        Some("fallback") => AttachmentKind::Fallback,
        _ => AttachmentKind::Other,
    };
    let _ = LIKE_STICKER_ID;
    Attachment { kind, url }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(body: &str) -> InboundEvent {
        let p = parse(body.as_bytes()).unwrap();
        assert_eq!(p.events.len(), 1, "{p:?}");
        p.events.into_iter().next().unwrap()
    }

    #[test]
    fn text_quick_reply_postback_and_echo() {
        let e = one(
            r#"{"object":"page","entry":[{"id":"431900112233445","time":1763761200123,"messaging":[{"sender":{"id":"7700112233445566"},"recipient":{"id":"431900112233445"},"timestamp":1763761199870,"message":{"mid":"m_1","text":"hi"}}]}]}"#,
        );
        assert_eq!(
            (
                e.account_id.as_str(),
                e.sender_id.as_str(),
                e.message_id.as_str()
            ),
            ("431900112233445", "7700112233445566", "m_1")
        );
        assert_eq!(e.kind, InboundKind::Text { text: "hi".into() });
        let e = one(
            r#"{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"7"},"recipient":{"id":"1"},"timestamp":"1763761300000","message":{"mid":"m_2","text":"Add 2","quick_reply":{"payload":"ADD:3:2"}}}]}]}"#,
        );
        assert_eq!(
            e.kind,
            InboundKind::QuickReply {
                payload: "ADD:3:2".into(),
                text: "Add 2".into()
            }
        );
        assert_eq!(e.timestamp, 1_763_761_300_000);
        let e = one(
            r#"{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"7"},"recipient":{"id":"1"},"timestamp":5,"postback":{"title":"Go","payload":"GET_STARTED","referral":{"ref":"promo"}}}]}]}"#,
        );
        assert_eq!(
            e.kind,
            InboundKind::Postback {
                payload: "GET_STARTED".into(),
                title: "Go".into(),
                referral: Some("promo".into())
            }
        );
        assert_eq!(e.message_id, "pb:7:5000:GET_STARTED");
        let e = one(
            r#"{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"1"},"recipient":{"id":"7"},"timestamp":5,"message":{"mid":"m_e","is_echo":true,"app_id":263902037430900,"text":"hello from a person"}}]}]}"#,
        );
        assert_eq!(e.sender_id, "7");
        assert!(
            matches!(e.kind, InboundKind::Echo { app_id: Some(ref a), .. } if a == "263902037430900")
        );
    }

    #[test]
    fn attachments_stickers_and_dropped_receipts() {
        let e = one(
            r#"{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"7"},"recipient":{"id":"1"},"timestamp":5,"message":{"mid":"m_s","attachments":[{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/a.jpg"}},{"type":"image","payload":{"url":"https://x/y.png","sticker_id":369239263222822}}]}}]}]}"#,
        );
        let InboundKind::Attachments { attachments, .. } = e.kind else {
            panic!()
        };
        assert_eq!(attachments[0].kind, AttachmentKind::Image);
        assert_eq!(attachments[1].kind, AttachmentKind::Sticker);
        let p = parse(br#"{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"7"},"recipient":{"id":"1"},"delivery":{"mids":["m"],"watermark":5}},{"sender":{"id":"7"},"recipient":{"id":"1"},"timestamp":6,"read":{"watermark":5}},{"sender":{"id":"7"},"recipient":{"id":"1"},"timestamp":6,"brand_new_kind":{}}]}]}"#).unwrap();
        assert_eq!((p.events.len(), p.skipped), (0, 3));
    }

    #[test]
    fn batches_standby_instagram_and_garbage() {
        let p = parse(br#"{"object":"instagram","entry":[{"id":"17841","time":1,"messaging":[{"sender":{"id":"ig1"},"recipient":{"id":"17841"},"timestamp":1763761300000,"message":{"mid":"aWdf","text":"hello"}}]},{"id":"17841","standby":[{"sender":{"id":"ig2"},"recipient":{"id":"17841"},"timestamp":1763761300001,"message":{"mid":"aWdg","text":"to a human"}}]}]}"#).unwrap();
        assert_eq!(p.events.len(), 2);
        assert_eq!(p.events[0].channel, Channel::Instagram);
        assert_eq!(
            p.events[1].kind,
            InboundKind::Standby {
                text: Some("to a human".into())
            }
        );
        assert!(parse(b"not json").is_err());
        assert_eq!(parse(b"{}").unwrap().events.len(), 0);
        assert_eq!(
            parse(br#"{"object":"page","entry":"nope"}"#)
                .unwrap()
                .events
                .len(),
            0
        );
        assert_eq!(
            parse(
                br#"{"object":"page","entry":[{"messaging":[{"message":{"text":"no sender"}}]}]}"#
            )
            .unwrap()
            .events
            .len(),
            0
        );
    }
}
