//! The catalog as the engine and the bill see it.

use super::ids::{ProductId, ShopId, VariantId};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Variant {
    pub id: VariantId,
    pub name: String,
    /// Overrides the product price when set.
    pub price: Option<i64>,
    pub stock: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub shop_id: ShopId,
    pub name: String,
    pub description: String,
    pub category: String,
    pub image_url: Option<String>,
    pub price: i64,
    pub active: bool,
    pub variants: Vec<Variant>,
}

impl Product {
    pub fn price_of(&self, v: &Variant) -> i64 {
        v.price.unwrap_or(self.price)
    }
    pub fn in_stock(&self) -> bool {
        self.variants.iter().any(|v| v.stock.is_none_or(|s| s > 0))
    }
}
