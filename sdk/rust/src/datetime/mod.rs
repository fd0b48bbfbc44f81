//! The contract's `datetime` (seconds and nanoseconds since the epoch, UTC) to and from
//! the two text forms targets use: RFC 3339 / ISO 8601 (SQL databases, JSON APIs) and
//! LDAP's GeneralizedTime. Written without a date library so components stay small; the
//! calendar arithmetic is Howard Hinnant's, exact for the proleptic Gregorian calendar.
//!
//! ```
//! # use ferry_connector::types::Datetime;
//! let at = Datetime::parse_rfc3339("2024-05-01T14:30:00+02:00").unwrap();
//! assert_eq!(at.to_rfc3339(), "2024-05-01T12:30:00Z");
//! assert_eq!(at.to_generalized_time(), "20240501123000Z");
//! assert_eq!(Datetime::parse_generalized_time("20240501123000Z"), Some(at));
//! ```

mod civil;
mod generalized;
mod reader;
mod rfc3339;

use crate::types::Datetime;

impl Datetime {
    /// Reads RFC 3339 and the ISO 8601 forms databases write: `YYYY-MM-DD`, then
    /// optionally `T`, `t` or a space and `HH:MM[:SS[.fraction]]`, then optionally `Z` or
    /// an offset `±HH`, `±HHMM`, `±HH:MM`. Text without an offset is UTC (what SQLite's
    /// date functions write). At most nine fraction digits; `None` for anything else.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        rfc3339::parse(text)
    }

    /// Writes RFC 3339 in UTC (`2024-05-01T12:30:00.25Z`), with the fraction only as long
    /// as it needs to be.
    pub fn to_rfc3339(&self) -> String {
        written(self, ["-", "-", "T", ":", ":"])
    }

    /// Reads GeneralizedTime (RFC 4517 section 3.3.13), the form LDAP gives every
    /// timestamp in: `YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|±HH[MM])`, the fraction being
    /// of the last unit given and a second of 60 (a leap second) accepted.
    pub fn parse_generalized_time(text: &str) -> Option<Self> {
        generalized::parse(text)
    }

    /// Writes GeneralizedTime in UTC (`20240501123000.25Z`), with the fraction only as
    /// long as it needs to be.
    pub fn to_generalized_time(&self) -> String {
        written(self, [""; 5])
    }
}

/// `at` in UTC as year, month, day, hour, minute and second with `separators` between
/// them, then the fraction without trailing zeros (none for a whole second) and `Z`.
fn written(at: &Datetime, separators: [&str; 5]) -> String {
    let fields = civil::Fields::of(at);
    let [month, day, hour, minute, second] = separators;
    let mut text = format!(
        "{:04}{month}{:02}{day}{:02}{hour}{:02}{minute}{:02}{second}{:02}",
        fields.year, fields.month, fields.day, fields.hour, fields.minute, fields.second
    );
    if at.nanoseconds > 0 {
        let digits = format!("{:09}", at.nanoseconds);
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn at(seconds: i64, nanoseconds: u32) -> Datetime {
        Datetime {
            seconds,
            nanoseconds,
        }
    }

    #[test]
    fn writes_rfc_3339_and_reads_it_back() {
        assert_eq!(at(0, 0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            at(1_714_566_600, 250_000_000).to_rfc3339(),
            "2024-05-01T12:30:00.25Z"
        );
        assert_eq!(at(-1, 500_000_000).to_rfc3339(), "1969-12-31T23:59:59.5Z");
        for value in [
            at(0, 0),
            at(951_782_400, 1),
            at(-62_135_596_800, 0),
            at(253_402_300_799, 999_999_999),
        ] {
            assert_eq!(Datetime::parse_rfc3339(&value.to_rfc3339()), Some(value));
        }
    }

    #[test]
    fn writes_generalized_time_and_reads_it_back() {
        assert_eq!(at(0, 0).to_generalized_time(), "19700101000000Z");
        assert_eq!(
            at(1_714_564_800, 123_456_000).to_generalized_time(),
            "20240501120000.123456Z"
        );
        assert_eq!(at(-1, 1).to_generalized_time(), "19691231235959.000000001Z");
        for value in [
            at(0, 0),
            at(951_782_400, 0),
            at(4_102_444_800, 999_999_999),
            at(-62_135_596_800, 0),
        ] {
            assert_eq!(
                Datetime::parse_generalized_time(&value.to_generalized_time()),
                Some(value)
            );
        }
    }

    #[test]
    fn both_forms_name_the_same_instant() {
        for value in [at(1_709_164_800, 0), at(-86_401, 10), at(1_483_228_799, 5)] {
            assert_eq!(
                Datetime::parse_generalized_time(&value.to_generalized_time()),
                Datetime::parse_rfc3339(&value.to_rfc3339())
            );
        }
    }
}
