//! Failed Basic logins, counted per client: past the limit a client's password attempts are
//! refused until its window ends, so passwords cannot be guessed at line rate. Only failures
//! count, so a busy client with the right password is never slowed, even on its first burst
//! of parallel requests; the price is that guesses already in flight when the limit is
//! reached are still answered. An IPv6 client is its /64, which one subscriber usually holds
//! whole.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Clients remembered at once; beyond this, finished windows are forgotten first.
const CAPACITY: usize = 100_000;

struct Window {
    started: Instant,
    failures: u32,
}

pub struct LoginThrottle {
    limit: u32,
    clients: Mutex<HashMap<IpAddr, Window>>,
}

impl LoginThrottle {
    /// At most `limit` failed logins per client a minute; 0 turns the throttle off.
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// How long `client` must wait before it may try a password again, if it must.
    pub fn wait(&self, client: IpAddr) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let window = clients.get(&bucket(client))?;
        let left = WINDOW.checked_sub(window.started.elapsed())?;
        (window.failures >= self.limit && !left.is_zero()).then_some(left)
    }

    pub fn failed(&self, client: IpAddr) {
        if self.limit == 0 {
            return;
        }
        let client = bucket(client);
        let now = Instant::now();
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() >= CAPACITY && !clients.contains_key(&client) {
            clients.retain(|_, window| now.duration_since(window.started) < WINDOW);
        }
        let window = clients.entry(client).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
    }
}

/// The address a client is counted under: IPv4 whole, IPv6 by its /64.
fn bucket(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_held_back_after_its_limit_and_others_are_not() {
        let throttle = LoginThrottle::new(3);
        let (client, other): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..2 {
            throttle.failed(client);
        }
        assert_eq!(throttle.wait(client), None, "under the limit");
        throttle.failed(client);
        let wait = throttle.wait(client).expect("the limit is reached");
        assert!(
            wait <= WINDOW && wait > WINDOW - Duration::from_secs(5),
            "{wait:?}"
        );
        assert_eq!(throttle.wait(other), None);
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let throttle = LoginThrottle::new(1);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        throttle.failed(one);
        assert!(throttle.wait(same_64).is_some());
        assert_eq!(throttle.wait(other_64), None);
    }

    #[test]
    fn a_limit_of_zero_never_throttles() {
        let throttle = LoginThrottle::new(0);
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..100 {
            throttle.failed(client);
        }
        assert_eq!(throttle.wait(client), None);
    }
}
