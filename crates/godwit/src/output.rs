//! How the CLI prints: the `-o table|json|yaml` switch, plain aligned tables, Kubernetes-style
//! ages and timestamps, and a progress bar that is drawn only when stderr is a terminal.

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::Serialize;

/// The `-o` / `--output` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Human-readable columns.
    #[default]
    Table,
    /// JSON, as the API would return it.
    Json,
    /// YAML, as `kubectl -o yaml` prints it.
    Yaml,
}

/// Serializes `value` as JSON (pretty) or YAML, ending with a newline.
pub fn serialize<T: Serialize>(value: &T, format: Format) -> anyhow::Result<String> {
    match format {
        Format::Json | Format::Table => {
            let mut text = serde_json::to_string_pretty(value).context("cannot encode as JSON")?;
            text.push('\n');
            Ok(text)
        }
        Format::Yaml => {
            let text = serde_saphyr::to_string(value).context("cannot encode as YAML")?;
            Ok(if text.ends_with('\n') {
                text
            } else {
                text + "\n"
            })
        }
    }
}

/// Aligned columns separated by three spaces, as `kubectl get` prints them. Rows shorter than
/// the header are padded; trailing spaces are trimmed.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (index, cell) in row.iter().enumerate() {
            let width = cell.chars().count();
            match widths.get_mut(index) {
                Some(w) => *w = (*w).max(width),
                None => widths.push(width),
            }
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (index, width) in widths.iter().enumerate() {
            let cell = row.get(index).map_or("", String::as_str);
            let _ = write!(line, "{cell:<width$}   ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A timestamp as Velero prints it: `2026-11-21 06:00:00 +0000 UTC`; `<n/a>` when unset.
pub fn timestamp(time: Option<&Time>) -> String {
    match time {
        Some(Time(ts)) => ts.strftime("%Y-%m-%d %H:%M:%S +0000 UTC").to_string(),
        None => "<n/a>".to_owned(),
    }
}

/// A duration in `kubectl`'s short form: `45s`, `3m`, `5h`, `2d`.
pub fn short_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..120 => format!("{seconds}s"),
        120..7_200 => format!("{}m", seconds / 60),
        7_200..172_800 => format!("{}h", seconds / 3_600),
        _ => format!("{}d", seconds / 86_400),
    }
}

/// How long from `from` to `to`; zero when `to` is earlier.
pub fn between(from: &Time, to: &Time) -> Duration {
    let seconds = to.0.as_second().saturating_sub(from.0.as_second());
    Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

/// A progress bar on stderr, or nothing when stderr is not a terminal (logs, CI, pipes).
pub fn progress_bar(message: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} items ({elapsed})")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(250));
    Some(bar)
}

/// `<none>` for an empty list, as Velero's describe prints it; otherwise the items joined.
pub fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "<none>".to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_trim() {
        let check = |rows: &[Vec<String>], expected: &str| {
            assert_eq!(table(&["NAME", "STATUS"], rows), expected);
        };
        check(&[], "NAME   STATUS\n");
        check(
            &[
                vec!["a-long-name".into(), "Completed".into()],
                vec!["b".into(), String::new()],
            ],
            "NAME          STATUS\na-long-name   Completed\nb\n",
        );
    }

    #[test]
    fn durations_read_like_kubectl() {
        let check = |seconds: u64, expected: &str| {
            assert_eq!(short_duration(Duration::from_secs(seconds)), expected);
        };
        check(5, "5s");
        check(119, "119s");
        check(120, "2m");
        check(7_199, "119m");
        check(7_200, "2h");
        check(200_000, "2d");
    }

    #[test]
    fn timestamps_read_like_velero() {
        let time = Time(jiff::Timestamp::from_second(1_700_000_000).unwrap());
        assert_eq!(timestamp(Some(&time)), "2023-11-14 22:13:20 +0000 UTC");
        assert_eq!(timestamp(None), "<n/a>");
    }

    #[test]
    fn yaml_and_json_end_with_a_newline() {
        let value = serde_json::json!({"a": 1});
        assert_eq!(
            serialize(&value, Format::Json).unwrap(),
            "{\n  \"a\": 1\n}\n"
        );
        assert_eq!(serialize(&value, Format::Yaml).unwrap(), "a: 1\n");
    }
}
