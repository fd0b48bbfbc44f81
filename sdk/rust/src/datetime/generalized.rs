//! LDAP's GeneralizedTime (RFC 4517 section 3.3.13).

use super::civil::{DAY, days_from_civil, is_date};
use super::reader::Reader;
use crate::types::Datetime;

/// Fraction digits beyond this many are dropped: they are below a nanosecond of any unit.
const MAX_FRACTION_DIGITS: usize = 18;

/// See [`Datetime::parse_generalized_time`].
pub fn parse(text: &str) -> Option<Datetime> {
    let mut reader = Reader::new(text);
    let year = reader.digits(4)?;
    let month = reader.digits(2)?;
    let day = reader.digits(2)?;
    let hour = reader.digits(2)?;
    let mut unit = 3600;
    let mut seconds = hour * 3600;
    // Minutes, then seconds (60 for a leap second), each only if the one before is there.
    for (next_unit, largest) in [(60, 59), (1, 60)] {
        let Some(value) = reader.digits(2) else { break };
        if value > largest {
            return None;
        }
        seconds += value * next_unit;
        unit = next_unit;
    }
    if !is_date(year, month, day) || hour > 23 {
        return None;
    }
    let mut nanos: i128 = 0;
    if reader.accept(b".,").is_some() {
        let digits = reader.digit_run();
        if digits.is_empty() {
            return None;
        }
        let kept = &digits[..digits.len().min(MAX_FRACTION_DIGITS)];
        let scale = 10i128.pow(kept.len() as u32);
        let value: i128 = kept.parse().ok()?;
        nanos = value * i128::from(unit) * 1_000_000_000 / scale;
    }
    let offset = match reader.accept(b"Z+-")? {
        b'Z' => 0,
        sign => {
            let hours = reader.digits(2)?;
            let minutes = reader.digits(2).unwrap_or(0);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if sign == b'+' { offset } else { -offset }
        }
    };
    if !reader.is_done() {
        return None;
    }
    let whole = days_from_civil(year, month, day) * DAY + seconds - offset;
    let extra = i64::try_from(nanos / 1_000_000_000).ok()?;
    Some(Datetime {
        seconds: whole + extra,
        nanoseconds: (nanos % 1_000_000_000) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::at;
    use super::*;

    #[test]
    fn reads_the_forms_servers_send() {
        assert_eq!(parse("19700101000000Z"), Some(at(0, 0)));
        assert_eq!(parse("20240501120000Z"), Some(at(1_714_564_800, 0)));
        assert_eq!(
            parse("20240501120000.123456Z"),
            Some(at(1_714_564_800, 123_456_000))
        );
        assert_eq!(
            parse("20240501120000,5Z"),
            Some(at(1_714_564_800, 500_000_000))
        );
        assert_eq!(parse("202405011200Z"), Some(at(1_714_564_800, 0)));
        assert_eq!(parse("2024050112Z"), Some(at(1_714_564_800, 0)));
        assert_eq!(parse("2024050112.5Z"), Some(at(1_714_564_800 + 1800, 0)));
        assert_eq!(parse("20240501140000+0200"), Some(at(1_714_564_800, 0)));
        assert_eq!(parse("20240501070000-05"), Some(at(1_714_564_800, 0)));
        assert_eq!(parse("19691231235959Z"), Some(at(-1, 0)));
        assert_eq!(parse("20240229000000Z"), Some(at(1_709_164_800, 0)));
        assert_eq!(parse("20161231235960Z"), Some(at(1_483_228_800, 0)));
        assert_eq!(
            parse("20240501120000.1234567890123456789Z"),
            Some(at(1_714_564_800, 123_456_789))
        );
    }

    #[test]
    fn refuses_what_is_not_a_generalized_time() {
        for bad in [
            "",
            "2024",
            "20240501120000",
            "20241301120000Z",
            "20230229120000Z",
            "20240501240000Z",
            "20240501126000Z",
            "20240501120000.Z",
            "20240501120000Zjunk",
            "20240501120000+2400",
            "20240501120000+02000",
            "2024-05-01T12:00:00Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
