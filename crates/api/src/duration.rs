//! `metav1.Duration`: the Go duration strings Velero writes for `ttl`, timeouts and periods
//! (`720h0m0s`, `10m0s`, `1.5h`), kept as written so objects round-trip byte for byte, and
//! converted to and from `std::time::Duration` with Go's own syntax and formatting.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Error;

const NANOS_PER_SECOND: u128 = 1_000_000_000;
/// Go's `time.Duration` is an `int64` of nanoseconds.
const MAX_NANOS: u128 = i64::MAX as u128;

/// A Go duration string as it appears in a Velero object, for example `720h0m0s`.
///
/// Deserializing never fails on the text itself; [`Duration::to_std`] checks it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Duration(String);

impl Duration {
    /// Wraps a duration string as written, without checking it.
    pub fn new(text: impl Into<String>) -> Self {
        Duration(text.into())
    }

    /// Formats a duration the way Go's `time.Duration.String` does (`1h0m0s`, `1m30s`, `1.5s`,
    /// `500ms`, `0s`), so Velero reads back what godwit writes.
    pub fn from_std(duration: std::time::Duration) -> Result<Self, Error> {
        let nanos = duration.as_nanos();
        if nanos > MAX_NANOS {
            return Err(Error::DurationOutOfRange {
                text: format!("{}s", duration.as_secs()),
            });
        }
        Ok(Duration(format_go(nanos)))
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses the text with Go's `time.ParseDuration` rules (units `ns`, `us`, `µs`, `ms`, `s`,
    /// `m`, `h`; decimal fractions; several parts such as `1h30m`; a bare `0`).
    pub fn to_std(&self) -> Result<std::time::Duration, Error> {
        let nanos = parse_go(&self.0)?;
        let secs = u64::try_from(nanos / NANOS_PER_SECOND).map_err(|_| out_of_range(&self.0))?;
        let subsec = u32::try_from(nanos % NANOS_PER_SECOND).map_err(|_| out_of_range(&self.0))?;
        Ok(std::time::Duration::new(secs, subsec))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Duration {
    fn from(text: &str) -> Self {
        Duration::new(text)
    }
}

fn out_of_range(text: &str) -> Error {
    Error::DurationOutOfRange {
        text: text.to_owned(),
    }
}

fn invalid(text: &str, reason: &'static str) -> Error {
    Error::InvalidDuration {
        text: text.to_owned(),
        reason,
    }
}

/// Nanoseconds per unit, as Go's `unitMap` has them (both spellings of micro).
fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SECOND,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3_600 * NANOS_PER_SECOND,
        _ => return None,
    })
}

/// Go's `time.ParseDuration`, for durations that are not negative.
fn parse_go(text: &str) -> Result<u128, Error> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid(text, "it is empty"));
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (whole, after) = rest.split_at(digits);
        let (fraction, after) = match after.strip_prefix('.') {
            Some(after) => {
                let count = after.bytes().take_while(u8::is_ascii_digit).count();
                after.split_at(count)
            }
            None => ("", after),
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(invalid(text, "a number is missing"));
        }
        let unit_len = after
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(after.len(), |(index, _)| index);
        if unit_len == 0 {
            return Err(invalid(text, "a unit is missing"));
        }
        let (unit, after) = after.split_at(unit_len);
        let unit = unit_nanos(unit)
            .ok_or_else(|| invalid(text, "the unit is not one of ns, us, µs, ms, s, m, h"))?;
        total = total
            .checked_add(part_nanos(whole, fraction, unit).ok_or_else(|| out_of_range(text))?)
            .filter(|total| *total <= MAX_NANOS)
            .ok_or_else(|| out_of_range(text))?;
        rest = after;
    }
    if negative && total > 0 {
        return Err(Error::NegativeDuration {
            text: text.to_owned(),
        });
    }
    Ok(total)
}

/// `whole.fraction` times `unit`, truncated to whole nanoseconds; `None` past Go's range.
fn part_nanos(whole: &str, fraction: &str, unit: u128) -> Option<u128> {
    let mut value: u128 = 0;
    for digit in whole.bytes() {
        value = value
            .checked_mul(10)?
            .checked_add(u128::from(digit - b'0'))?;
        if value > MAX_NANOS {
            return None;
        }
    }
    let mut nanos = value.checked_mul(unit)?;
    // Digits past the eighteenth cannot change a result in nanoseconds of an hour or less.
    let mut numerator: u128 = 0;
    let mut denominator: u128 = 1;
    for digit in fraction.bytes().take(18) {
        numerator = numerator * 10 + u128::from(digit - b'0');
        denominator *= 10;
    }
    nanos = nanos.checked_add(numerator * unit / denominator)?;
    (nanos <= MAX_NANOS).then_some(nanos)
}

/// Go's `time.Duration.String` for a duration that is not negative.
fn format_go(nanos: u128) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos < NANOS_PER_SECOND {
        let (unit, digits) = if nanos < 1_000 {
            ("ns", 0)
        } else if nanos < 1_000_000 {
            ("\u{b5}s", 3)
        } else {
            ("ms", 6)
        };
        return format!("{}{unit}", decimal(nanos, digits));
    }
    let seconds = nanos / NANOS_PER_SECOND;
    let second_text = decimal(nanos % (60 * NANOS_PER_SECOND), 9);
    let minutes = seconds / 60;
    if minutes == 0 {
        format!("{second_text}s")
    } else if minutes < 60 {
        format!("{minutes}m{second_text}s")
    } else {
        format!("{}h{}m{second_text}s", minutes / 60, minutes % 60)
    }
}

