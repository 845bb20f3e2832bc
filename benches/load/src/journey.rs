//! `chatbill-load journey`: customers walking the whole journey (browse,
//! cart, address, order, transfer, slip, view orders) with duplicates and
//! echoes mixed in, against servers that use this tool's fake Graph API;
//! and `check`, the database's consistency after such a run.

use crate::fake_graph::{FakeGraph, Options};
use chatbill::channels::messenger::signature::sign;
use chatbill::clock;
use chatbill::store::{Db, audit};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex as AsyncMutex;

/// A tiny PNG the slip worker can download as a "slip".
fn slip_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 64, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 4) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    let _ = img.write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}

pub struct JourneyOptions {
    /// One or more servers; customers are spread round-robin over them.
    pub urls: Vec<String>,
    pub app_secret: String,
    pub page_id: String,
    pub token: String,
    pub customers: usize,
    pub concurrency: usize,
    pub graph_port: u16,
    /// How long to wait for an acknowledged event's reply before calling it lost.
    pub reply_timeout: Duration,
    /// Where to write the message ids the server acknowledged.
    pub acked_file: Option<std::path::PathBuf>,
    pub duplicate_percent: u64,
    pub echo_percent: u64,
    /// Refuse more than this many calls per Page per second, as Meta does
    /// (300); `None` takes everything.
    pub graph_limit: Option<usize>,
}

#[derive(Default)]
pub struct JourneyReport {
    pub events_acked: u64,
    pub duplicates_sent: u64,
    pub echoes_sent: u64,
    pub retries: u64,
    pub journeys_completed: u64,
    pub replies_missing: u64,
    pub sends: u64,
    pub duplicate_sends: u64,
    /// Calls the fake Graph API refused for the Page's rate.
    pub rate_limited: u64,
    /// The most calls it accepted for the Page within one second.
    pub busiest_second: u64,
    pub elapsed: Duration,
    pub intake: Vec<Duration>,
    pub e2e: Vec<Duration>,
}

impl JourneyReport {
    pub fn pct(v: &[Duration], q: f64) -> Duration {
        if v.is_empty() {
            return Duration::ZERO;
        }
        v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
    }
}

struct Shared {
    opts: JourneyOptions,
    client: reqwest::Client,
    graph: Arc<FakeGraph>,
    run: String,
    seq: AtomicU64,
    report: AsyncMutex<JourneyReport>,
    acked: AsyncMutex<Vec<String>>,
}

fn roll(percent: u64) -> bool {
    (u64::from(clock::random_bytes::<1>()[0]) * 100 / 256) < percent
}

/// Posts one event until the server acknowledges it (a killed server just
/// means "try again", exactly as Meta behaves). Returns the intake latency.
async fn deliver(s: &Shared, url: &str, body: Vec<u8>, mid: &str) -> Duration {
    let sig = sign(s.opts.app_secret.as_bytes(), &body);
    let mut tries = 0;
    loop {
        let t = Instant::now();
        let ok = s
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", &sig)
            .body(body.clone())
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false);
        if ok {
            s.acked.lock().await.push(mid.to_string());
            return t.elapsed();
        }
        tries += 1;
        s.report.lock().await.retries += 1;
        tokio::time::sleep(Duration::from_millis((50 * tries).min(1000))).await;
    }
}

fn envelope(page: &str, item: serde_json::Value) -> Vec<u8> {
    serde_json::json!({"object": "page", "entry": [{"id": page, "time": clock::now().millis(), "messaging": [item]}]})
        .to_string()
        .into_bytes()
}

enum Step {
    Tap(String),
    Text(String),
    Image(String),
}

