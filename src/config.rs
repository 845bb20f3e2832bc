//! Configuration from the environment. A missing or invalid setting stops
//! start-up with one line that names it.

use crate::domain::send_budget::{DEFAULT_SEND_RATE, SendRate};
use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/chatbill.db";
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com/v25.0";

pub use secrecy::ExposeSecret;
use secrecy::SecretString;

#[derive(Clone, Debug)]
pub struct Config {
    /// May hold a password: never printed (`Debug` shows it redacted).
    pub database_url: SecretString,
    pub bind: SocketAddr,
    pub public_url: String,
    pub media_dir: PathBuf,
    pub meta_app_secret: SecretString,
    pub meta_verify_token: SecretString,
    pub meta_graph_url: String,
    /// Signs web-chat cookies; must be the same on every instance.
    pub secret_key: SecretString,
    pub attachment_hosts: Vec<String>,
    pub max_body_bytes: usize,
    pub workers: bool,
    /// Overrides for the embedded message templates (`<locale>.txt`).
    pub templates_dir: Option<PathBuf>,
    /// Send API calls per second per Page, shared by all instances.
    pub send_rate: SendRate,
    /// Who may read `/metrics`.
    pub metrics: MetricsAccess,
    /// Reverse proxies whose `X-Forwarded-For` is believed
    /// (`CHATBILL_TRUSTED_PROXIES`, addresses or CIDR ranges). From anyone
    /// else the header is ignored: a client could write anything in it.
    pub trusted_proxies: Vec<IpRange>,
    /// Web-chat event streams one instance keeps open at most.
    pub webchat_streams: usize,
}

/// An address range, `10.0.0.0/8` or one address (`127.0.0.1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    base: std::net::IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(s: &str) -> Option<IpRange> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let base: std::net::IpAddr = addr.trim().parse().ok()?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(IpRange { base, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        let bits = |ip: IpAddr| -> u128 {
            match ip {
                IpAddr::V4(a) => u128::from(u32::from(a)) << 96,
                IpAddr::V6(a) => u128::from(a),
            }
        };
        if ip.is_ipv4() != self.base.is_ipv4() {
            return false;
        }
        // Both kinds are left-aligned in 128 bits, so the prefix is the top bits.
        let mask = match self.prefix {
            0 => 0,
            p => u128::MAX << (128 - u32::from(p)),
        };
        (bits(ip) & mask) == (bits(self.base) & mask)
    }
}

/// `/metrics` tells anyone who reads it how busy each route is and how
/// long the queues are: it is the operator's, not the public's.
#[derive(Clone, Debug)]
pub enum MetricsAccess {
    /// Nobody: `/metrics` answers 404 until the operator picks one below.
    Off,
    /// On the main address, with `Authorization: Bearer <token>`
    /// (`CHATBILL_METRICS_TOKEN`).
    Token(SecretString),
    /// Only on this second address, e.g. `127.0.0.1:9090` for a local
    /// Prometheus (`CHATBILL_METRICS_BIND`); never on the main one.
    Bind(SocketAddr),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration: {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

fn err(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        problem: problem.into(),
    }
}

/// Which secrets a command insists on. `demo` makes its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secrets {
    Required,
    Optional,
}

impl Config {
    pub fn from_env(secrets: Secrets) -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok(), secrets)
    }

    /// Settings are read in a fixed order, so with several wrong the first
    /// one named is always the same.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        secrets: Secrets,
    ) -> Result<Config, ConfigError> {
        let vars = Vars(&get);
        let database_url = database_url(&vars)?;
        let (bind, public_url) = addresses(&vars)?;
        let media_dir = PathBuf::from(
            vars.get("CHATBILL_MEDIA_DIR")
                .unwrap_or_else(|| "data/media".into()),
        );
        let meta_graph_url = graph_url(&vars)?;
        let meta_app_secret = secret(&vars, secrets, "META_APP_SECRET", 8)?;
        let meta_verify_token = secret(&vars, secrets, "META_VERIFY_TOKEN", 8)?;
        let secret_key = secret(&vars, secrets, "CHATBILL_SECRET_KEY", 32)?;
        let attachment_hosts = attachment_hosts(&vars);
        let max_body_bytes = max_body_bytes(&vars)?;
        let workers = workers(&vars)?;
        let templates_dir = vars.get("CHATBILL_TEMPLATES_DIR").map(PathBuf::from);
        let send_rate = send_rate(&vars)?;
        let metrics = metrics_access(&vars)?;
        let trusted_proxies = trusted_proxies(&vars)?;
        let webchat_streams = match vars.get("CHATBILL_WEBCHAT_STREAMS") {
            None => 2000,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| {
                    err(
                        "CHATBILL_WEBCHAT_STREAMS",
                        format!("{v:?} is not a number of streams (1 to 1000000)"),
                    )
                })?,
        };
        Ok(Config {
            webchat_streams,
            trusted_proxies,
            metrics,
            templates_dir,
            database_url,
            bind,
            public_url,
            media_dir,
            meta_app_secret,
            meta_verify_token,
            meta_graph_url,
            secret_key,
            attachment_hosts,
            max_body_bytes,
            workers,
            send_rate,
        })
    }
}

