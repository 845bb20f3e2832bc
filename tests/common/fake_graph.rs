//! A fake Graph API: a real HTTP server on 127.0.0.1 that records every
//! request and answers from a script (success by default; errors, rate
//! limits or delays when told).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub auth: Option<String>,
    pub body: serde_json::Value,
    /// When it arrived.
    pub at: std::time::Instant,
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

#[derive(Clone, Default)]
struct Inner {
    requests: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    counter: Arc<Mutex<u64>>,
}

pub struct FakeGraph {
    pub url: String,
    inner: Inner,
}

async fn handle(
    State(inner): State<Inner>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    inner.requests.lock().unwrap().push(Recorded {
        path: uri.path().to_string(),
        auth: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body,
        at: std::time::Instant::now(),
    });
    let reply = inner
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Ok);
    match reply {
        Reply::Delay(d) => {
            tokio::time::sleep(d).await;
        }
        Reply::Error {
            status,
            code,
            subcode,
        } => {
            let mut err = serde_json::json!({"message": "scripted failure", "type": "OAuthException", "code": code, "fbtrace_id": "FAKE"});
            if let Some(s) = subcode {
                err["error_subcode"] = serde_json::json!(s);
            }
            return (
                StatusCode::from_u16(status).unwrap(),
                axum::Json(serde_json::json!({"error": err})),
            )
                .into_response();
        }
        Reply::RateLimited { regain_minutes } => {
            let err = serde_json::json!({"message": "(#613) Calls to this API have exceeded the rate limit.",
                "type": "OAuthException", "code": 613, "fbtrace_id": "FAKE"});
            let mut response = (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({"error": err})),
            )
                .into_response();
            if let Some(m) = regain_minutes {
                let usage = serde_json::json!({"1234567890": [{"type": "messenger", "call_count": 100,
                    "total_cputime": 4, "total_time": 6, "estimated_time_to_regain_access": m}]});
                response.headers_mut().insert(
                    "x-business-use-case-usage",
                    usage.to_string().parse().unwrap(),
                );
            }
            return response;
        }
        Reply::Ok => {}
    }
    let n = {
        let mut c = inner.counter.lock().unwrap();
        *c += 1;
        *c
    };
    axum::Json(serde_json::json!({"recipient_id": "r", "message_id": format!("m_fake_{n}")}))
        .into_response()
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let inner = Inner::default();
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v25.0", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGraph { url, inner }
    }

    /// The next answers, in order; afterwards every call succeeds.
    pub fn script(&self, replies: Vec<Reply>) {
        self.inner.script.lock().unwrap().extend(replies);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// Send API calls to one recipient, in arrival order.
    pub fn sends_to(&self, psid: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.body["recipient"]["id"] == psid)
            .collect()
    }
}

/// Polls `check` until it holds or `secs` pass.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
