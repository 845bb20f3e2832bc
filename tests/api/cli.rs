//! The `chatbill` binary as an operator meets it: clear one-line failures,
//! and `demo` starting with nothing configured.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn chatbill() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chatbill"));
    for var in [
        "DATABASE_URL",
        "META_APP_SECRET",
        "META_VERIFY_TOKEN",
        "CHATBILL_SECRET_KEY",
        "CHATBILL_BIND",
        "CHATBILL_PUBLIC_URL",
    ] {
        c.env_remove(var);
    }
    c.env("CHATBILL_LOG", "warn");
    c
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("chatbill-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_bad_database_url_fails_with_one_clear_line() {
    let out = chatbill()
        .args(["migrate"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/nothing")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("chatbill: DATABASE_URL:"), "{err}");

    let out = chatbill()
        .args(["migrate"])
        .env("DATABASE_URL", "mysql://x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));
}

#[test]
fn serve_without_secrets_names_the_missing_one() {
    let dir = temp_dir("serve");
    let out = chatbill()
        .current_dir(&dir)
        .args(["serve"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "chatbill: configuration: META_APP_SECRET: is not set (required for serve)"
    );
    let out = chatbill()
        .current_dir(&dir)
        .args(["serve"])
        .env("META_APP_SECRET", "0123456789")
        .env("META_VERIFY_TOKEN", "0123456789")
        .env("CHATBILL_SECRET_KEY", "0123456789abcdef0123456789abcdef")
        .env("CHATBILL_BIND", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CHATBILL_BIND"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn demo_starts_with_nothing_configured_and_stops_on_sigterm() {
    let dir = temp_dir("demo");
    let mut child = chatbill()
        .current_dir(&dir)
        .args(["demo"])
        .env("CHATBILL_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.contains("Press Ctrl-C");
        printed.push(line);
        if done || Instant::now() > deadline {
            break;
        }
    }
    let text = printed.join("\n");
    let find = |label: &str| {
        printed
            .iter()
            .find(|l| l.contains(label))
            .and_then(|l| {
                l.split_whitespace()
                    .find(|w| w.starts_with("http://") || w.starts_with("cbk_"))
            })
            .unwrap_or_else(|| panic!("no {label} in:\n{text}"))
            .to_string()
    };
    let chat = find("Chat as a customer");
    assert!(chat.contains("/chat/1"), "{text}");
    assert!(find("Admin token").starts_with("cbk_"));
    let health = find("Health");
    let body = plain_http::blocking_get(&health, None);
    assert!(body.contains("\"ok\""), "{body}");
    // Metrics need the token the demo printed.
    let metrics_line = printed
        .iter()
        .find(|l| l.contains("Metrics:"))
        .unwrap_or_else(|| panic!("no metrics line in:\n{text}"));
    let metrics_url = metrics_line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("a metrics URL");
    let metrics_token = metrics_line
        .split("Bearer ")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a metrics token");
    let refused = plain_http::blocking_get(metrics_url, None);
    assert!(refused.starts_with("HTTP/1.0 401"), "{refused}");
    let shown = plain_http::blocking_get(metrics_url, Some(metrics_token));
    assert!(shown.contains("chatbill_http_requests_total"), "{shown}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("data/demo-secrets.json"))
            .expect("the demo's secrets")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner reads the secrets");
    }
    assert!(
        dir.join("data/chatbill.db").exists(),
        "creates ./data on first run"
    );

    // SIGTERM: a clean exit.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(code.success(), "{code:?}");
    let _ = std::fs::remove_dir_all(dir);
}

mod plain_http {
    /// A plain HTTP/1.0 GET over a socket: enough for a health check
    /// without pulling an async runtime into a sync test.
    pub fn blocking_get(url: &str, bearer: Option<&str>) -> String {
        use std::io::{Read, Write};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest
            .split_once('/')
            .map(|(h, p)| (h, format!("/{p}")))
            .unwrap_or((rest, "/".into()));
        let mut s = std::net::TcpStream::connect(host).unwrap();
        let auth = bearer
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n{auth}\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }
}
