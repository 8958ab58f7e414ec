//! The backup log: every line goes to `tracing` and into a buffer that becomes the backup's log
//! file (`<name>-logs.gz`, compressed by the caller). Lines look like Velero's logrus text
//! format: `time="2026-11-21T05:30:00Z" level=info msg="..."`.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// A log level, as logrus names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Debug,
    Info,
    Warning,
    Error,
}

/// Collects log lines from concurrent list jobs.
#[derive(Debug, Default)]
pub(crate) struct Log {
    lines: Mutex<Vec<String>>,
}

impl Log {
    pub(crate) fn write(&self, level: Level, message: &str) {
        let name = match level {
            Level::Debug => {
                tracing::debug!("{message}");
                "debug"
            }
            Level::Info => {
                tracing::info!("{message}");
                "info"
            }
            Level::Warning => {
                tracing::warn!("{message}");
                "warning"
            }
            Level::Error => {
                tracing::error!("{message}");
                "error"
            }
        };
        let line = format!(
            "time=\"{}\" level={name} msg={:?}",
            rfc3339(SystemTime::now()),
            message
        );
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(line);
    }

    pub(crate) fn info(&self, message: &str) {
        self.write(Level::Info, message);
    }

    pub(crate) fn warning(&self, message: &str) {
        self.write(Level::Warning, message);
    }

    pub(crate) fn error(&self, message: &str) {
        self.write(Level::Error, message);
    }

    pub(crate) fn into_lines(self) -> Vec<String> {
        self.lines
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC, without a date library.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn check(seconds: u64, expected: &str) {
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(seconds)), expected);
    }

    #[test]
    fn formats_utc_times() {
        check(0, "1970-01-01T00:00:00Z");
        check(951_782_400, "2000-02-29T00:00:00Z");
        check(1_700_000_000, "2023-11-14T22:13:20Z");
        check(4_107_542_399, "2100-02-28T23:59:59Z");
    }

    #[test]
    fn lines_carry_level_and_quoted_message() {
        let log = Log::default();
        log.info("backing up \"music\"");
        log.error("list failed");
        let lines = log.into_lines();
        assert!(
            lines[0].ends_with(r#"level=info msg="backing up \"music\"""#),
            "{}",
            lines[0]
        );
        assert!(lines[1].contains("level=error"));
    }
}