async fn customer(s: Arc<Shared>, index: usize, product: i64, variant: i64) {
    let psid = format!(
        "{}",
        8_000_000_000_000_000u64
            + (index as u64)
            + u64::from(u32::from_be_bytes(clock::random_bytes::<4>()) % 1_000_000) * 10_000
    );
    let mut rx = s.graph.subscribe(&psid);
    let page = s.opts.page_id.clone();
    let mut steps: std::collections::VecDeque<Step> = [
        Step::Tap("GET_STARTED".into()),
        Step::Tap("MENU_PRODUCTS".into()),
        Step::Tap("PAGE:0".into()),
        Step::Tap(format!("BUY:{product}")),
        Step::Tap(format!("QTY:{variant}:1:1")),
        Step::Text(format!("Customer {index}")),
        Step::Text("081 234 5678".into()),
        Step::Text("99/1 Sukhumvit 11".into()),
        Step::Text("Bangkok".into()),
        Step::Text("Watthana".into()),
        Step::Tap("PLACE".into()),
    ]
    .into_iter()
    .collect();
    let mut offered: Vec<String> = Vec::new();
    let mut completed = false;
    while let Some(step) = steps.pop_front() {
        let n = s.seq.fetch_add(1, Ordering::Relaxed);
        let mid = format!("m_j_{}_{n}", s.run);
        let now = clock::now().millis();
        let item = match &step {
            Step::Tap(p) => {
                serde_json::json!({"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": now,
                "postback": {"mid": mid, "title": p, "payload": p}})
            }
            Step::Text(t) => {
                serde_json::json!({"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": now,
                "message": {"mid": mid, "text": t}})
            }
            Step::Image(u) => {
                serde_json::json!({"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": now,
                "message": {"mid": mid, "attachments": [{"type": "image", "payload": {"url": u}}]}})
            }
        };
        let body = envelope(&page, item);
        // Spread one customer's events over all instances: order must hold anyway.
        let url = format!(
            "{}/webhooks/messenger",
            s.opts.urls[(n as usize + index) % s.opts.urls.len()]
        );
        while rx.try_recv().is_ok() {}
        let started = Instant::now();
        let intake = deliver(&s, &url, body.clone(), &mid).await;
        if roll(s.opts.duplicate_percent) {
            // Meta redelivers: same id, must take effect once.
            deliver(&s, &url, body, &mid).await;
            s.report.lock().await.duplicates_sent += 1;
        }
        // Wait for the bot's answer (the first Send API call for this customer).
        let mut replies = Vec::new();
        match tokio::time::timeout(s.opts.reply_timeout, rx.recv()).await {
            Ok(Some((at, first))) => {
                let e2e = at.saturating_duration_since(started);
                replies.push(first);
                // Collect the rest of this answer (a receipt and a question, say).
                // A placed order answers with a bill, then the payment question.
                let placing = matches!(step, Step::Tap(ref p) if p == "PLACE");
                let window = Duration::from_millis(if placing { 3000 } else { 30 });
                while let Ok(Some((_, more))) = tokio::time::timeout(window, rx.recv()).await {
                    let asks = more["message"]["quick_replies"].is_array();
                    replies.push(more);
                    if placing && asks {
                        break;
                    }
                }
                let mut r = s.report.lock().await;
                r.events_acked += 1;
                r.intake.push(intake);
                r.e2e.push(e2e);
            }
            _ => {
                let mut r = s.report.lock().await;
                r.events_acked += 1;
                r.intake.push(intake);
                r.replies_missing += 1;
            }
        }
        for reply in &replies {
            if let Some(key) = reply["message"]["metadata"].as_str()
                && roll(s.opts.echo_percent)
            {
                // Meta echoes our own message back; it must never be answered.
                let n = s.seq.fetch_add(1, Ordering::Relaxed);
                let echo = serde_json::json!({"sender": {"id": page}, "recipient": {"id": psid}, "timestamp": clock::now().millis(),
                    "message": {"mid": format!("m_echo_{}_{n}", s.run), "is_echo": true, "app_id": 1, "metadata": key, "text": "echo"}});
                let emid = format!("m_echo_{}_{n}", s.run);
                deliver(&s, &url, envelope(&page, echo), &emid).await;
                s.report.lock().await.echoes_sent += 1;
            }
            for qr in reply["message"]["quick_replies"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(p) = qr["payload"].as_str() {
                    offered.push(p.to_string());
                }
            }
        }
        // After the order: pay by transfer, send the slip, look at the orders.
        if matches!(step, Step::Tap(ref p) if p == "PLACE")
            && let Some(pay) = offered
                .iter()
                .rev()
                .find(|p| p.starts_with("PAY:bank:"))
                .cloned()
        {
            steps.push_back(Step::Tap(pay));
            steps.push_back(Step::Image(format!("http://{}/slip.png", s.graph.addr)));
            steps.push_back(Step::Tap("ORDERS".into()));
            completed = true;
        }
    }
    if completed {
        s.report.lock().await.journeys_completed += 1;
    }
    s.graph.unsubscribe(&psid);
}

