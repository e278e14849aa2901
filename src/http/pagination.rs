//! DRF's page-number pagination: ten per page, `?page=N` or `?page=last`.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::http::request::ApiRequest;

pub const PAGE_SIZE: i64 = 10;

/// A page of a list, in DRF's envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// How many records match, on all pages; absent on cursor pages (`?cursor=`), which do
    /// not count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// The next page, or null on the last.
    pub next: Option<String>,
    /// The previous page, or null on the first.
    pub previous: Option<String>,
    pub results: Vec<T>,
}

impl<T> Default for Page<T> {
    /// The empty page: no records, no neighbours.
    fn default() -> Self {
        Self {
            count: Some(0),
            next: None,
            previous: None,
            results: Vec::new(),
        }
    }
}

/// The page a request asks for, checked against how many records there are.
#[derive(Clone, Copy, Debug)]
pub struct PageNumber {
    pub number: u64,
    pub last: u64,
}

impl PageNumber {
    /// What `?page=` asks for: a page number, or `None` for the last page. Zero, negative
    /// and non-numbers are never a page.
    pub fn requested(raw: Option<&str>) -> Result<Option<u64>, ApiError> {
        match raw {
            None => Ok(Some(1)),
            Some("last") => Ok(None),
            Some(raw) => {
                let raw = raw.trim();
                match raw.strip_prefix('+').unwrap_or(raw).parse::<u64>() {
                    Ok(0) | Err(_) => Err(ApiError::InvalidPage),
                    Ok(number) => Ok(Some(number)),
                }
            }
        }
    }

    /// Page `number` (or the last) of `count` records. An empty list still has page 1;
    /// anything else out of range is an invalid page.
    pub fn check(number: Option<u64>, count: i64) -> Result<Self, ApiError> {
        let count = u64::try_from(count).unwrap_or(0);
        let last = count.div_ceil(PAGE_SIZE as u64).max(1);
        let number = number.unwrap_or(last);
        if number > last {
            return Err(ApiError::InvalidPage);
        }
        Ok(Self { number, last })
    }

    /// How many records precede page `number` (at least 1).
    pub fn offset_of(number: u64) -> i64 {
        i64::try_from(number.saturating_sub(1))
            .unwrap_or(i64::MAX)
            .saturating_mul(PAGE_SIZE)
    }

    pub fn offset(&self) -> i64 {
        Self::offset_of(self.number)
    }

    pub fn wrap<T>(&self, request: &ApiRequest, count: i64, results: Vec<T>) -> Page<T> {
        let next = (self.number < self.last).then(|| request.with_page(Some(self.number + 1)));
        let previous = match self.number {
            1 => None,
            2 => Some(request.with_page(None)),
            n => Some(request.with_page(Some(n - 1))),
        };
        Page {
            count: Some(count),
            next,
            previous,
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(raw: Option<&str>, count: i64) -> Result<PageNumber, ApiError> {
        PageNumber::check(PageNumber::requested(raw)?, count)
    }

    #[test]
    fn pages_are_checked_against_the_count() {
        assert_eq!(resolve(None, 0).unwrap().number, 1);
        assert_eq!(resolve(Some("last"), 0).unwrap().number, 1);
        assert_eq!(resolve(Some("last"), 21).unwrap().number, 3);
        assert_eq!(resolve(Some(" 2"), 11).unwrap().number, 2);
        for bad in ["0", "-1", "3", "1.0", "", "abc", "99999999999999999999999"] {
            assert!(
                matches!(resolve(Some(bad), 11), Err(ApiError::InvalidPage)),
                "{bad}"
            );
        }
        assert_eq!(resolve(Some("2"), 11).unwrap().offset(), 10);
    }
}
