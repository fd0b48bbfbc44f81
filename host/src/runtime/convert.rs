//! Conversions between the contract's plain data and the host's types, shared by the
//! capabilities, the cache and the SCIM mapping.

use time::OffsetDateTime;

use super::bindings::types::Datetime;

/// The contract's datetime as a `time` value; `None` when out of range.
pub fn datetime_to_offset(dt: Datetime) -> Option<OffsetDateTime> {
    let nanos =
        i128::from(dt.seconds) * 1_000_000_000 + i128::from(dt.nanoseconds.min(999_999_999));
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// A `time` value as the contract's datetime.
pub fn offset_to_datetime(t: OffsetDateTime) -> Datetime {
    Datetime {
        seconds: t.unix_timestamp(),
        nanoseconds: t.nanosecond(),
    }
}

/// RFC 3339 text for a datetime (`xsd:dateTime`, as SCIM wants it); `None` when out of range.
pub fn datetime_to_rfc3339(dt: Datetime) -> Option<String> {
    datetime_to_offset(dt)?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Parses RFC 3339 text into a datetime.
pub fn rfc3339_to_datetime(text: &str) -> Option<Datetime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(offset_to_datetime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339() {
        let dt = rfc3339_to_datetime("2026-11-27T13:23:32.5+01:00").unwrap();
        assert_eq!(dt.seconds, 1_795_782_212);
        assert_eq!(dt.nanoseconds, 500_000_000);
        assert_eq!(datetime_to_rfc3339(dt).unwrap(), "2026-11-27T12:23:32.5Z");
        assert!(rfc3339_to_datetime("yesterday").is_none());
        assert!(
            datetime_to_rfc3339(Datetime {
                seconds: i64::MAX,
                nanoseconds: 0
            })
            .is_none()
        );
    }
}
