//! A shop's selling settings: how customers pay and what shipping costs.

use super::order::PaymentMethod;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BankAccount {
    pub bank: String,
    pub account_name: String,
    pub account_number: String,
    /// Shown first when the shop has several.
    #[serde(default)]
    pub default: bool,
}

/// A carrier the shop ships with (seed 002: Viettel Post, GHN, Kerry…).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "CarrierInput")]
pub struct Carrier {
    pub tracking_url: Option<String>,
    /// It collects cash on delivery and pays the shop later.
    pub collects_cod: bool,
}

/// A carrier as written: its full form, or just its tracking link (the
/// older `tracking_links` setting).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum CarrierInput {
    Link(String),
    #[serde(rename_all = "snake_case")]
    Full {
        #[serde(default)]
        tracking_url: Option<String>,
        #[serde(default)]
        collects_cod: bool,
    },
}

impl From<CarrierInput> for Carrier {
    fn from(c: CarrierInput) -> Carrier {
        match c {
            CarrierInput::Link(url) => Carrier {
                tracking_url: Some(url),
                collects_cod: false,
            },
            CarrierInput::Full {
                tracking_url,
                collects_cod,
            } => Carrier {
                tracking_url,
                collects_cod,
            },
        }
    }
}

/// Payment QR scheme the shop's bills carry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum PaymentQr {
    /// Phone number, national id / tax id, or e-wallet id.
    Promptpay {
        id: String,
    },
    Vietqr {
        bank_bin: String,
        account: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ShopSettings {
    pub bank_accounts: Vec<BankAccount>,
    pub payment_qr: Option<PaymentQr>,
    pub payment_methods: Vec<PaymentMethod>,
    /// How long an unpaid order holds its stock.
    pub hold_hours: i64,
    /// When, before the hold lapses, the customer is reminded.
    pub reminder_before_hours: i64,
    /// Whether a lapsed hold cancels the order (and gives its stock back).
    /// Off: unpaid orders stay open, stock held, until the seller cancels;
    /// no reminder is sent.
    pub expiry_cancels: bool,
    pub shipping_flat_fee: i64,
    pub free_shipping_over: Option<i64>,
    /// Added to an order when the customer chooses cash on delivery
    /// (minor units; 0: none). Shown on the bill as its own line.
    pub cod_fee: i64,
    /// A fee per province or region instead of the flat one, keyed by the
    /// names a customer may type (`"Bangkok / กรุงเทพ"`: either matches, in
    /// any case). Free shipping above an amount still applies.
    pub shipping_by_province: std::collections::BTreeMap<String, i64>,
    /// The carriers the shop ships with, by name: each one's public
    /// tracking page (`{tracking}` standing for the number; the customer's
    /// order in chat links to it) and whether it collects cash on delivery
    /// (then what it owes is followed until it pays). Also read from the
    /// older `tracking_links` (name → link).
    #[serde(alias = "tracking_links")]
    pub carriers: std::collections::BTreeMap<String, Carrier>,
    /// Extra services a customer may add to an order before it ships (gift
    /// wrap, insurance, inspection), each charged always or once done.
    pub services: Vec<super::order::ServiceOffer>,
    pub allow_negative_balance: bool,
    /// Where the shop is (the sender), printed on bills and shipping notes.
    pub shop_address: Option<String>,
    /// Money paid above an order's total (the total went down after
    /// payment, or a paid order was cancelled): `balance` (the customer's
    /// shop balance, the default) or `refund_due` (the seller pays it back).
    pub excess_payment: super::order::ExcessPolicy,
    /// Until when a customer may cancel in chat.
    pub cancel_rule: super::lifecycle::CancelRule,
    /// The cancel policy in words per language (`en`, `th`, `vi`), shown
    /// when a customer asks to cancel and on their order.
    pub cancel_policy: std::collections::BTreeMap<String, String>,
    /// Used when `time_zone` is not set (or not a zone this build knows).
    pub utc_offset_minutes: i32,
    /// The language for customers whose own is not known yet, and for the
    /// bill and the console's amounts (`en`, `th`, `vi`); unset: the one
    /// the shop was created with.
    pub language: Option<String>,
    /// How amounts are written to customers, on bills and in the console.
    pub currency_display: super::money::AmountStyle,
    /// The shop's IANA time zone, e.g. `Asia/Bangkok`: its days and dates.
    pub time_zone: Option<String>,
    /// The shop's own wording of customer messages, per language then
    /// message (`{"th": {"welcome": "สวัสดีค่ะ {name}", "btn_products": "สินค้า"}}`):
    /// the greeting, the menu labels, any sentence. Checked against the
    /// placeholders each message fills (`engine::texts::check_overrides`).
    pub messages: MessageOverrides,
    /// Approved Utility Message template names by notice kind, used to reach
    /// a customer outside the 24-hour window.
    pub utility_templates: std::collections::BTreeMap<String, String>,
}

impl Default for ShopSettings {
    fn default() -> Self {
        ShopSettings {
            bank_accounts: Vec::new(),
            payment_qr: None,
            payment_methods: vec![PaymentMethod::BankTransfer, PaymentMethod::Cod],
            hold_hours: 24,
            reminder_before_hours: 2,
            expiry_cancels: true,
            shipping_flat_fee: 0,
            free_shipping_over: None,
            cod_fee: 0,
            shipping_by_province: Default::default(),
            carriers: Default::default(),
            services: Vec::new(),
            allow_negative_balance: false,
            shop_address: None,
            excess_payment: Default::default(),
            cancel_rule: Default::default(),
            cancel_policy: Default::default(),
            utc_offset_minutes: 0,
            language: None,
            time_zone: None,
            currency_display: Default::default(),
            utility_templates: Default::default(),
            messages: Default::default(),
        }
    }
}

/// Which shipping rule an order's fee came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShippingRule {
    /// Free: the subtotal reached this amount.
    FreeFrom(i64),
    /// The fee set for this province or region (as the customer wrote it).
    Province(String),
    Flat,
}

