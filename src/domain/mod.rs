//! The pure heart of chatbill: typed values, money, the two order state
//! machines and the balance ledger. Nothing here knows about HTTP, SQL or
//! the clock; callers pass `now` in.

pub mod access;
pub mod address;
pub mod books;
pub mod calendar;
pub mod catalog;
pub mod claim;
pub mod customer_name;
pub mod ids;
pub mod ledger;
pub mod lifecycle;
pub mod money;
pub mod order;
pub mod phone;
pub mod send_budget;
pub mod settings;
pub mod shop;

pub use address::Address;
pub use customer_name::{CustomerName, NameSource};
pub use ids::{CustomerId, OrderCode, OrderId, ProductId, ShopId, Timestamp, VariantId};
pub use lifecycle::{Actor, Fulfilment, FulfilmentEvent, PaymentEvent, PaymentStatus, Transition};
pub use money::{AmountStyle, Currency, Money, MoneyError};
pub use order::{Order, OrderLine, Totals};
pub use phone::PhoneNumber;
