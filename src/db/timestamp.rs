//! `Timestamp`: a UTC instant that both backends store and compare correctly.
//!
//! PostgreSQL stores it as `timestamptz`. SQLite has no time type, and sqlx writes chrono values
//! there with a varying number of fractional digits, so text order would not be time order.
//! Here SQLite always gets `YYYY-MM-DDTHH:MM:SS.ffffffZ`: fixed width, so comparisons and
//! indexes on the text agree with time.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteTypeInfo, SqliteValueRef};
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Now, truncated to the microseconds PostgreSQL keeps, so a value reads back equal.
    pub fn now() -> Self {
        let now = Utc::now();
        let micros = now.timestamp_micros();
        Self(DateTime::from_timestamp_micros(micros).unwrap_or(now))
    }

    /// ISO 8601 in UTC as DRF writes it: `2020-09-29T09:20:44Z`, with microseconds only
    /// when there are any.
    pub fn to_iso(&self) -> String {
        if self.0.timestamp_subsec_micros() == 0 {
            self.0.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        } else {
            self.0.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
        }
    }

    fn sqlite_text(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

/// In the API's JSON, as DRF writes datetimes.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_iso())
    }
}

/// From GitHub's JSON (RFC 3339).
impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        DateTime::<Utc>::deserialize(deserializer).map(Self)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value)
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <DateTime<Utc> as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.sqlite_text(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<'r, Sqlite>>::decode(value).map(Self)
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}

impl<'q> Encode<'q, Postgres> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<'r, Postgres>>::decode(value).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_is_fixed_width_so_text_order_is_time_order() {
        let whole = Timestamp(DateTime::from_timestamp(1_601_742_255, 0).unwrap());
        let fraction = Timestamp(DateTime::from_timestamp(1_601_742_255, 500_000_000).unwrap());
        assert_eq!(whole.sqlite_text(), "2020-10-03T16:24:15.000000Z");
        assert_eq!(fraction.sqlite_text(), "2020-10-03T16:24:15.500000Z");
        assert!(whole.sqlite_text() < fraction.sqlite_text());
    }

    #[test]
    fn api_text_is_drf_iso_8601() {
        let whole = Timestamp(DateTime::from_timestamp(1_601_371_244, 0).unwrap());
        assert_eq!(whole.to_iso(), "2020-09-29T09:20:44Z");
        let micros = Timestamp(DateTime::from_timestamp(1_601_371_244, 1_000).unwrap());
        assert_eq!(micros.to_iso(), "2020-09-29T09:20:44.000001Z");
    }
}
