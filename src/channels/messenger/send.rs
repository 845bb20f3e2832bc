//! The Send API client and how its errors are classified: by code and
//! subcode, never by HTTP status or message text.

use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying later (transport, 5xx, codes 1/2/1200).
    Transient(String),
    /// Meta limits this Page for now (rate limits 4/17/32/613/80006, HTTP
    /// 429, or the Page restricted from sending, 10/1893063): everything
    /// for the Page waits, and the message's attempts are not spent.
    /// `wait_ms` is Meta's own estimate when it gave one.
    PageThrottled {
        wait_ms: Option<i64>,
        message: String,
    },
    /// The customer's window is closed (10 / 2018278): hold, don't retry.
    OutsideWindow(String),
    /// Will never succeed as is (bad recipient, token, permission, policy).
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Transient(m) => write!(f, "transient: {m}"),
            SendError::PageThrottled { message, .. } => write!(f, "page throttled: {message}"),
            SendError::OutsideWindow(m) => write!(f, "outside the 24-hour window: {m}"),
            SendError::Permanent(m) => write!(f, "permanent: {m}"),
        }
    }
}

/// How long Meta said to wait before a restricted Page may send again is
/// not given; this long, then the sends try again (and pause again if the
/// restriction still holds).
const RESTRICTED_PAUSE_MS: i64 = 10 * 60_000;

/// Classifies a Graph error body.
pub fn classify(status: u16, body: &str) -> SendError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let err = &v["error"];
    let code = err["code"].as_i64();
    let sub = err["error_subcode"].as_i64();
    let msg = format!(
        "{} (code {}, subcode {}, fbtrace {})",
        err["message"].as_str().unwrap_or("no message"),
        code.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
        sub.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
        err["fbtrace_id"].as_str().unwrap_or("-")
    );
    match (code, sub) {
        (None, _) if status == 429 => SendError::PageThrottled {
            wait_ms: None,
            message: format!("HTTP {status}"),
        },
        (None, _) if status >= 500 => SendError::Transient(format!("HTTP {status}")),
        (None, _) => SendError::Permanent(format!(
            "HTTP {status}: {}",
            body.chars().take(200).collect::<String>()
        )),
        (Some(10), Some(2018278)) | (Some(10), Some(2534022)) => SendError::OutsideWindow(msg),
        // Page temporarily restricted: everything for it waits, long.
        (Some(10), Some(1893063)) => SendError::PageThrottled {
            wait_ms: Some(RESTRICTED_PAUSE_MS),
            message: msg,
        },
        (Some(1), _) | (Some(2), _) | (Some(1200), _) => SendError::Transient(msg),
        (Some(4), _) | (Some(17), _) | (Some(32), _) | (Some(613), _) | (Some(80006), _) => {
            SendError::PageThrottled {
                wait_ms: None,
                message: msg,
            }
        }
        _ => SendError::Permanent(msg),
    }
}

/// What the User Profile API tells about a customer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserProfile {
    pub first_name: String,
    pub last_name: String,
    /// Only an https link; it expires after a while.
    pub picture: Option<String>,
}

#[derive(Clone)]
pub struct Graph {
    pub http: reqwest::Client,
    pub base: String,
}

impl Graph {
    /// Sends one message object; returns Meta's message id.
    pub async fn send(
        &self,
        page_id: &str,
        token: &str,
        recipient: &str,
        messaging_type: &str,
        tag: Option<&str>,
        message: &Value,
    ) -> Result<String, SendError> {
        let mut body = json!({
            "recipient": {"id": recipient},
            "messaging_type": messaging_type,
            "message": message,
        });
        if let Some(tag) = tag {
            body["tag"] = json!(tag);
        }
        self.post(&format!("{}/{}/messages", self.base, page_id), token, &body)
            .await
    }

    /// Who a Page access token speaks for (`GET /me`): the Page's id and
    /// name, or Meta's refusal (an expired or wrong token).
    pub async fn whoami(&self, token: &str) -> Result<(String, String), SendError> {
        let (v, text) = self
            .get_json(&format!("{}/me?fields=id,name", self.base), token)
            .await?;
        match (v["id"].as_str(), v["name"].as_str()) {
            (Some(id), name) => Ok((id.to_string(), name.unwrap_or("").to_string())),
            _ => Err(SendError::Permanent(format!(
                "an answer without an id: {text:.200}"
            ))),
        }
    }

    /// The Instagram professional account linked to a Page, if any: its id
    /// (where Instagram messages arrive) and username.
    pub async fn instagram_account(
        &self,
        page_id: &str,
        token: &str,
    ) -> Result<Option<(String, String)>, SendError> {
        let (v, _) = self
            .get_json(
                &format!(
                    "{}/{page_id}?fields=instagram_business_account%7Bid,username%7D",
                    self.base
                ),
                token,
            )
            .await?;
        let account = &v["instagram_business_account"];
        Ok(account["id"]
            .as_str()
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
            .map(|id| {
                (
                    id.to_string(),
                    account["username"].as_str().unwrap_or("").to_string(),
                )
            }))
    }

