//! The buttons the customer can tap, and their wire grammar.
//!
//! A button's payload is a short string (`ADD:3`, `PAY:bank:12`) that the
//! chat app hands back when it is tapped, possibly months later: Pages in
//! the wild keep old buttons, so the strings never change. `parse` and the
//! `Display` impl below are the only code that knows them.

use super::texts;
use crate::domain::claim::ClaimReason;
use crate::domain::order::PaymentMethod;
use crate::domain::{OrderId, ProductId, VariantId};
use std::fmt;

/// A tapped button or quick reply. Ids in a tap come from the customer's
/// device and may be stale or forged; the engine checks them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tap {
    /// `GET_STARTED`: Messenger's first button.
    GetStarted,
    /// `MENU`
    Menu,
    /// `MENU_PRODUCTS` (persistent menu), also `PRODUCTS`.
    Products,
    /// `CAT:<category>`; the category may itself contain `:`.
    Category(String),
    /// `PAGE:<n>`, counted from 0.
    Page(usize),
    /// `CATPAGE:<n>:<category>`
    CategoryPage { page: usize, category: String },
    /// `ADD:<product>`
    AddToCart(ProductId),
    /// `BUY:<product>`
    BuyNow(ProductId),
    /// `VAR:<variant>:<buy now 0|1>`
    PickVariant { variant: VariantId, buy_now: bool },
    /// `QTY:<variant>:<qty>:<buy now 0|1>`
    PickQty {
        variant: VariantId,
        qty: i64,
        buy_now: bool,
    },
    /// `CART`, also `MENU_CART`.
    Cart,
    /// `EDIT:<variant>`: change a cart line's quantity.
    EditLine(VariantId),
    /// `SETQTY:<variant>:<qty>`; 0 removes the line.
    SetQty { variant: VariantId, qty: i64 },
    /// `EMPTY`
    EmptyCart,
    /// `CHECKOUT`
    Checkout,
    /// `ADDR_SAVED`
    UseSavedAddress,
    /// `ADDR_NEW`
    NewAddress,
    /// `ADDR_CHANGE:<order>`: a new delivery address for an order that has
    /// not shipped.
    ChangeAddress(OrderId),
    /// `PLACE`
    PlaceOrder,
    /// `PAYMENU:<order>`
    PaymentMenu(OrderId),
    /// `PAY:<bank|qr|cod|balance>:<order>`
    Pay {
        method: PaymentMethod,
        order: OrderId,
    },
    /// `ORDERS`, also `MENU_ORDERS`.
    Orders,
    /// `ORDERS_PAGE:<n>`: older orders, counted from 0.
    OrdersPage(usize),
    /// `ORDER:<order>`
    ShowOrder(OrderId),
    /// `CANCEL:<order>`: asks for confirmation.
    Cancel(OrderId),
    /// `CANCEL_YES:<order>`
    ConfirmCancel(OrderId),
    /// `CANCEL_NO[:<order>]`; the order is not needed to keep it.
    KeepOrder(Option<OrderId>),
    /// `MORE:<order>`
    OrderMore(OrderId),
    /// `MORE_LINE:<order>:<line>`
    OrderMoreLine { order: OrderId, line: i64 },
    /// `MORE_QTY:<order>:<line>:<added qty>`
    OrderMoreQty { order: OrderId, line: i64, qty: i64 },
    /// `LINE_OK:<order>:<line>` or `LINE_NO:<order>:<line>`.
    AnswerLineChange {
        order: OrderId,
        line: i64,
        accept: bool,
    },
    /// `COMPLAIN:<order>`: report a problem (a claim); asks what went wrong.
    Complain(OrderId),
    /// `SERVICES:<order>`: the shop's extra services for an order.
    Services(OrderId),
    /// `SVC_ADD:<order>:<service id>` / `SVC_DEL:<order>:<service id>`
    ToggleService {
        order: OrderId,
        service: String,
        add: bool,
    },
    /// `CLAIM:<order>:<reason>`
    ClaimReason { order: OrderId, reason: ClaimReason },
    /// `CLAIM_DONE:<order>`: everything for the claim has been sent.
    ClaimDone(OrderId),
    /// `MENU_TALK` (persistent menu), also `TALK`.
    TalkToShop,
    /// `BALANCE`, also `MENU_BALANCE`: the shop balance and its movements.
    Balance,
    /// `LANG:<locale>`, one of [`texts::LOCALES`].
    Language(&'static str),
}

