//! Downloading an attachment under a strict policy: host allow-list (Meta's
//! CDN by default, extended by `CHATBILL_ATTACHMENT_HOSTS`), https only
//! (plain http only to a loopback host the operator listed), addresses
//! checked after DNS resolution and pinned for the connection, redirects
//! followed by hand and re-checked at every hop, time-outs, and a size cap
//! enforced while streaming.

use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Turns a host name into addresses. Injectable so a test can make an
/// allowed name resolve wherever an attacker's DNS would.
pub type Resolver = Arc<
    dyn Fn(
            String,
            u16,
        ) -> futures_util::future::BoxFuture<'static, std::io::Result<Vec<SocketAddr>>>
        + Send
        + Sync,
>;

/// The system's resolver.
pub fn system_resolver() -> Resolver {
    Arc::new(|host, port| {
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        })
    })
}

/// Meta's attachment CDNs, matched on a dot boundary.
pub const DEFAULT_HOST_SUFFIXES: &[&str] = &["fbcdn.net", "fbsbx.com", "cdninstagram.com"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The policy refused the URL (or a redirect); nothing was fetched.
    #[error("refused by the download policy: {0}")]
    NotAllowed(String),
    /// 403 / 404 / 410: the signed URL no longer works.
    #[error("the attachment link expired (HTTP {0})")]
    Expired(u16),
    #[error("the attachment is larger than {0} bytes")]
    TooLarge(usize),
    /// Worth retrying: 5xx, 429, time-out, connection failure.
    #[error("temporary failure: {0}")]
    Transient(String),
    #[error("download failed: {0}")]
    Failed(String),
}

#[derive(Clone)]
pub struct FetchPolicy {
    /// Operator-listed hosts: `example.com` (that name only),
    /// `*.example.com` (its subdomains only), or an IP literal (exact: the
    /// only way to allow a private address).
    pub extra_hosts: Vec<String>,
    pub resolver: Resolver,
    pub max_bytes: usize,
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    pub max_redirects: usize,
    /// Tries on transient failures (1 = no retry).
    pub attempts: u32,
    pub backoff: Duration,
}

impl FetchPolicy {
    pub fn new(extra_hosts: &[String]) -> FetchPolicy {
        FetchPolicy {
            extra_hosts: extra_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            resolver: system_resolver(),
            max_bytes: super::analyze::DEFAULT_MAX_BYTES,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(30),
            max_redirects: 3,
            attempts: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

impl std::fmt::Debug for FetchPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchPolicy")
            .field("extra_hosts", &self.extra_hosts)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl FetchPolicy {
    /// Whether the operator listed this host: a name exactly, a
    /// `*.name` entry for its subdomains, an address exactly.
    fn lists_host(&self, host: &str, ip: Option<IpAddr>) -> bool {
        self.extra_hosts.iter().any(|entry| match ip {
            Some(ip) => entry.trim_matches(['[', ']']).parse::<IpAddr>().ok() == Some(ip),
            None => match entry.strip_prefix("*.") {
                Some(parent) => host.len() > parent.len() && suffix_match(host, parent),
                None => host == entry,
            },
        })
    }

    /// Whether the operator listed this address itself.
    fn lists_address(&self, ip: IpAddr) -> bool {
        self.extra_hosts
            .iter()
            .any(|e| e.trim_matches(['[', ']']).parse::<IpAddr>().ok() == Some(ip))
    }
}

fn suffix_match(host: &str, suffix: &str) -> bool {
    host == suffix
        || (host.len() > suffix.len()
            && host.ends_with(suffix)
            && host.as_bytes()[host.len() - suffix.len() - 1] == b'.')
}

/// Addresses that must never be fetched unless the operator listed the
/// address itself.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // Forms that carry an IPv4 address a router may reach: judged
            // by it (6to4) or refused outright (the rest reach whatever
            // the network's gateway maps them to).
            if s[0] == 0x2002 {
                let [a, b] = s[1].to_be_bytes();
                let [c, d] = s[2].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            let ipv4_compatible = s[..6].iter().all(|x| *x == 0);
            let nat64 =
                s[0] == 0x0064 && s[1] == 0xff9b && (s[2..6].iter().all(|x| *x == 0) || s[2] == 1);
            let teredo = s[0] == 0x2001 && s[1] == 0;
            !(ipv4_compatible
                || nat64
                || teredo
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x0100 && s[1..4].iter().all(|x| *x == 0)))
        }
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_multicast()
        || v4.is_broadcast()
        || v4.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (64..=127).contains(&o[1]))
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (18..=19).contains(&o[1]))
        || o[0] >= 240)
}

