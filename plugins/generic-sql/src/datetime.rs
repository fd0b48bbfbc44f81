//! Timestamps as text: SQLite stores them as text (`YYYY-MM-DD HH:MM:SS[.fff]` from
//! `CURRENT_TIMESTAMP`, or RFC 3339), PostgreSQL prints them with an offset. The contract
//! carries seconds and nanoseconds since the epoch, so the connector converts both ways
//! without a date library (the component stays small).

use crate::ferry::connector::types::Datetime;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// Reads `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.fraction]]` or the same with `T` and an
/// optional `Z` / `±HH[[:]MM]` offset. Text without an offset is taken as UTC, which is
/// what SQLite's own date functions write.
pub fn parse(text: &str) -> Option<Datetime> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        at: 0,
    };
    let year = reader.digits(4)?;
    reader.expect(b'-')?;
    let month = reader.digits(2)?;
    reader.expect(b'-')?;
    let day = reader.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * DAY;
    let mut nanoseconds = 0;
    if reader.at < reader.bytes.len() {
        if !matches!(reader.next()?, b'T' | b't' | b' ') {
            return None;
        }
        let hour = reader.digits(2)?;
        reader.expect(b':')?;
        let minute = reader.digits(2)?;
        let second = if reader.peek() == Some(b':') {
            reader.at += 1;
            reader.digits(2)?
        } else {
            0
        };
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        seconds += hour * 3600 + minute * 60 + second;
        if reader.peek() == Some(b'.') {
            reader.at += 1;
            nanoseconds = reader.fraction()?;
        }
        seconds -= reader.offset()?;
    }
    (reader.at == reader.bytes.len()).then_some(Datetime {
        seconds,
        nanoseconds,
    })
}

/// Writes RFC 3339 in UTC (`2024-05-01T12:30:00.25Z`), the form a string attribute holding
/// a timestamp gets, with the fraction only as long as it needs to be.
pub fn format(value: &Datetime) -> String {
    let days = value.seconds.div_euclid(DAY);
    let in_day = value.seconds.rem_euclid(DAY);
    let (year, month, day) = civil_from_days(days);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    );
    if value.nanoseconds > 0 {
        let fraction = format!("{:09}", value.nanoseconds);
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// A cursor over the text being parsed.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, wanted: u8) -> Option<()> {
        (self.next()? == wanted).then_some(())
    }

    /// Exactly `count` ASCII digits as a number.
    fn digits(&mut self, count: usize) -> Option<i64> {
        let mut number = 0;
        for _ in 0..count {
            let byte = self.next()?;
            if !byte.is_ascii_digit() {
                return None;
            }
            number = number * 10 + i64::from(byte - b'0');
        }
        Some(number)
    }

    /// One to nine digits after the decimal point, as nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        let mut nanoseconds = 0u32;
        let mut count = 0;
        while let Some(byte) = self.peek().filter(u8::is_ascii_digit) {
            if count == 9 {
                return None;
            }
            nanoseconds = nanoseconds * 10 + u32::from(byte - b'0');
            count += 1;
            self.at += 1;
        }
        (count > 0).then(|| nanoseconds * 10u32.pow(9 - count))
    }

    /// The offset from UTC in seconds: none, `Z`, `±HH`, `±HHMM` or `±HH:MM`.
    fn offset(&mut self) -> Option<i64> {
        let sign = match self.peek() {
            None => return Some(0),
            Some(b'Z' | b'z') => {
                self.at += 1;
                return Some(0);
            }
            Some(b'+') => 1,
            Some(b'-') => -1,
            Some(_) => return None,
        };
        self.at += 1;
        let hours = self.digits(2)?;
        let minutes = match self.peek() {
            None => 0,
            Some(b':') => {
                self.at += 1;
                self.digits(2)?
            }
            Some(_) => self.digits(2)?,
        };
        (hours <= 23 && minutes <= 59).then_some(sign * (hours * 3600 + minutes * 60))
    }
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
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day counted from 1970-01-01 (the inverse of `days_from_civil`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
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
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn writes_rfc_3339_and_reads_it_back() {
        assert_eq!(format(&at(0, 0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            format(&at(1_714_566_600, 250_000_000)),
            "2024-05-01T12:30:00.25Z"
        );
        assert_eq!(format(&at(-1, 500_000_000)), "1969-12-31T23:59:59.5Z");
        for value in [
            at(0, 0),
            at(951_782_400, 1),
            at(-62_135_596_800, 0),
            at(253_402_300_799, 999_999_999),
        ] {
            assert_eq!(parse(&format(&value)), Some(value));
        }
    }
}
