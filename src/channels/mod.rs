//! Channels are adapters: each parses its webhook into channel-neutral
//! [`InboundEvent`]s and renders the engine's actions within its own limits.

pub mod messenger;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Messenger,
    Instagram,
    Webchat,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Messenger => "messenger",
            Channel::Instagram => "instagram",
            Channel::Webchat => "webchat",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "messenger" => Some(Channel::Messenger),
            "instagram" => Some(Channel::Instagram),
            "webchat" => Some(Channel::Webchat),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Image,
    Sticker,
    Video,
    Audio,
    File,
    Location,
    Fallback,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub kind: AttachmentKind,
    /// Where to fetch it (a signed, expiring CDN URL for Messenger; an
    /// `upload:` reference for web chat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What the customer (or the Page) did, whatever the channel.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboundKind {
    Text {
        text: String,
    },
    QuickReply {
        payload: String,
        text: String,
    },
    Postback {
        payload: String,
        title: String,
        referral: Option<String>,
    },
    Attachments {
        attachments: Vec<Attachment>,
        text: Option<String>,
    },
    Referral {
        referral: String,
    },
    Reaction {
        emoji: String,
        action: String,
        target: String,
    },
    Edit {
        target: String,
        text: String,
    },
    /// A message sent by the Page: ours (confirms delivery) or a person's
    /// from the Page inbox (a handover: the bot pauses).
    Echo {
        app_id: Option<String>,
        metadata: Option<String>,
        text: Option<String>,
    },
    /// The thread belongs to another app or a person: recorded, never answered.
    Standby {
        text: Option<String>,
    },
    Other {
        kind: String,
    },
}

impl InboundKind {
    pub fn name(&self) -> &'static str {
        match self {
            InboundKind::Text { .. } => "text",
            InboundKind::QuickReply { .. } => "quick_reply",
            InboundKind::Postback { .. } => "postback",
            InboundKind::Attachments { .. } => "attachments",
            InboundKind::Referral { .. } => "referral",
            InboundKind::Reaction { .. } => "reaction",
            InboundKind::Edit { .. } => "edit",
            InboundKind::Echo { .. } => "echo",
            InboundKind::Standby { .. } => "standby",
            InboundKind::Other { .. } => "other",
        }
    }
    /// User actions open or renew the 24-hour window; echoes, standby
    /// events and reactions do not.
    pub fn renews_window(&self) -> bool {
        matches!(
            self,
            InboundKind::Text { .. }
                | InboundKind::QuickReply { .. }
                | InboundKind::Postback { .. }
                | InboundKind::Attachments { .. }
                | InboundKind::Referral { .. }
        )
    }
    /// Text a person could read in the seller's inbox.
    pub fn display_text(&self) -> Option<String> {
        match self {
            InboundKind::Text { text } | InboundKind::QuickReply { text, .. } => Some(text.clone()),
            InboundKind::Postback { title, .. } => Some(format!("[{title}]")),
            InboundKind::Attachments { attachments, text } => Some(match text {
                Some(t) => t.clone(),
                None => format!(
                    "[{}]",
                    attachments
                        .iter()
                        .map(|a| format!("{:?}", a.kind).to_lowercase())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
            InboundKind::Edit { text, .. } => Some(format!("(edited) {text}")),
            InboundKind::Echo { text, .. } | InboundKind::Standby { text } => text.clone(),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InboundEvent {
    pub channel: Channel,
    /// The Page / Instagram account / web-chat shop the event came to.
    pub account_id: String,
    /// The customer: PSID, IGSID or web-chat visitor id.
    pub sender_id: String,
    /// Dedupe key, unique per channel.
    pub message_id: String,
    /// Milliseconds since the epoch, as the channel reported it.
    pub timestamp: i64,
    pub kind: InboundKind,
}

impl InboundEvent {
    /// The per-customer key the inbox serialises on.
    pub fn sender_key(&self) -> String {
        format!(
            "{}:{}:{}",
            self.channel.as_str(),
            self.account_id,
            self.sender_id
        )
    }
}