/// A URL that passed the static checks.
#[derive(Debug, Clone)]
struct Target {
    url: Url,
    host: String,
    port: u16,
    ip_literal: Option<IpAddr>,
}

fn check_url(policy: &FetchPolicy, url: &Url) -> Result<Target, FetchError> {
    let refuse = |why: &str| Err(FetchError::NotAllowed(why.to_string()));
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("credentials in the URL");
    }
    let Some(raw_host) = url.host_str() else {
        return refuse("no host");
    };
    let host = raw_host.trim_matches(['[', ']']).to_ascii_lowercase();
    let ip_literal = host.parse::<IpAddr>().ok();
    let operator_listed = policy.lists_host(&host, ip_literal);
    let default_listed =
        ip_literal.is_none() && DEFAULT_HOST_SUFFIXES.iter().any(|s| suffix_match(&host, s));
    if !(operator_listed || default_listed) {
        return Err(FetchError::NotAllowed(format!(
            "host {host} is not on the list"
        )));
    }
    let loopback_host = match ip_literal {
        Some(ip) => ip.is_loopback(),
        None => host == "localhost",
    };
    match url.scheme() {
        "https" => {}
        "http" if operator_listed && loopback_host => {}
        other => {
            return Err(FetchError::NotAllowed(format!(
                "scheme {other} is not allowed"
            )));
        }
    }
    let port = url.port_or_known_default().unwrap_or(443);
    if !operator_listed && port != 443 {
        return refuse("only the standard https port");
    }
    Ok(Target {
        url: url.clone(),
        host,
        port,
        ip_literal,
    })
}

async fn resolve(policy: &FetchPolicy, target: &Target) -> Result<Vec<SocketAddr>, FetchError> {
    let addrs: Vec<SocketAddr> = match target.ip_literal {
        Some(ip) => vec![SocketAddr::new(ip, target.port)],
        None => (policy.resolver)(target.host.clone(), target.port)
            .await
            .map_err(|e| FetchError::Transient(format!("resolving {}: {e}", target.host)))?,
    };
    if addrs.is_empty() {
        return Err(FetchError::Transient(format!(
            "{} has no address",
            target.host
        )));
    }
    // A listed name is still judged by where it points: only an address
    // the operator listed itself may be private.
    if addrs
        .iter()
        .any(|a| !is_public(a.ip()) && !policy.lists_address(a.ip()))
    {
        return Err(FetchError::NotAllowed(format!(
            "{} resolves to a private address",
            target.host
        )));
    }
    Ok(addrs)
}

enum Hop {
    Body(Vec<u8>),
    Redirect(Url),
}

