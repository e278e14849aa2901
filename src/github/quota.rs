//! GitHub's primary rate limit as its `X-RateLimit-*` headers last reported it.

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

/// One resource's quota (`core`, `search`, `graphql`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quota {
    pub resource: String,
    pub limit: i64,
    pub remaining: i64,
    pub reset: i64,
}

impl Quota {
    /// From a response's headers (names in any case), when it carries them.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
        Some(Self {
            resource: headers
                .get("x-ratelimit-resource")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("core")
                .to_owned(),
            limit: number("x-ratelimit-limit")?,
            remaining: number("x-ratelimit-remaining")?,
            reset: number("x-ratelimit-reset")?,
        })
    }

    pub fn reset_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.reset, 0).unwrap_or_else(Utc::now)
    }

    /// Whether the quota allows one more request now: above the stop threshold and within
    /// the configured share of the limit. A window whose reset has passed is full again.
    pub fn allows(&self, threshold: i64, share: f64, now: DateTime<Utc>) -> bool {
        if self.reset_at() <= now {
            return true;
        }
        let used = self.limit - self.remaining;
        // Truncation toward zero keeps the allowed share at or below the configured one.
        let allowed = (self.limit as f64 * share) as i64;
        self.remaining > threshold && used < allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(limit: i64, remaining: i64) -> Quota {
        Quota {
            resource: "core".into(),
            limit,
            remaining,
            reset: Utc::now().timestamp() + 600,
        }
    }

    #[test]
    fn stops_at_the_threshold_and_the_share() {
        let now = Utc::now();
        assert!(quota(5000, 26).allows(25, 1.0, now));
        assert!(!quota(5000, 25).allows(25, 1.0, now));
        assert!(quota(5000, 2501).allows(25, 0.5, now));
        assert!(!quota(5000, 2500).allows(25, 0.5, now));
        let expired = Quota {
            reset: now.timestamp() - 1,
            ..quota(5000, 0)
        };
        assert!(expired.allows(25, 1.0, now), "a new window has begun");
    }

    #[test]
    fn reads_headers_in_any_case() {
        let mut headers = HeaderMap::new();
        headers.insert("X-RateLimit-Limit", "60".parse().unwrap());
        headers.insert("x-ratelimit-remaining", "59".parse().unwrap());
        headers.insert("X-Ratelimit-Reset", "1601830213".parse().unwrap());
        let quota = Quota::from_headers(&headers).unwrap();
        assert_eq!(
            (
                quota.resource.as_str(),
                quota.limit,
                quota.remaining,
                quota.reset
            ),
            ("core", 60, 59, 1_601_830_213)
        );
    }
}
