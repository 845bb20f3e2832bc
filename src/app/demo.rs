//! `chatbill demo`: a shop that sells in THB with a bank account, a PromptPay
//! id, COD and balance payments, and a catalog of twelve products with
//! images and variants, so every path can be tried with nothing configured.

use crate::domain::order::{Charging, PaymentMethod, ServiceOffer};
use crate::domain::shop::Carrier;
use crate::domain::{Currency, ShopId, Timestamp};
use crate::store::catalog::{self, NewProduct, NewVariant};
use crate::store::shops::{self, BankAccount, PaymentQr, ShopSettings};
use crate::store::{Db, Result};
use std::sync::OnceLock;

pub const DEMO_SHOP_NAME: &str = "chatbill demo shop";

pub fn demo_settings() -> ShopSettings {
    ShopSettings {
        excess_payment: Default::default(),
        bank_accounts: vec![BankAccount {
            bank: "Kasikornbank".into(),
            account_name: "Chatbill Demo Co., Ltd.".into(),
            account_number: "123-4-56789-0".into(),
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
        hold_hours: 24,
        reminder_before_hours: 2,
        expiry_cancels: true,
        shipping_flat_fee: 5_000,
        free_shipping_over: Some(100_000),
        cod_fee: 2_000,
        shipping_by_province: [("Chiang Mai / เชียงใหม่".to_string(), 8_000)].into(),
        carriers: [
            (
                "Kerry".to_string(),
                Carrier {
                    tracking_url: Some(
                        "https://th.kerryexpress.com/en/track/?track={tracking}".to_string(),
                    ),
                    collects_cod: true,
                },
            ),
            (
                "Thailand Post".to_string(),
                Carrier {
                    tracking_url: Some(
                        "https://track.thailandpost.co.th/?trackNumber={tracking}".to_string(),
                    ),
                    collects_cod: false,
                },
            ),
        ]
        .into(),
        services: vec![
            ServiceOffer {
                id: "gift_wrap".into(),
                name: "Gift wrap".into(),
                price: 3_000,
                charged: Charging::Always,
            },
            ServiceOffer {
                id: "inspection".into(),
                name: "Open and check on delivery".into(),
                price: 1_500,
                charged: Charging::WhenDone,
            },
        ],
        allow_negative_balance: false,
        shop_address: Some("12 Charoen Krung Rd, Bang Rak, Bangkok 10500".into()),
        cancel_rule: Default::default(),
        cancel_policy: [
            (
                "en".to_string(),
                "Cancel in chat until you have paid; after that, ask the shop.".to_string(),
            ),
            (
                "th".to_string(),
                "ยกเลิกผ่านแชทได้จนกว่าจะชำระเงิน หลังจากนั้นกรุณาติดต่อร้าน".to_string(),
            ),
            (
                "vi".to_string(),
                "Bạn có thể hủy qua chat cho đến khi thanh toán; sau đó vui lòng nhắn cho shop."
                    .to_string(),
            ),
        ]
        .into(),
        utc_offset_minutes: 7 * 60,
        language: None,
        time_zone: Some("Asia/Bangkok".into()),
        currency_display: Default::default(),
        utility_templates: Default::default(),
        messages: Default::default(),
    }
}

/// (name, category, price in satang, description, variants as (name, stock))
type DemoProduct = (
    &'static str,
    &'static str,
    i64,
    &'static str,
    &'static [(&'static str, Option<i64>)],
);

