//! PostgreSQL `numeric` in its binary format, to and from decimal text, so numeric
//! columns and parameters work without a decimal-arithmetic dependency.
//!
//! The format: `ndigits: i16, weight: i16, sign: u16, dscale: u16`, then `ndigits`
//! base-10000 digits (`i16`), most significant first. The value is
//! `Σ digit[i] · 10000^(weight − i)`; `dscale` is how many decimal places to show.

use std::fmt::Write as _;

const POSITIVE: u16 = 0x0000;
const NEGATIVE: u16 = 0x4000;
const NAN: u16 = 0xC000;
const INFINITY: u16 = 0xD000;
const NEG_INFINITY: u16 = 0xF000;

/// PostgreSQL's limit on decimal places (`NUMERIC_MAX_DISPLAY_SCALE`, in `dscale`).
const MAX_SCALE: i64 = 0x3FFF;

/// Decimal text (`-12.50`, `1e-3`, `NaN`, `Infinity`) as binary numeric; `None` when it
/// is not a number or exceeds numeric's range.
pub(super) fn encode(text: &str) -> Option<Vec<u8>> {
    match text.to_ascii_lowercase().as_str() {
        "nan" => return Some(header(0, 0, NAN, 0)),
        "infinity" | "+infinity" | "inf" | "+inf" => return Some(header(0, 0, INFINITY, 0)),
        "-infinity" | "-inf" => return Some(header(0, 0, NEG_INFINITY, 0)),
        _ => {}
    }
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i32>().ok()?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let decimal = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !decimal(whole) || !decimal(fraction) {
        return None;
    }
    let digits: Vec<i16> = whole
        .bytes()
        .chain(fraction.bytes())
        .map(|byte| i16::from(byte - b'0'))
        .collect();
    // The decimal point sits after `point` of `digits` (may be outside them).
    let point = whole.len() as i64 + i64::from(exponent);
    let scale = (digits.len() as i64 - point).max(0);
    if scale > MAX_SCALE {
        return None;
    }
    // Digit k stands for 10^(point − 1 − k); group g of base 10000 for 10000^g.
    let top = (point - 1).div_euclid(4);
    let bottom = (point - digits.len() as i64).div_euclid(4);
    let mut groups = vec![0i16; (top - bottom + 1) as usize];
    for (k, digit) in digits.iter().enumerate() {
        let power = point - 1 - k as i64;
        groups[(top - power.div_euclid(4)) as usize] +=
            digit * 10i16.pow(power.rem_euclid(4) as u32);
    }
    let leading = groups.iter().take_while(|group| **group == 0).count();
    let trailing = groups[leading..]
        .iter()
        .rev()
        .take_while(|group| **group == 0)
        .count();
    let groups = &groups[leading..groups.len() - trailing];
    let weight = if groups.is_empty() {
        0
    } else {
        i16::try_from(top - leading as i64).ok()?
    };
    let sign = if negative && !groups.is_empty() {
        NEGATIVE
    } else {
        POSITIVE
    };
    let mut out = header(groups.len(), weight, sign, scale as u16);
    for group in groups {
        out.extend_from_slice(&group.to_be_bytes());
    }
    Some(out)
}

/// Binary numeric as decimal text, as PostgreSQL prints it (`-12.50`, `NaN`).
pub(super) fn decode(raw: &[u8]) -> Result<String, &'static str> {
    const MALFORMED: &str = "malformed numeric value";
    let field = |at: usize| -> Result<u16, &'static str> {
        raw.get(at..at + 2)
            .map(|bytes| u16::from_be_bytes([bytes[0], bytes[1]]))
            .ok_or(MALFORMED)
    };
    let (ndigits, weight, sign, scale) = (
        usize::from(field(0)?),
        field(2)? as i16,
        field(4)?,
        usize::from(field(6)?),
    );
    if raw.len() != 8 + 2 * ndigits {
        return Err(MALFORMED);
    }
    let digit = |index: i64| -> Result<u16, &'static str> {
        match usize::try_from(index) {
            Ok(index) if index < ndigits => field(8 + 2 * index),
            _ => Ok(0),
        }
    };
    let mut text = String::new();
    match sign {
        NAN => return Ok("NaN".into()),
        INFINITY => return Ok("Infinity".into()),
        NEG_INFINITY => return Ok("-Infinity".into()),
        NEGATIVE => text.push('-'),
        POSITIVE => {}
        _ => return Err(MALFORMED),
    }
    let weight = i64::from(weight);
    if weight < 0 {
        text.push('0');
    }
    for index in 0..=weight {
        let group = digit(index)?;
        let _ = if index == 0 {
            write!(text, "{group}")
        } else {
            write!(text, "{group:04}")
        };
    }
    if scale > 0 {
        let mut fraction = String::with_capacity(scale + 4);
        let mut index = weight + 1;
        while fraction.len() < scale {
            let _ = write!(fraction, "{:04}", digit(index)?);
            index += 1;
        }
        fraction.truncate(scale);
        text.push('.');
        text.push_str(&fraction);
    }
    Ok(text)
}

fn header(ndigits: usize, weight: i16, sign: u16, scale: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 2 * ndigits);
    out.extend_from_slice(&(ndigits as u16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&scale.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_round_trips() {
        for (input, printed) in [
            ("0", "0"),
            ("-0", "0"),
            ("0.00", "0.00"),
            ("1", "1"),
            ("-12.50", "-12.50"),
            ("10000", "10000"),
            ("123456789.000000001", "123456789.000000001"),
            ("0.0001", "0.0001"),
            ("0.00000001", "0.00000001"),
            ("+7", "7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1.5e1", "15"),
            ("1e-3", "0.001"),
            ("12E+4", "120000"),
            ("9223372036854775807", "9223372036854775807"),
            ("NaN", "NaN"),
            ("-Infinity", "-Infinity"),
        ] {
            let encoded = encode(input).unwrap_or_else(|| panic!("{input}"));
            assert_eq!(decode(&encoded).unwrap(), printed, "{input}");
        }
    }

    #[test]
    fn non_numbers_and_out_of_range_values_are_refused() {
        for input in [
            "", ".", "-", "1.2.3", "1e", "abc", "1 2", "0x10", "1e-20000", "1e200000",
        ] {
            assert!(encode(input).is_none(), "{input}");
        }
        assert!(decode(&[0, 1, 0, 0]).is_err());
    }
}
