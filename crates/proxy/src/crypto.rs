//! Secrets at rest: app keys are sealed with AES-256-GCM under a key from
//! configuration (or, in the embedded default, a key file only its user can
//! read). Session tokens are random and stored only as SHA-256 hashes.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the encryption key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("the key file {0}: {1}")]
    KeyFile(String, std::io::Error),
    #[error("a sealed secret could not be opened: wrong key or damaged data")]
    Open,
}

/// Seals and opens secrets.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(«key redacted»)")
    }
}

impl Sealer {
    pub fn from_base64(text: &str) -> Result<Sealer, CryptoError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::BadKey)?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Sealer, CryptoError> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::BadKey)?;
        Ok(Sealer {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    /// A fresh random key, and its base64 text for a key file.
    pub fn generate() -> Result<(Sealer, String), CryptoError> {
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| CryptoError::BadKey)?;
        Ok((Self::from_bytes(&key)?, STANDARD.encode(key)))
    }

    /// Reads the key file, creating it (mode 0600) with a fresh key if absent.
    pub fn from_file(path: &Path) -> Result<Sealer, CryptoError> {
        let err = |e| CryptoError::KeyFile(path.display().to_string(), e);
        if !path.exists() {
            let mut key = [0u8; 32];
            SystemRandom::new()
                .fill(&mut key)
                .map_err(|_| err(std::io::Error::other("no randomness")))?;
            if let Some(dir) = path.parent() {
                crate::store::create_private_dir(dir).map_err(err)?;
            }
            // Written whole beside it, then linked in its place unless
            // another process (a replica starting with this one) did first:
            // every process ends with the one key, never a half-written file.
            let written = path.with_extension(format!("new-{}", random_token()));
            write_private(&written, STANDARD.encode(key).as_bytes()).map_err(err)?;
            let linked = std::fs::hard_link(&written, path);
            let _ = std::fs::remove_file(&written);
            match linked {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(err(e)),
                _ => {}
            }
        }
        let text = std::fs::read_to_string(path).map_err(err)?;
        Self::from_base64(&text)
    }

    /// `nonce || ciphertext+tag`, base64. `context` binds the sealed value to
    /// where it is stored (a partner and an app), so it cannot be moved.
    pub fn seal(&self, secret: &Secret, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .expect("the system has randomness");
        let mut data = secret.expose().as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .expect("sealing fits in memory");
        let mut out = nonce.to_vec();
        out.extend(data);
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Secret, CryptoError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| CryptoError::Open)?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Open);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let mut data = rest.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Open)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| CryptoError::Open)?;
        String::from_utf8(plain.to_vec())
            .map(Secret::new)
            .map_err(|_| CryptoError::Open)
    }
}

/// Writes a new key file readable only by its owner; fails if it exists.
pub fn write_key_file(path: &Path, base64: &str) -> std::io::Result<()> {
    write_private(path, base64.as_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// 32 random bytes, URL-safe base64: session tokens, OAuth state, PKCE verifiers.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system has randomness");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256, base64url: how session tokens and key values are recognised
/// without keeping them.
pub fn digest(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_starting_together_make_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("secret.key");
        // All at once, as replicas started together are.
        let together = std::sync::Barrier::new(8);
        let keys: Vec<String> = std::thread::scope(|s| {
            let starts: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        together.wait();
                        Sealer::from_file(&path).map(|k| k.seal(&Secret::new("x"), "c"))
                    })
                })
                .collect();
            starts
                .into_iter()
                .map(|t| t.join().unwrap().unwrap())
                .collect()
        });
        // Each sealed with the key on disk: it opens all of them.
        let on_disk = Sealer::from_file(&path).unwrap();
        for sealed in keys {
            assert_eq!(on_disk.open(&sealed, "c").unwrap().expose(), "x");
        }
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the key is left");
    }

    #[test]
    fn sealed_secrets_open_only_with_the_key_and_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let sealer = Sealer::from_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let secret = Secret::new("abc~very-secret-value-123");
        let sealed = sealer.seal(&secret, "partner-1/app-1");
        assert!(!sealed.contains("very-secret"));
        assert_eq!(sealer.open(&sealed, "partner-1/app-1").unwrap(), secret);
        assert!(sealer.open(&sealed, "partner-2/app-1").is_err());
        assert_ne!(
            sealed,
            sealer.seal(&secret, "partner-1/app-1"),
            "a fresh nonce each time"
        );
        // The same file gives the same key back.
        let again = Sealer::from_file(&path).unwrap();
        assert_eq!(again.open(&sealed, "partner-1/app-1").unwrap(), secret);
        let other = Sealer::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        assert!(other.open(&sealed, "partner-1/app-1").is_err());
        assert!(Sealer::from_base64("short").is_err());
    }

    #[test]
    fn tokens_are_long_random_and_hashed_stably() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert_eq!(digest("x"), digest("x"));
        assert_ne!(digest("x"), digest("y"));
    }
}
