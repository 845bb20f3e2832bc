//! Who is asking: the client's address, seen through the operator's
//! reverse proxies and no one else's.

use crate::config::IpRange;
use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};

/// The client's address. `X-Forwarded-For` counts only when the peer is a
/// trusted proxy; then its hops are read from the right (the nearest
/// proxy's own entry) past every trusted one, so a client cannot name
/// itself by writing the header: what it wrote sits left of the address
/// the proxy saw.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpRange]) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    let mut client = peer?;
    if !is_trusted(client) {
        return Some(client);
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

/// [`client_ip`] of a request, as text (a limiter's key).
pub fn client_key(parts: &Parts, trusted: &[IpRange]) -> String {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    client_ip(peer, &parts.headers, trusted)
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "any".into())
}

/// The client's address as a limiter's key, for any handler.
pub struct ClientAddr(pub String);

impl axum::extract::FromRequestParts<crate::app::AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::app::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_key(parts, &state.config.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn with_xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().expect("header"));
        h
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let proxy = [IpRange::parse("10.0.0.0/8").expect("range")];
        let h = with_xff("6.6.6.6, 203.0.113.7");
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &proxy),
            Some(ip("203.0.113.7")),
            "the address the proxy saw, not what the client wrote before it"
        );
        assert_eq!(
            client_ip(Some(ip("198.51.100.1")), &h, &proxy),
            Some(ip("198.51.100.1")),
            "anyone else's header is ignored"
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &h, &[]),
            Some(ip("10.0.0.2")),
            "no trusted proxies: no header"
        );
        let chain = with_xff("203.0.113.7, 10.1.1.1");
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &chain, &proxy),
            Some(ip("203.0.113.7")),
            "two proxies of the operator's in a row"
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &with_xff("junk"), &proxy),
            Some(ip("10.0.0.2"))
        );
    }
}
