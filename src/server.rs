//! The HTTP server and the background workers around it: wiring, health,
//! metrics, request tracing, body limits and graceful shutdown.

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Db;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Everything a handler or worker needs; one pointer, cheap to clone per
/// request (fields are reached through `Deref`).
#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

pub struct AppInner {
    pub db: Db,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub http: reqwest::Client,
    /// Flips to `true` when the process is asked to stop.
    pub stopping: watch::Receiver<bool>,
    /// Names this process in leases.
    pub instance_id: String,
    pub texts: Arc<crate::engine::Texts>,
    pub intake: crate::inbox::Intake,
    pub accounts: Arc<crate::inbox::Accounts>,
    pub shop_views: crate::inbox::ShopViews,
    pub inbox_wake: Arc<Notify>,
    pub outbox_wake: Arc<Notify>,
    pub webchat_wake: Arc<Notify>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/static/demo/{file}", get(crate::demo::serve_demo_image))
        .merge(crate::channels::routes())
        .merge(crate::admin::routes())
        .merge(crate::slips::routes())
        .layer(middleware::from_fn_with_state(state.clone(), refuse_nul))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            trace_requests,
        ))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok"})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    serde_json::json!({"status": "unavailable", "reason": "database unreachable"}),
                ),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut gauges = Vec::new();
    for (name, help, sql) in [
        (
            "inbox_pending",
            "Inbound events not yet processed.",
            "select count(*) as n from inbox_events where status = 'pending'",
        ),
        (
            "outbox_pending",
            "Outbound messages waiting to be sent.",
            "select count(*) as n from outbox_messages where status = 'pending'",
        ),
        (
            "outbox_held",
            "Pushes held until the customer writes again.",
            "select count(*) as n from outbox_messages where status = 'held'",
        ),
        (
            "outbox_failed",
            "Outbound messages that gave up.",
            "select count(*) as n from outbox_messages where status = 'failed'",
        ),
    ] {
        if let Ok(row) = sqlx::query(sql).fetch_one(&state.db.pool).await {
            use sqlx::Row;
            gauges.push((name, help, row.try_get::<i64, _>("n").unwrap_or(0)));
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&gauges),
    )
        .into_response()
}

/// Text with a NUL character is refused at the edge with a reason:
/// PostgreSQL cannot store it, and no person types it. Webhooks (Meta's
/// bytes, signed) and binary uploads are left alone.
async fn refuse_nul(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/webhooks/") || path.ends_with("/upload") {
        return next.run(req).await;
    }
    let refuse = || {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({"error": "text may not contain NUL characters"})),
        )
            .into_response()
    };
    if req.uri().query().is_some_and(|q| q.contains("%00")) {
        return refuse();
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let textual =
        form || content_type.starts_with("application/json") || content_type.starts_with("text/");
    if !textual {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, state.config.max_body_bytes).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
    };
    if bytes.contains(&0)
        || bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
        || (form && bytes.windows(3).any(|w| w == b"%00"))
    {
        return refuse();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// One span per request, named by its route, and the request metrics.
async fn trace_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let span = tracing::info_span!("http", %method, route = %route, status = tracing::field::Empty);
    let started = Instant::now();
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("status", status);
    let elapsed = started.elapsed();
    state
        .metrics
        .observe_request(method.as_str(), &route, status, elapsed);
    if status >= 500 {
        tracing::warn!(parent: &span, elapsed_ms = elapsed.as_millis() as u64, "request failed");
    } else {
        tracing::debug!(parent: &span, elapsed_ms = elapsed.as_millis() as u64, "request done");
    }
    response
}

/// A running server: its address, and the handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, then stops workers.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        for w in self.workers {
            let _ = w.await;
        }
    }

    /// Stops at once, mid-work, like a process that was killed: nothing is
    /// finished or flushed. Tests use it to prove recovery.
    pub fn abort(self) {
        self.server.abort();
        for w in self.workers {
            w.abort();
        }
    }

    /// Waits until the server ends by itself (it does not, until stopped).
    pub async fn wait(self) {
        let Running {
            stop,
            server,
            workers,
            ..
        } = self;
        let _ = server.await;
        let _ = stop.send(true);
        for w in workers {
            let _ = w.await;
        }
    }
}

/// Binds and serves, with workers unless the config turns them off.
pub async fn start(config: Config, db: Db) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let (stop, stopping) = watch::channel(false);
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .map_err(std::io::Error::other)?;
    let inbox_wake = Arc::new(Notify::new());
    let (intake, _writer) = crate::inbox::Intake::start(db.clone(), inbox_wake.clone());
    let texts = Arc::new(crate::engine::Texts::load(config.templates_dir.as_deref()));
    let state = AppState(Arc::new(AppInner {
        db,
        config: Arc::new(config),
        metrics: Arc::new(Metrics::default()),
        http,
        stopping: stopping.clone(),
        instance_id: crate::clock::hex(&crate::clock::random_bytes::<6>()),
        texts,
        intake,
        accounts: Arc::new(crate::inbox::Accounts::default()),
        shop_views: crate::inbox::ShopViews::default(),
        inbox_wake,
        outbox_wake: Arc::new(Notify::new()),
        webchat_wake: Arc::new(Notify::new()),
    }));
    let workers = if state.config.workers {
        spawn_workers(&state)
    } else {
        Vec::new()
    };
    let app = router(state.clone());
    let mut shutdown_rx = stopping.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = shutdown_rx.wait_for(|s| *s).await;
        })
        .await
    });
    Ok(Running {
        addr,
        state,
        stop,
        server,
        workers,
    })
}

fn spawn_workers(state: &AppState) -> Vec<JoinHandle<()>> {
    let mut workers = crate::inbox::spawn_workers(state, 2);
    workers.push(crate::outbox::spawn(state));
    workers.push(crate::inbox::spawn_timers(state));
    workers.extend(crate::slips::spawn_workers(state));
    workers
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn termination_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
