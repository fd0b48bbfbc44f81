//! RFC 3339 and the looser ISO 8601 forms SQL databases write.

use super::civil::{DAY, days_from_civil, is_date};
use super::reader::Reader;
use crate::types::Datetime;

/// See [`Datetime::parse_rfc3339`].
pub fn parse(text: &str) -> Option<Datetime> {
    let mut reader = Reader::new(text);
    let year = reader.digits(4)?;
    reader.accept(b"-")?;
    let month = reader.digits(2)?;
    reader.accept(b"-")?;
    let day = reader.digits(2)?;
    if !is_date(year, month, day) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * DAY;
    let mut nanoseconds = 0;
    if !reader.is_done() {
        reader.accept(b"Tt ")?;
        let hour = reader.digits(2)?;
        reader.accept(b":")?;
        let minute = reader.digits(2)?;
        let second = match reader.accept(b":") {
            Some(_) => reader.digits(2)?,
            None => 0,
        };
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        seconds += hour * 3600 + minute * 60 + second;
        if reader.accept(b".").is_some() {
            nanoseconds = fraction(reader.digit_run())?;
        }
        seconds -= offset(&mut reader)?;
    }
    reader.is_done().then_some(Datetime {
        seconds,
        nanoseconds,
    })
}

/// One to nine digits after the decimal point, as nanoseconds.
fn fraction(digits: &str) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    let value: u32 = digits.parse().ok()?;
    Some(value * 10u32.pow(9 - digits.len() as u32))
}

/// The offset from UTC in seconds: none, `Z`, `±HH`, `±HHMM` or `±HH:MM`.
fn offset(reader: &mut Reader) -> Option<i64> {
    let sign = match reader.peek() {
        None => return Some(0),
        Some(b'Z' | b'z') => {
            reader.accept(b"Zz");
            return Some(0);
        }
        Some(b'+') => 1,
        Some(b'-') => -1,
        Some(_) => return None,
    };
    reader.accept(b"+-");
    let hours = reader.digits(2)?;
    let minutes = if reader.is_done() {
        0
    } else {
        reader.accept(b":");
        reader.digits(2)?
    };
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::super::tests::at;
    use super::*;

    #[test]
    fn reads_the_forms_databases_write() {
        assert_eq!(parse("1970-01-01"), Some(at(0, 0)));
        assert_eq!(parse("2024-05-01 12:30:00"), Some(at(1_714_566_600, 0)));
        assert_eq!(parse("2024-05-01T12:30:00Z"), Some(at(1_714_566_600, 0)));
        assert_eq!(parse("2024-05-01 12:30"), Some(at(1_714_566_600, 0)));
        assert_eq!(
            parse("2024-05-01 12:30:00.25"),
            Some(at(1_714_566_600, 250_000_000))
        );
        assert_eq!(
            parse("2024-05-01T12:30:00.123456789Z"),
            Some(at(1_714_566_600, 123_456_789))
        );
        assert_eq!(parse("2024-05-01 14:30:00+02"), Some(at(1_714_566_600, 0)));
        assert_eq!(
            parse("2024-05-01T14:30:00+02:00"),
            Some(at(1_714_566_600, 0))
        );
        assert_eq!(
            parse("2024-05-01T10:00:00-0230"),
            Some(at(1_714_566_600, 0))
        );
        assert_eq!(parse("1969-12-31T23:59:59.5Z"), Some(at(-1, 500_000_000)));
        assert_eq!(parse("2024-02-29"), Some(at(1_709_164_800, 0)));
        assert_eq!(parse("2024-05-01t12:30:00z"), Some(at(1_714_566_600, 0)));
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for text in [
            "",
            "yesterday",
            "2024-13-01",
            "2023-02-29",
            "2024-05-01 24:00:00",
            "2024-05-01 12:30:00.",
            "2024-05-01 12:30:00.1234567891",
            "2024-05-01 12:30:00 trailing",
            "2024-05-01X12:30:00",
            "12024-05-01",
            "2024-05-01T12:30:00+24:00",
            "2024-05-01T12:30:00+02:",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
