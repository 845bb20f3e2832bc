//! Slip pipeline benchmark: a 12-megapixel JPEG photo of a bank slip is
//! sniffed, decoded under limits, thumbnailed, hashed (SHA-256 and the
//! perceptual hash) and QR-scanned — the whole `slips::analyze::analyze`.
//!
//! Run on one core, as in docs/benchmarks.md:
//!     taskset -c 0 cargo bench --bench slip_pipeline
//! Prints per-iteration times and the process's peak memory.

use chatbill::slips::analyze::{self, Limits};
use chatbill::slips::slip_qr::{self, SlipQr};
use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let n = CURRENT.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(n, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        CURRENT.fetch_sub(l.size(), Ordering::Relaxed);
    }
}
#[global_allocator]
static ALLOC: Counting = Counting;

struct Rng(u64);
impl Rng {
    fn byte(&mut self) -> u8 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 24) as u8
    }
}

/// A 1080×1920 slip screenshot with the verification QR.
fn slip(text: &str) -> RgbImage {
    let (w, h) = (1080u32, 1920u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([250, 250, 250]));
    for y in 0..260 {
        for x in 0..w {
            img.put_pixel(x, y, Rgb([20, 140, 60]));
        }
    }
    for (i, y) in (340..1300).step_by(70).enumerate() {
        let len = 300 + (i as u32 * 137) % 600;
        for yy in y..y + 28 {
            for x in 80..(80 + len).min(w - 80) {
                if (x / 9) % 5 != 4 {
                    img.put_pixel(x, yy, Rgb([40, 40, 40]));
                }
            }
        }
    }
    let code = qrcode::QrCode::new(text.as_bytes()).expect("QR");
    let qr: GrayImage = code.render::<Luma<u8>>().module_dimensions(9, 9).build();
    let (ox, oy) = (w - qr.width() - 90, h - qr.height() - 160);
    for (x, y, p) in qr.enumerate_pixels() {
        let v = p.0[0];
        img.put_pixel(ox + x, oy + y, Rgb([v, v, v]));
    }
    img
}

/// A 3000×4000 (12 MP) phone photo of the slip: noisy background, the slip
/// filling most of the frame, sensor noise, JPEG q90.
fn photo_12mp(text: &str) -> Vec<u8> {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let inner = image::imageops::resize(
        &slip(text),
        2400,
        4000 - 320,
        image::imageops::FilterType::Triangle,
    );
    let mut bg = RgbImage::from_fn(3000, 4000, |x, y| {
        let n = (rng.byte() / 6) as u32;
        Rgb([
            (60 + (x / 40) + n) as u8,
            (50 + (y / 50) + n) as u8,
            (40 + n) as u8,
        ])
    });
    image::imageops::overlay(&mut bg, &inner, 300, 160);
    for p in bg.pixels_mut() {
        let n = (rng.byte() % 13) as i16 - 6;
        for c in p.0.iter_mut() {
            *c = (*c as i16 + n).clamp(0, 255) as u8;
        }
    }
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    DynamicImage::ImageRgb8(bg)
        .write_with_encoder(enc)
        .expect("encode");
    out
}

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let text = slip_qr::build("004", "016123142530ABC01234").expect("slip QR");
    let bytes = photo_12mp(&text);
    println!(
        "input: 3000x4000 JPEG (12.0 MP), {:.2} MiB",
        bytes.len() as f64 / 1048576.0
    );
    let limits = Limits::default();
    let baseline_heap = CURRENT.load(Ordering::Relaxed);
    let rss_before = vm_hwm_kib().unwrap_or(0);
    PEAK.store(baseline_heap, Ordering::Relaxed);
    let iterations = 15;
    let mut times = Vec::with_capacity(iterations);
    for i in 0..=iterations {
        let t = Instant::now();
        let a = analyze::analyze(&bytes, &limits).expect("analysis");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        match a.qr.map(|q| q.qr) {
            Some(SlipQr::Slip { bank, trans_ref }) => {
                assert_eq!(
                    (bank.as_str(), trans_ref.as_str()),
                    ("004", "016123142530ABC01234")
                );
            }
            other => panic!("slip QR not read: {other:?}"),
        }
        if i > 0 {
            // The first run warms caches and is not counted.
            times.push(ms);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    let peak_heap = PEAK.load(Ordering::Relaxed).saturating_sub(baseline_heap);
    println!(
        "analyze (sniff + decode with limits + EXIF orientation + SHA-256 + 480 px thumbnail + dHash + QR scan), {iterations} runs:"
    );
    println!(
        "  min {:.1} ms, median {:.1} ms, max {:.1} ms",
        times[0],
        median,
        times[times.len() - 1]
    );
    println!(
        "  peak heap during analysis: {:.1} MiB (beyond the input bytes)",
        peak_heap as f64 / 1048576.0
    );
    println!(
        "  process peak RSS (VmHWM): {:.1} MiB (before the runs: {:.1} MiB, includes generating the input)",
        vm_hwm_kib().unwrap_or(0) as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
    // Where the time goes (medians of the same number of runs).
    let mut stages: Vec<(&str, Vec<f64>)> = vec![
        ("sniff + decode with limits", Vec::new()),
        ("SHA-256", Vec::new()),
        (
            "downscale to 1600 px + 480 px thumbnail + JPEG + dHash",
            Vec::new(),
        ),
        ("QR scan (first pass at 1600 px)", Vec::new()),
    ];
    for _ in 0..iterations {
        let t = Instant::now();
        let (_, _, img) = analyze::decode(&bytes, &limits).expect("decode");
        stages[0].1.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let _ = analyze::sha256_hex(&bytes);
        stages[1].1.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let medium = img.thumbnail(1600, 1600);
        let thumb = medium.thumbnail(analyze::THUMB_WIDTH, analyze::THUMB_WIDTH * 3);
        let _ = analyze::encode_jpeg(&thumb, 80).expect("thumb");
        let _ = analyze::dhash(&thumb);
        stages[2].1.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let mut prepared = rqrr::PreparedImage::prepare(medium.to_luma8());
        let n = prepared.detect_grids().len();
        assert!(n >= 1);
        stages[3].1.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("  stages (median):");
    for (name, mut v) in stages {
        v.sort_by(|a, b| a.total_cmp(b));
        println!("    {name}: {:.1} ms", v[v.len() / 2]);
    }
    // Worst case: a 12 MP photo with no QR at all, so the second,
    // full-resolution QR pass runs too.
    let no_qr = {
        let mut rng = Rng(0x0dd_ba11);
        let img = RgbImage::from_fn(3000, 4000, |x, y| {
            let n = (rng.byte() / 4) as u32;
            Rgb([
                ((x * 255 / 3000) + n).min(255) as u8,
                ((y * 255 / 4000) + n).min(255) as u8,
                (80 + n) as u8,
            ])
        });
        let mut out = Vec::new();
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        DynamicImage::ImageRgb8(img)
            .write_with_encoder(enc)
            .expect("encode");
        out
    };
    let mut worst = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let a = analyze::analyze(&no_qr, &limits).expect("analysis");
        assert!(a.qr.is_none());
        worst.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    worst.sort_by(|a, b| a.total_cmp(b));
    println!(
        "  worst case, 12 MP photo without a QR (both QR passes), 5 runs: median {:.1} ms",
        worst[2]
    );
    let ok = median < 400.0 && peak_heap < 200 * 1024 * 1024;
    println!(
        "  target: median < 400 ms and peak < 200 MiB: {}",
        if ok { "met" } else { "NOT met" }
    );
}
