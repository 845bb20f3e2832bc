//! Whole conversations, each a table of inputs and what the customer must
//! see. A small in-memory shell carries out the actions the way the inbox
//! worker does (cart, orders through the domain, outcomes fed back), so
//! these run without a database or a network.

use super::*;
use crate::domain::catalog::{Product, Variant};
use crate::domain::lifecycle::{Actor, Fulfilment, PaymentStatus};
use crate::domain::order::{self, LineStatus, OrderLine, PaymentMethod};
use crate::domain::shop::{BankAccount, PaymentQr};
use crate::domain::{CustomerId, OrderCode, ProductId, ShopId};

fn catalog() -> Vec<Product> {
    let p =
        |id: i64, name: &str, cat: &str, price: i64, vars: &[(i64, &str, Option<i64>)]| Product {
            id: ProductId(id),
            shop_id: ShopId(1),
            name: name.into(),
            description: format!("{name} description"),
            category: cat.into(),
            image_url: Some(format!("/static/demo/{id}.png")),
            price,
            active: true,
            variants: vars
                .iter()
                .map(|(vid, n, s)| Variant {
                    id: VariantId(*vid),
                    name: n.to_string(),
                    price: None,
                    stock: *s,
                })
                .collect(),
        };
    let mut c = vec![
        p(
            1,
            "Classic tee",
            "Clothing",
            29_900,
            &[(11, "S", Some(5)), (12, "M", Some(1)), (13, "L", Some(0))],
        ),
        p(2, "Tote bag", "Bags", 25_000, &[(21, "", None)]),
        p(3, "Earbuds", "Gadgets", 159_000, &[(31, "", Some(0))]),
    ];
    // Enough mugs to need a second carousel page.
    for i in 0..12 {
        c.push(p(
            100 + i,
            &format!("Mug {i}"),
            "Home",
            19_000,
            &[(1000 + i, "", None)],
        ));
    }
    c
}

fn settings() -> ShopSettings {
    ShopSettings {
        bank_accounts: vec![BankAccount {
            bank: "KBank".into(),
            account_name: "Demo Co".into(),
            account_number: "123-4".into(),
            default: true,
        }],
        payment_qr: Some(PaymentQr::Promptpay {
            id: "0812345678".into(),
        }),
        payment_methods: vec![
            PaymentMethod::BankTransfer,
            PaymentMethod::QrTransfer,
            PaymentMethod::Cod,
            PaymentMethod::Balance,
        ],
        shipping_flat_fee: 5_000,
        free_shipping_over: Some(100_000),
        ..ShopSettings::default()
    }
}

/// The shell, in memory.
struct Sim {
    state: State,
    catalog: Vec<Product>,
    settings: ShopSettings,
    cart: Vec<CartLine>,
    orders: Vec<OrderSummary>,
    saved: Option<Address>,
    balance: i64,
    movements: Vec<BalanceMove>,
    detail: Option<OrderDetail>,
    texts: Texts,
    effects: Vec<Action>,
    forwarded: Vec<String>,
}

impl Sim {
    fn new() -> Sim {
        Sim {
            state: State::default(),
            catalog: catalog(),
            settings: settings(),
            cart: vec![],
            orders: vec![],
            saved: None,
            balance: 0,
            movements: vec![],
            detail: None,
            texts: Texts::embedded(),
            effects: vec![],
            forwarded: vec![],
        }
    }

    fn send(&mut self, input: Input) -> Vec<Message> {
        let mut said = Vec::new();
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            let ctx = Context {
                shop_name: "Demo",
                currency: Currency::THB,
                default_locale: "en",
                settings: &self.settings,
                catalog: &self.catalog,
                cart: &self.cart,
                orders: &self.orders,
                customer_name: "Somchai Jaidee",
                saved_address: self.saved.as_ref(),
                balance: self.balance,
                movements: Some(&self.movements),
                detail: self.detail.as_ref(),
                texts: &self.texts,
                public_url: "https://shop.test",
                now: Timestamp(1_800_000_000_000),
            };
            let (next, actions) = step(&self.state, &input, &ctx);
            self.state = next;
            for a in actions {
                self.effects.push(a.clone());
                match a {
                    Action::Say(m) => said.push(m),
                    Action::Cart(CartOp::Add { variant, qty }) => {
                        match self.cart.iter_mut().find(|l| l.variant == variant) {
                            Some(l) => l.qty += qty,
                            None => self.cart.push(CartLine { variant, qty }),
                        }
                    }
                    Action::Cart(CartOp::Set { variant, qty }) => {
                        self.cart.retain(|l| l.variant != variant);
                        if qty > 0 {
                            self.cart.push(CartLine { variant, qty });
                        }
                    }
                    Action::Cart(CartOp::Clear) => self.cart.clear(),
                    Action::SaveAddress(a) => self.saved = Some(a),
                    Action::PlaceOrder {
                        address,
                        shipping_fee,
                    } => queue.push(self.place(address, shipping_fee)),
                    Action::Order { order, command } => {
                        let idx = self
                            .orders
                            .iter()
                            .position(|o| o.order.id == order)
                            .expect("engine only names own orders");
                        let asked = command.clone();
                        match order::decide_with(
                            &self.orders[idx].order,
                            command,
                            &Actor::Customer,
                            self.settings.money_rules(),
                        ) {
                            Ok(plan) => {
                                for l in &plan.ledger {
                                    self.balance += if l.kind.is_credit() {
                                        l.amount
                                    } else {
                                        -l.amount
                                    };
                                }
                                self.orders[idx].order = plan.order;
                                queue.push(Input::CommandDone {
                                    order,
                                    command: asked,
                                });
                            }
                            Err(e) => queue.push(Input::CommandRefused {
                                order,
                                reason: e.to_string(),
                            }),
                        }
                    }
                    Action::ForwardToShop { text } => self.forwarded.push(text),
                    _ => {}
                }
            }
        }
        said
    }

    fn place(&mut self, address: Address, shipping_fee: i64) -> Input {
        let mut lines = Vec::new();
        for (i, l) in self.cart.iter().enumerate() {
            let (p, v) = self
                .catalog
                .iter()
                .find_map(|p| {
                    p.variants
                        .iter()
                        .find(|v| v.id == l.variant)
                        .map(|v| (p.clone(), v.clone()))
                })
                .expect("cart holds real variants");
            if v.stock.is_some_and(|s| s < l.qty) {
                return Input::OrderNotPlaced {
                    reason: PlaceProblem::OutOfStock { name: p.name },
                };
            }
            lines.push(OrderLine {
                id: i as i64 + 1,
                product_id: p.id,
                variant_id: v.id,
                name: p.name.clone(),
                variant_name: v.name.clone(),
                unit_price: p.price_of(&v),
                qty: l.qty,
                status: LineStatus::Active,
                proposed_unit_price: None,
                proposed_qty: None,
            });
        }
        let id = OrderId(self.orders.len() as i64 + 1);
        let order = Order {
            id,
            shop_id: ShopId(1),
            customer_id: CustomerId(1),
            code: OrderCode::from_random([id.get() as u8; 8]),
            currency: Currency::THB,
            fulfilment: Fulfilment::Placed,
            payment: PaymentStatus::Unpaid,
            method: None,
            lines,
            fees: vec![],
            services: vec![],
            shipping_fee,
            discount: 0,
            paid: 0,
            address: Some(address),
            carrier: None,
            tracking: None,
            tracking_status: None,
            version: 1,
        };
        self.cart.clear();
        self.orders.insert(
            0,
            OrderSummary {
                order,
                created_at: Timestamp(1_800_000_000_000),
            },
        );
        Input::OrderPlaced { order: id }
    }

    /// The seller confirms the payment in full and ships with Kerry.
    fn pay_and_ship(&mut self, order: i64, tracking: Option<&str>) {
        self.seller(
            order,
            Command::ConfirmPayment {
                amount: None,
                credit_excess: false,
                slip: false,
            },
        );
        self.seller(
            order,
            Command::Ship {
                carrier: "Kerry".into(),
                tracking: tracking.map(str::to_string),
            },
        );
    }

    fn seller(&mut self, order: i64, command: Command) {
        let o = self
            .orders
            .iter_mut()
            .find(|o| o.order.id == OrderId(order))
            .unwrap();
        o.order = order::decide(&o.order, command, &Actor::Seller("owner".into()))
            .unwrap()
            .order;
    }
}

