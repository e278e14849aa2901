//! Stored records made old: what a refresh finds due (the refresh tests' and the bench's).

use chrono::Utc;
use gitomatic::db::{Db, Timestamp};
use gitomatic::with_pool;

/// Every synced developer and repository, as if synced ten days ago.
pub async fn age_everything(db: &Db) -> sqlx::Result<()> {
    let old = Timestamp(Utc::now() - chrono::Duration::days(10));
    for table in ["developers", "repositories"] {
        let sql = format!("UPDATE {table} SET synced_at = $1 WHERE synced_at IS NOT NULL");
        with_pool!(db, |pool| sqlx::query(&sql)
            .bind(old)
            .execute(pool)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}
