//! The client's address: the peer's, or — when the peer is one of TRUSTED_PROXIES — the
//! right-most address of `X-Forwarded-For` that is not a trusted proxy. Forwarded headers from
//! anyone else are ignored, so a client cannot choose its own rate-limit key.

use std::net::IpAddr;

/// The networks whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses addresses and CIDRs (`10.0.0.0/8`, `::1`); entries that do not parse are skipped
    /// (the configuration has refused them already).
    #[must_use]
    pub fn parse(entries: &[String]) -> Self {
        Self(
            entries
                .iter()
                .filter_map(|entry| {
                    let (address, bits) = match entry.split_once('/') {
                        Some((address, bits)) => (address, Some(bits)),
                        None => (entry.as_str(), None),
                    };
                    let ip: IpAddr = address.trim().parse().ok()?;
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    let bits = match bits {
                        Some(bits) => bits.trim().parse::<u8>().ok().filter(|b| *b <= max)?,
                        None => max,
                    };
                    Some((ip, bits))
                })
                .collect(),
        )
    }

    /// Whether `ip` is one of the trusted proxies.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0
            .iter()
            .any(|(network, bits)| in_network(ip, *network, *bits))
    }

    /// The client behind `peer`, given the request's `X-Forwarded-For`.
    #[must_use]
    pub fn client_ip(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let peer = peer?;
        if !self.contains(peer) {
            return Some(peer);
        }
        let mut client = peer;
        for hop in forwarded_for.unwrap_or_default().rsplit(',') {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        Some(client)
    }
}

fn in_network(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8".to_owned(), "::1".to_owned()]);
        let forwarded = Some("198.51.100.7, 10.0.0.2");
        assert_eq!(
            trusted.client_ip(Some(ip("10.1.2.3")), forwarded),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            trusted.client_ip(Some(ip("::1")), forwarded),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            trusted.client_ip(Some(ip("203.0.113.9")), forwarded),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            trusted.client_ip(Some(ip("10.1.2.3")), None),
            Some(ip("10.1.2.3"))
        );
        // A client's own forged entry to the left of the real one is not believed.
        assert_eq!(
            trusted.client_ip(Some(ip("10.1.2.3")), Some("1.2.3.4, 198.51.100.7")),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            trusted.client_ip(Some(ip("10.1.2.3")), Some("garbage")),
            Some(ip("10.1.2.3"))
        );
        assert_eq!(TrustedProxies::default().client_ip(None, forwarded), None);
    }

    #[test]
    fn networks_match_by_prefix() {
        assert!(in_network(ip("192.168.1.200"), ip("192.168.1.0"), 24));
        assert!(!in_network(ip("192.168.2.1"), ip("192.168.1.0"), 24));
        assert!(in_network(ip("8.8.8.8"), ip("0.0.0.0"), 0));
        assert!(in_network(ip("fd00::1"), ip("fd00::"), 8));
        assert!(!in_network(ip("10.0.0.1"), ip("fd00::"), 8));
    }
}
