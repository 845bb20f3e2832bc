//! Wiring: builds the application state, binds the listener (port 0
//! works), spawns the workers, and stops them all gracefully.

use crate::app::{AppInner, AppState};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Db;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub struct Running {
    pub addr: SocketAddr,
    /// Where `/metrics` listens when it has its own address.
    pub metrics_addr: Option<SocketAddr>,
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
    let (intake, _writer) = crate::app::intake::Intake::start(db.clone(), inbox_wake.clone());
    let config_max_streams = config.webchat_streams;
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
        accounts: Arc::new(crate::app::shop_views::Accounts::default()),
        shop_views: crate::app::shop_views::ShopViews::default(),
        inbox_wake,
        outbox_wake: Arc::new(Notify::new()),
        chat_streams: crate::app::chat_streams::ChatStreams::new(config_max_streams),
        slips_wake: Arc::new(Notify::new()),
        passes_running: Default::default(),
    }));
    let mut workers = if state.config.workers {
        crate::workers::spawn_all(&state)
    } else {
        Vec::new()
    };
    // Streams are served with the workers off too.
    workers.push(crate::workers::spawn(
        &state,
        crate::workers::chat_wakes::ChatWakes::default(),
        0,
    ));
    let metrics_addr = match state.config.metrics {
        crate::config::MetricsAccess::Bind(at) => {
            let listener = tokio::net::TcpListener::bind(at).await?;
            let addr = listener.local_addr()?;
            let app = crate::http::metrics_router(state.clone());
            let mut stop = stopping.clone();
            workers.push(tokio::spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "the metrics address stopped");
                }
            }));
            Some(addr)
        }
        _ => None,
    };
    let app = crate::http::router(state.clone());
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
        metrics_addr,
        state,
        stop,
        server,
        workers,
    })
}

/// Resolves on Ctrl-C or SIGTERM.
///
/// The handlers are installed when this is called, not when it is first
/// awaited: a signal that comes right after start-up printed its banner
/// must stop the process gracefully, not kill it.
pub fn termination_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (term, int) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {},
                _ = wait(int) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
