//! GUIDs as Partner Center writes them (tenant, customer, app IDs).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A GUID in its canonical lower-case 8-4-4-4-12 form. Parsing accepts upper
/// case and optional braces, because people paste IDs from many places.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid([u8; 16]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "“{0}” is not a GUID: expected 32 hexadecimal digits as 8-4-4-4-12, like 0f8fad5b-d9cb-469f-a165-70867728950e"
)]
pub struct GuidError(pub String);

impl Guid {
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Guid(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// A GUID derived from a 64-bit seed and a salt, for deterministic test data.
    pub fn from_seed(seed: u64, salt: u64) -> Self {
        let a = crate::guid::mix(seed ^ salt.rotate_left(17));
        let b = crate::guid::mix(a ^ salt);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_be_bytes());
        bytes[8..].copy_from_slice(&b.to_be_bytes());
        // Mark it as a version-4, RFC 4122 variant GUID, like real ones.
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Guid(bytes)
    }
}

/// SplitMix64's finaliser: a cheap, well-mixed hash of a 64-bit value.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl FromStr for Guid {
    type Err = GuidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || GuidError(s.chars().take(64).collect());
        let t = s.trim();
        let t = t
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(t);
        let groups: Vec<&str> = t.split('-').collect();
        if groups.iter().map(|g| g.len()).collect::<Vec<_>>() != [8, 4, 4, 4, 12] {
            return Err(err());
        }
        let hex: String = groups.concat();
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).ok_or_else(err)?, 16)
                .map_err(|_| err())?;
        }
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err());
        }
        Ok(Guid(bytes))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            b[0],
            b[1],
            b[2],
            b[3],
            b[4],
            b[5],
            b[6],
            b[7],
            b[8],
            b[9],
            b[10],
            b[11],
            b[12],
            b[13],
            b[14],
            b[15]
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_canonical_form() {
        let g: Guid = "{B44BB1FB-C595-45B0-9E09-D657365580BF}".parse().unwrap();
        assert_eq!(g.to_string(), "b44bb1fb-c595-45b0-9e09-d657365580bf");
        assert_eq!(g.to_string().parse::<Guid>().unwrap(), g);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "b44bb1fb-c595-45b0-9e09-d657365580b",
            "b44bb1fbc59545b09e09d657365580bf",
            "b44bb1fb-c595-45b0-9e09-d657365580bg",
            "b44bb1fb-c595-45b0-9e09-d657365580bf-",
            "+44bb1fb-c595-45b0-9e09-d657365580bf",
            "b44bb1fb-c595-45b0-9e09-d6573655ä0bf",
        ] {
            assert!(bad.parse::<Guid>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn seeded_guids_are_stable_and_distinct() {
        assert_eq!(Guid::from_seed(1, 2), Guid::from_seed(1, 2));
        assert_ne!(Guid::from_seed(1, 2), Guid::from_seed(1, 3));
        assert_eq!(Guid::from_seed(7, 9).to_string().as_bytes()[14], b'4');
    }
}
