//! API users: the people who call the `/github/` API with Basic auth or a token.

use uuid::Uuid;

use super::{Db, Timestamp};

/// Whether `save_user` made a new user or changed an existing one's password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    Created,
    Updated,
}

const UPSERT_USER: &str = "
    INSERT INTO api_users (id, username, password_hash, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $4)
    ON CONFLICT (username) DO UPDATE
        SET password_hash = excluded.password_hash, updated_at = excluded.updated_at
    RETURNING id";

const REPLACE_HASH: &str = "UPDATE api_users SET password_hash = $3, updated_at = $4 \
     WHERE id = $1 AND password_hash = $2";

const COUNT_USERS: &str = "SELECT COUNT(*) FROM api_users";

const FIND_USER: &str = "SELECT id, username, password_hash FROM api_users WHERE username = $1";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApiUser {
    pub id: Uuid,
    pub username: String,
    pub password_hash: String,
}

impl Db {
    /// Creates `username`, or replaces the password hash of the user who has that name.
    pub async fn save_user(&self, username: &str, password_hash: &str) -> sqlx::Result<Saved> {
        let new_id = Uuid::new_v4();
        let id: Uuid = with_pool!(self, |pool| {
            sqlx::query_scalar(UPSERT_USER)
                .bind(new_id)
                .bind(username)
                .bind(password_hash)
                .bind(Timestamp::now())
                .fetch_one(pool)
                .await?
        });
        Ok(if id == new_id {
            Saved::Created
        } else {
            Saved::Updated
        })
    }

    pub async fn find_user(&self, username: &str) -> sqlx::Result<Option<ApiUser>> {
        // No stored name holds NUL (PostgreSQL cannot even compare one): no such user.
        if username.contains('\0') {
            return Ok(None);
        }
        with_pool!(self, |pool| sqlx::query_as(FIND_USER)
            .bind(username)
            .fetch_optional(pool)
            .await)
    }

    /// Replaces `user`'s password hash, if it is still `old`; whether it was.
    pub async fn replace_password_hash(
        &self,
        user: Uuid,
        old: &str,
        new: &str,
    ) -> sqlx::Result<bool> {
        let done = with_pool!(self, |pool| sqlx::query(REPLACE_HASH)
            .bind(user)
            .bind(old)
            .bind(new)
            .bind(Timestamp::now())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn user_count(&self) -> sqlx::Result<i64> {
        with_pool!(self, |pool| sqlx::query_scalar(COUNT_USERS)
            .fetch_one(pool)
            .await)
    }
}
