//! The slip test corpus, generated: photo-like JPEGs, a rotated one (EXIF),
//! slips carrying a verification QR and their re-encoded / resized /
//! re-photographed variants, a PNG decompression bomb, truncated files and
//! non-images. Nothing binary lives in the repository.
#![allow(dead_code)]

use image::{DynamicImage, GrayImage, ImageEncoder, Luma, Rgb, RgbImage};

/// Deterministic pseudo-random numbers (xorshift).
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn byte(&mut self) -> u8 {
        (self.next() >> 24) as u8
    }
}

pub fn jpeg(img: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.to_rgb8().write_with_encoder(enc).unwrap();
    out
}

pub fn png(img: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A textured, photo-like picture (gradients and noise compress like a photo).
pub fn photo(w: u32, h: u32, seed: u64) -> DynamicImage {
    let mut rng = Rng::new(seed);
    let img = RgbImage::from_fn(w, h, |x, y| {
        let n = rng.byte() / 4;
        Rgb([
            ((x * 255 / w.max(1)) as u8).saturating_add(n),
            ((y * 255 / h.max(1)) as u8).saturating_add(n),
            (((x + y) * 127 / (w + h).max(1)) as u8).saturating_add(n),
        ])
    });
    DynamicImage::ImageRgb8(img)
}

pub fn photo_jpeg(w: u32, h: u32, seed: u64) -> Vec<u8> {
    jpeg(&photo(w, h, seed), 85)
}

/// A JPEG carrying EXIF orientation `o` (6 = rotate 90° clockwise).
pub fn jpeg_with_orientation(img: &DynamicImage, o: u16) -> Vec<u8> {
    // TIFF little-endian header, one IFD with one SHORT entry 0x0112.
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&o.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    enc.set_exif_metadata(tiff).unwrap();
    let rgb = img.to_rgb8();
    enc.write_image(
        rgb.as_raw(),
        rgb.width(),
        rgb.height(),
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    out
}

/// The QR matrix of `text` as a grey image, `module` pixels per module.
pub fn qr_image(text: &str, module: u32) -> GrayImage {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let w = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4;
    let side = (w + 2 * quiet) * module;
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / module, y / module);
        if mx < quiet || my < quiet || mx >= w + quiet || my >= w + quiet {
            return Luma([255]);
        }
        let i = ((my - quiet) * w + (mx - quiet)) as usize;
        if colors[i] == qrcode::Color::Dark {
            Luma([20])
        } else {
            Luma([255])
        }
    })
}

/// A bank-app slip screenshot: header band, text-like bars, the amount, and
/// the verification QR in the lower right.
pub fn slip(qr_text: &str, seed: u64) -> DynamicImage {
    let (w, h) = (1080u32, 1920u32);
    let mut rng = Rng::new(seed);
    let mut img = RgbImage::from_pixel(w, h, Rgb([250, 250, 250]));
    for y in 0..260 {
        for x in 0..w {
            img.put_pixel(x, y, Rgb([20, 140, 60]));
        }
    }
    // "Text": rows of dark bars of varying length.
    let mut y = 340;
    while y < 1300 {
        let len = 300 + (rng.next() % 600) as u32;
        for yy in y..y + 28 {
            for x in 80..(80 + len).min(w - 80) {
                if (x / 9) % 5 != 4 {
                    img.put_pixel(x, yy, Rgb([40, 40, 40]));
                }
            }
        }
        y += 70;
    }
    let qr = qr_image(qr_text, 9);
    let (ox, oy) = (w - qr.width() - 90, h - qr.height() - 160);
    for (x, y, p) in qr.enumerate_pixels() {
        let v = p.0[0];
        img.put_pixel(ox + x, oy + y, Rgb([v, v, v]));
    }
    DynamicImage::ImageRgb8(img)
}

/// The slip as a phone photo of a screen: smaller, on a noisy background,
/// slightly rotated by a quarter turn's worth of nothing (kept upright),
/// blurred, noisy, re-compressed.
pub fn rephotographed(slip: &DynamicImage, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let inner = slip
        .resize(880, 1560, image::imageops::FilterType::Triangle)
        .to_rgb8();
    let (bw, bh) = (1200u32, 1900u32);
    let mut bg = RgbImage::from_fn(bw, bh, |_, _| {
        let n = 90 + rng.byte() / 8;
        Rgb([n, n - 10, n - 20])
    });
    image::imageops::overlay(&mut bg, &inner, 150, 160);
    let blurred = image::imageops::blur(&bg, 1.2);
    let noisy = RgbImage::from_fn(bw, bh, |x, y| {
        let p = blurred.get_pixel(x, y).0;
        let n = (rng.byte() % 17) as i16 - 8;
        let f = |c: u8| (c as i16 + n).clamp(0, 255) as u8;
        Rgb([f(p[0]), f(p[1]), f(p[2])])
    });
    jpeg(&DynamicImage::ImageRgb8(noisy), 70)
}

/// A PNG that declares `w`×`h` grey pixels and carries a real compressed
/// stream for its first rows: the IHDR of a small encoded image, patched.
pub fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let small = DynamicImage::ImageLuma8(GrayImage::new(w, 64));
    let mut bytes = png(&small);
    // IHDR data starts at 16: width(4) height(4) ...; CRC after 13 bytes.
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub fn truncated(bytes: &[u8], keep_percent: usize) -> Vec<u8> {
    bytes[..bytes.len() * keep_percent / 100].to_vec()
}

pub fn html() -> Vec<u8> {
    b"<!doctype html><html><body>Your session expired</body></html>".to_vec()
}

pub fn pdf() -> Vec<u8> {
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n".to_vec()
}

/// A one-frame GIF89a (what a sticker / GIF attachment looks like).
pub fn gif() -> Vec<u8> {
    let mut g = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
    g.extend_from_slice(
        b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
    );
    g
}

pub fn heic() -> Vec<u8> {
    let mut b = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    b.extend(std::iter::repeat_n(0u8, 200));
    b
}
