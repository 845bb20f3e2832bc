//! Turning untrusted bytes into a checked slip: sniff the format from the
//! bytes, decode under explicit limits (a decompression bomb is refused from
//! its header), respect EXIF orientation, hash, thumbnail, perceptual hash
//! and read the slip's verification QR. Pure CPU work: run it on a blocking
//! thread.

use super::slip_qr::{self, SlipQr};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// Why a picture cannot be used. `as_str` is the template key the customer's
/// message is rendered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("not an image")]
    NotAnImage,
    #[error("the image is truncated")]
    Truncated,
    #[error("the file is too large")]
    TooLarge,
    #[error("the image has too many pixels")]
    TooManyPixels,
    #[error("a sticker or animation, not a photo")]
    Sticker,
    #[error("a PDF, not a photo")]
    Pdf,
    #[error("unsupported image format (send a JPEG or PNG)")]
    UnsupportedFormat,
    #[error("the attachment link expired")]
    Expired,
    #[error("the attachment could not be downloaded")]
    FetchFailed,
}

impl Problem {
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::NotAnImage => "not_an_image",
            Problem::Truncated => "truncated",
            Problem::TooLarge => "too_large",
            Problem::TooManyPixels => "too_many_pixels",
            Problem::Sticker => "sticker",
            Problem::Pdf => "pdf",
            Problem::UnsupportedFormat => "unsupported_format",
            Problem::Expired => "expired",
            Problem::FetchFailed => "fetch_failed",
        }
    }
}

/// Bounds on what one slip may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_side: u32,
    pub max_pixels: u64,
    /// Decoder allocation budget (the output buffer counts).
    pub max_alloc: u64,
}

pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: DEFAULT_MAX_BYTES,
            max_side: 10_000,
            // 24 MP: twice a 12 MP phone photo; 72 MiB as RGB.
            max_pixels: 24_000_000,
            max_alloc: 128 * 1024 * 1024,
        }
    }
}

/// The format decided from the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Jpeg,
    Png,
    Webp,
    AnimatedWebp,
    Gif,
    Pdf,
    Heif,
    OtherImage,
    Unknown,
}

pub fn sniff(b: &[u8]) -> Sniffed {
    let at = |i: usize, m: &[u8]| b.get(i..i + m.len()) == Some(m);
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        Sniffed::Jpeg
    } else if at(0, b"\x89PNG\r\n\x1a\n") {
        Sniffed::Png
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        // VP8X with the animation flag, or an ANIM chunk near the start.
        let animated = (at(12, b"VP8X") && b.get(20).is_some_and(|f| f & 0x02 != 0))
            || b[..b.len().min(256)].windows(4).any(|w| w == b"ANIM");
        if animated {
            Sniffed::AnimatedWebp
        } else {
            Sniffed::Webp
        }
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Sniffed::Gif
    } else if at(0, b"%PDF-") {
        Sniffed::Pdf
    } else if at(4, b"ftyp") {
        match b.get(8..12) {
            Some(b"heic" | b"heix" | b"hevc" | b"hevx" | b"mif1" | b"msf1" | b"avif" | b"avis") => {
                Sniffed::Heif
            }
            _ => Sniffed::Unknown,
        }
    } else if at(0, b"BM") || at(0, b"II*\0") || at(0, b"MM\0*") || at(0, &[0, 0, 1, 0]) {
        Sniffed::OtherImage
    } else {
        Sniffed::Unknown
    }
}

/// What the QR scan found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QrFinding {
    pub qr: SlipQr,
    /// The decoded text (at most 200 characters), for the seller.
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Analysis {
    pub sha256: String,
    pub format: &'static str,
    pub bytes: usize,
    /// After EXIF orientation.
    pub width: u32,
    pub height: u32,
    pub orientation_applied: bool,
    pub thumb_jpeg: Vec<u8>,
    /// 64-bit difference hash, 16 hex digits. A hint only.
    pub phash: String,
    /// `None`: no QR code found at all.
    pub qr: Option<QrFinding>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::clock::hex(&Sha256::digest(bytes))
}

