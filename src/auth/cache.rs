//! Credentials verified recently, so Basic auth costs one indexed lookup instead of an argon2
//! hash per request. Entries are keyed by an HMAC of user and password under a per-process
//! random key (the cache never holds a password), live briefly, and count only while the
//! user's stored hash is the one they were verified against: a changed password drops them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

const LIFETIME: Duration = Duration::from_secs(120);
const CAPACITY: usize = 10_000;

pub type CacheKey = [u8; 32];

struct Entry {
    password_hash: String,
    expires: Instant,
}

pub struct CredentialCache {
    key: hmac::Key,
    entries: Mutex<HashMap<CacheKey, Entry>>,
}

impl CredentialCache {
    pub fn new() -> Self {
        let mut secret = [0u8; 32];
        SystemRandom::new()
            .fill(&mut secret)
            .expect("the operating system provides random bytes");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn key(&self, username: &str, password: &str) -> CacheKey {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(username.as_bytes());
        context.update(&[0]);
        context.update(password.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(context.sign().as_ref());
        key
    }

    /// True when `key` was verified against `password_hash` and has not expired.
    pub fn holds(&self, key: &CacheKey, password_hash: &str) -> bool {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some(entry)
                if entry.expires > Instant::now() && entry.password_hash == password_hash =>
            {
                true
            }
            Some(_) => {
                entries.remove(key);
                false
            }
            None => false,
        }
    }

    pub fn remember(&self, key: CacheKey, password_hash: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            let now = Instant::now();
            entries.retain(|_, entry| entry.expires > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                password_hash: password_hash.to_owned(),
                expires: Instant::now() + LIFETIME,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_counts_only_for_the_hash_it_was_verified_against() {
        let cache = CredentialCache::new();
        let key = cache.key("alice", "pw");
        assert!(!cache.holds(&key, "hash-1"));
        cache.remember(key, "hash-1");
        assert!(cache.holds(&key, "hash-1"));
        assert!(!cache.holds(&key, "hash-2"), "the password changed");
        assert!(!cache.holds(&key, "hash-1"), "and the entry is gone");
    }

    #[test]
    fn keys_separate_user_from_password() {
        let cache = CredentialCache::new();
        assert_ne!(cache.key("ab", "c"), cache.key("a", "bc"));
        assert_eq!(cache.key("a", "bc"), cache.key("a", "bc"));
    }
}