/// The lookup, trimmed; an empty value counts as unset.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    fn get(&self, k: &str) -> Option<String> {
        (self.0)(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }
}

fn database_url(vars: &Vars) -> Result<SecretString, ConfigError> {
    let database_url = vars
        .get("DATABASE_URL")
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        return Err(err(
            "DATABASE_URL",
            format!("{database_url:?} is neither sqlite:… nor postgres://…"),
        ));
    }
    Ok(database_url.into())
}

/// Where to listen, and the address the outside world uses (links, media
/// and QR URLs); it defaults to the listening one.
fn addresses(vars: &Vars) -> Result<(SocketAddr, String), ConfigError> {
    let bind_raw = vars
        .get("CHATBILL_BIND")
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let bind: SocketAddr = bind_raw
        .parse()
        .map_err(|_| err("CHATBILL_BIND", format!("{bind_raw:?} is not host:port")))?;
    let public_url = match vars.get("CHATBILL_PUBLIC_URL") {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
            u.trim_end_matches('/').to_string()
        }
        Some(u) => {
            return Err(err(
                "CHATBILL_PUBLIC_URL",
                format!("{u:?} must start with http:// or https://"),
            ));
        }
        None => format!("http://{bind}"),
    };
    Ok((bind, public_url))
}

fn graph_url(vars: &Vars) -> Result<String, ConfigError> {
    let meta_graph_url = vars
        .get("META_GRAPH_URL")
        .unwrap_or_else(|| DEFAULT_GRAPH_URL.into());
    if !(meta_graph_url.starts_with("http://") || meta_graph_url.starts_with("https://")) {
        return Err(err(
            "META_GRAPH_URL",
            format!("{meta_graph_url:?} is not a URL"),
        ));
    }
    Ok(meta_graph_url.trim_end_matches('/').to_string())
}

/// A secret of at least `min_len` bytes; unset is allowed only when the
/// command does not insist (it then reads as empty).
fn secret(
    vars: &Vars,
    secrets: Secrets,
    name: &'static str,
    min_len: usize,
) -> Result<SecretString, ConfigError> {
    match vars.get(name) {
        Some(v) if v.len() >= min_len => Ok(v.into()),
        Some(_) => Err(err(
            name,
            format!("too short (at least {min_len} characters)"),
        )),
        None if secrets == Secrets::Optional => Ok(SecretString::default()),
        None => Err(err(name, "is not set (required for serve)")),
    }
}

fn attachment_hosts(vars: &Vars) -> Vec<String> {
    vars.get("CHATBILL_ATTACHMENT_HOSTS")
        .map(|v| {
            v.split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn max_body_bytes(vars: &Vars) -> Result<usize, ConfigError> {
    match vars.get("CHATBILL_MAX_BODY_BYTES") {
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1024)
            .ok_or_else(|| {
                err(
                    "CHATBILL_MAX_BODY_BYTES",
                    format!("{v:?} is not a size ≥ 1024"),
                )
            }),
        None => Ok(1024 * 1024),
    }
}

fn workers(vars: &Vars) -> Result<bool, ConfigError> {
    match vars.get("CHATBILL_WORKERS").as_deref() {
        None | Some("on") | Some("1") | Some("true") => Ok(true),
        Some("off") | Some("0") | Some("false") => Ok(false),
        Some(v) => Err(err("CHATBILL_WORKERS", format!("{v:?} is not on/off"))),
    }
}

fn trusted_proxies(vars: &Vars) -> Result<Vec<IpRange>, ConfigError> {
    let Some(list) = vars.get("CHATBILL_TRUSTED_PROXIES") else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            IpRange::parse(s).ok_or_else(|| {
                err(
                    "CHATBILL_TRUSTED_PROXIES",
                    format!("{s:?} is not an address or a range such as 10.0.0.0/8"),
                )
            })
        })
        .collect()
}

fn metrics_access(vars: &Vars) -> Result<MetricsAccess, ConfigError> {
    match (
        vars.get("CHATBILL_METRICS_TOKEN"),
        vars.get("CHATBILL_METRICS_BIND"),
    ) {
        (Some(_), Some(_)) => Err(err(
            "CHATBILL_METRICS_BIND",
            "set it or CHATBILL_METRICS_TOKEN, not both",
        )),
        (Some(token), None) if token.len() >= 16 => Ok(MetricsAccess::Token(token.into())),
        (Some(_), None) => Err(err(
            "CHATBILL_METRICS_TOKEN",
            "too short (at least 16 characters)",
        )),
        (None, Some(bind)) => bind.parse().map(MetricsAccess::Bind).map_err(|_| {
            err(
                "CHATBILL_METRICS_BIND",
                format!("{bind:?} is not host:port"),
            )
        }),
        (None, None) => Ok(MetricsAccess::Off),
    }
}