async fn one_hop(policy: &FetchPolicy, target: &Target) -> Result<Hop, FetchError> {
    let addrs = resolve(policy, target).await?;
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(policy.connect_timeout)
        .timeout(policy.total_timeout)
        .user_agent("chatbill-slip-fetch");
    if target.ip_literal.is_none() {
        // Connect to the addresses just checked: a second DNS answer cannot
        // swap them.
        builder = builder.resolve_to_addrs(&target.host, &addrs);
    }
    let client = builder
        .build()
        .map_err(|e| FetchError::Failed(format!("client: {e}")))?;
    let transient = |e: reqwest::Error| FetchError::Transient(e.without_url().to_string());
    let mut resp = client
        .get(target.url.clone())
        .send()
        .await
        .map_err(transient)?;
    let status = resp.status();
    if status.is_redirection() {
        let loc = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| FetchError::Failed("redirect without a location".into()))?;
        let next = target
            .url
            .join(loc)
            .map_err(|_| FetchError::Failed("redirect to a bad URL".into()))?;
        return Ok(Hop::Redirect(next));
    }
    match status.as_u16() {
        200..=299 => {}
        401 | 403 | 404 | 410 => return Err(FetchError::Expired(status.as_u16())),
        408 | 425 | 429 | 500..=599 => {
            return Err(FetchError::Transient(format!("HTTP {}", status.as_u16())));
        }
        other => return Err(FetchError::Failed(format!("HTTP {other}"))),
    }
    if resp
        .content_length()
        .is_some_and(|n| n > policy.max_bytes as u64)
    {
        return Err(FetchError::TooLarge(policy.max_bytes));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transient)? {
        if body.len() + chunk.len() > policy.max_bytes {
            return Err(FetchError::TooLarge(policy.max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Hop::Body(body))
}

/// One download, following at most `max_redirects` allowed redirects.
pub async fn fetch_once(policy: &FetchPolicy, url: &str) -> Result<Vec<u8>, FetchError> {
    let mut url = Url::parse(url.trim()).map_err(|_| FetchError::NotAllowed("not a URL".into()))?;
    let work = async {
        for _ in 0..=policy.max_redirects {
            let target = check_url(policy, &url)?;
            match one_hop(policy, &target).await? {
                Hop::Body(b) => return Ok(b),
                Hop::Redirect(next) => url = next,
            }
        }
        Err(FetchError::Failed("too many redirects".into()))
    };
    match tokio::time::timeout(policy.total_timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(FetchError::Transient("download timed out".into())),
    }
}

/// Downloads with retries (and backoff) on transient failures only.
pub async fn fetch(policy: &FetchPolicy, url: &str) -> Result<Vec<u8>, FetchError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match fetch_once(policy, url).await {
            Err(FetchError::Transient(why)) if attempt < policy.attempts.max(1) => {
                tracing::info!(attempt, reason = %why, "slip download failed, retrying");
                tokio::time::sleep(policy.backoff * attempt).await;
            }
            other => return other,
        }
    }
}

/// The host of a URL, for logs (the full signed URL is a bearer capability).
pub fn host_of(url: &str) -> String {
    Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(extra: &[&str]) -> FetchPolicy {
        FetchPolicy::new(&extra.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }
    fn ok(policy: &FetchPolicy, u: &str) -> bool {
        check_url(policy, &Url::parse(u).unwrap()).is_ok()
    }

    #[test]
    fn allow_list_on_dot_boundaries() {
        let d = p(&[]);
        assert!(ok(
            &d,
            "https://scontent.xx.fbcdn.net/v/t1.15752-9/a.jpg?oe=66EF1ACC"
        ));
        assert!(ok(&d, "https://cdn.fbsbx.com/v/x"));
        assert!(!ok(&d, "https://fbcdn.net.evil.com/a.jpg"));
        assert!(!ok(&d, "https://evilfbcdn.net/a.jpg"));
        assert!(!ok(&d, "http://scontent.xx.fbcdn.net/a.jpg"));
        assert!(!ok(&d, "https://scontent.xx.fbcdn.net:8443/a.jpg"));
        assert!(!ok(&d, "https://user:pw@scontent.xx.fbcdn.net/a.jpg"));
        assert!(!ok(&d, "https://127.0.0.1/a.jpg"));
        assert!(!ok(&d, "ftp://cdn.fbsbx.com/a"));
    }

    #[test]
    fn operator_listed_loopback_may_use_http() {
        let l = p(&["127.0.0.1", "*.example.org"]);
        assert!(ok(&l, "http://127.0.0.1:8123/slip.jpg"));
        assert!(!ok(&l, "http://127.0.0.2:8123/slip.jpg"));
        assert!(!ok(&l, "http://localhost:8123/slip.jpg"));
        assert!(ok(&l, "https://media.example.org/a.png"));
        assert!(!ok(&l, "http://media.example.org/a.png"));
        assert!(
            !ok(&l, "https://example.org/a.png"),
            "*.name is its subdomains"
        );
        let exact = p(&["media.example.org"]);
        assert!(ok(&exact, "https://media.example.org/a.png"));
        assert!(
            !ok(&exact, "https://evil.media.example.org/a.png"),
            "a name is that name only"
        );
    }

    #[test]
    fn private_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "64:ff9b:1::a00:1",
            "2002:7f00:1::1",
            "2002:c0a8:101::",
            "fec0::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a}");
        }
        assert!(is_public("157.240.1.1".parse().unwrap()));
        assert!(is_public("2a03:2880::1".parse().unwrap()));
        assert!(
            is_public("2002:9df0:101::1".parse().unwrap()),
            "6to4 of a public address"
        );
    }
}
