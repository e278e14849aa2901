//! Who may call the API: Basic credentials checked against `api_users` (with a short-lived
//! cache of verified credentials, so a request does not cost a password hash), and the
//! HS256 tokens `/github/auth_token/` issues.

mod cache;
pub mod password;
mod throttle;
mod token;

use std::net::IpAddr;
use std::time::Duration;

use crate::config::Secret;
use crate::db::Db;
use crate::db::users::ApiUser;

use cache::CredentialCache;
use throttle::LoginThrottle;
use token::Tokens;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Invalid username/password.")]
    InvalidCredentials,
    /// Too many failed logins from this client: it may try again after this many seconds.
    #[error("Request was throttled. Expected available in {0} seconds.")]
    Throttled(u64),
    #[error("Token has expired.")]
    TokenExpired,
    #[error("Token signature is invalid.")]
    TokenSignature,
    #[error("Token is invalid.")]
    TokenInvalid,
    #[error("Token user no longer exists.")]
    TokenUserGone,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub struct Authenticator {
    tokens: Tokens,
    cache: CredentialCache,
    throttle: LoginThrottle,
    /// Verified against when the user does not exist, so that answering takes as long as
    /// for a wrong password and does not reveal which user names exist.
    decoy_hash: String,
}

impl Authenticator {
    /// Without a `secret`, tokens are signed with a random key that dies with the process.
    pub fn new(
        secret: Option<&Secret>,
        token_lifetime: Duration,
        login_failures_per_minute: u32,
    ) -> Self {
        if secret.is_none() {
            tracing::warn!(
                "SECRET_KEY is not set: API tokens are signed with a random key and will not \
                 survive a restart"
            );
        }
        Self {
            tokens: Tokens::new(secret, token_lifetime),
            cache: CredentialCache::new(),
            throttle: LoginThrottle::new(login_failures_per_minute),
            decoy_hash: password::hash("decoy password that no one has"),
        }
    }

    /// The user whose password `client` offers. A throttled client is refused before any
    /// check, even with the right password, or its answers would still confirm a guess.
    pub async fn basic(
        &self,
        db: &Db,
        client: IpAddr,
        username: &str,
        password: &str,
    ) -> Result<ApiUser, AuthError> {
        if let Some(wait) = self.throttle.wait(client) {
            // Whole seconds, rounded up so that waiting it out is enough.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(AuthError::Throttled(seconds));
        }
        let user = db.find_user(username).await?;
        let stored = user.as_ref().map_or(&self.decoy_hash, |u| &u.password_hash);
        let key = self.cache.key(username, password);
        if user.is_some() && self.cache.holds(&key, stored) {
            return user.ok_or(AuthError::InvalidCredentials);
        }
        let (password, stored_hash) = (password.to_owned(), stored.clone());
        // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let verified = {
            let password = password.clone();
            tokio::task::spawn_blocking(move || password::verify(&password, &stored_hash))
                .await
                .unwrap_or(false)
        };
        match user {
            Some(mut user) if verified => {
                if password::needs_rehash(&user.password_hash) {
                    user = self.rehash(db, user, password.clone()).await;
                }
                self.cache.remember(key, &user.password_hash);
                Ok(user)
            }
            _ => {
                self.throttle.failed(client);
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// Replaces a hash of another kind (an imported Django one) by ours, now that the
    /// password is known to match it. A login racing this one may have done it already.
    async fn rehash(&self, db: &Db, mut user: ApiUser, password: String) -> ApiUser {
        // Hashing cannot fail; if its thread did, the next login upgrades the hash.
        let Ok(new_hash) = tokio::task::spawn_blocking(move || password::hash(&password)).await
        else {
            return user;
        };
        // The password is proven: a failed upgrade must not fail the login.
        match db
            .replace_password_hash(user.id, &user.password_hash, &new_hash)
            .await
        {
            Ok(true) => {
                tracing::info!(user = %user.username, "password hash upgraded to argon2id");
                user.password_hash = new_hash;
            }
            Ok(false) => {}
            Err(err) => {
                tracing::warn!(user = %user.username, error = %err, "password hash not upgraded");
            }
        }
        user
    }

    pub async fn bearer(&self, db: &Db, token: &str) -> Result<ApiUser, AuthError> {
        let username = self.tokens.verify(token)?;
        db.find_user(&username)
            .await?
            .ok_or(AuthError::TokenUserGone)
    }

    pub fn issue_token(&self, user: &ApiUser) -> String {
        self.tokens.issue(&user.username)
    }
}
