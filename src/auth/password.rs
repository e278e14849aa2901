//! Password hashing for API users: argon2id with a random salt, stored as a PHC string.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

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

/// True when `password` matches `stored`; a malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
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

    #[test]
    fn validation_refuses_what_basic_auth_cannot_carry() {
        assert_eq!(validate("", "pw"), Err(CredentialError::EmptyUsername));
        assert_eq!(validate("a:b", "pw"), Err(CredentialError::BadUsername));
        assert_eq!(validate("a\nb", "pw"), Err(CredentialError::BadUsername));
        assert_eq!(validate("alice", ""), Err(CredentialError::EmptyPassword));
        assert_eq!(validate("alice", "p:w"), Ok(()));
    }
}