/// Per language, per message key: the shop's wording.
pub type MessageOverrides =
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>;

/// The languages chatbill speaks to customers.
pub const LANGUAGES: &[&str] = &["en", "th", "vi"];

/// `s` safe inside a URL: letters, digits, `-`, `_` and `.` as they are,
/// every other byte `%XX`.
pub fn percent_encoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A province name as compared: trimmed, one space between words, lower
/// case, and without the words a customer may or may not add.
pub fn region_key(name: &str) -> String {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '.' || c == ',')
        .filter(|w| !w.is_empty() && !matches!(*w, "province" | "tỉnh" | "tp" | "thành" | "phố"))
        .collect();
    let joined = words.join(" ");
    joined
        .strip_prefix("จังหวัด")
        .unwrap_or(&joined)
        .trim()
        .to_string()
}

impl ShopSettings {
    /// The money rules order decisions follow in this shop.
    pub fn money_rules(&self) -> super::order::Rules {
        super::order::Rules {
            excess: self.excess_payment,
            cancel: self.cancel_rule,
            cod_fee: self.cod_fee,
        }
    }
    /// The shipping fee of an order of `subtotal` to `province`.
    pub fn shipping_fee_for(&self, subtotal: i64, province: &str) -> i64 {
        match self.free_shipping_over {
            Some(limit) if subtotal >= limit => 0,
            _ => self
                .province_fee(province)
                .unwrap_or(self.shipping_flat_fee),
        }
    }

    /// The cancel policy in `locale`, else in `fallback` (the shop's
    /// language), else none.
    pub fn cancel_policy_in(&self, locale: &str, fallback: &str) -> Option<&str> {
        self.cancel_policy
            .get(locale)
            .or_else(|| self.cancel_policy.get(fallback))
            .map(String::as_str)
            .filter(|t| !t.trim().is_empty())
    }

