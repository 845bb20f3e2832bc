//! A seller's product pictures: an upload is checked before any work,
//! decoded and fitted off the async threads, written to the media folder,
//! then recorded; a refusal at any step leaves nothing behind.

use super::AppState;
use crate::domain::{ProductId, ShopId};
use crate::slips::{Problem, analyze::Limits, media, picture};
use crate::store::StoreError;
use crate::store::pictures::{self, Picture};

#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("no such product")]
    NotFound,
    /// The file is not a picture we can use, in words.
    #[error("{0}")]
    Refused(String),
    /// A rule of the product (at most 10 pictures).
    #[error("{0}")]
    Conflict(String),
    #[error("the picture could not be saved: {0}")]
    Io(std::io::Error),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for PictureError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => PictureError::NotFound,
            StoreError::Conflict(m) => PictureError::Conflict(m),
            e => PictureError::Store(e),
        }
    }
}

/// The reason a seller reads when a file is refused.
fn in_words(p: Problem) -> String {
    match p {
        Problem::TooLarge => format!(
            "the file is over the size limit ({} MiB)",
            crate::slips::analyze::DEFAULT_MAX_BYTES / (1024 * 1024)
        ),
        Problem::TooManyPixels => "the picture has too many pixels (at most 24 megapixels)".into(),
        Problem::Sticker => "an animated picture cannot be a product picture".into(),
        Problem::Pdf => "a PDF is not a picture: upload a JPEG, PNG or WebP".into(),
        Problem::UnsupportedFormat => {
            "this format is not supported: upload a JPEG, PNG or WebP".into()
        }
        Problem::Truncated => "the file is cut off: upload it again".into(),
        _ => "the file is not a picture: upload a JPEG, PNG or WebP".into(),
    }
}

pub async fn upload(
    state: &AppState,
    shop: ShopId,
    product: ProductId,
    bytes: Vec<u8>,
) -> Result<Picture, PictureError> {
    pictures::room_for_one(&state.db, shop, product).await?;
    let prepared =
        tokio::task::spawn_blocking(move || picture::prepare(&bytes, &Limits::default()))
            .await
            .map_err(|_| PictureError::Refused("the picture could not be read".into()))?
            .map_err(|p| PictureError::Refused(in_words(p)))?;
    let path = media::product_picture_path(&state.config.media_dir, &prepared.sha256)
        .ok_or_else(|| PictureError::Refused("the picture could not be named".into()))?;
    media::write_once(&path, &prepared.jpeg)
        .await
        .map_err(PictureError::Io)?;
    let added = pictures::add(
        &state.db,
        shop,
        product,
        &prepared.sha256,
        (prepared.width, prepared.height, prepared.jpeg.len()),
        crate::clock::now(),
    )
    .await;
    match added {
        Ok(p) => {
            state.shop_views.forget(shop);
            Ok(p)
        }
        Err(e) => {
            // Refused at the last step (the product went, or another upload
            // took the last place): keep no file nothing shows.
            if !pictures::is_shown(&state.db, &prepared.sha256)
                .await
                .unwrap_or(true)
            {
                let _ = tokio::fs::remove_file(&path).await;
            }
            Err(e.into())
        }
    }
}

pub async fn remove(
    state: &AppState,
    shop: ShopId,
    product: ProductId,
    id: i64,
) -> Result<(), PictureError> {
    let (picture, still_shown) = pictures::remove(&state.db, shop, product, id).await?;
    if !still_shown
        && let Some(path) = media::product_picture_path(&state.config.media_dir, &picture.sha256)
    {
        let _ = tokio::fs::remove_file(&path).await;
    }
    state.shop_views.forget(shop);
    Ok(())
}

pub async fn make_first(
    state: &AppState,
    shop: ShopId,
    product: ProductId,
    id: i64,
) -> Result<(), PictureError> {
    pictures::make_first(&state.db, shop, product, id).await?;
    state.shop_views.forget(shop);
    Ok(())
}
