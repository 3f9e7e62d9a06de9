//! Where OneSeal may connect out to (webhooks today): public addresses only. Loopback, unspecified, private
//! (RFC 1918), shared (RFC 6598), link-local (incl. 169.254.169.254, the cloud metadata address), unique-local
//! IPv6, multicast, benchmarking and reserved ranges are refused unless an administrator lists them in the
//! configuration (`ONESEAL_EGRESS_ALLOW`, CIDR blocks). The check runs when a URL is registered and again on
//! every connection, on the addresses DNS returned then (a name that later resolves to 127.0.0.1 is refused).
//!
//! CIDR parsing is a few lines over `std::net`; a crate for it would be a dependency for twenty lines.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use crate::AppError;

/// One CIDR block, e.g. `127.0.0.1/32` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| format!("{s}: not an IP address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("{s}: bad prefix length"))?,
            None => max,
        };
        Ok(Cidr { net, prefix })
    }

    /// A comma-separated list (empty entries ignored).
    pub fn parse_list(s: &str) -> Result<Vec<Cidr>, String> {
        s.split(',').filter(|x| !x.trim().is_empty()).map(Cidr::parse).collect()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix)) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Whether an address is one of the public internet's (not loopback, private, link-local, …).
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(a) => public_v4(a),
        IpAddr::V6(a) => public_v6(a),
    }
}

fn public_v4(a: Ipv4Addr) -> bool {
    let [o0, o1, ..] = a.octets();
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_broadcast()
        || a.is_multicast()
        || a.is_documentation()
        || o0 == 0
        || (o0 == 100 && (64..128).contains(&o1)) // shared address space, RFC 6598
        || (o0 == 198 && (o1 == 18 || o1 == 19)) // benchmarking, RFC 2544
        || o0 >= 240) // reserved
}

fn public_v6(a: Ipv6Addr) -> bool {
    let s0 = a.segments()[0];
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_multicast()
        || (s0 & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (s0 & 0xffc0) == 0xfe80 // link local, fe80::/10
        || (s0 & 0xffc0) == 0xfec0 // site local (deprecated), fec0::/10
        || s0 == 0x2001 && a.segments()[1] == 0x0db8 // documentation
        || a.to_ipv4().is_some_and(|v4| !public_v4(v4))) // IPv4-compatible forms
}

/// Whether OneSeal may connect to `ip`: a public address, or one inside an allow-listed block.
pub fn allowed(ip: IpAddr, allow: &[Cidr]) -> bool {
    is_public(ip) || allow.iter().any(|c| c.contains(ip))
}

/// Check a URL's host when it is registered: an IP literal must be allowed; a name must resolve, and to allowed
/// addresses only. Returns a message naming the problem.
pub fn check_url_host(url: &str, allow: &[Cidr]) -> Result<(), AppError> {
    let parsed = url::Url::parse(url).map_err(|e| AppError::invalid("invalid_url", format!("webhook URL: {e}")))?;
    let host = parsed.host().ok_or_else(|| AppError::invalid("invalid_url", "a webhook URL names a host"))?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match host {
        url::Host::Ipv4(a) => vec![IpAddr::V4(a)],
        url::Host::Ipv6(a) => vec![IpAddr::V6(a)],
        url::Host::Domain(d) => (d, port)
            .to_socket_addrs()
            .map_err(|_| {
                AppError::invalid(
                    "webhook_host_unresolvable",
                    format!("the host {d} of the webhook URL does not resolve"),
                )
            })?
            .map(|s| s.ip())
            .collect(),
    };
    if let Some(bad) = addrs.iter().find(|a| !allowed(**a, allow)) {
        return Err(AppError::invalid(
            "webhook_address_not_allowed",
            format!(
                "the webhook URL points at {bad}, a loopback, private, link-local or otherwise non-public address; an administrator allows such addresses with ONESEAL_EGRESS_ALLOW"
            ),
        ));
    }
    Ok(())
}

/// A resolver for outgoing HTTP that drops addresses OneSeal may not reach, so the check holds at connect time
/// for the addresses DNS gives then.
#[derive(Debug)]
pub struct GuardedResolver {
    pub allow: Vec<Cidr>,
}

impl ureq::unversioned::resolver::Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let all = ureq::unversioned::resolver::DefaultResolver::default().resolve(uri, config, timeout)?;
        let mut kept = self.empty();
        for a in all.iter().filter(|a| allowed(a.ip(), &self.allow)) {
            kept.push(*a);
        }
        if kept.is_empty() {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "refused: the host resolves only to non-public addresses (not in ONESEAL_EGRESS_ALLOW)",
            )));
        }
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_refused_and_allow_lists_admit_them() {
        for bad in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.0.0.5",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "ff02::1",
        ] {
            let ip: IpAddr = bad.parse().unwrap();
            assert!(!is_public(ip), "{bad} must not be public");
        }
        for good in ["1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "223.5.5.5"] {
            assert!(is_public(good.parse().unwrap()), "{good} is public");
        }
        let allow = Cidr::parse_list("127.0.0.1/32, ::1").unwrap();
        assert!(allowed("127.0.0.1".parse().unwrap(), &allow));
        assert!(allowed("::1".parse().unwrap(), &allow));
        assert!(!allowed("127.0.0.2".parse().unwrap(), &allow));
        assert!(!allowed("10.0.0.1".parse().unwrap(), &allow));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("example.org").is_err());
        assert!(Cidr::parse("10.0.0.0/8").unwrap().contains("10.200.3.4".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("192.168.0.1".parse().unwrap()));
    }

    #[test]
    fn registration_checks_literals_and_names() {
        let none: &[Cidr] = &[];
        for url in [
            "http://127.0.0.1:22/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.5/",
            "http://[::1]:8080/",
            "http://localhost:8080/",
            "http://[::ffff:7f00:1]/",
            "http://0x7f000001/",
            "http://2130706433/",
        ] {
            let e = check_url_host(url, none).unwrap_err();
            assert!(
                matches!(e.code(), "webhook_address_not_allowed" | "webhook_host_unresolvable"),
                "{url}: {}",
                e.code()
            );
        }
        let allow = Cidr::parse_list("127.0.0.0/8").unwrap();
        assert!(check_url_host("http://127.0.0.1:9/hook", &allow).is_ok());
    }

    #[test]
    fn the_check_holds_again_at_connect_time() {
        // A listener on loopback stands for an internal service a webhook URL was made to point at later.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://localhost:{}/hook", listener.local_addr().unwrap().port());
        let agent = |allow: Vec<Cidr>| {
            ureq::Agent::with_parts(
                ureq::Agent::config_builder().http_status_as_error(false).build(),
                ureq::unversioned::transport::DefaultConnector::new(),
                GuardedResolver { allow },
            )
        };
        let err = agent(vec![]).post(&url).send("{}").unwrap_err();
        assert!(err.to_string().contains("non-public"), "{err}");
        assert!(listener.accept().is_err(), "no connection was made");
        // Allow-listed, the same request connects (the listener sees it).
        let allow = Cidr::parse_list("127.0.0.1/32,::1/128").unwrap();
        let handle = std::thread::spawn(move || agent(allow).post(&url).send("{}"));
        let mut accepted = false;
        for _ in 0..200 {
            if listener.accept().is_ok() {
                accepted = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(accepted, "the allow-listed address was reached");
        drop(listener);
        let _ = handle.join();
    }
}