fn tap(t: Tap) -> Input {
    Input::Tap(t)
}
/// A payload as the chat app delivers it, parsed the way the shell does.
fn payload(p: &str) -> Input {
    Input::from_payload(p)
}
fn text(t: &str) -> Input {
    Input::Text(t.into())
}

/// What a turn must show.
enum Expect {
    /// Some message's plain text contains this.
    Says(&'static str),
    /// Some quick reply or button carries this payload.
    Offers(&'static str),
    /// No quick reply or button carries this payload.
    NotOffers(&'static str),
    Carousel(usize),
    Receipt,
    Silent,
}
use Expect::*;

fn payloads(m: &Message) -> Vec<String> {
    match m {
        Message::Text { quick_replies, .. } => {
            quick_replies.iter().map(|c| c.payload.clone()).collect()
        }
        Message::Buttons { buttons, .. } => buttons
            .iter()
            .filter_map(|b| match b {
                Button::Postback { payload, .. } => Some(payload.clone()),
                _ => None,
            })
            .collect(),
        Message::Carousel { cards } => cards
            .iter()
            .flat_map(|c| c.buttons.iter())
            .filter_map(|b| match b {
                Button::Postback { payload, .. } => Some(payload.clone()),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

fn check(turn: usize, input: &Input, said: &[Message], expects: &[Expect]) {
    let texts: Vec<String> = said.iter().map(Message::plain).collect();
    let offered: Vec<String> = said.iter().flat_map(payloads).collect();
    for e in expects {
        match e {
            Says(t) => assert!(
                texts.iter().any(|x| x.contains(t)),
                "turn {turn} {input:?}: expected {t:?} in {texts:#?}"
            ),
            Offers(p) => assert!(
                offered.iter().any(|x| x == p),
                "turn {turn} {input:?}: expected offer {p:?} in {offered:?}"
            ),
            NotOffers(p) => assert!(
                !offered.iter().any(|x| x == p),
                "turn {turn} {input:?}: must not offer {p:?}"
            ),
            Carousel(n) => assert!(
                said.iter()
                    .any(|m| matches!(m, Message::Carousel { cards } if cards.len() == *n)),
                "turn {turn} {input:?}: expected a carousel of {n} in {said:#?}"
            ),
            Receipt => assert!(
                said.iter().any(|m| matches!(m, Message::Receipt { .. })),
                "turn {turn}: expected a receipt"
            ),
            Silent => assert!(
                said.is_empty(),
                "turn {turn} {input:?}: expected silence, got {texts:?}"
            ),
        }
    }
}

fn run(sim: &mut Sim, table: Vec<(Input, Vec<Expect>)>) {
    for (i, (input, expects)) in table.into_iter().enumerate() {
        let said = sim.send(input.clone());
        check(i, &input, &said, &expects);
    }
}

fn address_steps() -> Vec<(Input, Vec<Expect>)> {
    vec![
        (text("Somchai Jaidee"), vec![Says("phone number")]),
        (
            text("not a phone"),
            vec![Says("doesn't look like a phone number")],
        ),
        (text("081-234-5678"), vec![Says("house number")]),
        (text("99/1 Sukhumvit 11"), vec![Says("province")]),
        (text("Bangkok"), vec![Says("district")]),
        (
            text("Watthana"),
            vec![
                Says("Please check your order"),
                Says("+66812345678"),
                Offers("PLACE"),
            ],
        ),
    ]
}

#[test]
fn greeting_menu_and_menu_words_in_every_language() {
    let mut sim = Sim::new();
    run(
        &mut sim,
        vec![
            (
                tap(Tap::GetStarted),
                vec![
                    Says("Welcome to Demo"),
                    Offers("MENU_PRODUCTS"),
                    Offers("CART"),
                    Offers("ORDERS"),
                    Offers("MENU_TALK"),
                ],
            ),
            (text("menu"), vec![Says("What would you like to do?")]),
            (text("เมนู"), vec![Says("ต้องการ"), Offers("MENU_PRODUCTS")]),
            (
                text("trợ giúp"),
                vec![Says("bạn cần shop hỗ trợ gì"), Offers("MENU_PRODUCTS")],
            ),
        ],
    );
    assert_eq!(
        sim.state.locale.as_deref(),
        Some("vi"),
        "a menu word in Thai, then in Vietnamese, switches the language each time"
    );
}

#[test]
fn browse_categories_pages_variants_stock_and_search() {
    let mut sim = Sim::new();
    run(
        &mut sim,
        vec![
            (
                tap(Tap::Products),
                vec![Offers("CAT:Clothing"), Offers("PAGE:0")],
            ),
            (
                tap(Tap::Category("Home".into())),
                vec![Carousel(10), Offers("CATPAGE:1:Home")],
            ),
            (
                tap(Tap::CategoryPage {
                    page: 1,
                    category: "Home".into(),
                }),
                vec![Carousel(3)],
            ),
            (tap(Tap::Page(0)), vec![Carousel(10)]),
            (
                tap(Tap::Category("Gadgets".into())),
                vec![Says("out of stock"), NotOffers("BUY:3")],
            ),
            (
                tap(Tap::AddToCart(ProductId(3))),
                vec![Says("Earbuds is out of stock")],
            ),
            (
                tap(Tap::AddToCart(ProductId(1))),
                vec![
                    Says("Which option of Classic tee"),
                    Offers("VAR:11:0"),
                    Offers("VAR:12:0"),
                    NotOffers("VAR:13:0"),
                    Says("Sold out: L"),
                ],
            ),
            (
                tap(Tap::PickVariant {
                    variant: VariantId(12),
                    buy_now: false,
                }),
                vec![
                    Says("How many Classic tee (M)"),
                    Offers("QTY:12:1:0"),
                    NotOffers("QTY:12:2:0"),
                ],
            ),
            (text("2"), vec![Says("only 1 more")]),
            (
                text("1"),
                vec![Says("Added 1 × Classic tee (M)"), Offers("CHECKOUT")],
            ),
            // The last M is in the cart: nothing more to offer.
            (
                tap(Tap::PickVariant {
                    variant: VariantId(12),
                    buy_now: false,
                }),
                vec![Says("out of stock")],
            ),
            (
                text("tote"),
                vec![Says("found for \"tote\""), Offers("BUY:2")],
            ),
        ],
    );
}

#[test]
fn cart_change_remove_empty_and_checkout_of_empty_cart() {
    let mut sim = Sim::new();
    run(
        &mut sim,
        vec![
            (tap(Tap::Cart), vec![Says("Your cart is empty")]),
            (
                tap(Tap::PickQty {
                    variant: VariantId(11),
                    qty: 2,
                    buy_now: false,
                }),
                vec![Says("Added 2 × Classic tee (S)")],
            ),
            (
                tap(Tap::PickQty {
                    variant: VariantId(21),
                    qty: 1,
                    buy_now: false,
                }),
                vec![Says("Added 1 × Tote bag")],
            ),
            (
                tap(Tap::Cart),
                vec![
                    Says("2 × Classic tee (S) — ฿598.00"),
                    Says("Subtotal: ฿848.00"),
                    Offers("EDIT:11"),
                    Offers("EMPTY"),
                ],
            ),
            (
                tap(Tap::EditLine(VariantId(11))),
                vec![Says("How many Classic tee (S)"), Offers("SETQTY:11:0")],
            ),
            (text("3"), vec![Says("3 × Classic tee (S) — ฿897.00")]),
            (
                tap(Tap::SetQty {
                    variant: VariantId(11),
                    qty: 9,
                }),
                vec![Says("only 5")],
            ),
            (
                tap(Tap::SetQty {
                    variant: VariantId(11),
                    qty: 0,
                }),
                vec![Says("1 × Tote bag"), NotOffers("EDIT:11")],
            ),
            (tap(Tap::EmptyCart), vec![Says("Your cart is now empty")]),
            (tap(Tap::Checkout), vec![Says("Your cart is empty")]),
            (
                tap(Tap::SetQty {
                    variant: VariantId(21),
                    qty: 4,
                }),
                vec![Says("out of date")],
            ),
        ],
    );
    assert!(sim.cart.is_empty());
}

#[test]
fn checkout_with_address_bill_payment_and_slip() {
    let mut sim = Sim::new();
    let mut table = vec![
        (
            tap(Tap::BuyNow(ProductId(2))),
            vec![Says("How many Tote bag")],
        ),
        (
            tap(Tap::PickQty {
                variant: VariantId(21),
                qty: 2,
                buy_now: true,
            }),
            vec![Says("step 1 of 5")],
        ),
    ];
    table.extend(address_steps());
    table.extend(vec![
        (
            text("yes"),
            vec![
                Receipt,
                Says("Amount to pay: ฿550.00"),
                Offers("PAY:bank:1"),
                Offers("PAY:qr:1"),
                Offers("PAY:cod:1"),
                NotOffers("PAY:balance:1"),
            ],
        ),
        (
            tap(Tap::Pay {
                method: PaymentMethod::BankTransfer,
                order: OrderId(1),
            }),
            vec![Says("KBank 123-4"), Says("Please transfer ฿550.00")],
        ),
        (
            text("when will it arrive?"),
            vec![Says("waiting for a photo of your transfer slip")],
        ),
        (Input::Sticker, vec![Says("photo of the transfer slip")]),
        (
            Input::Image {
                url: "https://scontent.xx.fbcdn.net/slip.jpg".into(),
            },
            vec![Says("checking the slip for order")],
        ),
    ]);
    run(&mut sim, table);
    assert!(
        sim.effects
            .iter()
            .any(|a| matches!(a, Action::AcceptSlip { order, .. } if *order == OrderId(1)))
    );
    assert!(sim.saved.is_some(), "the address is saved for next time");
    let o = &sim.orders[0].order;
    assert_eq!(o.totals().total.minor, 55_000);
    assert_eq!(o.shipping_fee, 5_000);
    // A second slip for the same order is accepted too.
    let second = Input::Image {
        url: "https://scontent.xx.fbcdn.net/slip2.jpg".into(),
    };
    let said = sim.send(second.clone());
    check(99, &second, &said, &[Says("checking the slip")]);
    assert_eq!(
        sim.effects
            .iter()
            .filter(|a| matches!(a, Action::AcceptSlip { .. }))
            .count(),
        2
    );
}

#[test]
fn saved_address_is_offered_and_qr_and_cod_and_balance_pay() {
    let mut sim = Sim::new();
    sim.saved = Some(Address {
        full_name: "Somchai".into(),
        phone: crate::domain::PhoneNumber::parse("0812345678", Some(66)).unwrap(),
        line: "1 Road".into(),
        province: "Bangkok".into(),
        district: "Bang Rak".into(),
        postcode: None,
    });
    sim.balance = 200_000;
    run(
        &mut sim,
        vec![
            (
                tap(Tap::PickQty {
                    variant: VariantId(21),
                    qty: 1,
                    buy_now: true,
                }),
                vec![
                    Says("saved address"),
                    Offers("ADDR_SAVED"),
                    Offers("ADDR_NEW"),
                ],
            ),
            (
                tap(Tap::UseSavedAddress),
                vec![Says("Bang Rak"), Offers("PLACE")],
            ),
            (
                tap(Tap::PlaceOrder),
                vec![Receipt, Offers("PAY:balance:1"), Offers("PAY:qr:1")],
            ),
            (
                tap(Tap::Pay {
                    method: PaymentMethod::QrTransfer,
                    order: OrderId(1),
                }),
                vec![Says("Scan this QR code to pay exactly ฿300.00")],
            ),
        ],
    );
    assert!(
        sim.effects
            .iter()
            .any(|a| matches!(a, Action::SendPaymentQr { order } if *order == OrderId(1)))
    );
    // Paying the same order from the balance.
    run(
        &mut sim,
        vec![(
            tap(Tap::Pay {
                method: PaymentMethod::Balance,
                order: OrderId(1),
            }),
            vec![],
        )],
    );
    assert_eq!(sim.orders[0].order.payment, PaymentStatus::Paid);
    assert_eq!(sim.balance, 200_000 - 30_000);
    // COD on a second order: an order that is paid cannot be paid again.
    run(
        &mut sim,
        vec![
            (
                tap(Tap::Pay {
                    method: PaymentMethod::BankTransfer,
                    order: OrderId(1),
                }),
                vec![Says("nothing left to pay")],
            ),
            (
                tap(Tap::PickQty {
                    variant: VariantId(21),
                    qty: 1,
                    buy_now: true,
                }),
                vec![Offers("ADDR_SAVED")],
            ),
            (tap(Tap::UseSavedAddress), vec![]),
            (tap(Tap::PlaceOrder), vec![Receipt]),
            (
                tap(Tap::Pay {
                    method: PaymentMethod::Cod,
                    order: OrderId(2),
                }),
                vec![Says("Cash on delivery it is")],
            ),
        ],
    );
    assert_eq!(sim.orders[0].order.payment, PaymentStatus::CodPending);
}

#[test]
fn racing_for_the_last_item_tells_the_loser_politely() {
    let mut sim = Sim::new();
    let mut table = vec![(
        tap(Tap::PickQty {
            variant: VariantId(12),
            qty: 1,
            buy_now: true,
        }),
        vec![Says("step 1 of 5")],
    )];
    table.extend(address_steps());
    run(&mut sim, table);
    // Someone else bought the last M meanwhile.
    sim.catalog[0].variants[1].stock = Some(0);
    run(
        &mut sim,
        vec![(
            tap(Tap::PlaceOrder),
            vec![Says("sold out while you were ordering"), Offers("CART")],
        )],
    );
    assert!(sim.orders.is_empty());
}

#[test]
fn view_orders_tracking_cancel_policy_and_order_more() {
    let mut sim = Sim::new();
    let mut table = vec![(
        tap(Tap::PickQty {
            variant: VariantId(11),
            qty: 1,
            buy_now: true,
        }),
        vec![],
    )];
    table.extend(address_steps());
    table.push((tap(Tap::PlaceOrder), vec![Receipt]));
    run(&mut sim, table);
    let code = sim.orders[0].order.code.to_string();
    run(
        &mut sim,
        vec![
            (
                tap(Tap::Orders),
                vec![
                    Says(Box::leak(code.clone().into_boxed_str())),
                    Offers("ORDER:1"),
                ],
            ),
            (
                tap(Tap::ShowOrder(OrderId(1))),
                vec![
                    Receipt,
                    Says("not paid"),
                    Offers("CANCEL:1"),
                    Offers("MORE:1"),
                    Offers("COMPLAIN:1"),
                ],
            ),
            (
                tap(Tap::OrderMore(OrderId(1))),
                vec![Offers("MORE_LINE:1:1")],
            ),
            (
                tap(Tap::OrderMoreLine {
                    order: OrderId(1),
                    line: 1,
                }),
                vec![Offers("MORE_QTY:1:1:2")],
            ),
            (text("-1"), vec![Says("only add")]),
            (
                tap(Tap::OrderMoreQty {
                    order: OrderId(1),
                    line: 1,
                    qty: 2,
                }),
                vec![Says("New total: ฿947.00")],
            ),
            (
                tap(Tap::Cancel(OrderId(1))),
                vec![
                    Says("Cancel order"),
                    Offers("CANCEL_YES:1"),
                    Offers("CANCEL_NO:1"),
                ],
            ),
            (text("no"), vec![Says("stays as it is")]),
        ],
    );
    assert_eq!(sim.orders[0].order.lines[0].qty, 3);
    // Once the seller confirms and ships, chat cancellation is refused with a reason.
    sim.seller(
        1,
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
    );
    sim.seller(
        1,
        Command::Ship {
            carrier: "Kerry".into(),
            tracking: Some("KEX123".into()),
        },
    );
    run(
        &mut sim,
        vec![
            (
                tap(Tap::ShowOrder(OrderId(1))),
                vec![
                    Says("Shipped with Kerry, tracking number KEX123"),
                    NotOffers("CANCEL:1"),
                    NotOffers("MORE:1"),
                ],
            ),
            (
                tap(Tap::Cancel(OrderId(1))),
                vec![
                    Says("can no longer be cancelled in chat"),
                    Offers("MENU_TALK"),
                ],
            ),
            (
                tap(Tap::ConfirmCancel(OrderId(1))),
                vec![Says("can no longer be cancelled")],
            ),
            (
                tap(Tap::OrderMoreQty {
                    order: OrderId(1),
                    line: 1,
                    qty: 1,
                }),
                vec![Says("unpaid and not yet confirmed")],
            ),
        ],
    );
    assert_eq!(sim.orders[0].order.fulfilment, Fulfilment::Shipping);
}

#[test]
fn customer_cancels_an_unpaid_order_with_confirmation() {
    let mut sim = Sim::new();
    let mut table = vec![(
        tap(Tap::PickQty {
            variant: VariantId(11),
            qty: 1,
            buy_now: true,
        }),
        vec![],
    )];
    table.extend(address_steps());
    table.push((tap(Tap::PlaceOrder), vec![Receipt]));
    table.push((tap(Tap::Cancel(OrderId(1))), vec![Offers("CANCEL_YES:1")]));
    table.push((text("yes"), vec![]));
    run(&mut sim, table);
    assert_eq!(sim.orders[0].order.fulfilment, Fulfilment::Cancelled);
}

#[test]
fn a_changed_line_is_accepted_or_refused_in_chat() {
    let mut sim = Sim::new();
    let mut table = vec![(
        tap(Tap::PickQty {
            variant: VariantId(11),
            qty: 2,
            buy_now: true,
        }),
        vec![],
    )];
    table.extend(address_steps());
    table.push((tap(Tap::PlaceOrder), vec![Receipt]));
    run(&mut sim, table);
    sim.seller(
        1,
        Command::ProposeLineChange {
            line_id: 1,
            unit_price: 31_000,
            qty: 1,
        },
    );
    run(
        &mut sim,
        vec![
            (
                tap(Tap::ShowOrder(OrderId(1))),
                vec![
                    Says("New offer: 1 × ฿310.00"),
                    Offers("LINE_OK:1:1"),
                    Offers("LINE_NO:1:1"),
                ],
            ),
            (
                tap(Tap::AnswerLineChange {
                    order: OrderId(1),
                    line: 1,
                    accept: true,
                }),
                vec![Says("New total: ฿360.00")],
            ),
            (
                tap(Tap::AnswerLineChange {
                    order: OrderId(1),
                    line: 1,
                    accept: true,
                }),
                vec![Says("out of date")],
            ),
        ],
    );
}

#[test]
fn complaints_talk_to_shop_and_unknown_text_reach_the_seller_once() {
    let mut sim = Sim::new();
    let mut table = vec![(
        tap(Tap::PickQty {
            variant: VariantId(21),
            qty: 1,
            buy_now: true,
        }),
        vec![],
    )];
    table.extend(address_steps());
    table.push((tap(Tap::PlaceOrder), vec![Receipt]));
    table.extend(vec![
        (
            tap(Tap::Complain(OrderId(1))),
            vec![Says("What went wrong"), Offers("CLAIM:1:damaged")],
        ),
        (
            payload("CLAIM:1:damaged"),
            vec![Says("send photos"), Offers("CLAIM_DONE:1")],
        ),
        (text("The bag has a hole"), vec![Says("Got it")]),
        (tap(Tap::ClaimDone(OrderId(1))), vec![Says("is filed")]),
        (tap(Tap::TalkToShop), vec![Says("Type your message")]),
        (
            text("Do you have it in red?"),
            vec![Says("The shop has your message")],
        ),
        (text("Any discount?"), vec![Silent]),
        (text("menu"), vec![Offers("MENU_PRODUCTS")]),
        (
            text("qwertyuiop zxcv"),
            vec![Says("passed your message to the shop")],
        ),
        (text("asdfgh jkl"), vec![Silent]),
    ]);
    run(&mut sim, table);
    assert!(sim.effects.iter().any(
        |a| matches!(a, Action::Claim { text: Some(text), .. } if text == "The bag has a hole")
    ));
    assert_eq!(
        sim.forwarded,
        vec![
            "Do you have it in red?",
            "Any discount?",
            "qwertyuiop zxcv",
            "asdfgh jkl"
        ]
    );
}

#[test]
fn stale_and_forged_buttons_change_nothing() {
    let mut sim = Sim::new();
    for p in [
        "ORDER:77",
        "PAY:bank:77",
        "CANCEL_YES:5",
        "ADD:999",
        "VAR:999:1",
        "QTY:999:1:0",
        "LINE_OK:1:1",
        "PAGE:99",
        "PAGE:x",
        "BOGUS",
        "",
        "CAT",
        "LANG:xx",
        "PAY:card:77",
        "MORE_QTY:1:1:1",
    ] {
        let said = sim.send(payload(p));
        check(0, &payload(p), &said, &[Says("out of date")]);
    }
    assert!(sim.cart.is_empty() && sim.orders.is_empty());
    assert!(!sim.effects.iter().any(|a| matches!(
        a,
        Action::Order { .. } | Action::Cart(_) | Action::PlaceOrder { .. }
    )));
}

#[test]
fn stickers_and_files_mid_checkout_keep_the_step() {
    let mut sim = Sim::new();
    run(
        &mut sim,
        vec![
            (
                tap(Tap::PickQty {
                    variant: VariantId(21),
                    qty: 1,
                    buy_now: true,
                }),
                vec![Says("step 1 of 5")],
            ),
            (text("Somchai"), vec![Says("phone")]),
            (Input::Sticker, vec![Says("phone")]),
            (
                Input::OtherAttachment("location".into()),
                vec![Says("type the address"), Says("phone")],
            ),
            (text("0812345678"), vec![Says("house number")]),
        ],
    );
}

#[test]
fn a_restart_mid_checkout_resumes_from_stored_state() {
    let mut sim = Sim::new();
    run(
        &mut sim,
        vec![
            (
                tap(Tap::PickQty {
                    variant: VariantId(21),
                    qty: 1,
                    buy_now: true,
                }),
                vec![],
            ),
            (text("Somchai"), vec![]),
            (text("0812345678"), vec![]),
        ],
    );
    // The state is what the worker stores as JSON; a new process reads it back.
    let json = serde_json::to_string(&sim.state).unwrap();
    let mut fresh = Sim::new();
    fresh.cart = sim.cart.clone();
    fresh.state = serde_json::from_str(&json).unwrap();
    run(
        &mut fresh,
        vec![
            (text("1 Road"), vec![Says("province")]),
            (text("Bangkok"), vec![]),
            (text("Bang Rak"), vec![Offers("PLACE")]),
            (tap(Tap::PlaceOrder), vec![Receipt]),
        ],
    );
    // Unreadable state (an old version) starts over instead of failing.
    let broken: State =
        serde_json::from_str(r#"{"stage":{"stage":"from_the_future"}}"#).unwrap_or_default();
    assert_eq!(broken.stage, Stage::Idle);
}

#[test]
fn locale_money_formats_and_language_switch() {
    let mut sim = Sim::new();
    run(
        &mut sim,
        vec![
            (tap(Tap::Language("vi")), vec![Offers("MENU_PRODUCTS")]),
            (
                tap(Tap::PickQty {
                    variant: VariantId(21),
                    qty: 1,
                    buy_now: false,
                }),
                vec![],
            ),
            (tap(Tap::Cart), vec![Says("250,00 ฿")]),
        ],
    );
    run(
        &mut sim,
        vec![
            (text("English"), vec![Says("What would you like to do?")]),
            (tap(Tap::Cart), vec![Says("฿250.00")]),
        ],
    );
}

#[test]
fn a_province_with_its_own_fee_is_charged_that_fee_and_free_shipping_still_wins() {
    let mut sim = Sim::new();
    sim.settings
        .shipping_by_province
        .insert("Chiang Mai / เชียงใหม่".into(), 9_000);
    let mut table = vec![
        (
            tap(Tap::BuyNow(ProductId(2))),
            vec![Says("How many Tote bag")],
        ),
        (
            tap(Tap::PickQty {
                variant: VariantId(21),
                qty: 2,
                buy_now: true,
            }),
            vec![Says("step 1 of 5")],
        ),
        (text("Somchai Jaidee"), vec![Says("phone number")]),
        (text("081-234-5678"), vec![Says("house number")]),
        (text("1 Nimman Rd"), vec![Says("province")]),
        (text("Chiang Mai Province"), vec![Says("district")]),
        (
            text("Mueang"),
            vec![
                Says("Please check your order"),
                Says("Shipping to Chiang Mai Province: ฿90.00"),
            ],
        ),
    ];
    table.push((text("yes"), vec![Says("Amount to pay: ฿590.00")]));
    run(&mut sim, table);
    assert_eq!(sim.orders[0].order.shipping_fee, 9_000);
}

#[test]
fn the_cancel_policy_is_said_in_the_customer_s_language_and_its_rule_decides() {
    let mut sim = Sim::new();
    sim.settings.cancel_policy = [
        (
            "en".to_string(),
            "Free cancel until we pack it.".to_string(),
        ),
        ("th".to_string(), "ยกเลิกได้ฟรีจนกว่าร้านจะแพ็กของ".to_string()),
    ]
    .into();
    let mut table = vec![(
        tap(Tap::PickQty {
            variant: VariantId(11),
            qty: 1,
            buy_now: true,
        }),
        vec![],
    )];
    table.extend(address_steps());
    table.push((tap(Tap::PlaceOrder), vec![Receipt]));
    table.push((
        tap(Tap::ShowOrder(OrderId(1))),
        vec![Says(
            "The shop's cancel policy: Free cancel until we pack it.",
        )],
    ));
    run(&mut sim, table);
    // Paid and confirmed: under the default rule only the shop may cancel.
    sim.seller(
        1,
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
    );
    run(
        &mut sim,
        vec![
            (tap(Tap::Language("th")), vec![]),
            (
                tap(Tap::Cancel(OrderId(1))),
                vec![
                    Says("ไม่สามารถยกเลิกผ่านแชทได้แล้ว"),
                    Says("นโยบายการยกเลิกของร้าน: ยกเลิกได้ฟรีจนกว่าร้านจะแพ็กของ"),
                    NotOffers("CANCEL_YES:1"),
                ],
            ),
        ],
    );
    // The shop lets customers cancel until shipping: the money goes back
    // to their balance.
    sim.settings.cancel_rule = crate::domain::lifecycle::CancelRule::UntilShipped;
    run(
        &mut sim,
        vec![
            (
                tap(Tap::Cancel(OrderId(1))),
                vec![Offers("CANCEL_YES:1"), Says("ยกเลิกได้ฟรี")],
            ),
            (tap(Tap::ConfirmCancel(OrderId(1))), vec![]),
        ],
    );
    assert_eq!(sim.orders[0].order.fulfilment, Fulfilment::Cancelled);
    assert_eq!(sim.balance, sim.orders[0].order.totals().total.minor);
}

#[test]
fn cash_on_delivery_adds_the_shop_s_cod_fee_and_says_what_to_pay() {
    let mut sim = Sim::new();
    sim.settings.cod_fee = 2_000;
    let mut table = vec![(
        tap(Tap::PickQty {
            variant: VariantId(11),
            qty: 1,
            buy_now: true,
        }),
        vec![],
    )];
    table.extend(address_steps());
    table.push((tap(Tap::PlaceOrder), vec![Receipt, Offers("PAY:cod:1")]));
    run(&mut sim, table);
    let before = sim.orders[0].order.totals().total.minor;
    run(
        &mut sim,
        vec![(
            tap(Tap::Pay {
                method: PaymentMethod::Cod,
                order: OrderId(1),
            }),
            vec![Says("with the COD fee of ฿20.00")],
        )],
    );
    let o = &sim.orders[0].order;
    assert_eq!(o.totals().total.minor, before + 2_000);
    assert_eq!(o.payment, crate::domain::PaymentStatus::CodPending);
    assert_eq!(o.fees.len(), 1, "one COD fee line on the bill");
}

/// Places one order for a tote bag, walking the whole checkout.
fn place_a_tote(sim: &mut Sim) {
    let mut table = vec![(
        tap(Tap::PickQty {
            variant: VariantId(21),
            qty: 1,
            buy_now: true,
        }),
        vec![],
    )];
    table.extend(address_steps());
    table.push((tap(Tap::PlaceOrder), vec![Receipt]));
    run(sim, table);
}

#[test]
fn typed_requests_reach_the_same_place_as_the_buttons() {
    let mut sim = Sim::new();
    run(
        &mut sim,
        vec![
            // A Vietnamese greeting, even without its marks, is welcomed
            // in Vietnamese, never searched for.
            (
                text("xin chào shop"),
                vec![Says("Chào mừng bạn đến với Demo"), Offers("MENU_PRODUCTS")],
            ),
            (text("Xin chao shop"), vec![Says("Chào mừng")]),
            (text("สวัสดีครับ"), vec![Says("ยินดีต้อนรับสู่ Demo")]),
            (text("english"), vec![Says("What would you like to do?")]),
            (text("hello there"), vec![Says("Welcome to Demo")]),
            (
                text("where is my parcel"),
                vec![Says("You have no orders yet"), Offers("MENU_PRODUCTS")],
            ),
        ],
    );
    assert!(
        !sim.effects
            .iter()
            .any(|a| matches!(a, Action::Say(Message::Carousel { .. }))),
        "no greeting or question became a product search"
    );
    place_a_tote(&mut sim);
    let code: &'static str = Box::leak(sim.orders[0].order.code.to_string().into_boxed_str());
    run(
        &mut sim,
        vec![
            (
                text("Where is my parcel?"),
                vec![Says("has not been sent yet"), Offers("ORDER:1")],
            ),
            (text("my order"), vec![Receipt, Says(code)]),
            (
                text("view orders"),
                vec![Says("Your recent orders"), Offers("ORDER:1")],
            ),
            (
                text("cancel my order please"),
                vec![Says("Cancel order"), Offers("CANCEL_YES:1")],
            ),
            (text("no"), vec![Says("stays as it is")]),
            (text("hủy đơn"), vec![Offers("CANCEL_YES:1")]),
            (text("không"), vec![]),
            (text("ยกเลิกออเดอร์ค่ะ"), vec![Offers("CANCEL_YES:1")]),
            (text("english"), vec![]),
            (text("my balance"), vec![Says("Your shop balance: ฿0.00")]),
            (text("talk to a person"), vec![Says("Type your message")]),
            (text("menu"), vec![]),
            (text("cart"), vec![Says("empty")]),
        ],
    );
    sim.seller(
        1,
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
    );
    sim.seller(
        1,
        Command::Ship {
            carrier: "Kerry".into(),
            tracking: Some("KEX123".into()),
        },
    );
    run(
        &mut sim,
        vec![
            (
                text("where is my parcel"),
                vec![Says("Shipped with Kerry, tracking number KEX123")],
            ),
            (text("đơn hàng của tôi ở đâu"), vec![Says("KEX123")]),
            (text("english"), vec![]),
            (
                text("cancel my order"),
                vec![
                    Says("can no longer be cancelled"),
                    NotOffers("CANCEL_YES:1"),
                ],
            ),
        ],
    );
}

#[test]
fn free_text_is_a_search_only_when_it_reads_like_one() {
    let mut sim = Sim::new();
    run(
        &mut sim,
        vec![
            (text("tote"), vec![Carousel(1)]),
            (text("mugs"), vec![Carousel(10)]),
            (text("is the tote waterproof?"), vec![Carousel(1)]),
            // Words only a description holds: a search when every word is
            // there, never for a question.
            (text("earbuds description"), vec![Carousel(1)]),
            (
                text("what does the description say?"),
                vec![Says("passed your message to the shop")],
            ),
            (text("thanks for the fast delivery"), vec![Silent]),
            // Eight letters read like an order code, but a word is a word.
            (text("shipping"), vec![Silent]),
            (
                text("CB-ZZZZ9999"),
                vec![Says("can't find order CB-ZZZZ9999")],
            ),
        ],
    );
    assert_eq!(
        sim.forwarded,
        vec![
            "what does the description say?",
            "thanks for the fast delivery",
            "shipping"
        ]
    );
}

#[test]
fn my_balance_shows_its_movements_and_orders_page_back_in_time() {
    let mut sim = Sim::new();
    sim.balance = 30_000;
    sim.movements = vec![
        BalanceMove {
            kind: crate::domain::ledger::LedgerKind::PayOrder,
            amount: -20_000,
            order_code: Some("CB-OLD1".into()),
            at: Timestamp(1_800_000_000_000),
        },
        BalanceMove {
            kind: crate::domain::ledger::LedgerKind::Deposit,
            amount: 50_000,
            order_code: None,
            at: Timestamp(1_799_000_000_000),
        },
    ];
    run(
        &mut sim,
        vec![
            (tap(Tap::Menu), vec![Offers("BALANCE"), Offers("ORDERS")]),
            (
                tap(Tap::Balance),
                vec![
                    Says("Your shop balance: ฿300.00"),
                    Says("Paid for CB-OLD1 · −฿200.00"),
                    Says("Deposit · +฿500.00"),
                ],
            ),
            (text("số dư"), vec![Says("Số dư của bạn tại shop")]),
            (text("english"), vec![]),
        ],
    );
    for _ in 0..8 {
        place_a_tote(&mut sim);
    }
    run(
        &mut sim,
        vec![
            (
                tap(Tap::Orders),
                vec![
                    Offers("ORDER:8"),
                    Offers("ORDER:3"),
                    NotOffers("ORDER:2"),
                    Offers("ORDERS_PAGE:1"),
                ],
            ),
            (
                tap(Tap::OrdersPage(1)),
                vec![
                    Says("Your earlier orders"),
                    Offers("ORDER:2"),
                    Offers("ORDER:1"),
                    NotOffers("ORDER:3"),
                    NotOffers("ORDERS_PAGE:2"),
                ],
            ),
            // A page past the end shows the last one.
            (tap(Tap::OrdersPage(9)), vec![Offers("ORDER:1")]),
        ],
    );
}

#[test]
fn a_claim_takes_words_and_several_photos_and_a_photo_never_becomes_a_slip() {
    let mut sim = Sim::new();
    place_a_tote(&mut sim);
    assert_eq!(sim.orders[0].order.payment, PaymentStatus::Unpaid);
    run(
        &mut sim,
        vec![
            (
                tap(Tap::Complain(OrderId(1))),
                vec![
                    Offers("CLAIM:1:damaged"),
                    Offers("CLAIM:1:missing_item"),
                    Offers("CLAIM:1:wrong_item"),
                    Offers("CLAIM:1:late"),
                    Offers("CLAIM:1:other"),
                ],
            ),
            (payload("CLAIM:1:wrong_item"), vec![Offers("CLAIM_DONE:1")]),
            // Photos while filing belong to the claim, though the order is
            // unpaid and a photo would otherwise be read as its slip.
            (
                Input::Image {
                    url: "https://cdn.test/a.jpg".into(),
                },
                vec![Says("Got it"), Offers("CLAIM_DONE:1")],
            ),
            (
                Input::Image {
                    url: "https://cdn.test/b.jpg".into(),
                },
                vec![Silent],
            ),
            (text("I ordered the tote, got a mug"), vec![Silent]),
            (tap(Tap::ClaimDone(OrderId(1))), vec![Says("is filed")]),
            // After "Done", a photo is a slip again.
            (
                Input::Image {
                    url: "https://cdn.test/slip.jpg".into(),
                },
                vec![Says("checking")],
            ),
            (tap(Tap::Complain(OrderId(1))), vec![]),
            (payload("CLAIM:1:late"), vec![]),
            (
                tap(Tap::ClaimDone(OrderId(1))),
                vec![Says("Nothing was sent")],
            ),
            (payload("CLAIM:99:late"), vec![Says("out of date")]),
        ],
    );
    let filed: Vec<(String, Option<String>, Option<String>)> = sim
        .effects
        .iter()
        .filter_map(|a| match a {
            Action::Claim {
                filing,
                text,
                image_url,
                reason,
                ..
            } => {
                assert_eq!(*reason, crate::domain::claim::ClaimReason::WrongItem);
                Some((filing.clone(), text.clone(), image_url.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(filed.len(), 3, "two photos and the words");
    assert!(
        filed.iter().all(|f| f.0 == filed[0].0),
        "one filing: {filed:?}"
    );
    assert!(
        sim.effects.iter().any(
            |a| matches!(a, Action::AcceptSlip { url, .. } if url == "https://cdn.test/slip.jpg")
        ) && !sim.effects.iter().any(
            |a| matches!(a, Action::AcceptSlip { url, .. } if url.contains("/a.jpg") || url.contains("/b.jpg"))
        )
    );
}

#[test]
fn the_customer_changes_the_delivery_address_until_it_ships_with_the_fee_recomputed() {
    let mut sim = Sim::new();
    sim.settings
        .shipping_by_province
        .insert("Chiang Mai / เชียงใหม่".into(), 9_000);
    place_a_tote(&mut sim);
    assert_eq!(sim.orders[0].order.shipping_fee, 5_000);
    run(
        &mut sim,
        vec![
            (
                tap(Tap::ShowOrder(OrderId(1))),
                vec![Offers("ADDR_CHANGE:1")],
            ),
            (
                tap(Tap::ChangeAddress(OrderId(1))),
                vec![Says("until the order ships"), Says("step 1 of 5")],
            ),
            (text("Somchai Jaidee"), vec![Says("phone number")]),
            // The menu in the middle forgets the change: a checkout later
            // is a checkout again.
            (text("menu"), vec![Offers("MENU_PRODUCTS")]),
            (
                tap(Tap::ChangeAddress(OrderId(1))),
                vec![Says("step 1 of 5")],
            ),
            (text("Somchai Jaidee"), vec![Says("phone number")]),
            (text("081-234-5678"), vec![Says("house number")]),
            (text("1 Nimman Rd"), vec![Says("province")]),
            (text("Chiang Mai"), vec![Says("district")]),
            (
                text("Mueang"),
                vec![
                    Says("now goes to"),
                    Says("1 Nimman Rd"),
                    Says("Shipping: ฿90.00"),
                    Says("Total: ฿340.00"),
                ],
            ),
        ],
    );
    assert_eq!(sim.orders[0].order.shipping_fee, 9_000);
    assert_eq!(
        sim.orders[0]
            .order
            .address
            .as_ref()
            .map(|a| a.line.as_str()),
        Some("1 Nimman Rd")
    );
    assert!(sim.state.address_for.is_none());
    sim.pay_and_ship(1, None);
    run(
        &mut sim,
        vec![
            (
                tap(Tap::ShowOrder(OrderId(1))),
                vec![NotOffers("ADDR_CHANGE:1")],
            ),
            (
                tap(Tap::ChangeAddress(OrderId(1))),
                vec![Says("has shipped"), Offers("MENU_TALK")],
            ),
        ],
    );
}

#[test]
fn a_shipped_order_links_to_its_carrier_s_tracking_page() {
    let mut sim = Sim::new();
    sim.settings.carriers.insert(
        "kerry".into(),
        crate::domain::shop::Carrier {
            tracking_url: Some("https://track.example.test/?n={tracking}".into()),
            collects_cod: false,
        },
    );
    place_a_tote(&mut sim);
    sim.pay_and_ship(1, Some("KEX77"));
    run(
        &mut sim,
        vec![(
            text("where is my parcel"),
            vec![Says("Follow it here: https://track.example.test/?n=KEX77")],
        )],
    );
}

#[test]
fn one_order_in_chat_shows_its_history_payments_what_is_owed_and_claims() {
    use crate::domain::claim::{ClaimReason, ClaimStatus};
    let mut sim = Sim::new();
    place_a_tote(&mut sim);
    sim.detail = Some(OrderDetail {
        order: OrderId(1),
        history: vec![(
            Timestamp(1_800_000_000_000),
            "payment".into(),
            "partially_paid".into(),
        )],
        payments: vec![(
            Timestamp(1_800_000_000_000),
            "bank_transfer".into(),
            10_000,
            "confirmed".into(),
        )],
        claims: vec![(ClaimReason::Damaged, ClaimStatus::InProgress)],
    });
    sim.orders[0].order.paid = 10_000;
    sim.orders[0].order.payment = PaymentStatus::PartiallyPaid;
    run(
        &mut sim,
        vec![(
            tap(Tap::ShowOrder(OrderId(1))),
            vec![
                Says("Status:"),
                Says("· partly paid"),
                Says("Payments:"),
                Says("Bank transfer · ฿100.00 · received"),
                Says("Still to pay: ฿200.00"),
                Says("Claim: Damaged — the shop is on it"),
            ],
        )],
    );
    // Another order's detail is never shown on this one.
    sim.detail.as_mut().unwrap().order = OrderId(9);
    let said = sim.send(tap(Tap::ShowOrder(OrderId(1))));
    assert!(!said.iter().any(|m| m.plain().contains("Payments:")));
}

#[test]
fn my_balance_asks_for_its_movements_first_and_changes_nothing_meanwhile() {
    let sim = Sim::new();
    let texts = Texts::embedded();
    let ctx = Context {
        shop_name: "Demo",
        currency: Currency::THB,
        default_locale: "en",
        settings: &sim.settings,
        catalog: &sim.catalog,
        cart: &[],
        orders: &[],
        customer_name: "",
        saved_address: None,
        balance: 0,
        movements: None,
        detail: None,
        texts: &texts,
        public_url: "https://shop.test",
        now: Timestamp(1_800_000_000_000),
    };
    let before = State {
        stage: Stage::ChoosePayment { order: 1 },
        ..State::default()
    };
    for input in [tap(Tap::Balance), text("số dư")] {
        let (after, actions) = step(&before, &input, &ctx);
        assert_eq!(actions, vec![Action::LoadBalance], "{input:?}");
        assert_eq!(after.stage, before.stage);
    }
    // Anything else never asks.
    let (_, actions) = step(&before, &text("hello"), &ctx);
    assert!(!actions.contains(&Action::LoadBalance));
}

fn sim_with_services() -> Sim {
    use crate::domain::order::{Charging, ServiceOffer};
    let mut sim = Sim::new();
    sim.settings.services = vec![
        ServiceOffer {
            id: "gift_wrap".into(),
            name: "Gift wrap".into(),
            price: 3_000,
            charged: Charging::Always,
        },
        ServiceOffer {
            id: "inspection".into(),
            name: "Inspection".into(),
            price: 1_500,
            charged: Charging::WhenDone,
        },
    ];
    sim
}

#[test]
fn the_customer_adds_and_removes_extras_until_the_order_ships() {
    let mut sim = sim_with_services();
    place_a_tote(&mut sim);
    let total = sim.orders[0].order.totals().total.minor;
    let add = |service: &str, add| {
        tap(Tap::ToggleService {
            order: OrderId(1),
            service: service.into(),
            add,
        })
    };
    run(
        &mut sim,
        vec![
            (tap(Tap::ShowOrder(OrderId(1))), vec![Offers("SERVICES:1")]),
            (
                tap(Tap::Services(OrderId(1))),
                vec![
                    Says("Gift wrap: ฿30.00 (added when you choose it)"),
                    Says("Inspection: ฿15.00 (paid once the shop has done it)"),
                    Offers("SVC_ADD:1:gift_wrap"),
                    Offers("SVC_ADD:1:inspection"),
                ],
            ),
            (
                add("gift_wrap", true),
                vec![Says("Gift wrap is on order"), Offers("SERVICES:1")],
            ),
            (
                add("inspection", true),
                vec![Says("Inspection is on order")],
            ),
            (
                tap(Tap::Services(OrderId(1))),
                vec![
                    Offers("SVC_DEL:1:gift_wrap"),
                    NotOffers("SVC_ADD:1:gift_wrap"),
                ],
            ),
            (
                tap(Tap::ShowOrder(OrderId(1))),
                vec![
                    Says("Extras:"),
                    Says("• Gift wrap: ฿30.00 (chosen)"),
                    Says("• Inspection: ฿15.00 (paid once done)"),
                ],
            ),
        ],
    );
    // Charged always: in the total at once; charged when done: not yet.
    assert_eq!(sim.orders[0].order.totals().total.minor, total + 3_000);
    run(
        &mut sim,
        vec![(
            add("gift_wrap", false),
            vec![Says("Gift wrap is off order")],
        )],
    );
    assert_eq!(sim.orders[0].order.totals().total.minor, total);
    sim.pay_and_ship(1, None);
    run(
        &mut sim,
        vec![
            (
                tap(Tap::ShowOrder(OrderId(1))),
                vec![NotOffers("SERVICES:1")],
            ),
            (tap(Tap::Services(OrderId(1))), vec![Says("has shipped")]),
            (add("gift_wrap", true), vec![Says("before it ships")]),
        ],
    );
    assert_eq!(sim.orders[0].order.services.len(), 1);
}

#[test]
fn extras_read_in_thai_and_vietnamese() {
    for (locale, words) in [("th", "บริการเสริม"), ("vi", "Dịch vụ thêm")]
    {
        let mut sim = sim_with_services();
        place_a_tote(&mut sim);
        sim.state.locale = Some(locale.into());
        run(
            &mut sim,
            vec![(
                tap(Tap::Services(OrderId(1))),
                vec![Says(words), Offers("SVC_ADD:1:gift_wrap")],
            )],
        );
    }
}
