//! Slips and payment QR end to end: the download policy against a fake
//! attachment server on 127.0.0.1, the analysis over a generated corpus,
//! duplicate / re-used slip detection, the worker's outcome on the order and
//! the customer's messages, confirm / reject, and the public QR image route.
//! Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL.

use crate::common;
use crate::slips_support;

use axum::extract::{Path as AxPath, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chatbill::app::AppState;
use chatbill::app::slips::{self, SlipError};
use chatbill::domain::lifecycle::{Actor, PaymentStatus};
use chatbill::domain::order::Notice;
use chatbill::domain::{Currency, CustomerId, OrderId, Timestamp};
use chatbill::slips::analyze::{self, Limits, Problem};
use chatbill::slips::fetch::{self, FetchError, FetchPolicy};
use chatbill::slips::media::{self, MediaKind};
use chatbill::slips::slip_qr::{self, SlipQr};
use chatbill::startup::{self as server, Running};
use chatbill::store::catalog::{self, NewProduct, NewVariant};
use chatbill::store::orders::{self, NewOrder};
use chatbill::store::payments::{self, PaymentView};
use chatbill::store::shops::{self, PaymentQr, Shop, ShopSettings};
use chatbill::store::{Db, customers};
use common::{TestDb, fresh_db, now, test_config};
use slips_support as corpus;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ---------------------------------------------------------------------------
// Peak memory of the current thread (the analysis runs on the test thread in
// the memory tests, so other tests running at once do not count).

struct Counting;
thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let _ = CURRENT.try_with(|c| {
                let n = c.get() + l.size();
                c.set(n);
                let _ = PEAK.try_with(|p| p.set(p.get().max(n)));
            });
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        let _ = CURRENT.try_with(|c| c.set(c.get().saturating_sub(l.size())));
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            let _ = CURRENT.try_with(|c| {
                let n = c.get().saturating_sub(l.size()) + new;
                c.set(n);
                let _ = PEAK.try_with(|p| p.set(p.get().max(n)));
            });
        }
        q
    }
}
#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its result with the bytes it had allocated at most
/// on this thread beyond what was live before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, PEAK.with(Cell::get).saturating_sub(base))
}

const MIB: usize = 1024 * 1024;

// ---------------------------------------------------------------------------
// Corpus-level analysis (no database).

fn slip_text() -> String {
    slip_qr::build("004", "016123142530ABC01234").unwrap()
}

fn slip_ref_of(bytes: &[u8]) -> Option<(String, String)> {
    let a = analyze::analyze(bytes, &Limits::default()).ok()?;
    match a.qr?.qr {
        SlipQr::Slip { bank, trans_ref } => Some((bank, trans_ref)),
        _ => None,
    }
}

#[test]
fn photo_like_jpegs_of_several_sizes_decode_and_thumbnail() {
    for (w, h) in [(640, 480), (1080, 1920), (2000, 1500), (300, 200)] {
        let bytes = corpus::photo_jpeg(w, h, u64::from(w));
        let a = analyze::analyze(&bytes, &Limits::default()).expect("photo decodes");
        assert_eq!((a.width, a.height), (w, h));
        assert_eq!(a.format, "jpeg");
        assert_eq!(a.sha256, analyze::sha256_hex(&bytes));
        assert_eq!(a.phash.len(), 16);
        let thumb = image::load_from_memory(&a.thumb_jpeg).unwrap();
        assert_eq!(thumb.width(), w.min(analyze::THUMB_WIDTH));
        assert!(a.qr.is_none(), "no QR on a plain photo");
    }
}

#[test]
fn webp_and_png_are_accepted_too() {
    let img = corpus::photo(320, 240, 5);
    let mut webp = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut webp),
        image::ImageFormat::WebP,
    )
    .unwrap();
    let a = analyze::analyze(&webp, &Limits::default()).unwrap();
    assert_eq!((a.format, a.width, a.height), ("webp", 320, 240));
    let a = analyze::analyze(&corpus::png(&img), &Limits::default()).unwrap();
    assert_eq!(a.format, "png");
}

