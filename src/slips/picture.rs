//! Product pictures: an uploaded file is decoded under the same limits as
//! a slip, turned upright, fitted into [`MAX_SIDE`] and re-encoded as JPEG.
//! Re-encoding drops whatever else the file carried (EXIF, GPS, a payload
//! appended after the image), so only pixels are ever served.

use super::analyze::{self, Limits, Problem};

/// Messenger's cards are at most about 1,200 px wide on any screen.
pub const MAX_SIDE: u32 = 1200;
const QUALITY: u8 = 85;

/// What is stored and served for one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub jpeg: Vec<u8>,
    pub sha256: String,
    pub width: u32,
    pub height: u32,
}

/// CPU-heavy: call it off the async threads.
pub fn prepare(bytes: &[u8], limits: &Limits) -> Result<Prepared, Problem> {
    let (_, _, img) = analyze::decode(bytes, limits)?;
    let img = if img.width() > MAX_SIDE || img.height() > MAX_SIDE {
        img.thumbnail(MAX_SIDE, MAX_SIDE)
    } else {
        img
    };
    let jpeg = analyze::encode_jpeg(&img, QUALITY).map_err(|_| Problem::NotAnImage)?;
    Ok(Prepared {
        sha256: analyze::sha256_hex(&jpeg),
        width: img.width(),
        height: img.height(),
        jpeg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, ImageFormat, RgbImage};
    use std::io::Cursor;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        }));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap_or_default();
        out.into_inner()
    }

    #[test]
    fn a_large_photo_is_fitted_and_re_encoded_as_jpeg() {
        let p = prepare(&png(2400, 1800), &Limits::default()).expect("prepared");
        assert_eq!((p.width, p.height), (1200, 900));
        assert_eq!(analyze::sniff(&p.jpeg), analyze::Sniffed::Jpeg);
        assert_eq!(p.sha256, analyze::sha256_hex(&p.jpeg));
    }

    #[test]
    fn a_small_picture_keeps_its_size() {
        let p = prepare(&png(300, 200), &Limits::default()).expect("prepared");
        assert_eq!((p.width, p.height), (300, 200));
    }

    #[test]
    fn what_is_not_a_picture_is_refused_with_the_slip_reasons() {
        assert_eq!(
            prepare(b"hello, not an image", &Limits::default()),
            Err(Problem::NotAnImage)
        );
        let small = Limits {
            max_bytes: 100,
            ..Limits::default()
        };
        assert_eq!(prepare(&png(300, 200), &small), Err(Problem::TooLarge));
        let mut cut = png(300, 200);
        cut.truncate(cut.len() / 2);
        assert_eq!(prepare(&cut, &Limits::default()), Err(Problem::Truncated));
    }
}
