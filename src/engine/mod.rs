//! The conversation engine: a pure `step(state, input, context) -> (state,
//! actions)`. No I/O happens here; the inbox worker loads the context,
//! carries out the actions in one transaction and feeds outcomes back in.

mod flows;
pub mod intent;
pub mod notices;
pub mod tap;
pub mod texts;

pub use flows::step;
pub use tap::Tap;
pub use texts::Texts;

use crate::domain::catalog::Product;
use crate::domain::order::{Command, Order};
use crate::domain::shop::ShopSettings;
use crate::domain::{Address, Currency, OrderId, Timestamp, VariantId};

/// What the engine hears.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Input {
    /// Typed text.
    Text(String),
    /// A tapped button or quick reply.
    Tap(Tap),
    /// A payload that is not one of our buttons, or a mangled one.
    UnknownTap(String),
    Image {
        url: String,
    },
    Sticker,
    /// Video, audio, file, location, shared link…
    OtherAttachment(String),
    Referral(String),
    /// Outcomes of actions the shell carried out.
    OrderPlaced {
        order: OrderId,
    },
    OrderNotPlaced {
        reason: PlaceProblem,
    },
    CommandDone {
        order: OrderId,
        command: Command,
    },
    CommandRefused {
        order: OrderId,
        reason: String,
    },
}

