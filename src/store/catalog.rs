//! Products, variants and stock. Stock `NULL` means unlimited; reservations
//! are conditional updates, so two buyers of the last unit get one order.

use super::{Db, Result, StoreError, Tx, col};
use crate::domain::{ProductId, ShopId, Timestamp, VariantId};

pub use crate::domain::catalog::{Product, Variant};

#[derive(Clone, Debug, serde::Deserialize)]
pub struct NewVariant {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub price: Option<i64>,
    #[serde(default)]
    pub stock: Option<i64>,
}

#[derive(Clone, Debug, serde::Deserialize)]
pub struct NewProduct {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub image_url: Option<String>,
    pub price: i64,
    /// At least one; a product without options gets one unnamed variant.
    #[serde(default)]
    pub variants: Vec<NewVariant>,
}

/// What an order line needs to know about a variant at the moment of sale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleItem {
    pub product_id: ProductId,
    pub variant_id: VariantId,
    pub name: String,
    pub variant_name: String,
    pub unit_price: i64,
    pub stock: Option<i64>,
}

pub async fn create_product(
    db: &Db,
    shop: ShopId,
    p: &NewProduct,
    now: Timestamp,
) -> Result<Product> {
    if p.name.trim().is_empty()
        || p.price < 0
        || p.variants
            .iter()
            .any(|v| v.price.is_some_and(|x| x < 0) || v.stock.is_some_and(|s| s < 0))
    {
        return Err(StoreError::Conflict(
            "a product needs a name, and prices and stock ≥ 0".into(),
        ));
    }
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "insert into products (shop_id, name, description, category, image_url, price, active, position, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, 1, (select coalesce(max(position), 0) + 1 from products where shop_id = $1), $7, $7) returning id",
    )
    .bind(shop.get())
    .bind(p.name.trim())
    .bind(&p.description)
    .bind(p.category.trim())
    .bind(&p.image_url)
    .bind(p.price)
    .bind(now.millis())
    .fetch_one(&mut *tx)
    .await?;
    let id = ProductId(col(&row, "id")?);
    let defaults = [NewVariant {
        name: String::new(),
        price: None,
        stock: None,
    }];
    let variants = if p.variants.is_empty() {
        &defaults[..]
    } else {
        &p.variants[..]
    };
    for (i, v) in variants.iter().enumerate() {
        sqlx::query("insert into variants (shop_id, product_id, name, price, stock, position) values ($1, $2, $3, $4, $5, $6)")
            .bind(shop.get())
            .bind(id.get())
            .bind(v.name.trim())
            .bind(v.price)
            .bind(v.stock)
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    get_product(db, shop, id).await
}

fn product_from_row(r: &sqlx::any::AnyRow) -> Result<Product> {
    Ok(Product {
        id: ProductId(col(r, "id")?),
        shop_id: ShopId(col(r, "shop_id")?),
        name: col(r, "name")?,
        description: col(r, "description")?,
        category: col(r, "category")?,
        image_url: col(r, "image_url")?,
        price: col(r, "price")?,
        active: col::<i64>(r, "active")? != 0,
        variants: Vec::new(),
    })
}

fn variant_from_row(r: &sqlx::any::AnyRow) -> Result<(ProductId, Variant)> {
    Ok((
        ProductId(col(r, "product_id")?),
        Variant {
            id: VariantId(col(r, "id")?),
            name: col(r, "name")?,
            price: col(r, "price")?,
            stock: col(r, "stock")?,
        },
    ))
}

/// `image_url` is what the card shows: the first uploaded picture, else
/// the pasted link.
fn product_columns() -> String {
    format!(
        "id, shop_id, name, description, category, {} as image_url, price, active",
        super::pictures::CARD_IMAGE
    )
}

