//! Retries of one API request: which failures are worth another try (429 with its
//! `Retry-After`, 500/502/503/504, dropped connections) and how long to wait (exponential
//! backoff with jitter, never shorter than what the server asked for).

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use super::ExecuteOptions;

/// Why a failed request may succeed if sent again, and the wait the server asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transient {
    /// `Retry-After` (from the Status details), when the server gave one.
    pub(crate) retry_after: Option<Duration>,
}

/// Whether an error is worth a retry. Throttling and server errors are; so are errors below
/// HTTP (a connection reset or dropped before the answer). Everything else is final.
pub(crate) fn transient(error: &kube::Error) -> Option<Transient> {
    match error {
        kube::Error::Api(status) => match status.code {
            429 | 500 | 502 | 503 | 504 => Some(Transient {
                retry_after: status
                    .details
                    .as_ref()
                    .map(|d| d.retry_after_seconds)
                    .filter(|s| *s > 0)
                    .map(|s| Duration::from_secs(u64::from(s))),
            }),
            _ => None,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            Some(Transient { retry_after: None })
        }
        _ => None,
    }
}

/// The wait before attempt `attempt + 1`: `initial * 2^(attempt-1)` capped at the maximum, with
/// jitter over its upper half so concurrent requests spread out; at least the server's
/// `Retry-After`.
pub(crate) fn delay(
    options: &ExecuteOptions,
    attempt: u32,
    retry_after: Option<Duration>,
) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let base = options
        .initial_backoff
        .saturating_mul(1u32 << exponent)
        .min(options.max_backoff);
    let jitter = random_fraction();
    let backoff = base / 2 + base.mul_f64(jitter / 2.0);
    retry_after.map_or(backoff, |server| server.max(backoff))
}

/// A number in [0, 1) that differs per call, without a random-number crate: std's hasher keys
/// are random per `RandomState`.
fn random_fraction() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Runs `call` until it succeeds, fails for good, or `options.max_attempts` are spent.
pub(crate) async fn retrying<T, F, Fut>(
    options: &ExecuteOptions,
    mut call: F,
) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) => match transient(&error) {
                Some(why) if attempt < options.max_attempts => {
                    tracing::debug!(attempt, %error, "retrying a transient failure");
                    tokio::time::sleep(delay(options, attempt, why.retry_after)).await;
                }
                _ => return Err(error),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, retry_after_seconds: u32) -> kube::Error {
        let mut status = kube::core::Status::failure("x", "y").with_code(code);
        status.details =
            serde_json::from_value(serde_json::json!({"retryAfterSeconds": retry_after_seconds}))
                .unwrap();
        kube::Error::Api(Box::new(status))
    }

    #[test]
    fn which_errors_are_retried() {
        let check = |error: kube::Error, expected: Option<Option<u64>>| {
            let got = transient(&error).map(|t| t.retry_after.map(|d| d.as_secs()));
            assert_eq!(got, expected, "{error}");
        };
        check(status(429, 2), Some(Some(2)));
        check(status(429, 0), Some(None));
        check(status(500, 0), Some(None));
        check(status(502, 0), Some(None));
        check(status(503, 0), Some(None));
        check(status(504, 0), Some(None));
        check(status(409, 0), None);
        check(status(404, 0), None);
        check(status(422, 0), None);
    }

    #[test]
    fn delays_grow_are_capped_and_honour_retry_after() {
        let options = ExecuteOptions {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(800),
            ..ExecuteOptions::default()
        };
        for attempt in 1..10 {
            let got = delay(&options, attempt, None);
            let base = Duration::from_millis(100 * (1 << (attempt - 1).min(3)));
            assert!(got >= base / 2 && got <= base, "attempt {attempt}: {got:?}");
        }
        let got = delay(&options, 1, Some(Duration::from_secs(2)));
        assert_eq!(got, Duration::from_secs(2));
    }
}
