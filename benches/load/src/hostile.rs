//! Hostile traffic against one server, for docs/reliability.md: uploads
//! with bad ids and forged cookies, event streams opened again and again,
//! requests with made-up methods, and bad logins, all at once. It reports
//! what the server answered; the script beside it (benches/hostile.sh)
//! measures the server's memory and disk and a customer and a seller
//! going about their business at the same time.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct HostileOptions {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    #[arg(long, default_value_t = 1)]
    pub shop: i64,
    #[arg(long, default_value_t = 10_000)]
    pub uploads: usize,
    #[arg(long, default_value_t = 5_000)]
    pub streams: usize,
    #[arg(long, default_value_t = 100_000)]
    pub methods: usize,
    #[arg(long, default_value_t = 1_000)]
    pub logins: usize,
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
}

#[derive(Debug, Default)]
pub struct HostileReport {
    /// Per attack, how many answers of each status.
    pub statuses: BTreeMap<&'static str, BTreeMap<u16, usize>>,
    pub elapsed: Duration,
}

async fn cookie(client: &reqwest::Client, url: &str, shop: i64) -> Option<String> {
    let r = client.get(format!("{url}/chat/{shop}")).send().await.ok()?;
    let c = r.headers().get("set-cookie")?.to_str().ok()?;
    c.split(';').next().map(str::to_string)
}

pub async fn hostile(o: HostileOptions) -> Result<HostileReport, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    // The few cookies one address can get; reused for everything.
    let mut cookies = Vec::new();
    for _ in 0..40 {
        if let Some(c) = cookie(&client, &o.url, o.shop).await {
            cookies.push(c);
        }
    }
    if cookies.is_empty() {
        return Err("no web-chat cookie at all".into());
    }
    let mut report = HostileReport::default();
    let jobs: Vec<(&'static str, usize)> = vec![
        ("upload with a bad id", o.uploads / 2),
        ("upload with a forged cookie", o.uploads - o.uploads / 2),
        ("event stream", o.streams),
        ("made-up method", o.methods),
        ("bad login", o.logins),
    ];
    for (kind, n) in jobs {
        let tally = run_many(&client, &o, &cookies, kind, n).await;
        report.statuses.insert(kind, tally);
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

async fn run_many(
    client: &reqwest::Client,
    o: &HostileOptions,
    cookies: &[String],
    kind: &'static str,
    n: usize,
) -> BTreeMap<u16, usize> {
    use futures_util::StreamExt;
    let photo = vec![0xff_u8; 200 * 1024];
    let answers = futures_util::stream::iter(0..n)
        .map(|i| {
            let cookie = cookies[i % cookies.len()].clone();
            let (client, url, shop, photo) = (client.clone(), o.url.clone(), o.shop, photo.clone());
            async move {
                let r = match kind {
                    "upload with a bad id" => {
                        client
                            .post(format!("{url}/chat/{shop}/upload?client_id=bad%20id%21{i}"))
                            .header("cookie", cookie)
                            .body(photo)
                            .send()
                            .await
                    }
                    "upload with a forged cookie" => {
                        client
                            .post(format!("{url}/chat/{shop}/upload?client_id=f-{i}"))
                            .header("cookie", format!("cb_chat={:024x}.{:032x}", i, i))
                            .body(photo)
                            .send()
                            .await
                    }
                    "event stream" => {
                        // Opened and left hanging for a moment, as a bot would.
                        let r = client
                            .get(format!("{url}/chat/{shop}/events"))
                            .header("cookie", cookie)
                            .send()
                            .await;
                        if let Ok(resp) = &r
                            && resp.status().is_success()
                        {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        r
                    }
                    "made-up method" => {
                        match reqwest::Method::from_bytes(format!("X{i}").as_bytes()) {
                            Ok(m) => client.request(m, format!("{url}/healthz")).send().await,
                            Err(_) => return 0,
                        }
                    }
                    _ => {
                        client
                            .get(format!("{url}/api/v1/orders"))
                            .bearer_auth(format!("cbk_guess{i}"))
                            .send()
                            .await
                    }
                };
                r.map(|r| r.status().as_u16()).unwrap_or(0)
            }
        })
        .buffer_unordered(o.concurrency.max(1))
        .collect::<Vec<u16>>()
        .await;
    let mut tally = BTreeMap::new();
    for s in answers {
        *tally.entry(s).or_default() += 1;
    }
    tally
}
