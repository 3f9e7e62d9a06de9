//! How much an anonymous caller may make the server spend: the public routes that render, verify, search or
//! aggregate ([`COSTLY`]) take a token from a bucket per client address; signed-in callers are not limited here
//! (their own limits are per account). A token bucket per address over the application's clock, so tests fix
//! the time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Public routes that cost real work per request (PDF rendering, signature checks, proofs, aggregates, lookups).
pub const COSTLY: &[(&str, &str)] = &[
    ("GET", "/services/{code}/form.pdf"),
    ("GET", "/services/{code}/sample.pdf"),
    ("GET", "/api/v1/items/{code}/flowchart.svg"),
    ("GET", "/api/v1/satisfaction"),
    ("GET", "/satisfaction"),
    ("GET", "/api/v1/transparency/inclusion"),
    ("GET", "/api/v1/transparency/consistency"),
    ("GET", "/api/v1/disclosures"),
    ("GET", "/api/v1/licenses/{identifier}"),
    ("GET", "/v/{identifier}"),
    ("POST", "/api/v1/verify"),
    ("POST", "/api/v1/verify/pdf"),
    ("POST", "/verify"),
    ("POST", "/verify/pdf"),
    ("POST", "/api/v1/progress"),
    ("POST", "/progress"),
    ("POST", "/api/v1/ratings"),
    ("POST", "/rate"),
    ("POST", "/api/v1/register"),
    ("GET", "/api/v1/oidc/login"),
    // Each answer takes a pending sign-in from the database (a write job), even a made-up one.
    ("GET", "/api/v1/oidc/callback"),
    ("POST", "/register"),
    ("GET", "/open311/v2/{file}"),
    ("POST", "/open311/v2/{file}"),
    ("GET", "/open311/v2/services/{file}"),
    ("GET", "/open311/v2/requests/{file}"),
    ("GET", "/open311/v2/tokens/{file}"),
    // The hall: a number is a write; slots count the day's bookings.
    ("POST", "/api/v1/service-points/{point}/numbers"),
    ("POST", "/hall/{point}/take"),
    ("GET", "/api/v1/service-points/{point}/slots"),
];

/// The routes a hall device (a kiosk, a hall screen; `ONESEAL_HALL_DEVICES`) uses all day from one address:
/// taking a number is exempt from the anonymous bucket for those addresses, so a busy kiosk never stops the hall.
pub const HALL_DEVICE_ROUTES: &[(&str, &str)] =
    &[("POST", "/api/v1/service-points/{point}/numbers"), ("POST", "/hall/{point}/take")];

/// Whether a route is one a hall device may use without the anonymous bucket.
pub fn hall_device_route(method: &str, pattern: &str) -> bool {
    HALL_DEVICE_ROUTES.iter().any(|(m, p)| *m == method && *p == pattern)
}

/// Whether an address is one of the hall's own devices.
pub fn hall_device(ip: IpAddr, devices: &[oneseal_app::egress::Cidr]) -> bool {
    devices.iter().any(|c| c.contains(ip))
}

/// Open connections to the hall's live feed (`/hall/{point}/events`) per client address on this node, so a
/// stranger cannot hold thousands of them (`ONESEAL_HALL_EVENTS_PER_ADDRESS`).
#[derive(Debug, Default)]
pub struct FeedConnections {
    open: Mutex<HashMap<IpAddr, u32>>,
}

/// One open connection, counted until it is dropped (the client went away or the server stopped).
#[derive(Debug)]
pub struct FeedSlot {
    feeds: std::sync::Arc<FeedConnections>,
    addr: IpAddr,
}

impl Drop for FeedSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.feeds.open.lock() {
            if let Some(n) = open.get_mut(&self.addr) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(&self.addr);
                }
            }
        }
    }
}