impl Tap {
    /// Reads a payload; `None` when it is not one of ours or is malformed
    /// (the engine answers those as stale buttons). Segments after the
    /// ones a tap needs are ignored, as they always were.
    pub fn parse(payload: &str) -> Option<Tap> {
        let parts: Vec<&str> = payload.split(':').collect();
        let int = |i: usize| parts.get(i)?.parse::<i64>().ok();
        let order = |i: usize| int(i).map(OrderId);
        let variant = |i: usize| int(i).map(VariantId);
        let product = |i: usize| int(i).map(ProductId);
        let page = |i: usize| usize::try_from(int(i)?).ok();
        // Everything from segment `i` on: a category name may hold a colon.
        let rest = |i: usize| {
            parts
                .get(i..)
                .filter(|r| !r.is_empty())
                .map(|r| r.join(":"))
        };
        let flag = |i: usize| int(i).map(|b| b == 1);
        let tap = match parts.first().copied().unwrap_or_default() {
            "GET_STARTED" => Tap::GetStarted,
            "MENU" => Tap::Menu,
            "MENU_PRODUCTS" | "PRODUCTS" => Tap::Products,
            "CAT" => Tap::Category(rest(1)?),
            "PAGE" => Tap::Page(page(1)?),
            "CATPAGE" => {
                let category = rest(2)?;
                Tap::CategoryPage {
                    page: page(1)?,
                    category,
                }
            }
            "ADD" => Tap::AddToCart(product(1)?),
            "BUY" => Tap::BuyNow(product(1)?),
            "VAR" => Tap::PickVariant {
                variant: variant(1)?,
                buy_now: flag(2)?,
            },
            "QTY" => Tap::PickQty {
                variant: variant(1)?,
                qty: int(2)?,
                buy_now: flag(3)?,
            },
            "MENU_CART" | "CART" => Tap::Cart,
            "EDIT" => Tap::EditLine(variant(1)?),
            "SETQTY" => Tap::SetQty {
                variant: variant(1)?,
                qty: int(2)?,
            },
            "EMPTY" => Tap::EmptyCart,
            "CHECKOUT" => Tap::Checkout,
            "ADDR_SAVED" => Tap::UseSavedAddress,
            "ADDR_NEW" => Tap::NewAddress,
            "ADDR_CHANGE" => Tap::ChangeAddress(order(1)?),
            "PLACE" => Tap::PlaceOrder,
            "PAYMENU" => Tap::PaymentMenu(order(1)?),
            "PAY" => Tap::Pay {
                method: method_of_tag(parts.get(1)?)?,
                order: order(2)?,
            },
            "MENU_ORDERS" | "ORDERS" => Tap::Orders,
            "ORDERS_PAGE" => Tap::OrdersPage(page(1)?),
            "MENU_BALANCE" | "BALANCE" => Tap::Balance,
            "ORDER" => Tap::ShowOrder(order(1)?),
            "CANCEL" => Tap::Cancel(order(1)?),
            "CANCEL_YES" => Tap::ConfirmCancel(order(1)?),
            "CANCEL_NO" => Tap::KeepOrder(order(1)),
            "MORE" => Tap::OrderMore(order(1)?),
            "MORE_LINE" => Tap::OrderMoreLine {
                order: order(1)?,
                line: int(2)?,
            },
            "MORE_QTY" => Tap::OrderMoreQty {
                order: order(1)?,
                line: int(2)?,
                qty: int(3)?,
            },
            head @ ("LINE_OK" | "LINE_NO") => Tap::AnswerLineChange {
                order: order(1)?,
                line: int(2)?,
                accept: head == "LINE_OK",
            },
            "COMPLAIN" => Tap::Complain(order(1)?),
            "CLAIM" => Tap::ClaimReason {
                order: order(1)?,
                reason: ClaimReason::parse(parts.get(2)?)?,
            },
            "CLAIM_DONE" => Tap::ClaimDone(order(1)?),
            "SERVICES" => Tap::Services(order(1)?),
            head @ ("SVC_ADD" | "SVC_DEL") => Tap::ToggleService {
                order: order(1)?,
                service: service_id(parts.get(2)?)?,
                add: head == "SVC_ADD",
            },
            "MENU_TALK" | "TALK" => Tap::TalkToShop,
            "LANG" => Tap::Language(texts::normalize_locale(parts.get(1)?)?),
            _ => return None,
        };
        Some(tap)
    }

