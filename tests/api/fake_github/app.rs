//! GitHub App authentication: the app's JWT (RS256, checked against the app's public key,
//! valid ten minutes at most) buys installation tokens, which expire. While an app is enabled,
//! only its unexpired tokens authorize a request: anything else is a 401.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, Request as HttpRequest, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

use super::{FakeGitHub, FakeState, Incoming, Outcome, Shared, encode, error_body, lock};

pub(super) struct App {
    id: u64,
    key: DecodingKey,
    installation: u64,
    /// How long a token lives, as the answer says, and how long it really does.
    said: Duration,
    lasts: Duration,
    /// Token → when it expires (Unix seconds).
    tokens: HashMap<String, i64>,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    iat: i64,
    exp: i64,
}

impl FakeGitHub {
    /// From now on only installation tokens of app `id` authorize requests; the app's JWTs
    /// are checked against `public_key_pem`. A token's `expires_at` says it lives `said`; it
    /// works for `lasts` (shorter: revoked early).
    pub fn enable_app(
        &self,
        id: u64,
        public_key_pem: &str,
        installation: u64,
        said: Duration,
        lasts: Duration,
    ) {
        let key = DecodingKey::from_rsa_pem(public_key_pem.as_bytes()).expect("an RSA public key");
        self.lock().app = Some(App {
            id,
            key,
            installation,
            said,
            lasts,
            tokens: HashMap::new(),
        });
    }

    /// How many installation tokens the app was given.
    pub fn tokens_issued(&self) -> usize {
        self.lock().app.as_ref().map_or(0, |app| app.tokens.len())
    }
}

impl FakeState {
    /// GitHub's 401 for a request whose token no enabled app issued, or that has expired.
    pub(super) fn unauthorized(&self, incoming: &Incoming) -> Option<Response> {
        let app = self.app.as_ref()?;
        let now = Utc::now().timestamp();
        let valid = incoming
            .bearer
            .as_ref()
            .and_then(|token| app.tokens.get(token))
            .is_some_and(|&expires| now < expires);
        (!valid).then(|| self.refusal(StatusCode::UNAUTHORIZED, "Bad credentials"))
    }

    fn refusal(&self, status: StatusCode, message: &str) -> Response {
        self.json(status, encode(&error_body(message)), Vec::new())
    }

    /// The app the request's JWT proves to be, or GitHub's refusal.
    fn app_of(&mut self, incoming: &Incoming) -> Result<&mut App, Box<Response>> {
        let refused = |state: &Self, message: &str| {
            Box::new(state.refusal(StatusCode::UNAUTHORIZED, message))
        };
        let Some(app) = self.app.as_ref() else {
            return Err(Box::new(self.refusal(StatusCode::NOT_FOUND, "Not Found")));
        };
        let Some(jwt) = incoming.bearer.as_deref() else {
            return Err(refused(self, "A JSON web token could not be decoded"));
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_required_spec_claims(&["exp", "iat", "iss"]);
        let claims = match jsonwebtoken::decode::<Claims>(jwt, &app.key, &validation) {
            Ok(decoded) => decoded.claims,
            Err(_) => return Err(refused(self, "A JSON web token could not be decoded")),
        };
        let now = Utc::now().timestamp();
        if claims.iss != app.id.to_string() {
            return Err(refused(self, "Integration not found"));
        }
        if claims.exp - claims.iat > 600 + 60 || claims.iat > now + 60 {
            return Err(refused(
                self,
                "'Expiration time' claim ('exp') is too far in the future",
            ));
        }
        Ok(self.app.as_mut().expect("checked above"))
    }
}

pub(super) async fn installations(State(fake): State<Shared>, request: HttpRequest) -> Response {
    let incoming = Incoming::read(&request);
    let mut state = lock(&fake);
    let answer = match state.app_of(&incoming) {
        Ok(app) => {
            let body = json!([{"id": app.installation, "app_id": app.id, "target_type": "User"}]);
            state.json(StatusCode::OK, encode(&body), Vec::new())
        }
        Err(refused) => *refused,
    };
    state.record(incoming, Outcome::free(answer))
}

pub(super) async fn access_token(
    State(fake): State<Shared>,
    Path(installation): Path<u64>,
    request: HttpRequest,
) -> Response {
    let incoming = Incoming::read(&request);
    let mut state = lock(&fake);
    let answer = match state.app_of(&incoming) {
        Ok(app) if app.installation == installation => {
            let token = format!("ghs_{}", uuid::Uuid::new_v4().simple());
            let now = Utc::now();
            let expires = now + app.said;
            app.tokens
                .insert(token.clone(), (now + app.lasts).timestamp());
            let body = json!({
                "token": token,
                "expires_at": expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "permissions": {"metadata": "read"},
                "repository_selection": "all",
            });
            state.json(StatusCode::CREATED, encode(&body), Vec::new())
        }
        Ok(_) => state.refusal(StatusCode::NOT_FOUND, "Not Found"),
        Err(refused) => *refused,
    };
    state.record(incoming, Outcome::free(answer))
}