impl Input {
    /// A button payload as the chat app delivered it.
    pub fn from_payload(payload: &str) -> Input {
        match Tap::parse(payload) {
            Some(tap) => Input::Tap(tap),
            None => Input::UnknownTap(payload.to_string()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PlaceProblem {
    OutOfStock { name: String },
    EmptyCart,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CartLine {
    pub variant: VariantId,
    pub qty: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSummary {
    pub order: Order,
    pub created_at: Timestamp,
}

/// Everything the engine may look at, loaded by the shell.
pub struct Context<'a> {
    pub shop_name: &'a str,
    pub currency: Currency,
    pub default_locale: &'a str,
    pub settings: &'a ShopSettings,
    pub catalog: &'a [Product],
    pub cart: &'a [CartLine],
    /// This customer's recent orders, newest first. Never another's.
    pub orders: &'a [OrderSummary],
    pub customer_name: &'a str,
    pub saved_address: Option<&'a Address>,
    pub balance: i64,
    /// The last movements of that balance, newest first; `None` until the
    /// engine asks for them with [`Action::LoadBalance`].
    pub movements: Option<&'a [BalanceMove]>,
    /// An order's history, payments and claims, loaded only when one order
    /// is shown (see [`detail_wanted`]).
    pub detail: Option<&'a OrderDetail>,
    pub texts: &'a Texts,
    /// Base for turning relative image paths into absolute URLs.
    pub public_url: &'a str,
    pub now: Timestamp,
}

/// One movement of the customer's shop balance, as they are shown it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceMove {
    pub kind: crate::domain::ledger::LedgerKind,
    /// Signed: what it added to or took from the balance.
    pub amount: i64,
    /// The order it was for, if any.
    pub order_code: Option<String>,
    pub at: Timestamp,
}

/// What one order's page in chat shows beyond the order itself: its
/// status history, its payments, its claims (the seeds' Status,
/// Transaction and Claim tabs; the Package is the order's carrier).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderDetail {
    pub order: OrderId,
    /// (when, `fulfilment` or `payment`, the state it moved to), oldest first.
    pub history: Vec<(Timestamp, String, String)>,
    /// (when, method, amount, row status), oldest first.
    pub payments: Vec<(Timestamp, String, i64, String)>,
    pub claims: Vec<(
        crate::domain::claim::ClaimReason,
        crate::domain::claim::ClaimStatus,
    )>,
}

/// The order whose page `input` shows, so the shell reads its detail.
pub fn detail_wanted(input: &Input) -> Option<OrderId> {
    match input {
        Input::Tap(Tap::ShowOrder(id)) => Some(*id),
        _ => None,
    }
}

/// How many movements "My balance" shows.
pub const BALANCE_MOVES_SHOWN: i64 = 5;

/// How many of the customer's orders, newest first, the engine must see
/// to answer `input`: a page of the list and one more, to know whether to
/// offer older ones.
pub fn orders_needed(input: &Input) -> i64 {
    let page = match input {
        Input::Tap(Tap::OrdersPage(p)) => (*p).min(MAX_ORDER_PAGES) as i64,
        _ => 0,
    };
    ORDERS_PER_PAGE * (page + 1) + 1
}

/// Orders in one page of "View orders".
pub const ORDERS_PER_PAGE: i64 = 6;
/// Older pages are still offered, but this is as far back as chat goes.
pub const MAX_ORDER_PAGES: usize = 40;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Choice {
    pub title: String,
    pub payload: String,
}

impl Choice {
    /// A quick reply that comes back as `tap`.
    pub fn tap(title: impl Into<String>, tap: &Tap) -> Choice {
        Choice {
            title: title.into(),
            payload: tap.encode(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Button {
    Postback { title: String, payload: String },
    Url { title: String, url: String },
}

impl Button {
    /// A button that comes back as `tap`.
    pub fn tap(title: impl Into<String>, tap: &Tap) -> Button {
        Button::Postback {
            title: title.into(),
            payload: tap.encode(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Card {
    pub title: String,
    pub subtitle: String,
    pub image_url: Option<String>,
    pub buttons: Vec<Button>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiptLine {
    pub title: String,
    pub subtitle: String,
    pub qty: i64,
    pub unit_price: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    pub order_code: String,
    pub recipient_name: String,
    pub merchant_name: String,
    pub currency: Currency,
    pub payment_method: String,
    pub lines: Vec<ReceiptLine>,
    pub subtotal: i64,
    pub shipping: i64,
    pub fees: i64,
    pub discount: i64,
    pub total: i64,
    pub address: Option<Address>,
    pub timestamp: Timestamp,
    /// The same bill as plain text, for channels without receipts.
    pub text: String,
}

/// A message to the customer, channel-neutral; each channel renders it
/// within its own limits.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    Text {
        text: String,
        quick_replies: Vec<Choice>,
    },
    Buttons {
        text: String,
        buttons: Vec<Button>,
    },
    Carousel {
        cards: Vec<Card>,
    },
    Receipt {
        receipt: Box<Receipt>,
    },
    Image {
        url: String,
    },
}

impl Message {
    pub fn text(text: impl Into<String>) -> Message {
        Message::Text {
            text: text.into(),
            quick_replies: Vec::new(),
        }
    }
    /// A plain-text rendering (seller inbox, logs, channels without rich UI).
    pub fn plain(&self) -> String {
        match self {
            Message::Text { text, .. } | Message::Buttons { text, .. } => text.clone(),
            Message::Carousel { cards } => cards
                .iter()
                .map(|c| format!("{} — {}", c.title, c.subtitle))
                .collect::<Vec<_>>()
                .join("\n"),
            Message::Receipt { receipt } => receipt.text.clone(),
            Message::Image { url } => format!("[image] {url}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CartOp {
    Add { variant: VariantId, qty: i64 },
    Set { variant: VariantId, qty: i64 },
    Clear,
}

/// What the engine asks the shell to do, in order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Action {
    Say(Message),
    Cart(CartOp),
    SaveAddress(Address),
    /// Place an order from the cart; the outcome comes back as an input.
    PlaceOrder {
        address: Address,
        shipping_fee: i64,
    },
    Order {
        order: OrderId,
        command: Command,
    },
    AcceptSlip {
        order: OrderId,
        url: String,
    },
    SendPaymentQr {
        order: OrderId,
    },
    /// Add words or a photo to the claim this filing makes (`filing`
    /// names it: the first item opens it, the rest join it).
    Claim {
        order: OrderId,
        reason: crate::domain::claim::ClaimReason,
        filing: String,
        text: Option<String>,
        image_url: Option<String>,
    },
    /// Read the balance's last movements and step again with them; the
    /// only action of its step.
    LoadBalance,
    /// Store the customer's words in the seller's inbox as new.
    ForwardToShop {
        text: String,
    },
}

/// The conversation's memory between messages, stored as JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct State {
    pub stage: Stage,
    pub locale: Option<String>,
    pub draft: DraftAddress,
    /// The address shown in the order summary, used when the customer confirms.
    pub reviewing: Option<Address>,
    /// "The shop will reply" is said once until the customer moves on.
    pub told_shop_will_reply: bool,
    /// The order whose delivery address the address steps are for (the
    /// customer changing it in chat), rather than the cart's checkout.
    pub address_for: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DraftAddress {
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub line: Option<String>,
    pub province: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressStep {
    Name,
    Phone,
    Line,
    Province,
    District,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Stage {
    #[default]
    Idle,
    PickVariant {
        product: i64,
        buy_now: bool,
    },
    PickQty {
        variant: i64,
        buy_now: bool,
    },
    ChangeQty {
        variant: i64,
    },
    Address {
        step: AddressStep,
    },
    ReviewOrder,
    ChoosePayment {
        order: i64,
    },
    AwaitingSlip {
        order: i64,
    },
    ConfirmCancel {
        order: i64,
    },
    OrderMoreQty {
        order: i64,
        line: i64,
    },
    /// Asked what went wrong with the order (stored as `complaint` by
    /// versions before claims).
    #[serde(alias = "complaint")]
    ClaimReason {
        order: i64,
    },
    /// Filing a claim: words and photos belong to it (never to a payment)
    /// until "Done" or another menu choice.
    Claim {
        order: i64,
        reason: crate::domain::claim::ClaimReason,
        /// When the filing began: with the order, it names the claim.
        started: i64,
        items: u32,
    },
    TalkToShop,
}

#[cfg(test)]
mod tests;
