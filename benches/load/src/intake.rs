//! `chatbill-load intake`: a load generator for the webhook. It sends
//! distinct signed Messenger events (many customers, unique message ids)
//! over N concurrent keep-alive connections and reports what the server
//! acknowledged: requests per second and latency percentiles.

use chatbill::channels::messenger::signature::sign;
use chatbill::clock;
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