    /// Which rule a shipping fee of `fee` came from, for the bill: free
    /// above an amount, a province's own fee, or the flat fee.
    pub fn shipping_rule(&self, subtotal: i64, province: &str, fee: i64) -> ShippingRule {
        match self.free_shipping_over {
            Some(from) if fee == 0 && subtotal >= from => return ShippingRule::FreeFrom(from),
            _ => {}
        }
        if fee > 0 && self.province_fee(province) == Some(fee) {
            return ShippingRule::Province(province.trim().to_string());
        }
        ShippingRule::Flat
    }

    /// The fee set for this province, if one is.
    pub fn province_fee(&self, province: &str) -> Option<i64> {
        let wanted = region_key(province);
        self.shipping_by_province
            .iter()
            .find(|(names, _)| names.split('/').any(|n| region_key(n) == wanted))
            .map(|(_, fee)| *fee)
    }
}

impl ShopSettings {
    /// The carrier's tracking page for this parcel, if the shop set one
    /// (the carrier's name in any case). The number goes in escaped, so a
    /// typed number cannot change where the link goes.
    pub fn tracking_url(&self, carrier: &str, tracking: &str) -> Option<String> {
        let pattern = self.carrier(carrier)?.1.tracking_url.as_ref()?;
        let number = percent_encoded(tracking.trim());
        (!number.is_empty()).then(|| pattern.replace("{tracking}", &number))
    }

    /// The shop's carrier of this name (in any case), with its own spelling.
    pub fn carrier(&self, name: &str) -> Option<(&str, &Carrier)> {
        let wanted = name.trim().to_lowercase();
        self.carriers
            .iter()
            .find(|(n, _)| n.trim().to_lowercase() == wanted)
            .map(|(n, c)| (n.as_str(), c))
    }

    /// The service of this id the shop offers.
    pub fn service(&self, id: &str) -> Option<&super::order::ServiceOffer> {
        self.services.iter().find(|s| s.id == id)
    }

    /// The receiving accounts as a bill lists them: the default first.
    pub fn accounts_in_order(&self) -> Vec<&BankAccount> {
        let mut accounts: Vec<&BankAccount> = self.bank_accounts.iter().collect();
        accounts.sort_by_key(|a| !a.default);
        accounts
    }

    /// The shop's days and dates.
    pub fn calendar(&self) -> super::calendar::Calendar {
        super::calendar::Calendar::new(self.time_zone.as_deref(), self.utc_offset_minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::ShopSettings;

    #[test]
    fn a_province_fee_matches_any_of_its_names_in_any_case() {
        let mut s = ShopSettings {
            shipping_flat_fee: 4_000,
            free_shipping_over: Some(100_000),
            ..Default::default()
        };
        s.shipping_by_province
            .insert("Chiang Mai / เชียงใหม่".into(), 9_000);
        s.shipping_by_province.insert("Hồ Chí Minh".into(), 3_000);
        assert_eq!(s.shipping_fee_for(10_000, "chiang  mai"), 9_000);
        assert_eq!(s.shipping_fee_for(10_000, "จังหวัดเชียงใหม่"), 9_000);
        assert_eq!(s.shipping_fee_for(10_000, "TP. Hồ Chí Minh"), 3_000);
        assert_eq!(s.shipping_fee_for(10_000, "Bangkok"), 4_000);
        assert_eq!(s.shipping_fee_for(100_000, "Chiang Mai"), 0);
        use super::ShippingRule as R;
        assert_eq!(
            s.shipping_rule(100_000, "Chiang Mai", 0),
            R::FreeFrom(100_000)
        );
        assert_eq!(
            s.shipping_rule(10_000, " Chiang Mai ", 9_000),
            R::Province("Chiang Mai".into())
        );
        assert_eq!(s.shipping_rule(10_000, "Bangkok", 4_000), R::Flat);
        // A fee the seller changed by hand is not passed off as the rule's.
        assert_eq!(s.shipping_rule(10_000, "Chiang Mai", 5_000), R::Flat);
    }
}