    /// A customer's public profile (User Profile API): first and last
    /// name and picture, as far as the Page may see them.
    pub async fn user_profile(&self, psid: &str, token: &str) -> Result<UserProfile, SendError> {
        if psid.is_empty() || !psid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(SendError::Permanent(format!(
                "not a Messenger user id: {psid:.40}"
            )));
        }
        let (v, _) = self
            .get_json(
                &format!(
                    "{}/{psid}?fields=first_name,last_name,profile_pic",
                    self.base
                ),
                token,
            )
            .await?;
        let text = |k: &str| v[k].as_str().unwrap_or("").to_string();
        Ok(UserProfile {
            first_name: text("first_name"),
            last_name: text("last_name"),
            picture: v["profile_pic"]
                .as_str()
                .filter(|u| u.starts_with("https://"))
                .map(str::to_string),
        })
    }

    async fn get_json(&self, url: &str, token: &str) -> Result<(Value, String), SendError> {
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("transport: {e}")))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| SendError::Transient(format!("reading the answer: {e}")))?;
        if !(200..300).contains(&status) {
            return Err(classify(status, &text));
        }
        Ok((serde_json::from_str(&text).unwrap_or(Value::Null), text))
    }

    pub async fn post(&self, url: &str, token: &str, body: &Value) -> Result<String, SendError> {
        let response = self
            .http
            .post(url)
            .bearer_auth(token)
            .timeout(Duration::from_secs(15))
            .json(body)
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("transport: {e}")))?;
        let status = response.status().as_u16();
        let regain_ms = ["x-business-use-case-usage", "x-app-usage", "x-page-usage"]
            .iter()
            .filter_map(|h| response.headers().get(*h)?.to_str().ok())
            .filter_map(regain_access_ms)
            .max();
        let text = response
            .text()
            .await
            .map_err(|e| SendError::Transient(format!("reading the answer: {e}")))?;
        if (200..300).contains(&status) {
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            return Ok(v["message_id"].as_str().unwrap_or("").to_string());
        }
        Err(match classify(status, &text) {
            SendError::PageThrottled { wait_ms, message } => SendError::PageThrottled {
                wait_ms: wait_ms.max(regain_ms),
                message,
            },
            other => other,
        })
    }
}

/// Meta's usage headers carry `estimated_time_to_regain_access` in minutes,
/// nested per business (`{"<id>": [{..., "estimated_time_to_regain_access":
/// 5}]}`) or flat; the longest one found, in milliseconds.
pub fn regain_access_ms(header: &str) -> Option<i64> {
    fn walk(v: &Value, best: &mut Option<i64>) {
        match v {
            Value::Object(m) => {
                for (k, val) in m {
                    if k == "estimated_time_to_regain_access"
                        && let Some(minutes) = val.as_i64().filter(|m| *m > 0)
                    {
                        *best = (*best).max(Some(minutes.saturating_mul(60_000)));
                    } else {
                        walk(val, best);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, best)),
            _ => {}
        }
    }
    let v: Value = serde_json::from_str(header).ok()?;
    let mut best = None;
    walk(&v, &mut best);
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_codes_not_status() {
        let e = |code: i64, sub: Option<i64>| {
            let body = match sub {
                Some(s) => {
                    format!(r#"{{"error":{{"message":"m","code":{code},"error_subcode":{s}}}}}"#)
                }
                None => format!(r#"{{"error":{{"message":"m","code":{code}}}}}"#),
            };
            classify(400, &body)
        };
        assert!(matches!(e(10, Some(2018278)), SendError::OutsideWindow(_)));
        for code in [4, 17, 32, 613, 80006] {
            assert!(
                matches!(
                    e(code, None),
                    SendError::PageThrottled { wait_ms: None, .. }
                ),
                "code {code} throttles the Page"
            );
        }
        assert!(matches!(
            e(10, Some(1893063)),
            SendError::PageThrottled {
                wait_ms: Some(600_000),
                ..
            }
        ));
        assert!(matches!(classify(429, ""), SendError::PageThrottled { .. }));
        assert!(matches!(e(1200, None), SendError::Transient(_)));
        assert!(matches!(e(551, Some(1545041)), SendError::Permanent(_)));
        assert!(matches!(e(190, Some(463)), SendError::Permanent(_)));
        assert!(matches!(e(100, None), SendError::Permanent(_)));
        assert!(matches!(
            classify(502, "<html>bad gateway</html>"),
            SendError::Transient(_)
        ));
        assert!(matches!(classify(403, "nope"), SendError::Permanent(_)));
    }

    #[test]
    fn meta_s_wait_estimate_is_read_from_the_usage_headers() {
        let buc = r#"{"112233": [{"type": "messenger", "call_count": 100, "total_cputime": 5, "total_time": 9, "estimated_time_to_regain_access": 5}],
                      "445566": [{"type": "pages", "call_count": 20, "estimated_time_to_regain_access": 0}]}"#;
        assert_eq!(regain_access_ms(buc), Some(5 * 60_000));
        assert_eq!(
            regain_access_ms(r#"{"call_count": 98, "estimated_time_to_regain_access": 2}"#),
            Some(120_000)
        );
        assert_eq!(regain_access_ms(r#"{"call_count": 12}"#), None);
        assert_eq!(regain_access_ms("not json"), None);
    }
}
