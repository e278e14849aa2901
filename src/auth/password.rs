//! Password hashing for API users: argon2id with a random salt, stored as a PHC string.
//! Users imported from the Django service may still hold Django's PBKDF2-SHA256 hash
//! (`pbkdf2_sha256$ITERATIONS$SALT$HASH`): it is verified as Django does, and replaced by an
//! argon2id hash on the first login that proves the password, as Django upgrades hashes.

use std::num::NonZeroU32;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::pbkdf2;

const DJANGO_PBKDF2: &str = "pbkdf2_sha256$";
const MAX_ITERATIONS: u32 = 5_000_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("the user name must not be empty")]
    EmptyUsername,
    #[error(
        "the user name must not contain ':' or control characters (Basic auth could not carry it)"
    )]
    BadUsername,
    #[error("the password must not be empty")]
    EmptyPassword,
}

/// Checks a user name and password before they are stored, so every stored user can log in.
pub fn validate(username: &str, password: &str) -> Result<(), CredentialError> {
    if username.is_empty() {
        return Err(CredentialError::EmptyUsername);
    }
    if username.contains(':') || username.chars().any(char::is_control) {
        return Err(CredentialError::BadUsername);
    }
    if password.is_empty() {
        return Err(CredentialError::EmptyPassword);
    }
    Ok(())
}

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

/// True when `password` matches `stored` (ours, or Django's PBKDF2); a malformed stored
/// hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    if let Some(django) = DjangoPbkdf2::parse(stored) {
        return django.verify(password);
    }
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Whether a stored hash is to be replaced by ours once its password is proven: any but
/// argon2id with our parameters (Django's Argon2 asks for 100 MiB a check, ours 19 MiB).
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let ours = Argon2::default();
    let ours = ours.params();
    let costs = |p: &argon2::Params| (p.m_cost(), p.t_cost(), p.p_cost());
    parsed.algorithm != argon2::ARGON2ID_IDENT
        || argon2::Params::try_from(&parsed).map_or(true, |theirs| costs(&theirs) != costs(ours))
}

/// A Django password hash as we keep it: PBKDF2-SHA256 as it is, Argon2 as the PHC string
/// Django wraps (`argon2$argon2id$…` → `$argon2id$…`). Anything else (other hashers, an
/// unusable password starting with `!`) cannot be verified here: `None`.
pub fn from_django(encoded: &str) -> Option<String> {
    if DjangoPbkdf2::parse(encoded).is_some() {
        return Some(encoded.to_owned());
    }
    let phc = format!("${}", encoded.strip_prefix("argon2$")?);
    PasswordHash::new(&phc).is_ok().then_some(phc)
}

/// `pbkdf2_sha256$ITERATIONS$SALT$HASH`, the hash 32 bytes in standard base64.
struct DjangoPbkdf2<'a> {
    iterations: NonZeroU32,
    salt: &'a str,
    hash: Vec<u8>,
}

impl<'a> DjangoPbkdf2<'a> {
    fn parse(stored: &'a str) -> Option<Self> {
        let mut parts = stored.strip_prefix(DJANGO_PBKDF2)?.split('$');
        let (iterations, salt, hash) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || salt.is_empty() {
            return None;
        }
        let hash = STANDARD.decode(hash).ok().filter(|h| h.len() == 32)?;
        let iterations: NonZeroU32 = iterations.parse().ok()?;
        // Django's own counts are in the hundreds of thousands; far more would hold a thread
        // for seconds a login.
        if iterations.get() > MAX_ITERATIONS {
            return None;
        }
        Some(Self {
            iterations,
            salt,
            hash,
        })
    }

    fn verify(&self, password: &str) -> bool {
        pbkdf2::verify(
            pbkdf2::PBKDF2_HMAC_SHA256,
            self.iterations,
            self.salt.as_bytes(),
            password.as_bytes(),
            &self.hash,
        )
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse", &stored));
        assert!(!verify("correct horsE", &stored));
        assert!(!verify("correct horse", "not a hash"));
        assert_ne!(stored, hash("correct horse"), "salted");
    }

    /// Made as Django's `PBKDF2PasswordHasher.encode("correct horse", "seasalt", 1000)` does.
    fn django_hash(password: &str, salt: &str, iterations: u32) -> String {
        let mut out = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            NonZeroU32::new(iterations).unwrap(),
            salt.as_bytes(),
            password.as_bytes(),
            &mut out,
        );
        format!("pbkdf2_sha256${iterations}${salt}${}", STANDARD.encode(out))
    }

    #[test]
    fn a_django_pbkdf2_hash_verifies_and_asks_to_be_replaced() {
        let stored = django_hash("correct horse", "seasalt", 1000);
        assert_eq!(from_django(&stored).as_deref(), Some(stored.as_str()));
        assert!(verify("correct horse", &stored));
        assert!(!verify("correct horsE", &stored));
        assert!(needs_rehash(&stored));
        assert!(!needs_rehash(&hash("correct horse")));
        // Django's test vector ("lètmein", "seasalt", 30000 iterations), which Python's
        // hashlib.pbkdf2_hmac gives too.
        let vector = "pbkdf2_sha256$30000$seasalt$VrX+V8drCGo68wlvy6rfu8i1d1pfkdeXA4LJkRGJodY=";
        assert!(verify("lètmein", vector));
    }

    #[test]
    fn other_django_hashers_are_not_taken() {
        assert_eq!(from_django("!unusablepassword"), None);
        assert_eq!(
            from_django("md5$salt$0123456789abcdef0123456789abcdef"),
            None
        );
        assert_eq!(from_django("pbkdf2_sha256$x$salt$aGFzaA=="), None);
        let too_slow = django_hash("pw", "salt", 1).replace("$1$", "$4000000000$");
        assert_eq!(from_django(&too_slow), None);
        let ours = hash("pw");
        let wrapped = format!("argon2{ours}");
        assert_eq!(from_django(&wrapped), Some(ours.clone()));
        assert!(verify("pw", &from_django(&wrapped).unwrap()));
        assert!(!needs_rehash(&ours));
        // Django's Argon2 parameters verify, and are then replaced by ours.
        let django_argon2 = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(1024, 2, 1, None).unwrap(),
        )
        .hash_password(b"pw", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(verify("pw", &django_argon2));
        assert!(needs_rehash(&django_argon2));
    }

    #[test]
    fn validation_refuses_what_basic_auth_cannot_carry() {
        assert_eq!(validate("", "pw"), Err(CredentialError::EmptyUsername));
        assert_eq!(validate("a:b", "pw"), Err(CredentialError::BadUsername));
        assert_eq!(validate("a\nb", "pw"), Err(CredentialError::BadUsername));
        assert_eq!(validate("alice", ""), Err(CredentialError::EmptyPassword));
        assert_eq!(validate("alice", "p:w"), Ok(()));
    }
}