impl FeedConnections {
    /// Count one more connection from `addr` if it has fewer than `cap` open (0: no cap); `None`: refused.
    pub fn open(feeds: &std::sync::Arc<FeedConnections>, addr: IpAddr, cap: u32) -> Option<FeedSlot> {
        let mut open = feeds.open.lock().ok()?;
        let n = open.entry(addr).or_insert(0);
        if cap > 0 && *n >= cap {
            return None;
        }
        *n += 1;
        Some(FeedSlot { feeds: feeds.clone(), addr })
    }

    /// Connections open from an address now.
    pub fn count(&self, addr: IpAddr) -> u32 {
        self.open.lock().ok().and_then(|o| o.get(&addr).copied()).unwrap_or(0)
    }
}

/// The buckets, one per address. The limit itself is the application's setting
/// ([`oneseal_app::App::anonymous_per_minute`], `ONESEAL_ANONYMOUS_PER_MINUTE`).
#[derive(Debug, Default)]
pub struct AnonymousLimiter {
    buckets: Mutex<HashMap<IpAddr, (f64, i64)>>,
}

impl AnonymousLimiter {
    /// Take one token for `addr` at `now_ms` under a limit of `limit` per minute (0: no limit); `Err(seconds)`
    /// says how long until the next token.
    pub fn take(&self, addr: IpAddr, now_ms: i64, limit: u32) -> Result<(), u64> {
        if limit == 0 {
            return Ok(());
        }
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        let capacity = f64::from(limit);
        let per_ms = capacity / 60_000.0;
        if buckets.len() > 100_000 {
            // Under a spray of addresses, forget the full buckets (they would be full again anyway).
            buckets.retain(|_, (tokens, last)| *tokens + (now_ms - *last) as f64 * per_ms < capacity);
        }
        let (tokens, last) = buckets.entry(addr).or_insert((capacity, now_ms));
        let refilled = (*tokens + (now_ms - *last).max(0) as f64 * per_ms).min(capacity);
        *last = now_ms;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(((1.0 - refilled) / per_ms / 1000.0).ceil().max(1.0) as u64)
        }
    }
}

/// Whether a route is one of the costly public ones.
pub fn costly(method: &str, pattern: &str) -> bool {
    let method = if method == "HEAD" { "GET" } else { method };
    COSTLY.iter().any(|(m, p)| *m == method && *p == pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_costly_route_is_a_declared_public_route() {
        for (m, p) in COSTLY {
            assert_eq!(crate::policy::rule(m, p), Some(crate::policy::Access::Public), "{m} {p}");
        }
    }

    #[test]
    fn a_bucket_empties_refills_and_is_per_address() {
        let l = AnonymousLimiter::default();
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let b: IpAddr = "198.51.100.2".parse().unwrap();
        for _ in 0..6 {
            assert!(l.take(a, 0, 6).is_ok());
        }
        assert_eq!(l.take(a, 0, 6), Err(10), "one token every ten seconds");
        assert!(l.take(b, 0, 6).is_ok(), "another address has its own bucket");
        assert!(l.take(a, 10_000, 6).is_ok());
        assert!(l.take(a, 10_000, 6).is_err());
        assert!(l.take(a, 10_000, 0).is_ok(), "0 turns it off");
    }

    #[test]
    fn feed_connections_are_capped_per_address_and_freed_when_dropped() {
        let f = std::sync::Arc::new(FeedConnections::default());
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let b: IpAddr = "198.51.100.2".parse().unwrap();
        let one = FeedConnections::open(&f, a, 2).unwrap();
        let two = FeedConnections::open(&f, a, 2).unwrap();
        assert!(FeedConnections::open(&f, a, 2).is_none());
        assert!(FeedConnections::open(&f, b, 2).is_some(), "another address has its own count");
        drop(one);
        assert_eq!(f.count(a), 1);
        let _three = FeedConnections::open(&f, a, 2).unwrap();
        drop(two);
        assert_eq!(f.count(a), 1);
        let many: Vec<_> = (0..50).map(|_| FeedConnections::open(&f, a, 0).unwrap()).collect();
        assert_eq!(f.count(a), 51, "0: no cap");
        drop(many);
        assert_eq!(f.count(a), 1);
    }
}
