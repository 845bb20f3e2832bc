//! `chatbill bench intake`: a load generator for the webhook. It sends
//! distinct signed Messenger events (many customers, unique message ids)
//! over N concurrent keep-alive connections and reports what the server
//! acknowledged: requests per second and latency percentiles.

use crate::channels::messenger::signature::sign;
use crate::clock;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct IntakeOptions {
    pub url: String,
    pub app_secret: String,
    pub page_id: String,
    pub concurrency: usize,
    pub duration: Duration,
    pub customers: u64,
}

pub struct Report {
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Report {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

fn event(page: &str, customer: u64, seq: u64, run: &str) -> Vec<u8> {
    let ts = clock::now().millis();
    format!(
        r#"{{"object":"page","entry":[{{"id":"{page}","time":{ts},"messaging":[{{"sender":{{"id":"{}"}},"recipient":{{"id":"{page}"}},"timestamp":{ts},"message":{{"mid":"m_bench_{run}_{seq}","text":"menu"}}}}]}}]}}"#,
        9_000_000_000_000_000u64 + customer
    )
    .into_bytes()
}

pub async fn intake(o: IntakeOptions) -> Result<Report, String> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.concurrency)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| e.to_string())?;
    let run = clock::hex(&clock::random_bytes::<4>());
    let seq = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + o.duration;
    let mut tasks = Vec::new();
    for _ in 0..o.concurrency {
        let (client, seq, errors, url, secret, page, run) = (
            client.clone(),
            seq.clone(),
            errors.clone(),
            o.url.clone(),
            o.app_secret.clone(),
            o.page_id.clone(),
            run.clone(),
        );
        let customers = o.customers.max(1);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 16);
            while Instant::now() < deadline {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let body = event(&page, n % customers, n, &run);
                let sig = sign(secret.as_bytes(), &body);
                let t = Instant::now();
                let ok = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", sig)
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                if ok {
                    lat.push(t.elapsed());
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())?);
    }
    let elapsed = started.elapsed();
    all.sort();
    let pick = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Ok(Report {
        requests: all.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        elapsed,
        p50: pick(0.50),
        p99: pick(0.99),
        max: all.last().copied().unwrap_or_default(),
    })
}

// ---------------------------------------------------------------- journey

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxState;
use std::collections::HashMap;
use tokio::sync::{Mutex as AsyncMutex, mpsc};

type ReplyTx = mpsc::UnboundedSender<(Instant, serde_json::Value)>;

/// A fast fake Graph API inside the load tool: records each Send API call
/// and hands it to the customer task waiting for it. With a limit it acts
/// like Meta: more than `limit` calls to a Page within a second are
/// refused with error 613.
#[derive(Clone, Default)]
struct Graph {
    waiting: Arc<std::sync::Mutex<HashMap<String, ReplyTx>>>,
    sends: Arc<AtomicU64>,
    /// Every outbox key seen in `metadata`, with how often it arrived.
    keys: Arc<std::sync::Mutex<HashMap<String, u32>>>,
    limit: Option<usize>,
    /// Accepted calls of the last second, per Page.
    recent: Arc<std::sync::Mutex<HashMap<String, std::collections::VecDeque<Instant>>>>,
    refused: Arc<AtomicU64>,
    /// The most calls accepted for one Page within any one second.
    busiest_second: Arc<AtomicU64>,
}

impl Graph {
    /// Whether Meta would take one more call for this Page now.
    fn admit(&self, page: &str, at: Instant) -> bool {
        let Ok(mut recent) = self.recent.lock() else {
            return true;
        };
        let window = recent.entry(page.to_string()).or_default();
        while window
            .front()
            .is_some_and(|t| at.duration_since(*t) >= Duration::from_secs(1))
        {
            window.pop_front();
        }
        if self.limit.is_some_and(|l| window.len() >= l) {
            return false;
        }
        window.push_back(at);
        self.busiest_second
            .fetch_max(window.len() as u64, Ordering::Relaxed);
        true
    }
}

