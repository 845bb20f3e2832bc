//! A fake Graph API: a real HTTP server on 127.0.0.1 that records every
//! request and answers from a script (success by default; errors, rate
//! limits or delays when told). With a per-Page limit it refuses calls
//! beyond it with error 613, as Meta does at 300 a second; a load run can
//! subscribe to one recipient's sends as they arrive.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub auth: Option<String>,
    pub body: serde_json::Value,
    /// When it arrived.
    pub at: Instant,
}

#[derive(Clone, Debug)]
pub enum Reply {
    Ok,
    Error {
        status: u16,
        code: i64,
        subcode: Option<i64>,
    },
    Delay(Duration),
    /// Meta's rate-limit answer (code 613), with its usage header naming a
    /// wait in minutes when given.
    RateLimited {
        regain_minutes: Option<i64>,
    },
}

/// How the server behaves beyond its script.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Where to listen; port 0 picks one.
    pub port: u16,
    /// Refuse more than this many calls per Page within any second.
    pub limit_per_page: Option<usize>,
    /// Keep every request for [`FakeGraph::requests`] (a long load run
    /// turns this off and counts instead).
    pub forget_requests: bool,
    /// Also serve this file at `/slip.png` (a slip the server can download).
    pub slip_png: Option<Vec<u8>>,
}

/// How the fake answers the User Profile API for one customer.
#[derive(Clone, Debug)]
pub enum Profile {
    Found {
        first_name: String,
        last_name: String,
        picture: Option<String>,
    },
    /// Meta's answer when the app lacks the permission (the default).
    Refused,
    /// An HTTP 500, as during an outage.
    Unavailable,
}

type Subscriber = mpsc::UnboundedSender<(Instant, serde_json::Value)>;

#[derive(Default)]
struct Inner {
    options: Options,
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Reply>>,
    sends: AtomicU64,
    refused: AtomicU64,
    busiest_second: AtomicU64,
    /// Accepted calls of the last second, per Page.
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// Every outbox key seen in `metadata`, with how often it arrived.
    keys: Mutex<HashMap<String, u32>>,
    subscribers: Mutex<HashMap<String, Subscriber>>,
    profiles: Mutex<HashMap<String, Profile>>,
    /// Instagram accounts linked to Pages: page id → (account id, username).
    instagram: Mutex<HashMap<String, (String, String)>>,
}

/// A poisoned lock only means another request panicked; the data is fine.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    /// Whether Meta would take one more call for this Page now.
    fn admit(&self, page: &str, at: Instant) -> bool {
        let mut recent = lock(&self.recent);
        let window = recent.entry(page.to_string()).or_default();
        while window
            .front()
            .is_some_and(|t| at.duration_since(*t) >= Duration::from_secs(1))
        {
            window.pop_front();
        }
        if self
            .options
            .limit_per_page
            .is_some_and(|l| window.len() >= l)
        {
            return false;
        }
        window.push_back(at);
        self.busiest_second
            .fetch_max(window.len() as u64, Ordering::Relaxed);
        true
    }
}

fn graph_error(status: StatusCode, error: serde_json::Value) -> Response {
    (status, axum::Json(serde_json::json!({ "error": error }))).into_response()
}

fn rate_limited(regain_minutes: Option<i64>) -> Response {
    let mut response = graph_error(
        StatusCode::BAD_REQUEST,
        serde_json::json!({"message": "(#613) Calls to this API have exceeded the rate limit.",
            "type": "OAuthException", "code": 613, "fbtrace_id": "FAKE"}),
    );
    if let Some(m) = regain_minutes {
        let usage = serde_json::json!({"1234567890": [{"type": "messenger", "call_count": 100,
            "total_cputime": 4, "total_time": 6, "estimated_time_to_regain_access": m}]});
        if let Ok(value) = usage.to_string().parse() {
            response
                .headers_mut()
                .insert("x-business-use-case-usage", value);
        }
    }
    response
}