    /// The payload a button carries to come back as this tap.
    pub fn encode(&self) -> String {
        self.to_string()
    }

    /// Whether the engine's whole path for this tap ignores the customer's
    /// orders, so the shell need not read them.
    pub fn browsing_only(&self) -> bool {
        match self {
            Tap::GetStarted
            | Tap::Menu
            | Tap::Products
            | Tap::Category(_)
            | Tap::Page(_)
            | Tap::CategoryPage { .. }
            | Tap::AddToCart(_)
            | Tap::BuyNow(_)
            | Tap::PickVariant { .. }
            | Tap::PickQty { .. }
            | Tap::Cart
            | Tap::EditLine(_)
            | Tap::SetQty { .. }
            | Tap::EmptyCart
            | Tap::Checkout
            | Tap::UseSavedAddress
            | Tap::NewAddress
            | Tap::TalkToShop => true,
            Tap::PlaceOrder
            | Tap::PaymentMenu(_)
            | Tap::Pay { .. }
            | Tap::Orders
            | Tap::OrdersPage(_)
            | Tap::Balance
            | Tap::ShowOrder(_)
            | Tap::Cancel(_)
            | Tap::ConfirmCancel(_)
            | Tap::KeepOrder(_)
            | Tap::OrderMore(_)
            | Tap::OrderMoreLine { .. }
            | Tap::OrderMoreQty { .. }
            | Tap::AnswerLineChange { .. }
            | Tap::Complain(_)
            | Tap::ClaimReason { .. }
            | Tap::ClaimDone(_)
            | Tap::ChangeAddress(_)
            | Tap::Services(_)
            | Tap::ToggleService { .. }
            | Tap::Language(_) => false,
        }
    }

    /// The order this tap is about, which the shell must load even when it
    /// is older than the recent ones it shows.
    pub fn order(&self) -> Option<OrderId> {
        match self {
            Tap::PaymentMenu(order)
            | Tap::Pay { order, .. }
            | Tap::ShowOrder(order)
            | Tap::Cancel(order)
            | Tap::ConfirmCancel(order)
            | Tap::OrderMore(order)
            | Tap::OrderMoreLine { order, .. }
            | Tap::OrderMoreQty { order, .. }
            | Tap::AnswerLineChange { order, .. }
            | Tap::Complain(order)
            | Tap::ClaimReason { order, .. }
            | Tap::ClaimDone(order)
            | Tap::Services(order)
            | Tap::ToggleService { order, .. }
            | Tap::ChangeAddress(order) => Some(*order),
            Tap::KeepOrder(order) => *order,
            _ => None,
        }
    }
}

/// A service id as the shop's settings allow it; anything else is forged.
fn service_id(raw: &str) -> Option<String> {
    crate::domain::order::ServiceOffer::valid_id(raw).then(|| raw.to_string())
}

fn method_of_tag(tag: &str) -> Option<PaymentMethod> {
    match tag {
        "bank" => Some(PaymentMethod::BankTransfer),
        "qr" => Some(PaymentMethod::QrTransfer),
        "cod" => Some(PaymentMethod::Cod),
        "balance" => Some(PaymentMethod::Balance),
        _ => None,
    }
}

