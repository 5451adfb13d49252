//! The client's address behind reverse proxies the operator trusts: the
//! sign-in limit counts attempts per client, and behind a load balancer
//! every connection comes from the balancer, so one client could lock
//! everyone out. `X-Forwarded-For` is read only from a trusted peer, from
//! its right end (what the nearest trusted proxy saw) past the trusted
//! hops: a client cannot name another address by sending the header itself.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// An address block: `10.0.0.0/8`, `fd00::/8`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let bad = || {
            format!(
                "'{text}' is not an address or an address block (10.0.0.0/8, fd00::/8, 192.0.2.7)"
            )
        };
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix.parse::<u8>().map_err(|_| bad())?)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        if prefix > bits {
            return Err(bad());
        }
        Ok(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// IPv4 addresses mapped into IPv6 (`::ffff:10.0.0.1`, as a dual-stack
/// socket reports them) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn same_prefix(net: u128, ip: u128, prefix: u8, bits: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix);
    (net >> shift) == (ip >> shift)
}

/// `--trusted-proxies`: address blocks separated by commas or spaces.
pub fn parse_list(lists: &[String]) -> Result<Vec<Network>, String> {
    lists
        .iter()
        .flat_map(|l| l.split([',', ' ']))
        .filter(|s| !s.trim().is_empty())
        .map(Network::parse)
        .collect()
}

/// The client behind the connection from `peer`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[Network]) -> IpAddr {
    let trusted_ip = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !trusted_ip(peer) {
        return canonical(peer);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = canonical(peer);
    for hop in hops.iter().rev() {
        // An address a trusted proxy wrote, or one the client made up: an
        // unreadable one ends the walk at the last address read.
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = canonical(ip);
        if !trusted_ip(client) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses_only() {
        let n = Network::parse("10.1.0.0/16").unwrap();
        assert!(n.contains(ip("10.1.255.3")));
        assert!(!n.contains(ip("10.2.0.1")));
        assert!(n.contains(ip("::ffff:10.1.0.9")), "mapped IPv4");
        assert!(
            Network::parse("192.0.2.7")
                .unwrap()
                .contains(ip("192.0.2.7"))
        );
        assert!(
            !Network::parse("192.0.2.7")
                .unwrap()
                .contains(ip("192.0.2.8"))
        );
        assert!(
            Network::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("203.0.113.1"))
        );
        assert!(Network::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(!Network::parse("fd00::/8").unwrap().contains(ip("fe80::1")));
        for bad in ["10.0.0.0/33", "fd00::/129", "ten", "10.0.0.0/x", ""] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_list(&["10.0.0.0/8, 192.0.2.7".into()]).unwrap().len(),
            2
        );
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let lb = [Network::parse("10.0.0.0/8").unwrap()];
        // Straight from the internet: the header is the client's own words.
        assert_eq!(
            client_address(ip("203.0.113.9"), &headers(&["198.51.100.1"]), &lb),
            ip("203.0.113.9")
        );
        // Through the balancer: the address it saw.
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers(&["203.0.113.9"]), &lb),
            ip("203.0.113.9")
        );
        // A client's made-up address before the real one is not taken.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &headers(&["198.51.100.1, 203.0.113.9"]),
                &lb
            ),
            ip("203.0.113.9")
        );
        // Two trusted hops, across two header lines.
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers(&["203.0.113.9", "10.0.0.7"]), &lb),
            ip("203.0.113.9")
        );
        // Nothing forwarded, or nothing readable: the balancer itself.
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers(&[]), &lb),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers(&["unknown"]), &lb),
            ip("10.0.0.2")
        );
        // No trusted proxies: always the peer.
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers(&["203.0.113.9"]), &[]),
            ip("10.0.0.2")
        );
    }
}