/// `GET /v25.0/{psid}?fields=…`: the profile set for that customer, or
/// Meta's refusal. Answered apart from the script, which is for sends.
fn profile(inner: &Inner, psid: &str) -> Response {
    let answer = lock(&inner.profiles)
        .get(psid)
        .cloned()
        .unwrap_or(Profile::Refused);
    match answer {
        Profile::Found {
            first_name,
            last_name,
            picture,
        } => axum::Json(
            serde_json::json!({"first_name": first_name, "last_name": last_name,
            "profile_pic": picture, "id": psid}),
        )
        .into_response(),
        Profile::Refused => graph_error(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"message": "(#230) Requires pages_messaging permission to manage the object",
                "type": "OAuthException", "code": 230, "fbtrace_id": "FAKE"}),
        ),
        Profile::Unavailable => (StatusCode::INTERNAL_SERVER_ERROR, "unavailable").into_response(),
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    if uri.path() == "/slip.png"
        && let Some(png) = &inner.options.slip_png
    {
        return (
            [(axum::http::header::CONTENT_TYPE, "image/png")],
            png.clone(),
        )
            .into_response();
    }
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    if !inner.options.forget_requests {
        lock(&inner.requests).push(Recorded {
            path: uri.path().to_string(),
            auth: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body: body.clone(),
            at,
        });
    }
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    if method == axum::http::Method::GET && segments.len() == 2 && segments[1] != "me" {
        if uri
            .query()
            .is_some_and(|q| q.contains("instagram_business_account"))
        {
            let page = segments[1];
            let linked = lock(&inner.instagram).get(page).cloned();
            return axum::Json(match linked {
                Some((id, username)) => serde_json::json!({"id": page,
                    "instagram_business_account": {"id": id, "username": username}}),
                None => serde_json::json!({"id": page}),
            })
            .into_response();
        }
        return profile(&inner, segments[1]);
    }
    let reply = lock(&inner.script).pop_front().unwrap_or(Reply::Ok);
    match reply {
        Reply::Delay(d) => tokio::time::sleep(d).await,
        Reply::Error {
            status,
            code,
            subcode,
        } => {
            let mut err = serde_json::json!({"message": "scripted failure", "type": "OAuthException", "code": code, "fbtrace_id": "FAKE"});
            if let Some(s) = subcode {
                err["error_subcode"] = serde_json::json!(s);
            }
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return graph_error(status, err);
        }
        Reply::RateLimited { regain_minutes } => return rate_limited(regain_minutes),
        Reply::Ok => {}
    }
    // /v25.0/me: who a token speaks for. A token `page-token-<id>[-…]` is
    // the Page <id>; any other the Page 1234567890.
    if uri.path().ends_with("/me") {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let id = token
            .strip_prefix("page-token-")
            .and_then(|rest| rest.split('-').next())
            .unwrap_or("1234567890");
        return axum::Json(serde_json::json!({"id": id, "name": format!("Fake Page {id}")}))
            .into_response();
    }
    // /v25.0/{page}/messages
    let page = uri.path().split('/').nth(2).unwrap_or("");
    if !inner.admit(page, at) {
        inner.refused.fetch_add(1, Ordering::Relaxed);
        return rate_limited(None);
    }
    let n = inner.sends.fetch_add(1, Ordering::Relaxed) + 1;
    if let Some(key) = body["message"]["metadata"].as_str() {
        *lock(&inner.keys).entry(key.to_string()).or_default() += 1;
    }
    if let Some(r) = body["recipient"]["id"].as_str()
        && let Some(tx) = lock(&inner.subscribers).get(r)
    {
        let _ = tx.send((at, body.clone()));
    }
    axum::Json(serde_json::json!({"recipient_id": "r", "message_id": format!("m_fake_{n}")}))
        .into_response()
}

pub struct FakeGraph {
    /// The base URL to give chatbill as `META_GRAPH_URL`.
    pub url: String,
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

impl FakeGraph {
    /// On a free port, recording every request. Panics when it cannot
    /// listen: for tests.
    pub async fn start() -> FakeGraph {
        match Self::start_with(Options::default()).await {
            Ok(g) => g,
            Err(e) => panic!("the fake Graph API cannot listen on 127.0.0.1: {e}"),
        }
    }

    pub async fn start_with(options: Options) -> std::io::Result<FakeGraph> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            options,
            ..Inner::default()
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeGraph {
            url: format!("http://{addr}/v25.0"),
            addr,
            inner,
        })
    }

    /// Links an Instagram professional account to a Page.
    pub fn link_instagram(&self, page: &str, account: &str, username: &str) {
        lock(&self.inner.instagram).insert(
            page.to_string(),
            (account.to_string(), username.to_string()),
        );
    }

    /// How the User Profile API answers for `psid` from now on.
    pub fn set_profile(&self, psid: &str, answer: Profile) {
        lock(&self.inner.profiles).insert(psid.to_string(), answer);
    }

    /// The profile lookups made so far, per customer.
    pub fn profile_lookups(&self, psid: &str) -> usize {
        let path = format!("/{psid}");
        self.requests()
            .iter()
            .filter(|r| r.path.ends_with(&path) && !r.path.ends_with("/messages"))
            .count()
    }

    /// The next answers, in order; afterwards every call succeeds.
    pub fn script(&self, replies: Vec<Reply>) {
        lock(&self.inner.script).extend(replies);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.inner.requests).clone()
    }

    /// Send API calls to one recipient, in arrival order.
    pub fn sends_to(&self, psid: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.body["recipient"]["id"] == psid)
            .collect()
    }

    /// Every accepted send to `psid` from now on, as it arrives.
    pub fn subscribe(&self, psid: &str) -> mpsc::UnboundedReceiver<(Instant, serde_json::Value)> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.inner.subscribers).insert(psid.to_string(), tx);
        rx
    }

    pub fn unsubscribe(&self, psid: &str) {
        lock(&self.inner.subscribers).remove(psid);
    }

    /// Calls accepted so far.
    pub fn sends(&self) -> u64 {
        self.inner.sends.load(Ordering::Relaxed)
    }

    /// Calls refused for the Page's rate.
    pub fn refused(&self) -> u64 {
        self.inner.refused.load(Ordering::Relaxed)
    }

    /// The most calls accepted for one Page within any one second.
    pub fn busiest_second(&self) -> u64 {
        self.inner.busiest_second.load(Ordering::Relaxed)
    }

    /// Accepted calls that carried an outbox key seen before.
    pub fn repeated_sends(&self) -> u64 {
        lock(&self.inner.keys)
            .values()
            .map(|n| u64::from(n.saturating_sub(1)))
            .sum()
    }
}
