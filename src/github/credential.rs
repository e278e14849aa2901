//! Who the client is to GitHub: nobody (GitHub's anonymous limits), a personal access token,
//! or a GitHub App installation, whose short-lived tokens are fetched and renewed here.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{ACCEPT, AUTHORIZATION, USER_AGENT};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Mutex;

use super::{GitHubError, JSON};
use crate::config::{Config, Secret};

pub enum Credential {
    Anonymous,
    Token(Secret),
    App(App),
}

/// A GitHub App's installation, and the token it holds now.
pub struct App {
    id: u64,
    key: EncodingKey,
    /// `None`: the app's first installation.
    installation: Option<u64>,
    token: Mutex<Option<InstallationToken>>,
    /// The REST API version its token requests name, as every other request does.
    api_version: String,
}

struct InstallationToken {
    secret: Secret,
    /// A quarter of the token's life before it expires: early enough that no request carries
    /// an expired token, late enough that tokens are not renewed on every request.
    renew_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct Claims {
    iat: i64,
    exp: i64,
    iss: String,
}

#[derive(Deserialize)]
struct AccessToken {
    token: String,
    expires_at: DateTime<Utc>,
}

impl Credential {
    /// The credential the settings name: a token, an app, or none. Both at once is an error.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let app = (config.github_app_id, config.github_app_private_key.as_ref());
        match (config.github_token.as_ref(), app) {
            (Some(_), (Some(_), _) | (_, Some(_))) => bail!(
                "both a GitHub token (GITHUB_TOKEN) and a GitHub App (github_app_id, \
                 github_app_private_key) are set: set one"
            ),
            (Some(token), _) => Ok(Self::Token(token.clone())),
            (None, (Some(id), Some(key))) => Ok(Self::App(App {
                id,
                key: read_key(key)?,
                installation: config.github_app_installation_id,
                token: Mutex::new(None),
                api_version: config.github_api_version.clone(),
            })),
            (None, (Some(_), None)) => {
                bail!("github_app_id is set without github_app_private_key")
            }
            (None, (None, Some(_))) => {
                bail!("github_app_private_key is set without github_app_id")
            }
            (None, (None, None)) => Ok(Self::Anonymous),
        }
    }

    /// What names this credential where budgets are shared; never the secret itself.
    pub fn id(&self) -> String {
        match self {
            Self::Anonymous => "anonymous".to_owned(),
            Self::Token(token) => {
                let digest = ring::digest::digest(&ring::digest::SHA256, token.expose().as_bytes());
                let hex: String = digest.as_ref()[..8]
                    .iter()
                    .map(|byte| format!("{byte:02x}"))
                    .collect();
                format!("token:{hex}")
            }
            // Each installation has its own budget.
            Self::App(app) => match app.installation {
                Some(installation) => format!("app:{}/{installation}", app.id),
                None => format!("app:{}", app.id),
            },
        }
    }

    /// GitHub's GraphQL API refuses anonymous callers.
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Self::Anonymous)
    }

    /// What goes after `Bearer `, fetching or renewing an installation token when due.
    pub(super) async fn bearer(
        &self,
        http: &reqwest::Client,
        base: &str,
    ) -> Result<Option<String>, GitHubError> {
        match self {
            Self::Anonymous => Ok(None),
            Self::Token(token) => Ok(Some(token.expose().to_owned())),
            Self::App(app) => app.token(http, base).await.map(Some),
        }
    }

    /// After a 401: whether renewing can help (an app's token may have been revoked early);
    /// then the next `bearer` fetches a new token.
    pub(super) async fn renew(&self) -> bool {
        match self {
            Self::App(app) => {
                *app.token.lock().await = None;
                true
            }
            _ => false,
        }
    }
}

impl App {
    async fn token(&self, http: &reqwest::Client, base: &str) -> Result<String, GitHubError> {
        let mut held = self.token.lock().await;
        if let Some(token) = held.as_ref()
            && Utc::now() < token.renew_at
        {
            return Ok(token.secret.expose().to_owned());
        }
        let installation = match self.installation {
            Some(id) => id,
            None => self.first_installation(http, base).await?,
        };
        let url = format!("{base}/app/installations/{installation}/access_tokens");
        let answer = self.ask(http.post(url)).await?;
        let token: AccessToken = serde_json::from_value(answer).map_err(|err| {
            GitHubError::failed(
                "GitHub answered an installation token of an unknown shape",
                err,
            )
        })?;
        let now = Utc::now();
        let life = (token.expires_at - now).max(chrono::Duration::zero());
        tracing::info!(expires_at = %token.expires_at, "GitHub App installation token obtained");
        let secret = token.token.clone();
        *held = Some(InstallationToken {
            secret: Secret::new(token.token),
            renew_at: now + life * 3 / 4,
        });
        Ok(secret)
    }