#[test]
fn every_truncation_is_refused_without_a_panic() {
    let slip = corpus::slip(&slip_text(), 8);
    for bytes in [corpus::jpeg(&slip, 80), corpus::png(&slip)] {
        for percent in (1..100).step_by(9) {
            let cut = corpus::truncated(&bytes, percent);
            let r = analyze::analyze(&cut, &Limits::default());
            assert!(
                matches!(r, Err(Problem::Truncated) | Err(Problem::NotAnImage)),
                "{percent}%: {:?}",
                r.map(|a| a.format)
            );
        }
    }
}

#[test]
fn exif_orientation_is_respected() {
    let upright = corpus::photo(400, 200, 7);
    let bytes = corpus::jpeg_with_orientation(&upright, 6);
    let a = analyze::analyze(&bytes, &Limits::default()).unwrap();
    assert!(a.orientation_applied);
    assert_eq!((a.width, a.height), (200, 400), "rotated a quarter turn");
    let thumb = image::load_from_memory(&a.thumb_jpeg).unwrap();
    assert!(thumb.height() > thumb.width());
}

#[test]
fn slip_qr_is_read_from_the_slip_and_from_its_variants() {
    let text = slip_text();
    let want = Some(("004".to_string(), "016123142530ABC01234".to_string()));
    let slip = corpus::slip(&text, 1);
    let original = corpus::png(&slip);
    assert_eq!(slip_ref_of(&original), want, "original PNG screenshot");
    let reencoded = corpus::jpeg(&slip, 60);
    assert_eq!(slip_ref_of(&reencoded), want, "re-encoded JPEG q60");
    let resized = corpus::jpeg(
        &slip.resize(648, 1152, image::imageops::FilterType::Triangle),
        75,
    );
    assert_eq!(slip_ref_of(&resized), want, "resized to 60 %");
    let photo = corpus::rephotographed(&slip, 9);
    assert_eq!(
        slip_ref_of(&photo),
        want,
        "re-photographed with blur and noise"
    );
    // Different bytes every time: only the QR reference ties them together.
    let shas: std::collections::HashSet<String> = [&original, &reencoded, &resized, &photo]
        .iter()
        .map(|b| analyze::sha256_hex(b))
        .collect();
    assert_eq!(shas.len(), 4);
}