fn send_rate(vars: &Vars) -> Result<SendRate, ConfigError> {
    // Meta allows 300 calls/s per Page; "off" is for a Graph API stand-in.
    match vars.get("CHATBILL_SEND_RATE").as_deref() {
        None => Ok(SendRate::per_second(DEFAULT_SEND_RATE)),
        Some("off") | Some("0") => Ok(SendRate::UNLIMITED),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .map(SendRate::per_second)
            .ok_or_else(|| {
                err(
                    "CHATBILL_SEND_RATE",
                    format!("{v:?} is not calls per second (1 to 100000, or off)"),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)], s: Secrets) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned(), s)
    }

    #[test]
    fn secrets_are_never_printed() {
        let c = cfg(
            &[
                ("DATABASE_URL", "postgres://app:hunter2-db@db/chatbill"),
                ("META_APP_SECRET", "app-secret-value-1"),
                ("META_VERIFY_TOKEN", "verify-token-value-2"),
                ("CHATBILL_SECRET_KEY", "cookie-key-value-3-0123456789abcdef"),
            ],
            Secrets::Required,
        )
        .unwrap();
        let printed = format!("{c:?}");
        for secret in [
            "hunter2-db",
            "app-secret-value-1",
            "verify-token-value-2",
            "cookie-key-value-3",
        ] {
            assert!(!printed.contains(secret), "{secret} printed: {printed}");
        }
        assert_eq!(c.meta_app_secret.expose_secret(), "app-secret-value-1");
    }

    #[test]
    fn defaults_need_nothing_for_demo() {
        let c = cfg(&[], Secrets::Optional).unwrap();
        assert_eq!(c.database_url.expose_secret(), DEFAULT_DATABASE_URL);
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.meta_graph_url, "https://graph.facebook.com/v25.0");
        assert_eq!(c.send_rate, SendRate::per_second(250));
    }

    #[test]
    fn the_send_rate_is_calls_per_second_or_off() {
        let rate = |v| cfg(&[("CHATBILL_SEND_RATE", v)], Secrets::Optional).map(|c| c.send_rate);
        assert_eq!(rate("120"), Ok(SendRate::per_second(120)));
        assert_eq!(rate("off"), Ok(SendRate::UNLIMITED));
        assert_eq!(rate("0"), Ok(SendRate::UNLIMITED));
        for bad in ["-5", "fast", "1000000"] {
            assert_eq!(rate(bad).unwrap_err().name, "CHATBILL_SEND_RATE");
        }
    }

    #[test]
    fn metrics_are_off_unless_a_token_or_an_address_is_given() {
        let access = |pairs: &[(&str, &str)]| cfg(pairs, Secrets::Optional).map(|c| c.metrics);
        assert!(matches!(access(&[]), Ok(MetricsAccess::Off)));
        assert!(matches!(
            access(&[("CHATBILL_METRICS_TOKEN", "a-long-enough-token")]),
            Ok(MetricsAccess::Token(_))
        ));
        assert!(matches!(
            access(&[("CHATBILL_METRICS_BIND", "127.0.0.1:9090")]),
            Ok(MetricsAccess::Bind(_))
        ));
        for bad in [
            vec![("CHATBILL_METRICS_TOKEN", "short")],
            vec![("CHATBILL_METRICS_BIND", "9090")],
            vec![
                ("CHATBILL_METRICS_TOKEN", "a-long-enough-token"),
                ("CHATBILL_METRICS_BIND", "127.0.0.1:9090"),
            ],
        ] {
            assert!(access(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_and_ranges() {
        let c = cfg(
            &[(
                "CHATBILL_TRUSTED_PROXIES",
                "127.0.0.1, 10.0.0.0/8, fd00::/8",
            )],
            Secrets::Optional,
        )
        .unwrap();
        let trusted = |ip: &str| {
            let ip = ip.parse().unwrap();
            c.trusted_proxies.iter().any(|r| r.contains(ip))
        };
        assert!(trusted("127.0.0.1") && trusted("::ffff:127.0.0.1"));
        assert!(trusted("10.200.3.4") && trusted("fd12::1"));
        assert!(!trusted("127.0.0.2") && !trusted("11.0.0.1") && !trusted("fe80::1"));
        let e = cfg(
            &[("CHATBILL_TRUSTED_PROXIES", "10.0.0.0/33")],
            Secrets::Optional,
        )
        .unwrap_err();
        assert_eq!(e.name, "CHATBILL_TRUSTED_PROXIES");
    }

    #[test]
    fn bad_settings_name_themselves() {
        let e = cfg(&[("DATABASE_URL", "mysql://x")], Secrets::Optional).unwrap_err();
        assert_eq!(e.name, "DATABASE_URL");
        let e = cfg(&[("CHATBILL_BIND", "localhost")], Secrets::Optional).unwrap_err();
        assert_eq!(e.name, "CHATBILL_BIND");
        let e = cfg(&[], Secrets::Required).unwrap_err();
        assert_eq!(
            e.to_string(),
            "configuration: META_APP_SECRET: is not set (required for serve)"
        );
        let e = cfg(
            &[
                ("META_APP_SECRET", "s3cr3t-app"),
                ("META_VERIFY_TOKEN", "verify-me"),
                ("CHATBILL_SECRET_KEY", "short"),
            ],
            Secrets::Required,
        )
        .unwrap_err();
        assert_eq!(e.name, "CHATBILL_SECRET_KEY");
    }
}