/// Checks and analyses one picture.
pub fn analyze(bytes: &[u8], limits: &Limits) -> Result<Analysis, Problem> {
    let (format, orientation_applied, img) = decode(bytes, limits)?;
    // One fast box-filter downscale of the full image; the thumbnail and the
    // first QR pass both start from it.
    let medium_owned;
    let medium = if img.width().max(img.height()) > FIRST_PASS_SIDE {
        medium_owned = img.thumbnail(FIRST_PASS_SIDE, FIRST_PASS_SIDE);
        &medium_owned
    } else {
        &img
    };
    let thumb_owned;
    let thumb = if medium.width() > THUMB_WIDTH {
        thumb_owned = medium.thumbnail(THUMB_WIDTH, THUMB_WIDTH * 3);
        &thumb_owned
    } else {
        medium
    };
    let thumb_jpeg = encode_jpeg(thumb, 80).map_err(|_| Problem::NotAnImage)?;
    let phash = dhash(thumb);
    let qr = scan_qr_from(&img, medium);
    Ok(Analysis {
        sha256: sha256_hex(bytes),
        format,
        bytes: bytes.len(),
        width: img.width(),
        height: img.height(),
        orientation_applied,
        thumb_jpeg,
        phash,
        qr,
    })
}

pub const THUMB_WIDTH: u32 = 480;

/// Sniffs and decodes under `limits`; EXIF orientation applied.
pub fn decode(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(&'static str, bool, DynamicImage), Problem> {
    if bytes.len() > limits.max_bytes {
        return Err(Problem::TooLarge);
    }
    let (format, name) = match sniff(bytes) {
        Sniffed::Jpeg => (ImageFormat::Jpeg, "jpeg"),
        Sniffed::Png => (ImageFormat::Png, "png"),
        Sniffed::Webp => (ImageFormat::WebP, "webp"),
        Sniffed::AnimatedWebp | Sniffed::Gif => return Err(Problem::Sticker),
        Sniffed::Pdf => return Err(Problem::Pdf),
        Sniffed::Heif | Sniffed::OtherImage => return Err(Problem::UnsupportedFormat),
        Sniffed::Unknown => return Err(Problem::NotAnImage),
    };
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(limits.max_alloc);
    let reader = |l: image::Limits| {
        let mut r = ImageReader::with_format(Cursor::new(bytes), format);
        r.limits(l);
        r
    };
    let map_err = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => Problem::TooManyPixels,
        _ if looks_truncated(format, bytes) => Problem::Truncated,
        image::ImageError::IoError(ref io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Problem::Truncated
        }
        _ => Problem::NotAnImage,
    };
    // Header only: a bomb is refused here, before any pixel is allocated.
    let (w, h) = reader(l.clone()).into_dimensions().map_err(map_err)?;
    if u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(Problem::TooManyPixels);
    }
    if w == 0 || h == 0 {
        return Err(Problem::NotAnImage);
    }
    if looks_truncated(format, bytes) {
        return Err(Problem::Truncated);
    }
    let mut decoder = reader(l).into_decoder().map_err(map_err)?;
    // `from_decoder` does not charge the output buffer to max_alloc: do it.
    if decoder.total_bytes() > limits.max_alloc {
        return Err(Problem::TooManyPixels);
    }
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(map_err)?;
    let mut applied = false;
    if let Some(o) = orientation
        && o != image::metadata::Orientation::NoTransforms
    {
        img.apply_orientation(o);
        applied = true;
    }
    Ok((name, applied, img))
}

/// A cut-off file: no end marker where the format puts one.
fn looks_truncated(format: ImageFormat, b: &[u8]) -> bool {
    match format {
        ImageFormat::Jpeg => !jpeg_has_eoi_after_scan(b),
        ImageFormat::Png => !b.windows(4).rev().take(4096).any(|w| w == b"IEND"),
        ImageFormat::WebP => {
            let declared = b
                .get(4..8)
                .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
                .unwrap_or(usize::MAX);
            declared.saturating_add(8) > b.len()
        }
        _ => false,
    }
}

/// Walks the marker segments to the first start-of-scan of the main image
/// (an EXIF thumbnail lives inside APP1 and is skipped with it), then looks
/// for the end-of-image marker after it. Entropy-coded data never contains
/// FF D9, so a file cut anywhere in the scan has none.
fn jpeg_has_eoi_after_scan(b: &[u8]) -> bool {
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return false;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if marker == 0xDA {
            let start = (i + 2 + len).min(b.len());
            return b[start..].windows(2).any(|w| w == [0xFF, 0xD9]);
        }
        i += 2 + len;
    }
    false
}

pub fn encode_jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.to_rgb8().write_with_encoder(enc)?;
    Ok(out)
}

/// Difference hash: 9×8 grey, one bit per horizontal gradient.
pub fn dhash(img: &DynamicImage) -> String {
    let small =
        image::imageops::resize(&img.to_luma8(), 9, 8, image::imageops::FilterType::Triangle);
    let mut bits: u64 = 0;
    for y in 0..8 {
        for x in 0..8 {
            let left = small.get_pixel(x, y).0[0];
            let right = small.get_pixel(x + 1, y).0[0];
            bits = (bits << 1) | u64::from(left > right);
        }
    }
    format!("{bits:016x}")
}