/// `value / 10^digits` in decimal, without trailing zeros or a bare point.
fn decimal(value: u128, digits: u32) -> String {
    let scale = 10u128.pow(digits);
    let (whole, fraction) = (value / scale, value % scale);
    if fraction == 0 {
        return whole.to_string();
    }
    let fraction = format!("{fraction:0width$}", width = digits as usize);
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check_parse(text: &str, expected: Result<std::time::Duration, &str>) {
        let got = Duration::new(text).to_std();
        match (got, expected) {
            (Ok(got), Ok(expected)) => assert_eq!(got, expected, "{text}"),
            (Err(err), Err(fragment)) => {
                let message = err.to_string();
                assert!(message.contains(fragment), "{text}: {message}");
            }
            (got, expected) => panic!("{text}: got {got:?}, expected {expected:?}"),
        }
    }

    fn secs(secs: u64) -> std::time::Duration {
        std::time::Duration::from_secs(secs)
    }

    fn nanos(nanos: u64) -> std::time::Duration {
        std::time::Duration::from_nanos(nanos)
    }

    #[test]
    fn parses_as_go_does() {
        check_parse("720h0m0s", Ok(secs(720 * 3600)));
        check_parse("10m0s", Ok(secs(600)));
        check_parse("4h0m0s", Ok(secs(4 * 3600)));
        check_parse("1h30m", Ok(secs(5400)));
        check_parse("1.5h", Ok(secs(5400)));
        check_parse("90m", Ok(secs(5400)));
        check_parse("0", Ok(secs(0)));
        check_parse("+0", Ok(secs(0)));
        check_parse("-0", Ok(secs(0)));
        check_parse("0s", Ok(secs(0)));
        check_parse("+5s", Ok(secs(5)));
        check_parse(".5s", Ok(nanos(500_000_000)));
        check_parse("1.s", Ok(secs(1)));
        check_parse("1.0000000001s", Ok(nanos(1_000_000_000)));
        check_parse("300ms", Ok(nanos(300_000_000)));
        check_parse("2us", Ok(nanos(2_000)));
        check_parse("2\u{b5}s", Ok(nanos(2_000)));
        check_parse("2\u{3bc}s", Ok(nanos(2_000)));
        check_parse("7ns", Ok(nanos(7)));
        check_parse("1h1h", Ok(secs(7200)));
        check_parse("2562047h47m16.854775807s", Ok(nanos(i64::MAX as u64)));
        check_parse("", Err("it is empty"));
        check_parse("-", Err("it is empty"));
        check_parse("1", Err("a unit is missing"));
        check_parse("h", Err("a number is missing"));
        check_parse(".h", Err("a number is missing"));
        check_parse("1d", Err("the unit is not one of"));
        check_parse("1 h", Err("the unit is not one of"));
        check_parse("1h-1m", Err("the unit is not one of"));
        check_parse("-1s", Err("is negative"));
        check_parse(
            "2562047h47m16.854775808s",
            Err("longer than Velero can read"),
        );
        check_parse(
            "99999999999999999999999h",
            Err("longer than Velero can read"),
        );
    }

    fn check_format(duration: std::time::Duration, expected: &str) {
        let got = Duration::from_std(duration).unwrap();
        assert_eq!(got.as_str(), expected);
    }

    #[test]
    fn formats_as_go_does() {
        check_format(secs(0), "0s");
        check_format(nanos(1), "1ns");
        check_format(nanos(1_100), "1.1\u{b5}s");
        check_format(nanos(2_200_000), "2.2ms");
        check_format(nanos(999_999_999), "999.999999ms");
        check_format(secs(1), "1s");
        check_format(nanos(1_500_000_000), "1.5s");
        check_format(secs(60), "1m0s");
        check_format(secs(90), "1m30s");
        check_format(secs(600), "10m0s");
        check_format(secs(3600), "1h0m0s");
        check_format(secs(4 * 3600), "4h0m0s");
        check_format(secs(720 * 3600), "720h0m0s");
        check_format(nanos(3_723_000_000_001), "1h2m3.000000001s");
        check_format(nanos(i64::MAX as u64), "2562047h47m16.854775807s");
    }

    #[test]
    fn refuses_to_format_what_go_cannot_hold() {
        let err = Duration::from_std(nanos(i64::MAX as u64) + nanos(1)).unwrap_err();
        assert!(matches!(err, Error::DurationOutOfRange { .. }), "{err}");
    }

    #[test]
    fn serializes_as_the_plain_string() {
        let duration: Duration = serde_json::from_str("\"720h0m0s\"").unwrap();
        assert_eq!(duration, Duration::new("720h0m0s"));
        assert_eq!(serde_json::to_string(&duration).unwrap(), "\"720h0m0s\"");
        // Deserializing keeps text that does not parse: the check is `to_std`'s.
        let odd: Duration = serde_json::from_str("\"thirty days\"").unwrap();
        assert_eq!(odd.as_str(), "thirty days");
        assert!(odd.to_std().is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn format_then_parse_is_identity(value in 0..=i64::MAX as u64) {
            let duration = nanos(value);
            let text = Duration::from_std(duration).unwrap();
            prop_assert_eq!(text.to_std().unwrap(), duration, "{}", text);
        }

        #[test]
        fn parse_never_panics(text in "[-+]?[0-9.]{0,25}[a-z\u{b5}]{0,3}([0-9.]{0,5}[hms]{0,2}){0,3}") {
            let _ = Duration::new(text).to_std();
        }
    }
}