pub async fn get_product(db: &Db, shop: ShopId, id: ProductId) -> Result<Product> {
    let row = sqlx::query(&format!(
        "select {} from products where id = $1 and shop_id = $2 and deleted_at is null",
        product_columns()
    ))
    .bind(id.get())
    .bind(shop.get())
    .fetch_optional(&db.pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut p = product_from_row(&row)?;
    let rows = sqlx::query(
        "select id, product_id, name, price, stock from variants where product_id = $1 and deleted_at is null order by position, id",
    )
    .bind(id.get())
    .fetch_all(&db.pool)
    .await?;
    for r in &rows {
        p.variants.push(variant_from_row(r)?.1);
    }
    Ok(p)
}

/// The shop's catalog with variants, in display order.
pub async fn list_products(db: &Db, shop: ShopId, include_inactive: bool) -> Result<Vec<Product>> {
    let rows = sqlx::query(&format!(
        "select {} from products where shop_id = $1 and deleted_at is null and (active = 1 or $2 = 1) order by position, id",
        product_columns()
    ))
    .bind(shop.get())
    .bind(i64::from(include_inactive))
    .fetch_all(&db.pool)
    .await?;
    let mut products: Vec<Product> = rows.iter().map(product_from_row).collect::<Result<_>>()?;
    let vrows = sqlx::query(
        "select id, product_id, name, price, stock from variants where shop_id = $1 and deleted_at is null order by position, id",
    )
    .bind(shop.get())
    .fetch_all(&db.pool)
    .await?;
    let index: std::collections::HashMap<ProductId, usize> = products
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id, i))
        .collect();
    for r in &vrows {
        let (pid, v) = variant_from_row(r)?;
        if let Some(i) = index.get(&pid) {
            products[*i].variants.push(v);
        }
    }
    Ok(products)
}

/// The variant as sold now, scoped to the shop, inside a transaction.
pub async fn sale_item(tx: &mut Tx, shop: ShopId, variant: VariantId) -> Result<Option<SaleItem>> {
    let row = sqlx::query(
        "select v.id as variant_id, v.product_id, v.name as variant_name, coalesce(v.price, p.price) as unit_price, v.stock, p.name \
         from variants v join products p on p.id = v.product_id \
         where v.id = $1 and v.shop_id = $2 and v.deleted_at is null and p.deleted_at is null and p.active = 1",
    )
    .bind(variant.get())
    .bind(shop.get())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(SaleItem {
            product_id: ProductId(col(&r, "product_id")?),
            variant_id: VariantId(col(&r, "variant_id")?),
            name: col(&r, "name")?,
            variant_name: col(&r, "variant_name")?,
            unit_price: col(&r, "unit_price")?,
            stock: col(&r, "stock")?,
        })
    })
    .transpose()
}

/// Takes `qty` units if they are there. `false` means not enough stock and
/// nothing changed.
pub async fn reserve(tx: &mut Tx, variant: VariantId, qty: i64) -> Result<bool> {
    // Unlimited stock (null) needs no reservation and stays null.
    let n = sqlx::query(
        "update variants set stock = stock - $1 where id = $2 and (stock is null or stock >= $1)",
    )
    .bind(qty)
    .bind(variant.get())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn release(tx: &mut Tx, variant: VariantId, qty: i64) -> Result<()> {
    sqlx::query("update variants set stock = stock + $1 where id = $2 and stock is not null")
        .bind(qty)
        .bind(variant.get())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Seller's stock correction: sets or shifts stock, never below zero.
pub async fn adjust_stock(
    db: &Db,
    shop: ShopId,
    variant: VariantId,
    delta: i64,
) -> Result<Option<i64>> {
    let row = sqlx::query(
        "update variants set stock = stock + $1 where id = $2 and shop_id = $3 and stock is not null and stock + $1 >= 0 returning stock",
    )
    .bind(delta)
    .bind(variant.get())
    .bind(shop.get())
    .fetch_optional(&db.pool)
    .await?;
    match row {
        Some(r) => Ok(col(&r, "stock")?),
        None => Err(StoreError::Conflict(
            "no such variant with tracked stock, or stock would go below zero".into(),
        )),
    }
}
