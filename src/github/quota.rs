//! GitHub's primary rate limits: one quota per resource (`core` for REST, `graphql`, …) with
//! its own window, as GitHub last reported each, and the rules for spending them.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

/// The REST API's quota.
pub const CORE: &str = "core";
/// The GraphQL API's quota, in points.
pub const GRAPHQL: &str = "graphql";

/// One resource's quota.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quota {
    pub resource: String,
    pub limit: i64,
    pub remaining: i64,
    /// When the window resets, in Unix seconds.
    pub reset: i64,
}

impl Quota {
    /// From a response's `x-ratelimit-*` headers (names in any case), when it carries them.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
        Some(Self {
            resource: headers
                .get("x-ratelimit-resource")
                .and_then(|v| v.to_str().ok())
                .unwrap_or(CORE)
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

    /// Whether this report says more than `other` of the same resource: it is of a later
    /// window, or of the same window with less left (reports from several processes arrive
    /// out of order, and what is spent is never given back within a window).
    fn supersedes(&self, other: &Self) -> bool {
        self.reset > other.reset || (self.reset == other.reset && self.remaining < other.remaining)
    }
}

/// The quotas of one credential as last reported, by resource.
#[derive(Debug, Default)]
pub struct Quotas(Mutex<HashMap<String, Quota>>);

impl Quotas {
    /// Keeps `quota` unless what is known of its resource already says more.
    pub fn observe(&self, quota: Quota) {
        let mut known = self.lock();
        match known.get(&quota.resource) {
            Some(current) if !quota.supersedes(current) => {}
            _ => {
                known.insert(quota.resource.clone(), quota);
            }
        }
    }

    pub fn get(&self, resource: &str) -> Option<Quota> {
        self.lock().get(resource).cloned()
    }

    /// Every quota known, by resource name.
    pub fn all(&self) -> Vec<Quota> {
        let mut all: Vec<Quota> = self.lock().values().cloned().collect();
        all.sort_by(|a, b| a.resource.cmp(&b.resource));
        all
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Quota>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(limit: i64, remaining: i64) -> Quota {
        Quota {
            resource: CORE.into(),
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
        headers.insert("X-RateLimit-Resource", "graphql".parse().unwrap());
        assert_eq!(Quota::from_headers(&headers).unwrap().resource, GRAPHQL);
    }

    #[test]
    fn a_report_from_elsewhere_counts_only_when_it_says_more() {
        let quotas = Quotas::default();
        let now = quota(5000, 4000);
        quotas.observe(now.clone());
        quotas.observe(Quota {
            remaining: 4500,
            ..now.clone()
        });
        assert_eq!(quotas.get(CORE).unwrap().remaining, 4000, "older news");
        quotas.observe(Quota {
            remaining: 3990,
            ..now.clone()
        });
        assert_eq!(quotas.get(CORE).unwrap().remaining, 3990);
        quotas.observe(Quota {
            remaining: 5000,
            reset: now.reset + 3600,
            ..now
        });
        assert_eq!(quotas.get(CORE).unwrap().remaining, 5000, "a new window");
    }
}
