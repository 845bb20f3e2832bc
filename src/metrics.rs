//! Prometheus text-format metrics, kept by hand: a few counters and one
//! latency histogram do not need a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use std::time::Duration;

const BUCKETS_MS: [f64; 10] = [
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS_MS.len()],
    sum_ms: f64,
    total: u64,
}

/// (method, route, status)
type RequestKey = (String, String, u16);

#[derive(Default)]
pub struct Metrics {
    // Small vectors scanned by &str: a hot path must not allocate keys.
    requests: Mutex<Vec<(RequestKey, u64)>>,
    latency: Mutex<Vec<(String, Histogram)>>,
    counters: Mutex<BTreeMap<&'static str, u64>>,
}

/// The methods chatbill answers, and `other` for the rest: any token is a
/// valid HTTP method, and a label per made-up one would grow without bound.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    KNOWN
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

impl Metrics {
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        if let Ok(mut m) = self.requests.lock() {
            match m
                .iter_mut()
                .find(|((mt, r, s), _)| mt == method && r == route && *s == status)
            {
                Some((_, n)) => *n += 1,
                None => {
                    m.push(((method.to_string(), route.to_string(), status), 1));
                    m.sort_by(|a, b| a.0.cmp(&b.0));
                }
            }
        }
        let ms = elapsed.as_secs_f64() * 1000.0;
        if let Ok(mut all) = self.latency.lock() {
            let i = match all.iter().position(|(r, _)| r == route) {
                Some(i) => i,
                None => {
                    all.push((route.to_string(), Histogram::default()));
                    all.len() - 1
                }
            };
            let h = &mut all[i].1;
            for (i, b) in BUCKETS_MS.iter().enumerate() {
                if ms <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum_ms += ms;
            h.total += 1;
        }
    }

    /// Counts a named event (`chatbill_<name>_total`).
    pub fn incr(&self, name: &'static str, by: u64) {
        if let Ok(mut c) = self.counters.lock() {
            *c.entry(name).or_default() += by;
        }
    }

    pub fn counter(&self, name: &'static str) -> u64 {
        self.counters
            .lock()
            .map(|c| c.get(name).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Renders everything; `gauges` are read from the database at scrape time.
    pub fn render(&self, gauges: &[(&str, &str, i64)]) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP chatbill_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE chatbill_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "chatbill_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str(
            "# HELP chatbill_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE chatbill_http_request_duration_seconds histogram\n");
        if let Ok(h) = self.latency.lock() {
            let mut h: Vec<_> = h.iter().collect();
            h.sort_by(|a, b| a.0.cmp(&b.0));
            for (route, hist) in h {
                let route = escape(route);
                for (i, b) in BUCKETS_MS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "chatbill_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{}\"}} {}",
                        b / 1000.0,
                        hist.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "chatbill_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    hist.total
                );
                let _ = writeln!(
                    out,
                    "chatbill_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    hist.sum_ms / 1000.0
                );
                let _ = writeln!(
                    out,
                    "chatbill_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    hist.total
                );
            }
        }
        if let Ok(c) = self.counters.lock() {
            for (name, n) in c.iter() {
                let _ = writeln!(
                    out,
                    "# TYPE chatbill_{name}_total counter\nchatbill_{name}_total {n}"
                );
            }
        }
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP chatbill_{name} {help}\n# TYPE chatbill_{name} gauge\nchatbill_{name} {value}"
            );
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.observe_request("GET", "/healthz", 200, Duration::from_millis(3));
        m.observe_request("GET", "/healthz", 200, Duration::from_millis(30));
        m.incr("inbox_processed", 2);
        let text = m.render(&[("outbox_pending", "Messages waiting to be sent.", 7)]);
        assert!(text.contains(
            "chatbill_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "chatbill_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 1"
        ));
        assert!(
            text.contains("chatbill_http_request_duration_seconds_count{route=\"/healthz\"} 2")
        );
        assert!(text.contains("chatbill_inbox_processed_total 2"));
        assert!(text.contains("chatbill_outbox_pending 7"));
    }

    #[test]
    fn made_up_methods_share_one_label() {
        let m = Metrics::default();
        for i in 0..1000 {
            m.observe_request(&format!("X{i}"), "unmatched", 405, Duration::ZERO);
        }
        let text = m.render(&[]);
        assert!(text.contains(
            "chatbill_http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"} 1000"
        ));
        assert_eq!(text.matches("chatbill_http_requests_total{").count(), 1);
    }
}
