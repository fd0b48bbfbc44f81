//! The proleptic Gregorian calendar: days since 1970-01-01 to and from year, month and
//! day (Howard Hinnant's algorithms, exact for every `i64` day count a `datetime` holds).

use crate::types::Datetime;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A `datetime`'s date and time of day in UTC.
pub struct Fields {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

impl Fields {
    /// The UTC date and time of `at` (its nanoseconds aside).
    pub fn of(at: &Datetime) -> Self {
        let (year, month, day) = civil_from_days(at.seconds.div_euclid(DAY));
        let in_day = at.seconds.rem_euclid(DAY);
        Self {
            year,
            month,
            day,
            hour: in_day / 3600,
            minute: in_day % 3600 / 60,
            second: in_day % 60,
        }
    }
}

/// Whether `year`/`month`/`day` is a date of the calendar.
pub fn is_date(year: i64, month: i64, day: i64) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
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

/// Days since 1970-01-01 of a date.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
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

    #[test]
    fn counts_days_both_ways() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        for days in [-719_468, -1, 0, 59, 60, 11_016, 11_017, 2_932_896] {
            let (year, month, day) = civil_from_days(days);
            assert!(is_date(year, month, day), "{days}");
            assert_eq!(days_from_civil(year, month, day), days);
        }
    }

    #[test]
    fn knows_the_leap_years() {
        assert!(is_date(2024, 2, 29) && is_date(2000, 2, 29));
        assert!(!is_date(2023, 2, 29) && !is_date(1900, 2, 29));
        assert!(!is_date(2024, 4, 31) && !is_date(2024, 13, 1) && !is_date(2024, 1, 0));
    }
}