fn tag_of_method(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::BankTransfer => "bank",
        PaymentMethod::QrTransfer => "qr",
        PaymentMethod::Cod => "cod",
        PaymentMethod::Balance => "balance",
    }
}

impl fmt::Display for Tap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = |b: bool| u8::from(b);
        match self {
            Tap::GetStarted => f.write_str("GET_STARTED"),
            Tap::Menu => f.write_str("MENU"),
            Tap::Products => f.write_str("MENU_PRODUCTS"),
            Tap::Category(c) => write!(f, "CAT:{c}"),
            Tap::Page(p) => write!(f, "PAGE:{p}"),
            Tap::CategoryPage { page, category } => write!(f, "CATPAGE:{page}:{category}"),
            Tap::AddToCart(p) => write!(f, "ADD:{p}"),
            Tap::BuyNow(p) => write!(f, "BUY:{p}"),
            Tap::PickVariant { variant, buy_now } => {
                write!(f, "VAR:{variant}:{}", flag(*buy_now))
            }
            Tap::PickQty {
                variant,
                qty,
                buy_now,
            } => write!(f, "QTY:{variant}:{qty}:{}", flag(*buy_now)),
            Tap::Cart => f.write_str("CART"),
            Tap::EditLine(v) => write!(f, "EDIT:{v}"),
            Tap::SetQty { variant, qty } => write!(f, "SETQTY:{variant}:{qty}"),
            Tap::EmptyCart => f.write_str("EMPTY"),
            Tap::Checkout => f.write_str("CHECKOUT"),
            Tap::UseSavedAddress => f.write_str("ADDR_SAVED"),
            Tap::NewAddress => f.write_str("ADDR_NEW"),
            Tap::ChangeAddress(o) => write!(f, "ADDR_CHANGE:{o}"),
            Tap::PlaceOrder => f.write_str("PLACE"),
            Tap::PaymentMenu(o) => write!(f, "PAYMENU:{o}"),
            Tap::Pay { method, order } => write!(f, "PAY:{}:{order}", tag_of_method(*method)),
            Tap::Orders => f.write_str("ORDERS"),
            Tap::OrdersPage(p) => write!(f, "ORDERS_PAGE:{p}"),
            Tap::Balance => f.write_str("BALANCE"),
            Tap::ShowOrder(o) => write!(f, "ORDER:{o}"),
            Tap::Cancel(o) => write!(f, "CANCEL:{o}"),
            Tap::ConfirmCancel(o) => write!(f, "CANCEL_YES:{o}"),
            Tap::KeepOrder(Some(o)) => write!(f, "CANCEL_NO:{o}"),
            Tap::KeepOrder(None) => f.write_str("CANCEL_NO"),
            Tap::OrderMore(o) => write!(f, "MORE:{o}"),
            Tap::OrderMoreLine { order, line } => write!(f, "MORE_LINE:{order}:{line}"),
            Tap::OrderMoreQty { order, line, qty } => {
                write!(f, "MORE_QTY:{order}:{line}:{qty}")
            }
            Tap::AnswerLineChange {
                order,
                line,
                accept,
            } => {
                let head = if *accept { "LINE_OK" } else { "LINE_NO" };
                write!(f, "{head}:{order}:{line}")
            }
            Tap::Complain(o) => write!(f, "COMPLAIN:{o}"),
            Tap::ClaimReason { order, reason } => write!(f, "CLAIM:{order}:{reason}"),
            Tap::ClaimDone(o) => write!(f, "CLAIM_DONE:{o}"),
            Tap::Services(o) => write!(f, "SERVICES:{o}"),
            Tap::ToggleService {
                order,
                service,
                add,
            } => {
                let head = if *add { "SVC_ADD" } else { "SVC_DEL" };
                write!(f, "{head}:{order}:{service}")
            }
            Tap::TalkToShop => f.write_str("MENU_TALK"),
            Tap::Language(l) => write!(f, "LANG:{l}"),
        }
    }
}

