//! Product pictures: which stored images a product shows, in the seller's
//! order. The files themselves live in the media folder by content.

use super::{Db, Result, StoreError, col};
use crate::domain::{ProductId, ShopId, Timestamp};

/// At most this many pictures per product (Messenger shows the first on
/// the card; the rest are for the product's page).
pub const MAX_PER_PRODUCT: i64 = 10;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Picture {
    pub id: i64,
    pub product_id: ProductId,
    pub position: i64,
    pub sha256: String,
    pub width: i64,
    pub height: i64,
    pub bytes: i64,
}

impl Picture {
    /// Where the public copy is served (relative to the public URL).
    pub fn url(&self) -> String {
        picture_url(&self.sha256)
    }
}

pub fn picture_url(sha256: &str) -> String {
    format!("/media/products/{sha256}.jpg")
}

/// The card picture of a product, in SQL: the first uploaded picture,
/// else the link the seller pasted. Used where products are read.
pub(super) const CARD_IMAGE: &str = "coalesce((select '/media/products/' || pp.sha256 || '.jpg' from product_pictures pp \
     where pp.product_id = products.id order by pp.position, pp.id limit 1), products.image_url)";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Picture> {
    Ok(Picture {
        id: col(r, "id")?,
        product_id: ProductId(col(r, "product_id")?),
        position: col(r, "position")?,
        sha256: col(r, "sha256")?,
        width: col(r, "width")?,
        height: col(r, "height")?,
        bytes: col(r, "bytes")?,
    })
}

const COLUMNS: &str = "id, product_id, position, sha256, width, height, bytes";

/// The product's pictures, first first. `NotFound` for another shop's
/// product or a deleted one.
pub async fn list(db: &Db, shop: ShopId, product: ProductId) -> Result<Vec<Picture>> {
    exists(db, shop, product).await?;
    let rows = sqlx::query(&format!(
        "select {COLUMNS} from product_pictures where product_id = $1 and shop_id = $2 order by position, id"
    ))
    .bind(product.get())
    .bind(shop.get())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

async fn exists(db: &Db, shop: ShopId, product: ProductId) -> Result<()> {
    sqlx::query("select id from products where id = $1 and shop_id = $2 and deleted_at is null")
        .bind(product.get())
        .bind(shop.get())
        .fetch_optional(&db.pool)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}

/// Whether one more picture fits; checked before the work of decoding.
pub async fn room_for_one(db: &Db, shop: ShopId, product: ProductId) -> Result<()> {
    let n = list(db, shop, product).await?.len() as i64;
    if n >= MAX_PER_PRODUCT {
        return Err(StoreError::Conflict(format!(
            "a product has at most {MAX_PER_PRODUCT} pictures; delete one first"
        )));
    }
    Ok(())
}

/// A stored image on a product, last in line. The same image twice is
/// kept once (and returned).
pub async fn add(
    db: &Db,
    shop: ShopId,
    product: ProductId,
    sha256: &str,
    (width, height, bytes): (u32, u32, usize),
    now: Timestamp,
) -> Result<Picture> {
    let mut tx = db.begin().await?;
    sqlx::query("select id from products where id = $1 and shop_id = $2 and deleted_at is null")
        .bind(product.get())
        .bind(shop.get())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let existing = sqlx::query(&format!(
        "select {COLUMNS} from product_pictures where product_id = $1 and sha256 = $2"
    ))
    .bind(product.get())
    .bind(sha256)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = existing {
        return from_row(&row);
    }
    let count: i64 = col(
        &sqlx::query("select count(*) as n from product_pictures where product_id = $1")
            .bind(product.get())
            .fetch_one(&mut *tx)
            .await?,
        "n",
    )?;
    if count >= MAX_PER_PRODUCT {
        return Err(StoreError::Conflict(format!(
            "a product has at most {MAX_PER_PRODUCT} pictures; delete one first"
        )));
    }
    let row = sqlx::query(&format!(
        "insert into product_pictures (shop_id, product_id, position, sha256, width, height, bytes, created_at) \
         values ($1, $2, (select coalesce(max(position), 0) + 1 from product_pictures where product_id = $2), $3, $4, $5, $6, $7) \
         returning {COLUMNS}"
    ))
    .bind(shop.get())
    .bind(product.get())
    .bind(sha256)
    .bind(i64::from(width))
    .bind(i64::from(height))
    .bind(bytes as i64)
    .bind(now.millis())
    .fetch_one(&mut *tx)
    .await?;
    let picture = from_row(&row)?;
    tx.commit().await?;
    Ok(picture)
}

/// Takes a picture off its product; returns it, and whether any product
/// still shows the same file (if not, the caller may delete the file).
pub async fn remove(db: &Db, shop: ShopId, product: ProductId, id: i64) -> Result<(Picture, bool)> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(&format!(
        "select {COLUMNS} from product_pictures where id = $1 and product_id = $2 and shop_id = $3"
    ))
    .bind(id)
    .bind(product.get())
    .bind(shop.get())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let picture = from_row(&row)?;
    sqlx::query("delete from product_pictures where id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let still: i64 = col(
        &sqlx::query("select count(*) as n from product_pictures where sha256 = $1")
            .bind(&picture.sha256)
            .fetch_one(&mut *tx)
            .await?,
        "n",
    )?;
    tx.commit().await?;
    Ok((picture, still > 0))
}

/// Puts a picture first: it becomes the carousel card's picture.
pub async fn make_first(db: &Db, shop: ShopId, product: ProductId, id: i64) -> Result<()> {
    let done = sqlx::query(
        "update product_pictures set position = (select coalesce(min(position), 0) - 1 from product_pictures where product_id = $1) \
         where id = $2 and product_id = $1 and shop_id = $3",
    )
    .bind(product.get())
    .bind(id)
    .bind(shop.get())
    .execute(&db.writer)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Whether any product shows this file.
pub async fn is_shown(db: &Db, sha256: &str) -> Result<bool> {
    let n: i64 = col(
        &sqlx::query("select count(*) as n from product_pictures where sha256 = $1")
            .bind(sha256)
            .fetch_one(&db.pool)
            .await?,
        "n",
    )?;
    Ok(n > 0)
}