const CATALOG: &[DemoProduct] = &[
    (
        "Classic cotton tee",
        "Clothing",
        29_900,
        "Soft 100% cotton, regular fit.",
        &[("S", Some(10)), ("M", Some(12)), ("L", Some(8))],
    ),
    (
        "Linen shirt",
        "Clothing",
        89_000,
        "Breathable linen for hot days.",
        &[
            ("M / White", Some(4)),
            ("L / White", Some(3)),
            ("M / Sand", Some(2)),
        ],
    ),
    (
        "Bucket hat",
        "Clothing",
        35_000,
        "Packable, one size.",
        &[("Olive", Some(6)), ("Black", Some(6))],
    ),
    (
        "Canvas tote bag",
        "Bags",
        25_000,
        "Carries a week of groceries.",
        &[("", None)],
    ),
    (
        "Mini crossbody bag",
        "Bags",
        129_000,
        "Vegan leather, adjustable strap.",
        &[("Tan", Some(1)), ("Black", Some(0))],
    ),
    (
        "Ceramic mug",
        "Home",
        19_000,
        "350 ml, dishwasher safe.",
        &[("White", Some(20)), ("Blue glaze", Some(5))],
    ),
    (
        "Scented candle",
        "Home",
        45_000,
        "Lemongrass and ginger, 40 hours.",
        &[("", Some(15))],
    ),
    (
        "Chiang Mai coffee beans",
        "Food",
        32_000,
        "Medium roast, whole beans.",
        &[("250 g", Some(30)), ("500 g", Some(15))],
    ),
    (
        "Dried mango",
        "Food",
        9_900,
        "Nam Dok Mai mango, no added sugar.",
        &[("", None)],
    ),
    (
        "Phone case",
        "Gadgets",
        39_000,
        "Shock-absorbing, clear back.",
        &[
            ("iPhone 15", Some(7)),
            ("iPhone 16", Some(9)),
            ("Galaxy S24", Some(4)),
        ],
    ),
    (
        "Wireless earbuds",
        "Gadgets",
        159_000,
        "24 h battery with the case.",
        &[("", Some(3))],
    ),
    (
        "Gift card",
        "Gifts",
        50_000,
        "Spend it on anything in the shop.",
        &[("฿500", None)],
    ),
];

/// Finds the demo shop or creates it with its catalog.
pub async fn ensure_demo_shop(db: &Db, now: Timestamp) -> Result<(ShopId, bool)> {
    if let Some(shop) = shops::list(db)
        .await?
        .into_iter()
        .find(|s| s.name == DEMO_SHOP_NAME)
    {
        return Ok((shop.id, false));
    }
    let shop = shops::create(
        db,
        DEMO_SHOP_NAME,
        Currency::THB,
        "en",
        &demo_settings(),
        now,
    )
    .await?;
    for (i, (name, category, price, description, variants)) in CATALOG.iter().enumerate() {
        let product = NewProduct {
            name: name.to_string(),
            description: description.to_string(),
            category: category.to_string(),
            image_url: Some(format!("/static/demo/{i}.png")),
            price: *price,
            variants: variants
                .iter()
                .map(|(n, s)| NewVariant {
                    name: n.to_string(),
                    price: None,
                    stock: *s,
                })
                .collect(),
        };
        catalog::create_product(db, shop.id, &product, now).await?;
    }
    Ok((shop.id, true))
}

const PALETTE: [[u8; 3]; 12] = [
    [0xe7, 0x6f, 0x51],
    [0x2a, 0x9d, 0x8f],
    [0xe9, 0xc4, 0x6a],
    [0x26, 0x46, 0x53],
    [0xf4, 0xa2, 0x61],
    [0x6d, 0x59, 0x7a],
    [0xb5, 0x65, 0x76],
    [0x35, 0x5c, 0x7d],
    [0x8a, 0xb1, 0x7d],
    [0xc0, 0x6c, 0x84],
    [0x3d, 0x40, 0x5b],
    [0xf2, 0xcc, 0x8f],
];

/// A simple generated picture per product (the demo has no internet).
fn demo_image(i: usize) -> Vec<u8> {
    let [r, g, b] = PALETTE[i % PALETTE.len()];
    let size = 480u32;
    let img = image::RgbImage::from_fn(size, size, |x, y| {
        let (cx, cy) = (x as i64 - 240, y as i64 - 240);
        let ring = cx * cx + cy * cy;
        if ring < 150 * 150 {
            image::Rgb([255, 255, 255])
        } else if (x / 40 + y / 40) % 2 == 0 {
            image::Rgb([r, g, b])
        } else {
            image::Rgb([
                r.saturating_sub(24),
                g.saturating_sub(24),
                b.saturating_sub(24),
            ])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    if img.write_to(&mut out, image::ImageFormat::Png).is_err() {
        return Vec::new();
    }
    out.into_inner()
}

static IMAGES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();

/// The demo's product picture number `index`, if there is one.
pub fn image(index: usize) -> Option<Vec<u8>> {
    let images = IMAGES.get_or_init(|| (0..CATALOG.len()).map(demo_image).collect());
    images.get(index).cloned()
}