/// Hamming distance of two stored hashes; `None` if either is not one.
pub fn hash_distance(a: &str, b: &str) -> Option<u32> {
    let a = u64::from_str_radix(a, 16).ok()?;
    let b = u64::from_str_radix(b, 16).ok()?;
    Some((a ^ b).count_ones())
}

/// Long side for the first, cheaper QR pass. The slip's mini QR stays
/// readable at this scale on photos and screenshots.
const FIRST_PASS_SIDE: u32 = 1600;
/// Long side for the second QR pass (full resolution up to this).
const SECOND_PASS_SIDE: u32 = 2800;

/// Reads QR codes: a downscaled pass, then full resolution if nothing
/// usable was read. A slip QR wins over any other code on the picture.
pub fn scan_qr(img: &DynamicImage) -> Option<QrFinding> {
    if img.width().max(img.height()) > FIRST_PASS_SIDE {
        let medium = img.thumbnail(FIRST_PASS_SIDE, FIRST_PASS_SIDE);
        scan_qr_from(img, &medium)
    } else {
        scan_qr_from(img, img)
    }
}

/// As [`scan_qr`], with the downscaled image already made (`medium` may be
/// `full` itself for a small picture).
fn scan_qr_from(full: &DynamicImage, medium: &DynamicImage) -> Option<QrFinding> {
    let mut best: Option<QrFinding> = None;
    if let Some(found) = scan_gray(medium.to_luma8(), &mut best) {
        return Some(found);
    }
    if full.width() > medium.width() {
        // Second pass with more detail for a small QR, capped in size.
        let gray = full.to_luma8();
        let (w, h) = gray.dimensions();
        let gray = if w.max(h) > SECOND_PASS_SIDE {
            let scale = f64::from(SECOND_PASS_SIDE) / f64::from(w.max(h));
            image::imageops::thumbnail(
                &gray,
                ((f64::from(w) * scale) as u32).max(1),
                ((f64::from(h) * scale) as u32).max(1),
            )
        } else {
            gray
        };
        if let Some(found) = scan_gray(gray, &mut best) {
            return Some(found);
        }
    }
    best
}

/// Scans one grey image; returns a slip QR at once, else keeps the most
/// telling other finding in `best`.
fn scan_gray(gray: image::GrayImage, best: &mut Option<QrFinding>) -> Option<QrFinding> {
    let rank = |f: &QrFinding| match f.qr {
        SlipQr::Slip { .. } => 4,
        SlipQr::BadChecksum => 3,
        SlipQr::PaymentQr => 2,
        SlipQr::Malformed if !f.text.is_empty() => 1,
        SlipQr::Malformed => 0,
    };
    let mut prepared = rqrr::PreparedImage::prepare(gray);
    for grid in prepared.detect_grids() {
        let finding = match grid.decode() {
            Ok((_, text)) => QrFinding {
                qr: slip_qr::classify(&text),
                text: text.chars().take(200).collect(),
            },
            Err(_) => QrFinding {
                qr: SlipQr::Malformed,
                text: String::new(),
            },
        };
        if matches!(finding.qr, SlipQr::Slip { .. }) {
            return Some(finding);
        }
        if best.as_ref().is_none_or(|b| rank(&finding) > rank(b)) {
            *best = Some(finding);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_goes_by_bytes() {
        assert_eq!(sniff(b"<html><body>hi</body></html>"), Sniffed::Unknown);
        assert_eq!(sniff(b"%PDF-1.7\n..."), Sniffed::Pdf);
        assert_eq!(sniff(b"GIF89a......"), Sniffed::Gif);
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), Sniffed::Heif);
        assert_eq!(sniff(&[]), Sniffed::Unknown);
    }

    #[test]
    fn hashes_compare() {
        assert_eq!(hash_distance("ff00", "ff01"), Some(1));
        assert_eq!(hash_distance("zz", "00"), None);
    }

    #[test]
    fn garbage_never_panics() {
        let l = Limits::default();
        for n in 0..64usize {
            let mut b = vec![0xFF, 0xD8, 0xFF];
            b.extend((0..n * 7).map(|i| (i * 31 % 251) as u8));
            let _ = analyze(&b, &l);
            let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
            p.extend((0..n * 5).map(|i| (i * 17 % 253) as u8));
            let _ = analyze(&p, &l);
        }
    }
}