async fn graph_send(
    AxState(g): AxState<Graph>,
    uri: axum::http::Uri,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let at = Instant::now();
    // /v25.0/{page}/messages
    let page = uri.path().split('/').nth(2).unwrap_or("").to_string();
    if !g.admit(&page, at) {
        g.refused.fetch_add(1, Ordering::Relaxed);
        let error = serde_json::json!({"error": {"message": "(#613) Calls to this API have exceeded the rate limit.",
            "type": "OAuthException", "code": 613, "fbtrace_id": "BENCH"}});
        return (axum::http::StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
    }
    let n = g.sends.fetch_add(1, Ordering::Relaxed);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
        if let Some(key) = v["message"]["metadata"].as_str()
            && let Ok(mut keys) = g.keys.lock()
        {
            *keys.entry(key.to_string()).or_default() += 1;
        }
        if let Some(r) = v["recipient"]["id"].as_str()
            && let Ok(w) = g.waiting.lock()
            && let Some(tx) = w.get(r)
        {
            let _ = tx.send((at, v.clone()));
        }
    }
    axum::Json(serde_json::json!({"recipient_id": "r", "message_id": format!("m_sent_{n}")}))
        .into_response()
}

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
    graph: Graph,
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
    let (tx, mut rx) = mpsc::unbounded_channel();
    if let Ok(mut w) = s.graph.waiting.lock() {
        w.insert(psid.clone(), tx);
    }
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
        if matches!(step, Step::Tap(ref p) if p == "PLACE") {
            if let Some(pay) = offered
                .iter()
                .rev()
                .find(|p| p.starts_with("PAY:bank:"))
                .cloned()
            {
                steps.push_back(Step::Tap(pay));
                steps.push_back(Step::Image(format!(
                    "http://127.0.0.1:{}/slip.png",
                    s.opts.graph_port
                )));
                steps.push_back(Step::Tap("ORDERS".into()));
                completed = true;
            }
        }
    }
    if completed {
        s.report.lock().await.journeys_completed += 1;
    }
    if let Ok(mut w) = s.graph.waiting.lock() {
        w.remove(&psid);
    }
}

