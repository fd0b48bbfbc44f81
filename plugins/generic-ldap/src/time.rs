//! GeneralizedTime (RFC 4517 section 3.3.13), the form LDAP gives every timestamp in:
//! read into the contract's `datetime`, and written from it for exports and for the
//! time bounds of watermark searches.

use crate::ferry::connector::types::Datetime;

/// Reads `YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|(+|-)HH[MM])`; the fraction belongs to the
/// last unit given.
pub fn parse(text: &str) -> Option<Datetime> {
    let bytes = text.as_bytes();
    let digits = |from: usize, count: usize| -> Option<i64> {
        let part = bytes.get(from..from + count)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(part).ok()?.parse().ok())?
    };
    let year = digits(0, 4)?;
    let month = digits(4, 2)?;
    let day = digits(6, 2)?;
    let hour = digits(8, 2)?;
    let mut at = 10;
    let mut unit = 3600;
    let mut seconds = hour * 3600;
    // Minutes, then seconds (60 for a leap second), each only if the one before is there.
    for (next_unit, largest) in [(60, 59), (1, 60)] {
        let Some(value) = digits(at, 2) else { break };
        if value > largest {
            return None;
        }
        seconds += value * next_unit;
        unit = next_unit;
        at += 2;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 {
        return None;
    }
    let mut nanos: i128 = 0;
    if matches!(bytes.get(at), Some(b'.' | b',')) {
        at += 1;
        let start = at;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == start {
            return None;
        }
        let fraction = &text[start..at];
        // The fraction of the last unit, in nanoseconds (digits beyond nanoseconds dropped).
        let scale = 10i128.pow(fraction.len().min(18) as u32);
        let value: i128 = fraction[..fraction.len().min(18)].parse().ok()?;
        nanos = value * i128::from(unit) * 1_000_000_000 / scale;
    }
    let offset = match bytes.get(at) {
        Some(b'Z') if at + 1 == bytes.len() => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hours = digits(at + 1, 2)?;
            let (minutes, end) = match digits(at + 3, 2) {
                Some(minutes) => (minutes, at + 5),
                None => (0, at + 3),
            };
            if end != bytes.len() || hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'+' { offset } else { -offset }
        }
        _ => return None,
    };
    let whole = days_from_civil(year, month, day) * 86_400 + seconds - offset;
    let extra = i64::try_from(nanos / 1_000_000_000).ok()?;
    Some(Datetime {
        seconds: whole + extra,
        nanoseconds: (nanos % 1_000_000_000) as u32,
    })
}

/// `YYYYMMDDHHMMSS[.fraction]Z` in UTC, the fraction without trailing zeros.
pub fn format(at: &Datetime) -> String {
    let days = at.seconds.div_euclid(86_400);
    let second_of_day = at.seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut text = format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    );
    if at.nanoseconds > 0 {
        let fraction = format!("{:09}", at.nanoseconds);
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of `days_from_civil`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64, nanoseconds: u32) -> Datetime {
        Datetime {
            seconds,
            nanoseconds,
        }
    }

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
            "2024-05-01T12:00:00Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn writes_utc_and_round_trips() {
        assert_eq!(format(&at(0, 0)), "19700101000000Z");
        assert_eq!(
            format(&at(1_714_564_800, 123_456_000)),
            "20240501120000.123456Z"
        );
        assert_eq!(format(&at(-1, 1)), "19691231235959.000000001Z");
        for value in [
            at(0, 0),
            at(951_782_400, 0),
            at(4_102_444_800, 999_999_999),
            at(-62_135_596_800, 0),
        ] {
            assert_eq!(parse(&format(&value)), Some(value));
        }
    }
}
