//! HS256 JSON Web Tokens: `sub` (the user name), `iat` and `exp`.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use super::AuthError;
use crate::config::Secret;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime: Duration,
}

impl Tokens {
    pub fn new(secret: Option<&Secret>, lifetime: Duration) -> Self {
        let key = match secret {
            Some(secret) => secret.expose().as_bytes().to_vec(),
            None => {
                let mut random = vec![0u8; 32];
                SystemRandom::new()
                    .fill(&mut random)
                    .expect("the operating system provides random bytes");
                random
            }
        };
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            lifetime,
        }
    }

    pub fn issue(&self, username: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        let lifetime = i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX);
        let claims = Claims {
            sub: username.to_owned(),
            iat: now,
            exp: now.saturating_add(lifetime),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signs any claims")
    }

    /// The user name a valid, unexpired token was issued to.
    pub fn verify(&self, token: &str) -> Result<String, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims.sub)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => AuthError::TokenExpired,
                ErrorKind::InvalidSignature => AuthError::TokenSignature,
                _ => AuthError::TokenInvalid,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_with_its_key_only() {
        let tokens = Tokens::new(Some(&Secret::new("k1")), Duration::from_secs(60));
        let token = tokens.issue("alice");
        assert_eq!(tokens.verify(&token).unwrap(), "alice");
        let other = Tokens::new(Some(&Secret::new("k2")), Duration::from_secs(60));
        assert!(matches!(
            other.verify(&token),
            Err(AuthError::TokenSignature)
        ));
        assert!(matches!(
            tokens.verify("not.a.token"),
            Err(AuthError::TokenInvalid)
        ));
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let tokens = Tokens::new(Some(&Secret::new("k")), Duration::ZERO);
        let token = tokens.issue("alice");
        std::thread::sleep(Duration::from_millis(1100));
        assert!(matches!(
            tokens.verify(&token),
            Err(AuthError::TokenExpired)
        ));
    }
}