// Stored and logged as the wire string, so JSON holding a tap reads like
// the payload the chat app sent.
impl serde::Serialize for Tap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Tap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Tap, D::Error> {
        let payload = String::deserialize(deserializer)?;
        Tap::parse(&payload).ok_or_else(|| {
            serde::de::Error::custom(format_args!("unknown button payload {payload:?}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_tap() -> impl Strategy<Value = Tap> {
        let id = any::<i64>;
        let page = || (0..=i64::MAX as u64).prop_map(|p| p as usize);
        let method = prop::sample::select(PaymentMethod::ALL.to_vec());
        prop_oneof![
            Just(Tap::GetStarted),
            Just(Tap::Menu),
            Just(Tap::Products),
            any::<String>().prop_map(Tap::Category),
            page().prop_map(Tap::Page),
            (page(), any::<String>())
                .prop_map(|(page, category)| Tap::CategoryPage { page, category }),
            id().prop_map(|p| Tap::AddToCart(ProductId(p))),
            id().prop_map(|p| Tap::BuyNow(ProductId(p))),
            (id(), any::<bool>()).prop_map(|(v, buy_now)| Tap::PickVariant {
                variant: VariantId(v),
                buy_now
            }),
            (id(), id(), any::<bool>()).prop_map(|(v, qty, buy_now)| Tap::PickQty {
                variant: VariantId(v),
                qty,
                buy_now
            }),
            Just(Tap::Cart),
            id().prop_map(|v| Tap::EditLine(VariantId(v))),
            (id(), id()).prop_map(|(v, qty)| Tap::SetQty {
                variant: VariantId(v),
                qty
            }),
            Just(Tap::EmptyCart),
            Just(Tap::Checkout),
            Just(Tap::UseSavedAddress),
            Just(Tap::NewAddress),
            id().prop_map(|o| Tap::ChangeAddress(OrderId(o))),
            Just(Tap::PlaceOrder),
            id().prop_map(|o| Tap::PaymentMenu(OrderId(o))),
            (method, id()).prop_map(|(method, o)| Tap::Pay {
                method,
                order: OrderId(o)
            }),
            Just(Tap::Orders),
            page().prop_map(Tap::OrdersPage),
            Just(Tap::Balance),
            id().prop_map(|o| Tap::ShowOrder(OrderId(o))),
            id().prop_map(|o| Tap::Cancel(OrderId(o))),
            id().prop_map(|o| Tap::ConfirmCancel(OrderId(o))),
            proptest::option::of(id()).prop_map(|o| Tap::KeepOrder(o.map(OrderId))),
            id().prop_map(|o| Tap::OrderMore(OrderId(o))),
            (id(), id()).prop_map(|(o, line)| Tap::OrderMoreLine {
                order: OrderId(o),
                line
            }),
            (id(), id(), id()).prop_map(|(o, line, qty)| Tap::OrderMoreQty {
                order: OrderId(o),
                line,
                qty
            }),
            (id(), id(), any::<bool>()).prop_map(|(o, line, accept)| Tap::AnswerLineChange {
                order: OrderId(o),
                line,
                accept
            }),
            id().prop_map(|o| Tap::Complain(OrderId(o))),
            (id(), prop::sample::select(ClaimReason::ALL.to_vec())).prop_map(|(o, reason)| {
                Tap::ClaimReason {
                    order: OrderId(o),
                    reason,
                }
            }),
            id().prop_map(|o| Tap::ClaimDone(OrderId(o))),
            id().prop_map(|o| Tap::Services(OrderId(o))),
            (id(), "[a-z0-9_-]{1,32}", any::<bool>()).prop_map(|(o, service, add)| {
                Tap::ToggleService {
                    order: OrderId(o),
                    service,
                    add,
                }
            }),
            Just(Tap::TalkToShop),
            prop::sample::select(texts::LOCALES.to_vec()).prop_map(Tap::Language),
        ]
    }

    proptest! {
        #[test]
        fn every_tap_survives_its_own_payload(tap in any_tap()) {
            prop_assert_eq!(Tap::parse(&tap.encode()), Some(tap.clone()));
            let json = serde_json::to_string(&tap).expect("a tap serialises");
            prop_assert_eq!(json, serde_json::to_string(&tap.encode()).expect("a string serialises"));
        }

        #[test]
        fn any_string_parses_without_panicking(payload in any::<String>()) {
            let _ = Tap::parse(&payload);
        }
    }

    /// Every payload the product emits or has emitted (engine, order
    /// notices, the persistent menu, web chat, the load tool).
    #[test]
    fn wire_strings_of_today_parse_to_their_taps() {
        let o = OrderId;
        let table = [
            ("GET_STARTED", Tap::GetStarted),
            ("MENU", Tap::Menu),
            ("MENU_PRODUCTS", Tap::Products),
            ("CAT:Clothing", Tap::Category("Clothing".into())),
            ("CAT:a:b", Tap::Category("a:b".into())),
            ("PAGE:0", Tap::Page(0)),
            (
                "CATPAGE:1:Home",
                Tap::CategoryPage {
                    page: 1,
                    category: "Home".into(),
                },
            ),
            ("ADD:2", Tap::AddToCart(ProductId(2))),
            ("BUY:12", Tap::BuyNow(ProductId(12))),
            (
                "VAR:11:0",
                Tap::PickVariant {
                    variant: VariantId(11),
                    buy_now: false,
                },
            ),
            (
                "VAR:11:1",
                Tap::PickVariant {
                    variant: VariantId(11),
                    buy_now: true,
                },
            ),
            (
                "QTY:21:2:1",
                Tap::PickQty {
                    variant: VariantId(21),
                    qty: 2,
                    buy_now: true,
                },
            ),
            ("CART", Tap::Cart),
            ("EDIT:11", Tap::EditLine(VariantId(11))),
            (
                "SETQTY:11:0",
                Tap::SetQty {
                    variant: VariantId(11),
                    qty: 0,
                },
            ),
            ("EMPTY", Tap::EmptyCart),
            ("CHECKOUT", Tap::Checkout),
            ("ADDR_SAVED", Tap::UseSavedAddress),
            ("ADDR_NEW", Tap::NewAddress),
            ("ADDR_CHANGE:7", Tap::ChangeAddress(o(7))),
            ("PLACE", Tap::PlaceOrder),
            ("PAYMENU:7", Tap::PaymentMenu(o(7))),
            (
                "PAY:bank:7",
                Tap::Pay {
                    method: PaymentMethod::BankTransfer,
                    order: o(7),
                },
            ),
            (
                "PAY:qr:7",
                Tap::Pay {
                    method: PaymentMethod::QrTransfer,
                    order: o(7),
                },
            ),
            (
                "PAY:cod:7",
                Tap::Pay {
                    method: PaymentMethod::Cod,
                    order: o(7),
                },
            ),
            (
                "PAY:balance:7",
                Tap::Pay {
                    method: PaymentMethod::Balance,
                    order: o(7),
                },
            ),
            ("ORDERS", Tap::Orders),
            ("ORDERS_PAGE:2", Tap::OrdersPage(2)),
            ("BALANCE", Tap::Balance),
            ("ORDER:7", Tap::ShowOrder(o(7))),
            ("CANCEL:7", Tap::Cancel(o(7))),
            ("CANCEL_YES:7", Tap::ConfirmCancel(o(7))),
            ("CANCEL_NO:7", Tap::KeepOrder(Some(o(7)))),
            ("MORE:7", Tap::OrderMore(o(7))),
            (
                "MORE_LINE:7:3",
                Tap::OrderMoreLine {
                    order: o(7),
                    line: 3,
                },
            ),
            (
                "MORE_QTY:7:3:2",
                Tap::OrderMoreQty {
                    order: o(7),
                    line: 3,
                    qty: 2,
                },
            ),
            (
                "LINE_OK:7:3",
                Tap::AnswerLineChange {
                    order: o(7),
                    line: 3,
                    accept: true,
                },
            ),
            (
                "LINE_NO:7:3",
                Tap::AnswerLineChange {
                    order: o(7),
                    line: 3,
                    accept: false,
                },
            ),
            ("COMPLAIN:7", Tap::Complain(o(7))),
            (
                "CLAIM:7:damaged",
                Tap::ClaimReason {
                    order: o(7),
                    reason: ClaimReason::Damaged,
                },
            ),
            ("CLAIM_DONE:7", Tap::ClaimDone(o(7))),
            ("SERVICES:7", Tap::Services(o(7))),
            (
                "SVC_ADD:7:gift_wrap",
                Tap::ToggleService {
                    order: o(7),
                    service: "gift_wrap".into(),
                    add: true,
                },
            ),
            (
                "SVC_DEL:7:gift_wrap",
                Tap::ToggleService {
                    order: o(7),
                    service: "gift_wrap".into(),
                    add: false,
                },
            ),
            ("MENU_TALK", Tap::TalkToShop),
            ("LANG:vi", Tap::Language("vi")),
        ];
        for (wire, tap) in table {
            assert_eq!(Tap::parse(wire), Some(tap.clone()), "{wire}");
            assert_eq!(tap.encode(), wire, "{tap:?} must keep its payload");
        }
    }

    /// Older spellings and sloppy payloads that still mean a tap.
    #[test]
    fn aliases_and_extra_segments_still_parse() {
        let table = [
            ("PRODUCTS", Tap::Products),
            ("MENU_CART", Tap::Cart),
            ("MENU_ORDERS", Tap::Orders),
            ("MENU_BALANCE", Tap::Balance),
            ("TALK", Tap::TalkToShop),
            ("CANCEL_NO", Tap::KeepOrder(None)),
            ("CANCEL_NO:x", Tap::KeepOrder(None)),
            ("LANG:th_TH", Tap::Language("th")),
            ("ADD:3:2", Tap::AddToCart(ProductId(3))),
            ("GET_STARTED:promo", Tap::GetStarted),
            ("CAT:", Tap::Category(String::new())),
            (
                "VAR:11:2",
                Tap::PickVariant {
                    variant: VariantId(11),
                    buy_now: false,
                },
            ),
        ];
        for (wire, tap) in table {
            assert_eq!(Tap::parse(wire), Some(tap), "{wire}");
        }
    }

    #[test]
    fn malformed_and_foreign_payloads_are_not_taps() {
        for wire in [
            "",
            "BOGUS",
            "get_started",
            "CAT",
            "PAGE",
            "PAGE:x",
            "PAGE:-1",
            "CATPAGE:1",
            "CATPAGE:x:Home",
            "ADD",
            "ADD:x",
            "VAR:11",
            "QTY:11:1",
            "PAY:card:7",
            "PAY:bank",
            "ORDER:",
            "ORDERS_PAGE:x",
            "MORE_LINE:7",
            "LANG",
            "LANG:xx",
            "CLAIM:7",
            "CLAIM:7:broken",
            "SVC_ADD:7:Gift Wrap",
            "SVC_ADD:7",
        ] {
            assert_eq!(Tap::parse(wire), None, "{wire:?}");
        }
        let err = serde_json::from_str::<Tap>(r#""BOGUS""#).expect_err("not a tap");
        assert!(err.to_string().contains("BOGUS"));
    }

    #[test]
    fn only_taps_about_orders_name_one() {
        assert_eq!(
            Tap::parse("PAY:bank:9").and_then(|t| t.order()),
            Some(OrderId(9))
        );
        assert_eq!(Tap::parse("CANCEL_NO").and_then(|t| t.order()), None);
        assert_eq!(Tap::parse("QTY:9:1:0").and_then(|t| t.order()), None);
        assert!(Tap::parse("QTY:9:1:0").is_some_and(|t| t.browsing_only()));
        assert!(!Tap::parse("ORDERS").is_some_and(|t| t.browsing_only()));
    }
}