pub async fn journey(opts: JourneyOptions) -> Result<JourneyReport, String> {
    let graph = Arc::new(
        FakeGraph::start_with(Options {
            port: opts.graph_port,
            limit_per_page: opts.graph_limit,
            forget_requests: true,
            slip_png: Some(slip_png()),
        })
        .await
        .map_err(|e| format!("fake Graph API on port {}: {e}", opts.graph_port))?,
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(opts.concurrency)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| e.to_string())?;
    // Pick a product that sells without a stock limit and has one option.
    let response = client
        .get(format!("{}/api/v1/products", opts.urls[0]))
        .bearer_auth(&opts.token)
        .send()
        .await
        .map_err(|e| format!("listing the shop's products: {e}"))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("listing the shop's products: {status}: {body}"));
    }
    let products: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("listing the shop's products: {e}"))?;
    let (product, variant) = products["products"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|p| {
            let vars = p["variants"].as_array()?;
            (vars.len() == 1 && vars[0]["stock"].is_null()).then(|| {
                (
                    p["id"].as_i64().unwrap_or(0),
                    vars[0]["id"].as_i64().unwrap_or(0),
                )
            })
        })
        .ok_or(
            "the shop needs a product with one unlimited variant (the demo catalog has several)",
        )?;
    let shared = Arc::new(Shared {
        run: clock::hex(&clock::random_bytes::<4>()),
        client,
        graph: graph.clone(),
        seq: AtomicU64::new(0),
        report: AsyncMutex::new(JourneyReport::default()),
        acked: AsyncMutex::new(Vec::new()),
        opts,
    });
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..shared.opts.concurrency {
        let (s, next) = (shared.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= s.opts.customers {
                    break;
                }
                customer(s.clone(), i, product, variant).await;
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())?;
    }
    let elapsed = started.elapsed();
    // Keep the fake Graph API up until the servers stop sending (late
    // replies, pushes after slips, retries after a crash).
    // Work claimed by an instance that was then killed waits for its lease
    // to expire, and slip downloads retry later: with the database at hand,
    // wait until nothing is left (slips fetch from this process too).
    let db = match std::env::var("DATABASE_URL") {
        Ok(url) => chatbill::store::Db::connect(&url).await.ok(),
        Err(_) => None,
    };
    let quiet_deadline = Instant::now() + Duration::from_secs(180);
    let mut last = graph.sends();
    while Instant::now() < quiet_deadline {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let now = graph.sends();
        let idle = match &db {
            Some(db) => audit::work_left(db).await.map_or(true, |n| n == 0),
            None => true,
        };
        if now == last && idle {
            break;
        }
        last = now;
    }
    if let Some(path) = &shared.opts.acked_file {
        let acked = shared.acked.lock().await;
        std::fs::write(path, acked.join("\n")).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut report = std::mem::take(&mut *shared.report.lock().await);
    report.elapsed = elapsed;
    report.sends = graph.sends();
    report.rate_limited = graph.refused();
    report.busiest_second = graph.busiest_second();
    report.duplicate_sends = graph.repeated_sends();
    report.intake.sort();
    report.e2e.sort();
    Ok(report)
}

/// Waits (up to `wait`) for queued work to finish, then checks the
/// database against the message ids the run saw acknowledged.
pub async fn check(
    db: &Db,
    acked: &[String],
    wait: Duration,
) -> Result<audit::Consistency, String> {
    let deadline = Instant::now() + wait;
    loop {
        let busy = audit::work_left(db).await.map_err(|e| e.to_string())?;
        if busy == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    audit::consistency(db, acked)
        .await
        .map_err(|e| e.to_string())
}