pub async fn journey(opts: JourneyOptions) -> Result<JourneyReport, String> {
    let graph = Graph {
        limit: opts.graph_limit,
        ..Graph::default()
    };
    let png = Arc::new(slip_png());
    let app = Router::new()
        .route(
            "/slip.png",
            axum::routing::get(move || {
                let png = png.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "image/png")],
                        (*png).clone(),
                    )
                }
            }),
        )
        .fallback(graph_send)
        .with_state(graph.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.graph_port))
        .await
        .map_err(|e| format!("fake Graph API on port {}: {e}", opts.graph_port))?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
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
        Ok(url) => crate::store::Db::connect(&url).await.ok(),
        Err(_) => None,
    };
    let quiet_deadline = Instant::now() + Duration::from_secs(180);
    let mut last = graph.sends.load(Ordering::Relaxed);
    while Instant::now() < quiet_deadline {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let now = graph.sends.load(Ordering::Relaxed);
        let idle = match &db {
            Some(db) => work_left(db).await.map_or(true, |n| n == 0),
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
    report.sends = graph.sends.load(Ordering::Relaxed);
    report.rate_limited = graph.refused.load(Ordering::Relaxed);
    report.busiest_second = graph.busiest_second.load(Ordering::Relaxed);
    report.duplicate_sends = graph
        .keys
        .lock()
        .map(|k| k.values().map(|n| u64::from(n.saturating_sub(1))).sum())
        .unwrap_or(0);
    report.intake.sort();
    report.e2e.sort();
    Ok(report)
}

/// Events, messages and slips still to be worked on (0 when unknown).
async fn work_left(db: &crate::store::Db) -> Result<i64, sqlx::Error> {
    use sqlx::Row;
    sqlx::query(
        "select (select count(*) from inbox_events where status = 'pending') + (select count(*) from outbox_messages where status = 'pending') \
         + (select count(*) from payments where status = 'fetching')",
    )
    .fetch_one(&db.pool)
    .await?
    .try_get(0)
}

// ---------------------------------------------------------------- check

/// What the database says after a run: every acknowledged event processed
/// once in effect, every order consistent, every message delivered.
#[derive(Debug, Default)]
pub struct Consistency {
    pub acked: usize,
    pub acked_not_done: usize,
    pub customer_events: i64,
    pub customer_messages_recorded: i64,
    pub orders: i64,
    pub inconsistent_orders: i64,
    pub history_mismatches: i64,
    pub negative_stock: i64,
    pub outbox_sent: i64,
    pub outbox_not_sent: i64,
    /// Status and last error of messages not sent, if any.
    pub not_sent_detail: Vec<(String, String)>,
}

impl Consistency {
    pub fn ok(&self) -> bool {
        self.acked_not_done == 0
            && self.customer_events == self.customer_messages_recorded
            && self.inconsistent_orders == 0
            && self.history_mismatches == 0
            && self.negative_stock == 0
            && self.outbox_not_sent == 0
    }
}

pub async fn check(
    db: &crate::store::Db,
    acked: &[String],
    wait: Duration,
) -> Result<Consistency, String> {
    use sqlx::Row;
    // Let queued work finish first: nothing pending in the inbox or outbox.
    let deadline = Instant::now() + wait;
    loop {
        let busy = work_left(db).await.map_err(|e| e.to_string())?;
        if busy == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let one = |sql: &'static str| async move {
        sqlx::query(sql)
            .fetch_one(&db.pool)
            .await
            .map_err(|e| e.to_string())?
            .try_get::<i64, _>(0)
            .map_err(|e| e.to_string())
    };
    let mut c = Consistency {
        acked: acked.len(),
        ..Default::default()
    };
    let mut done = std::collections::HashSet::new();
    let rows = sqlx::query("select message_id from inbox_events where status = 'done'")
        .fetch_all(&db.pool)
        .await
        .map_err(|e| e.to_string())?;
    for r in &rows {
        done.insert(r.try_get::<String, _>(0).map_err(|e| e.to_string())?);
    }
    let unique: std::collections::HashSet<&String> = acked.iter().collect();
    c.acked = unique.len();
    c.acked_not_done = unique.iter().filter(|m| !done.contains(m.as_str())).count();
    c.customer_events = one("select count(*) from inbox_events where status = 'done' and kind not in ('echo', 'standby', 'reaction', 'other')").await?;
    c.customer_messages_recorded =
        one("select count(*) from conversation_messages where author = 'customer'").await?;
    c.orders = one("select count(*) from orders").await?;
    c.inconsistent_orders = one(
        "select count(*) from orders o where o.paid + o.remaining <> o.total \
         or o.total <> case when o.subtotal + o.shipping_fee + o.service_fees - o.discount < 0 then 0 else o.subtotal + o.shipping_fee + o.service_fees - o.discount end \
         or o.subtotal <> (select coalesce(cast(sum(l.unit_price * l.qty) as bigint), 0) from order_lines l where l.order_id = o.id and l.status <> 'refused')",
    )
    .await?;
    c.history_mismatches = one(
        "select count(*) from orders o where o.fulfilment <> (select h.to_state from order_history h where h.order_id = o.id and h.machine = 'fulfilment' order by h.id desc limit 1) \
         or o.payment_status <> coalesce((select h.to_state from order_history h where h.order_id = o.id and h.machine = 'payment' order by h.id desc limit 1), 'unpaid')",
    )
    .await?;
    c.negative_stock = one("select count(*) from variants where stock < 0").await?;
    c.outbox_sent = one("select count(*) from outbox_messages where status = 'sent'").await?;
    c.outbox_not_sent = one("select count(*) from outbox_messages where status <> 'sent'").await?;
    let rows = sqlx::query(
        "select status, coalesce(last_error, held_reason, purpose) as why from outbox_messages where status <> 'sent' order by id limit 5",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(|e| e.to_string())?;
    for r in &rows {
        c.not_sent_detail.push((
            r.try_get(0).map_err(|e| e.to_string())?,
            r.try_get(1).map_err(|e| e.to_string())?,
        ));
    }
    Ok(c)
}
