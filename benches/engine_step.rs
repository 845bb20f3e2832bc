//! `engine::step` throughput on one core for the common browse and cart
//! steps (docs/benchmarks.md):
//!     taskset -c 1 cargo bench --bench engine_step

use chatbill::domain::catalog::{Product, Variant};
use chatbill::domain::shop::ShopSettings;
use chatbill::domain::{Currency, ProductId, ShopId, Timestamp, VariantId};
use chatbill::engine::{self, CartLine, Context, Input, State, Texts};
use std::hint::black_box;
use std::time::Instant;

fn catalog() -> Vec<Product> {
    let cats = ["Clothing", "Bags", "Home", "Food", "Gadgets", "Gifts"];
    (0..12)
        .map(|i| Product {
            id: ProductId(i + 1),
            shop_id: ShopId(1),
            name: format!("Product number {i}"),
            description: "A fine thing".into(),
            category: cats[(i % 6) as usize].into(),
            image_url: Some(format!("/static/demo/{i}.png")),
            price: 29_900 + i * 1000,
            active: true,
            variants: (0..3)
                .map(|v| Variant {
                    id: VariantId((i + 1) * 10 + v),
                    name: ["S", "M", "L"][v as usize].into(),
                    price: None,
                    stock: Some(50),
                })
                .collect(),
        })
        .collect()
}

fn main() {
    let catalog = catalog();
    let settings = ShopSettings::default();
    let texts = Texts::embedded();
    let cart = vec![
        CartLine {
            variant: VariantId(20),
            qty: 2,
        },
        CartLine {
            variant: VariantId(31),
            qty: 1,
        },
    ];
    let ctx = Context {
        shop_name: "Bench shop",
        currency: Currency::THB,
        default_locale: "th",
        settings: &settings,
        catalog: &catalog,
        cart: &cart,
        orders: &[],
        customer_name: "Somchai",
        saved_address: None,
        balance: 0,
        movements: Some(&[]),
        detail: None,
        texts: &texts,
        public_url: "https://shop.example",
        now: Timestamp(1_800_000_000_000),
    };
    let inputs = [
        Input::from_payload("MENU_PRODUCTS"),
        Input::from_payload("CAT:Clothing"),
        Input::from_payload("ADD:2"),
        Input::from_payload("VAR:21:0"),
        Input::from_payload("QTY:21:1:0"),
        Input::from_payload("CART"),
        Input::Text("menu".into()),
        Input::from_payload("PAGE:0"),
    ];
    let rounds = 200_000;
    for (label, set) in [
        ("browse and cart mix", &inputs[..]),
        (
            "menu and cart only",
            &[inputs[0].clone(), inputs[5].clone(), inputs[6].clone()][..],
        ),
    ] {
        let mut state = State::default();
        let started = Instant::now();
        let mut actions = 0usize;
        for i in 0..rounds {
            let (next, a) = engine::step(&state, &set[i % set.len()], &ctx);
            actions += a.len();
            state = black_box(next);
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "engine::step ({label}): {rounds} steps in {:.3} s = {:.0} steps/s ({:.2} µs/step, {actions} actions)",
            secs,
            rounds as f64 / secs,
            secs * 1e6 / rounds as f64
        );
    }
}
