//! The media store on disk (`CHATBILL_MEDIA_DIR`): slip originals,
//! content-addressed by SHA-256, and their thumbnails under `slips/` (served
//! to the seller only, through the authenticated admin API); payment QR
//! PNGs under `public/qr/` with unguessable names.

use crate::config::Config;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Original,
    Thumbnail,
}

/// A stored file ready to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub path: PathBuf,
    pub content_type: &'static str,
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn slip_dir(media_dir: &Path, sha256: &str) -> PathBuf {
    media_dir.join("slips").join(&sha256[..2])
}

pub fn original_path(media_dir: &Path, sha256: &str) -> Option<PathBuf> {
    is_sha256_hex(sha256).then(|| slip_dir(media_dir, sha256).join(format!("{sha256}.orig")))
}

pub fn thumb_path(media_dir: &Path, sha256: &str) -> Option<PathBuf> {
    is_sha256_hex(sha256).then(|| slip_dir(media_dir, sha256).join(format!("{sha256}.thumb.jpg")))
}

/// Writes `bytes` to `path` unless it exists (content-addressed: same name,
/// same bytes), through a temporary file and a rename so a reader never
/// sees half a file.
pub async fn write_once(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if tokio::fs::try_exists(path).await.unwrap_or(false) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let tmp = path.with_extension(format!(
        "tmp-{}",
        crate::clock::hex(&crate::clock::random_bytes::<6>())
    ));
    tokio::fs::write(&tmp, bytes).await?;
    match tokio::fs::rename(&tmp, path).await {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Err(e)
        }
    }
}

/// Stores a slip's original and thumbnail; returns their paths relative to
/// the media dir (what the payments row keeps).
pub async fn store_slip(
    config: &Config,
    sha256: &str,
    original: &[u8],
    thumb_jpeg: &[u8],
) -> std::io::Result<(String, String)> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad sha256");
    let orig = original_path(&config.media_dir, sha256).ok_or_else(bad)?;
    let thumb = thumb_path(&config.media_dir, sha256).ok_or_else(bad)?;
    write_once(&orig, original).await?;
    write_once(&thumb, thumb_jpeg).await?;
    let rel = |p: &Path| {
        p.strip_prefix(&config.media_dir)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    };
    Ok((rel(&orig), rel(&thumb)))
}

/// The file behind a slip's media, for the admin API to stream after it
/// has checked the seller's token and that the payment belongs to the shop.
/// `None` for a malformed hash or a file that is not there.
pub fn open(config: &Config, sha256: &str, kind: MediaKind) -> Option<MediaFile> {
    let path = match kind {
        MediaKind::Original => original_path(&config.media_dir, sha256)?,
        MediaKind::Thumbnail => thumb_path(&config.media_dir, sha256)?,
    };
    let content_type = match kind {
        MediaKind::Thumbnail => "image/jpeg",
        MediaKind::Original => {
            use std::io::Read;
            let mut head = [0u8; 16];
            let n = std::fs::File::open(&path).ok()?.read(&mut head).ok()?;
            match super::analyze::sniff(&head[..n]) {
                super::analyze::Sniffed::Jpeg => "image/jpeg",
                super::analyze::Sniffed::Png => "image/png",
                super::analyze::Sniffed::Webp => "image/webp",
                _ => "application/octet-stream",
            }
        }
    };
    path.is_file().then_some(MediaFile { path, content_type })
}

/// `public/qr/{name}.png` for a name of 32 lower-case hex digits.
pub fn public_qr_path(media_dir: &Path, name: &str) -> Option<PathBuf> {
    let ok = name.len() == 32 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    ok.then(|| {
        media_dir
            .join("public")
            .join("qr")
            .join(format!("{name}.png"))
    })
}

/// `public/products/ab/{sha256}.jpg`: a product picture, named by its
/// content so it can be cached for ever.
pub fn product_picture_path(media_dir: &Path, sha256: &str) -> Option<PathBuf> {
    is_sha256_hex(sha256).then(|| {
        media_dir
            .join("public")
            .join("products")
            .join(&sha256[..2])
            .join(format!("{sha256}.jpg"))
    })
}

/// Where an uploaded slip waits for the worker; only hex names are valid.
pub fn upload_path(media_dir: &Path, name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .take(64)
        .collect();
    media_dir.join("uploads").join(format!("{safe}.bin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        let d = Path::new("/m");
        assert!(original_path(d, "../etc/passwd").is_none());
        assert!(original_path(d, &"A".repeat(64)).is_none());
        assert_eq!(
            original_path(d, &"ab".repeat(32)).unwrap(),
            Path::new("/m/slips/ab").join(format!("{}.orig", "ab".repeat(32)))
        );
        assert!(public_qr_path(d, "..%2f").is_none());
        assert!(public_qr_path(d, &"0".repeat(32)).is_some());
    }
}