#[test]
fn slip_qr_problems_are_told_apart() {
    // Wrong checksum.
    let bad = "0041000600000101030040220016123142530ABC012345102TH91048600";
    let a = analyze::analyze(&corpus::png(&corpus::slip(bad, 2)), &Limits::default()).unwrap();
    assert_eq!(a.qr.unwrap().qr, SlipQr::BadChecksum);
    // Some other QR (a URL).
    let a = analyze::analyze(
        &corpus::png(&corpus::slip("https://example.com/promo", 3)),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(a.qr.unwrap().qr, SlipQr::Malformed);
    // A payment QR instead of a slip.
    let pay = "00020101021129370016A0000006770101110113006681234567853037645802TH6304823E";
    let a = analyze::analyze(&corpus::png(&corpus::slip(pay, 4)), &Limits::default()).unwrap();
    assert_eq!(a.qr.unwrap().qr, SlipQr::PaymentQr);
}

#[test]
fn bad_pictures_are_named() {
    let l = Limits::default();
    let slip_jpeg = corpus::jpeg(&corpus::slip(&slip_text(), 5), 80);
    let slip_png = corpus::png(&corpus::slip(&slip_text(), 5));
    let cases: Vec<(&str, Vec<u8>, Problem)> = vec![
        ("html", corpus::html(), Problem::NotAnImage),
        ("empty", Vec::new(), Problem::NotAnImage),
        ("pdf", corpus::pdf(), Problem::Pdf),
        ("gif sticker", corpus::gif(), Problem::Sticker),
        ("heic", corpus::heic(), Problem::UnsupportedFormat),
        (
            "truncated jpeg",
            corpus::truncated(&slip_jpeg, 60),
            Problem::Truncated,
        ),
        (
            "truncated png",
            corpus::truncated(&slip_png, 50),
            Problem::Truncated,
        ),
        (
            "jpeg header only",
            slip_jpeg[..600].to_vec(),
            Problem::Truncated,
        ),
        (
            "bomb",
            corpus::png_bomb(20_000, 20_000),
            Problem::TooManyPixels,
        ),
        (
            "30 MP",
            corpus::png_bomb(6_000, 5_000),
            Problem::TooManyPixels,
        ),
        (
            "too large",
            {
                let mut b = slip_jpeg.clone();
                b.resize(11 * MIB, 0);
                b
            },
            Problem::TooLarge,
        ),
    ];
    for (name, bytes, want) in cases {
        assert_eq!(analyze::analyze(&bytes, &l).err(), Some(want), "{name}");
    }
}

#[test]
fn png_bomb_is_refused_under_64_mib_peak() {
    let bomb = corpus::png_bomb(20_000, 20_000);
    assert!(bomb.len() < 64 * 1024, "a small file: {} bytes", bomb.len());
    // A genuine 20,000 × 20,000 PNG header with a real compressed stream.
    let dims =
        image::ImageReader::with_format(std::io::Cursor::new(&bomb), image::ImageFormat::Png)
            .into_dimensions()
            .unwrap();
    assert_eq!(dims, (20_000, 20_000));
    let (r, peak) = peak_of(|| analyze::analyze(&bomb, &Limits::default()).err());
    assert_eq!(r, Some(Problem::TooManyPixels));
    assert!(peak < 64 * MIB, "peak {} MiB", peak / MIB);
}

#[test]
fn twelve_megapixel_slip_stays_under_200_mib() {
    let big = corpus::slip(&slip_text(), 6).resize_exact(
        3000,
        4000,
        image::imageops::FilterType::Nearest,
    );
    let bytes = corpus::jpeg(&big, 85);
    drop(big);
    let (r, peak) = peak_of(|| analyze::analyze(&bytes, &Limits::default()));
    let a = r.expect("12 MP slip decodes");
    assert!(matches!(a.qr.map(|q| q.qr), Some(SlipQr::Slip { .. })));
    // The counter sees the decoded buffer (36 MiB of RGB), so it counts.
    assert!(peak > 36 * MIB, "peak {} MiB", peak / MIB);
    assert!(peak < 200 * MIB, "peak {} MiB", peak / MIB);
}

// ---------------------------------------------------------------------------
// Fake attachment server: serves named bodies, can redirect or fail, and
// records every path it was asked for.

/// Status, body and redirect target of one served name.
type Served = (u16, Vec<u8>, Option<String>);

#[derive(Clone, Default)]
struct Fake {
    files: Arc<Mutex<HashMap<String, Served>>>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    fn put(&self, name: &str, bytes: Vec<u8>) {
        self.files
            .lock()
            .unwrap()
            .insert(name.into(), (200, bytes, None));
    }
    fn status(&self, name: &str, code: u16) {
        self.files
            .lock()
            .unwrap()
            .insert(name.into(), (code, Vec::new(), None));
    }
    fn redirect(&self, name: &str, to: &str) {
        self.files
            .lock()
            .unwrap()
            .insert(name.into(), (302, Vec::new(), Some(to.into())));
    }
    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

async fn fake_file(AxState(f): AxState<Fake>, AxPath(name): AxPath<String>) -> Response {
    f.hits.lock().unwrap().push(name.clone());
    let entry = f.files.lock().unwrap().get(&name).cloned();
    match entry {
        // A CDN that mislabels: the type header is a hint only.
        Some((200, body, _)) => ([("content-type", "image/jpeg")], body).into_response(),
        Some((302, _, Some(to))) => (StatusCode::FOUND, [("location", to)]).into_response(),
        Some((code, _, _)) => StatusCode::from_u16(code)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn fake_server() -> (Fake, u16) {
    let fake = Fake::default();
    let app = axum::Router::new()
        .route("/f/{name}", axum::routing::get(fake_file))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (fake, port)
}

fn local_policy() -> FetchPolicy {
    let mut p = FetchPolicy::new(&["127.0.0.1".to_string()]);
    p.backoff = Duration::from_millis(20);
    p
}

#[tokio::test]
async fn download_policy_against_a_fake_cdn() {
    let (fake, port) = fake_server().await;
    let (other, other_port) = fake_server().await;
    let body = corpus::photo_jpeg(320, 240, 1);
    fake.put("ok.jpg", body.clone());
    other.put("evil.jpg", body.clone());
    let p = local_policy();
    let base = format!("http://127.0.0.1:{port}/f");

    assert_eq!(
        fetch::fetch(&p, &format!("{base}/ok.jpg")).await.unwrap(),
        body
    );

    // A host not on the list is never contacted ("localhost" is not listed).
    let e = fetch::fetch(&p, &format!("http://localhost:{other_port}/f/evil.jpg"))
        .await
        .unwrap_err();
    assert!(matches!(e, FetchError::NotAllowed(_)), "{e:?}");
    let e = fetch::fetch(&p, "https://attacker.example.com/slip.jpg")
        .await
        .unwrap_err();
    assert!(matches!(e, FetchError::NotAllowed(_)), "{e:?}");

    // A redirect to such a host is not followed.
    fake.redirect(
        "hop.jpg",
        &format!("http://localhost:{other_port}/f/evil.jpg"),
    );
    let e = fetch::fetch(&p, &format!("{base}/hop.jpg"))
        .await
        .unwrap_err();
    assert!(matches!(e, FetchError::NotAllowed(_)), "{e:?}");
    assert!(other.hits().is_empty(), "the other host was never fetched");

    // A redirect inside the list is followed.
    fake.redirect("inside.jpg", &format!("{base}/ok.jpg"));
    assert_eq!(
        fetch::fetch(&p, &format!("{base}/inside.jpg"))
            .await
            .unwrap(),
        body
    );

    // Expired links, size cap while streaming, retries on 5xx.
    fake.status("gone.jpg", 403);
    assert_eq!(
        fetch::fetch(&p, &format!("{base}/gone.jpg"))
            .await
            .unwrap_err(),
        FetchError::Expired(403)
    );
    let mut small = local_policy();
    small.max_bytes = 1000;
    assert!(matches!(
        fetch::fetch(&small, &format!("{base}/ok.jpg"))
            .await
            .unwrap_err(),
        FetchError::TooLarge(1000)
    ));
    fake.status("flaky.jpg", 503);
    let before = fake.hits().iter().filter(|h| *h == "flaky.jpg").count();
    assert!(matches!(
        fetch::fetch(&p, &format!("{base}/flaky.jpg"))
            .await
            .unwrap_err(),
        FetchError::Transient(_)
    ));
    let after = fake.hits().iter().filter(|h| *h == "flaky.jpg").count();
    assert_eq!(after - before, 3, "three tries on a 5xx");

    // Plain http to a loopback host that is not listed: refused.
    let strict = FetchPolicy::new(&[]);
    assert!(matches!(
        fetch::fetch(&strict, &format!("{base}/ok.jpg"))
            .await
            .unwrap_err(),
        FetchError::NotAllowed(_)
    ));
}

// ---------------------------------------------------------------------------
// The worker and the store.

/// The real server (and, when asked, its workers) on a fresh database, with
/// a media dir of its own and 127.0.0.1 on the attachment host list.
struct World {
    state: AppState,
    shop: Shop,
    running: Running,
    media: std::path::PathBuf,
    _db: TestDb,
}

impl World {
    async fn new(currency: Currency, workers: bool) -> World {
        let test_db = fresh_db().await;
        let media = std::env::temp_dir().join(format!(
            "chatbill-slips-{}",
            chatbill::clock::hex(&chatbill::clock::random_bytes::<6>())
        ));
        let config = test_config(&[
            ("CHATBILL_ATTACHMENT_HOSTS", "127.0.0.1"),
            ("CHATBILL_MEDIA_DIR", media.to_str().unwrap()),
            ("CHATBILL_PUBLIC_URL", "https://shop.example.test"),
            ("CHATBILL_WORKERS", if workers { "on" } else { "off" }),
        ]);
        let settings = ShopSettings {
            payment_qr: Some(match currency {
                c if c == Currency::VND => PaymentQr::Vietqr {
                    bank_bin: "970436".into(),
                    account: "0011000123456".into(),
                },
                _ => PaymentQr::Promptpay {
                    id: "081-234-5678".into(),
                },
            }),
            ..ShopSettings::default()
        };
        let shop = shops::create(&test_db.db, "Slip shop", currency, "en", &settings, now())
            .await
            .unwrap();
        let running = server::start(config, test_db.db.clone())
            .await
            .expect("start server");
        World {
            state: running.state.clone(),
            shop,
            running,
            media,
            _db: test_db,
        }
    }

    fn db(&self) -> &Db {
        &self.state.db
    }

    async fn order(&self, user: &str) -> (OrderId, CustomerId) {
        let p = catalog::create_product(
            self.db(),
            self.shop.id,
            &NewProduct {
                name: format!("Tee {user}"),
                description: String::new(),
                category: "Test".into(),
                image_url: None,
                price: 125_050,
                variants: vec![NewVariant {
                    name: String::new(),
                    price: None,
                    stock: Some(10),
                }],
            },
            now(),
        )
        .await
        .unwrap();
        let mut tx = self.db().begin().await.unwrap();
        let c = customers::upsert(&mut tx, self.shop.id, "webchat", user, now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let o = orders::place(
            self.db(),
            &self.shop,
            NewOrder {
                customer: c.id,
                channel: "webchat".into(),
                items: vec![(p.variants[0].id, 1)],
                address: None,
                method: None,
                shipping_fee: Some(0),
            },
            now(),
        )
        .await
        .unwrap();
        (o.id, c.id)
    }

    async fn send(&self, order: OrderId, customer: CustomerId, url: &str) -> i64 {
        let mut tx = self.db().begin().await.unwrap();
        let id =
            payments::insert_fetching(&mut tx, self.shop.id, order, customer, Some(url), now())
                .await
                .unwrap();
        tx.commit().await.unwrap();
        self.state.slips_wake.notify_one();
        id
    }

    /// The payment once the slip worker is done with it. A download that
    /// failed for now is retried later, so this also waits past a drain.
    async fn settled(&self, id: i64) -> PaymentView {
        let _ = chatbill::workers::drain(&self.state, Duration::from_secs(30)).await;
        for _ in 0..400 {
            let p = payments::get(self.db(), self.shop.id, id).await.unwrap();
            if p.status != "fetching" {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("payment {id} was not processed in time");
    }

    async fn notices(&self, order: OrderId) -> Vec<Notice> {
        orders::queued_notices(self.db(), self.shop.id, order)
            .await
            .unwrap()
    }

    async fn payment_status(&self, order: OrderId) -> PaymentStatus {
        orders::load(self.db(), self.shop.id, order)
            .await
            .unwrap()
            .payment
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.addr)
    }

    async fn stop(self) {
        let _ = tokio::time::timeout(Duration::from_secs(20), self.running.shutdown()).await;
        let _ = std::fs::remove_dir_all(&self.media);
    }
}

#[tokio::test]
async fn a_slip_is_fetched_checked_and_put_in_front_of_the_seller() {
    let w = World::new(Currency::THB, true).await;
    let (fake, port) = fake_server().await;
    let base = format!("http://127.0.0.1:{port}/f");
    let slip = corpus::slip(&slip_text(), 11);
    fake.put("slip.jpg", corpus::jpeg(&slip, 85));
    fake.put("again.jpg", corpus::rephotographed(&slip, 12));

    // First order: a clean slip.
    let (o1, c1) = w.order("alice").await;
    let id1 = w.send(o1, c1, &format!("{base}/slip.jpg")).await;
    let p1 = w.settled(id1).await;
    assert_eq!(p1.status, "pending", "{:?}", p1.prechecks);
    assert!(!p1.flagged);
    assert_eq!(p1.prechecks["slip_qr"]["status"], "ok");
    assert_eq!(p1.prechecks["slip_qr"]["bank"], "004");
    assert_eq!(p1.prechecks["slip_qr"]["bank_name"], "Kasikornbank");
    assert_eq!(p1.prechecks["slip_qr"]["trans_ref"], "016123142530ABC01234");
    assert_eq!(p1.slip_bank.as_deref(), Some("004"));
    assert_eq!(p1.source_host.as_deref(), Some("127.0.0.1"));
    assert_eq!(w.payment_status(o1).await, PaymentStatus::PendingReview);
    assert!(w.notices(o1).await.contains(&Notice::SlipReceived));
    // Media stored, content-addressed, for the seller.
    let sha = p1.sha256.clone().unwrap();
    let orig = media::open(&w.state.config, &sha, MediaKind::Original).unwrap();
    assert_eq!(orig.content_type, "image/jpeg");
    assert_eq!(
        analyze::sha256_hex(&std::fs::read(&orig.path).unwrap()),
        sha
    );
    let thumb = media::open(&w.state.config, &sha, MediaKind::Thumbnail).unwrap();
    assert_eq!(image::open(&thumb.path).unwrap().width(), 480);
    assert!(media::open(&w.state.config, "../../etc/passwd", MediaKind::Original).is_none());

    // Second order, same transfer re-photographed: caught as re-used.
    let (o2, c2) = w.order("bob").await;
    let id2 = w.send(o2, c2, &format!("{base}/again.jpg")).await;
    let p2 = w.settled(id2).await;
    assert_eq!(p2.status, "flagged");
    assert!(p2.flagged);
    assert_eq!(p2.prechecks["reused_from"]["payment_id"], id1);
    assert_eq!(p2.prechecks["reused_from"]["order_id"], o1.get());
    assert!(
        p2.prechecks["flags"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("reused_slip"))
    );
    assert_eq!(
        p2.slip_ref, None,
        "the reference stays with the first payment"
    );
    assert_eq!(w.payment_status(o2).await, PaymentStatus::PendingReview);
    let n2 = w.notices(o2).await;
    assert!(n2.contains(&Notice::SlipNeedsShopCheck), "{n2:?}");
    assert!(!n2.contains(&Notice::SlipReceived), "not told all is well");

    // Third order, the very same file again: exact duplicate and re-used.
    let (o3, c3) = w.order("carol").await;
    let id3 = w.send(o3, c3, &format!("{base}/slip.jpg")).await;
    let p3 = w.settled(id3).await;
    assert_eq!(p3.status, "flagged");
    assert_eq!(p3.prechecks["exact_duplicate_of"][0]["payment_id"], id1);
    assert_eq!(p3.prechecks["reused_from"]["payment_id"], id1);
    assert!(
        p3.prechecks["similar_images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["payment_id"] == id1 && s["distance"] == 0),
        "looks like the slip of the first order (a hint)"
    );
    assert_eq!(p3.prechecks["similar_is_hint_only"], true);

    // The seller rejects the re-used one with a reason; the customer hears it.
    let applied = chatbill::app::payments::reject(
        w.db(),
        &w.shop,
        id2,
        "This slip was already used for another order",
        &Actor::Seller("owner".into()),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(applied.order.payment, PaymentStatus::Rejected);
    let p2 = payments::get(w.db(), w.shop.id, id2).await.unwrap();
    assert_eq!(p2.status, "rejected");
    assert_eq!(
        p2.reject_reason.as_deref(),
        Some("This slip was already used for another order")
    );
    assert_eq!(p2.decided_by.as_deref(), Some("seller:owner"));
    assert!(w.notices(o2).await.contains(&Notice::PaymentRejected {
        reason: "This slip was already used for another order".into()
    }));
    // Deciding twice is refused.
    assert!(
        chatbill::app::payments::reject(
            w.db(),
            &w.shop,
            id2,
            "again",
            &Actor::Seller("o".into()),
            now()
        )
        .await
        .is_err()
    );

    // The seller confirms the genuine one: order paid.
    let applied = chatbill::app::payments::confirm(
        w.db(),
        &w.shop,
        id1,
        None,
        &Actor::Seller("owner".into()),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(applied.order.payment, PaymentStatus::Paid);
    let p1 = payments::get(w.db(), w.shop.id, id1).await.unwrap();
    assert_eq!(p1.status, "confirmed");
    assert_eq!(p1.amount, 125_050);
    let listed = payments::list_for_order(w.db(), w.shop.id, o1)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id1);
    assert!(
        payments::list_for_order(w.db(), chatbill::domain::ShopId(w.shop.id.get() + 999), o1)
            .await
            .unwrap()
            .is_empty(),
        "scoped by shop"
    );
    w.stop().await;
}

#[tokio::test]
async fn bad_pictures_and_bad_links_change_nothing_but_tell_the_customer() {
    let w = World::new(Currency::THB, true).await;
    let (fake, port) = fake_server().await;
    let (other, other_port) = fake_server().await;
    let base = format!("http://127.0.0.1:{port}/f");
    let slip_jpeg = corpus::jpeg(&corpus::slip(&slip_text(), 21), 80);
    fake.put("truncated.jpg", corpus::truncated(&slip_jpeg, 55));
    fake.put("page.jpg", corpus::html());
    fake.put("doc.jpg", corpus::pdf());
    fake.put("sticker.jpg", corpus::gif());
    fake.put("bomb.png", corpus::png_bomb(20_000, 20_000));
    fake.status("expired.jpg", 404);
    fake.redirect("hop.jpg", &format!("http://localhost:{other_port}/f/x.jpg"));
    other.put("x.jpg", slip_jpeg.clone());

    let cases = [
        (format!("{base}/truncated.jpg"), "truncated"),
        (format!("{base}/page.jpg"), "not_an_image"),
        (format!("{base}/doc.jpg"), "pdf"),
        (format!("{base}/sticker.jpg"), "sticker"),
        (format!("{base}/bomb.png"), "too_many_pixels"),
        (format!("{base}/expired.jpg"), "expired"),
        (format!("{base}/hop.jpg"), "fetch_failed"),
        (
            format!("http://localhost:{other_port}/f/x.jpg"),
            "fetch_failed",
        ),
        (
            "https://scontent.evil-cdn.example/x.jpg".to_string(),
            "fetch_failed",
        ),
    ];
    for (i, (url, problem)) in cases.iter().enumerate() {
        let (o, c) = w.order(&format!("user{i}")).await;
        let id = w.send(o, c, url).await;
        let p = w.settled(id).await;
        assert_eq!(p.status, "failed", "{url}");
        assert_eq!(p.reject_reason.as_deref(), Some(*problem), "{url}");
        assert_eq!(w.payment_status(o).await, PaymentStatus::Unpaid, "{url}");
        assert_eq!(
            w.notices(o).await,
            vec![Notice::SlipProblem {
                problem: problem.to_string()
            }],
            "{url}"
        );
    }
    assert!(
        other.hits().is_empty(),
        "a host off the list was never fetched"
    );
    w.stop().await;
}

#[tokio::test]
async fn web_chat_uploads_take_the_same_path() {
    let w = World::new(Currency::THB, false).await;
    let (o, c) = w.order("dana").await;
    let slip = corpus::slip(&slip_qr::build("014", "2026112201234ABCD").unwrap(), 31);
    let id = slips::accept_upload(&w.state, w.shop.id, o, c, corpus::png(&slip), now())
        .await
        .unwrap();
    let p = payments::get(w.db(), w.shop.id, id).await.unwrap();
    assert_eq!(p.status, "pending");
    assert_eq!(p.slip_bank.as_deref(), Some("014"));
    assert_eq!(w.payment_status(o).await, PaymentStatus::PendingReview);

    // A PDF upload: refused with the customer's message, order unchanged.
    let (o2, c2) = w.order("erin").await;
    match slips::accept_upload(&w.state, w.shop.id, o2, c2, corpus::pdf(), now()).await {
        Err(SlipError::Image {
            payment_id,
            problem,
        }) => {
            assert_eq!(problem, Problem::Pdf);
            let p = payments::get(w.db(), w.shop.id, payment_id).await.unwrap();
            assert_eq!(p.status, "failed");
        }
        other => panic!("expected an image error, got {other:?}"),
    }
    assert_eq!(w.payment_status(o2).await, PaymentStatus::Unpaid);
    assert_eq!(
        w.notices(o2).await,
        vec![Notice::SlipProblem {
            problem: "pdf".into()
        }]
    );

    // No verification QR on a Thai shop's slip: flagged for the seller.
    let (o3, c3) = w.order("fern").await;
    let id3 = slips::accept_upload(
        &w.state,
        w.shop.id,
        o3,
        c3,
        corpus::photo_jpeg(800, 600, 3),
        now(),
    )
    .await
    .unwrap();
    let p3 = payments::get(w.db(), w.shop.id, id3).await.unwrap();
    assert_eq!(p3.status, "flagged");
    assert_eq!(p3.prechecks["slip_qr"]["status"], "missing");

    // Someone else's customer cannot attach to this order.
    assert!(matches!(
        slips::accept_upload(&w.state, w.shop.id, o3, c, corpus::pdf(), now()).await,
        Err(SlipError::OrderNotFound)
    ));
    w.stop().await;
}

#[tokio::test]
async fn claims_hold_a_lease_and_a_crashed_claim_is_retried() {
    let w = World::new(Currency::THB, false).await;
    let (o, c) = w.order("gus").await;
    let id = w.send(o, c, "http://127.0.0.1:9/f/x.jpg").await;
    let t0 = now();
    let first = payments::claim_next(w.db(), t0, 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((first.id, first.attempts), (id, 1));
    // Leased: nobody else takes it.
    assert!(
        payments::claim_next(w.db(), t0, 60_000)
            .await
            .unwrap()
            .is_none()
    );
    // The worker "crashed": after the lease another claim gets it.
    let later = Timestamp(t0.millis() + 61_000);
    let second = payments::claim_next(w.db(), later, 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.id, second.attempts), (id, 2));
    let p = payments::get(w.db(), w.shop.id, id).await.unwrap();
    assert_eq!(p.status, "fetching");
    assert_eq!(p.decided_at, None, "the lease is not shown as a decision");
    w.stop().await;
}

#[tokio::test]
async fn payment_qr_image_is_served_publicly_under_an_unguessable_name() {
    let w = World::new(Currency::THB, false).await;
    let (o, _) = w.order("hana").await;
    let order = orders::load(w.db(), w.shop.id, o).await.unwrap();
    let url = slips::payment_qr_image_url(&w.state, &w.shop, &order)
        .await
        .unwrap();
    let name = url
        .strip_prefix("https://shop.example.test/media/qr/")
        .and_then(|n| n.strip_suffix(".png"))
        .unwrap();
    assert_eq!(name.len(), 32);
    // Stable for the same bill.
    assert_eq!(
        slips::payment_qr_image_url(&w.state, &w.shop, &order)
            .await
            .unwrap(),
        url
    );
    let png = std::fs::read(media::public_qr_path(&w.media, name).unwrap()).unwrap();
    let gray = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(gray);
    let grids = prepared.detect_grids();
    let (_, text) = grids[0].decode().unwrap();
    assert_eq!(
        text,
        "00020101021229370016A00000067701011101130066812345678530376454071250.505802TH6304ABEB"
    );

    // The route serves exactly that name pattern from the media dir.
    let client = reqwest::Client::new();
    let r = client
        .get(w.url(&format!("/media/qr/{name}.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    for bad in [
        "/media/qr/..%2F..%2Fetc%2Fpasswd".to_string(),
        format!("/media/qr/{name}"),
        format!("/media/qr/{}.png", name.to_uppercase()),
        "/media/qr/".to_string(),
        format!("/media/qr/{}.png", "0".repeat(32)),
    ] {
        let r = client.get(w.url(&bad)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{bad}");
    }
    // Slip media are not public: nothing under /media/ serves them.
    let r = client.get(w.url("/media/slips/")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    w.stop().await;
}

#[tokio::test]
async fn vietqr_bill_carries_the_order_code() {
    let w = World::new(Currency::VND, false).await;
    let (o, _) = w.order("ivan").await;
    let order = orders::load(w.db(), w.shop.id, o).await.unwrap();
    let url = slips::payment_qr_image_url(&w.state, &w.shop, &order)
        .await
        .unwrap();
    let name = url
        .rsplit('/')
        .next()
        .and_then(|n| n.strip_suffix(".png"))
        .unwrap();
    let png = std::fs::read(media::public_qr_path(&w.media, name).unwrap()).unwrap();
    let mut prepared =
        rqrr::PreparedImage::prepare(image::load_from_memory(&png).unwrap().to_luma8());
    let (_, text) = prepared.detect_grids()[0].decode().unwrap();
    assert!(text.contains("QRIBFTTA"));
    assert!(text.contains("5303704"));
    assert!(text.contains("5406125050"), "{text}");
    let memo: String = order
        .code
        .as_str()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    assert!(text.contains(&memo), "{text} carries {memo}");
    w.stop().await;
}