    async fn first_installation(
        &self,
        http: &reqwest::Client,
        base: &str,
    ) -> Result<u64, GitHubError> {
        let answer = self
            .ask(http.get(format!("{base}/app/installations")))
            .await?;
        answer
            .as_array()
            .and_then(|installations| installations.first())
            .and_then(|first| first.get("id"))
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                GitHubError::failed_because(
                    "the GitHub App has no installation: install it on an account first",
                )
            })
    }

    /// Sends an app-authenticated request (a fresh JWT); a 5xx or a failed connection is
    /// tried again, a refusal is final.
    async fn ask(&self, request: reqwest::RequestBuilder) -> Result<Value, GitHubError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let Some(attempt) = request.try_clone() else {
                return Err(GitHubError::failed_because(
                    "cannot repeat the token request",
                ));
            };
            let sent = attempt
                .header(AUTHORIZATION, format!("Bearer {}", self.jwt()?))
                .header(ACCEPT, JSON)
                .header(USER_AGENT, super::USER_AGENT_VALUE)
                .header("X-GitHub-Api-Version", &self.api_version)
                .send()
                .await;
            let failed = match sent {
                Ok(response) if response.status().is_success() => {
                    return response.json().await.map_err(|err| {
                        GitHubError::failed("reading GitHub's answer to the app", err)
                    });
                }
                Ok(response) if response.status().is_server_error() => {
                    GitHubError::failed_because(format!("GitHub answered {}", response.status()))
                }
                Ok(response) => {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    return Err(GitHubError::failed_because(format!(
                        "GitHub refused the app's request ({status}): {body}"
                    )));
                }
                Err(err) => GitHubError::failed("asking GitHub for an installation token", err),
            };
            if tries >= 3 {
                return Err(failed);
            }
            tokio::time::sleep(Duration::from_millis(500 * tries)).await;
        }
    }

    /// The app's own token: RS256, issued a minute in the past against clock drift, valid
    /// nine minutes (GitHub accepts ten at most).
    fn jwt(&self) -> Result<String, GitHubError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iat: now - 60,
            exp: now + 9 * 60,
            iss: self.id.to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|err| GitHubError::failed("signing the GitHub App's token", err))
    }
}

/// The app's private key: PEM text, or the path of a file holding it.
fn read_key(setting: &Secret) -> anyhow::Result<EncodingKey> {
    let value = setting.expose().trim();
    let pem = if value.contains("-----BEGIN") {
        // Environment variables often carry the newlines escaped.
        value.replace("\\n", "\n")
    } else {
        // The value may be a key in some other form: it is not shown.
        std::fs::read_to_string(value)
            .context("github_app_private_key is neither PEM text nor the path of a readable file")?
    };
    EncodingKey::from_rsa_pem(pem.as_bytes())
        .context("github_app_private_key is not an RSA private key in PEM form")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_and_an_app_at_once_is_refused_with_a_reason() {
        let both = Config {
            github_token: Some(Secret::new("ghp_x")),
            github_app_id: Some(1),
            github_app_private_key: Some(Secret::new("/nowhere.pem")),
            ..Config::default()
        };
        let err = Credential::from_config(&both).err().unwrap().to_string();
        assert!(err.contains("set one"), "{err}");
        assert!(!err.contains("ghp_x"), "no secret in the message: {err}");
        let half = Config {
            github_app_id: Some(1),
            ..Config::default()
        };
        let err = Credential::from_config(&half).err().unwrap().to_string();
        assert!(err.contains("without github_app_private_key"), "{err}");
        let unreadable = Config {
            github_app_id: Some(1),
            github_app_private_key: Some(Secret::new("/nowhere.pem")),
            ..Config::default()
        };
        let err = format!("{:#}", Credential::from_config(&unreadable).err().unwrap());
        assert!(err.contains("neither PEM text nor the path"), "{err}");
        assert!(!err.contains("nowhere"), "the value is not shown: {err}");
    }

    #[test]
    fn a_tokens_id_names_it_without_showing_it() {
        let id = Credential::Token(Secret::new("ghp_secret")).id();
        assert!(id.starts_with("token:") && !id.contains("secret"), "{id}");
        assert_eq!(id, Credential::Token(Secret::new("ghp_secret")).id());
        assert_ne!(id, Credential::Token(Secret::new("ghp_other")).id());
    }
}
