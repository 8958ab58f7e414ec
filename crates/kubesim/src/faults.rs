//! Fault injection: rules that delay, refuse or drop a share of requests, switchable while the
//! server runs (from the library handle or over `/kubesim/faults`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// One kind of misbehaviour kubesim can inject.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Fault {
    /// Wait this long, then serve the request normally.
    Latency {
        /// The delay in milliseconds.
        millis: u64,
    },
    /// Answer 429 with a `Retry-After` header and a Status body; the request is not applied.
    TooManyRequests {
        /// The value of `Retry-After`, in seconds.
        retry_after_secs: u64,
    },
    /// Answer with this status code (500 or 503) and a Status body; the request is not applied.
    ServerError {
        /// The HTTP status code.
        code: u16,
    },
    /// Close the connection without answering; the request is not applied.
    DropConnection,
    /// Answer a plain-text `404 page not found`, as a real API server does for a path it does
    /// not serve (yet), such as a CRD version added a moment ago; the request is not applied.
    PageNotFound,
}

/// A fault together with the requests it applies to.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FaultRule {
    /// What to do to a chosen request.
    pub fault: Fault,
    /// Share of matching requests that get the fault, from 0.0 to 1.0 (1.0 when left out).
    #[serde(default = "all_requests")]
    pub fraction: f64,
    /// Only requests whose path contains this text.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Only requests with this HTTP method, such as `POST`.
    #[serde(default)]
    pub method: Option<String>,
}

fn all_requests() -> f64 {
    1.0
}

impl FaultRule {
    /// Whether this rule looks at a request with this method and path at all.
    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = self
            .path_contains
            .as_deref()
            .is_none_or(|part| path.contains(part));
        method_ok && path_ok
    }
}

/// What the fault layer decided for one request.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Decision {
    /// Total delay before anything else happens.
    pub(crate) delay: Duration,
    /// The fault that replaces the normal answer, if any.
    pub(crate) failure: Option<Fault>,
}

impl Decision {
    /// Whether any fault was injected.
    pub(crate) fn is_fault(&self) -> bool {
        !self.delay.is_zero() || self.failure.is_some()
    }
}

/// Decides for one request: every matching latency rule that fires adds its delay; the first
/// matching non-latency rule that fires replaces the answer. `draw` yields numbers in [0, 1).
pub(crate) fn decide(
    rules: &[FaultRule],
    method: &str,
    path: &str,
    mut draw: impl FnMut() -> f64,
) -> Decision {
    let mut decision = Decision::default();
    for rule in rules.iter().filter(|rule| rule.matches(method, path)) {
        if draw() >= rule.fraction {
            continue;
        }
        match &rule.fault {
            Fault::Latency { millis } => decision.delay += Duration::from_millis(*millis),
            other => {
                if decision.failure.is_none() {
                    decision.failure = Some(other.clone());
                }
            }
        }
    }
    decision
}

/// A cheap handle on the server's fault rules; changes take effect on the next request.
#[derive(Clone, Default)]
pub struct Faults {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    rules: RwLock<Vec<FaultRule>>,
    injected: AtomicU64,
    rng: AtomicU64,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("rules", &self.rules())
            .field("injected", &self.injected())
            .finish()
    }
}

impl Faults {
    /// Adds a rule after the existing ones.
    pub fn add(&self, rule: FaultRule) {
        match self.inner.rules.write() {
            Ok(mut rules) => rules.push(rule),
            Err(poisoned) => poisoned.into_inner().push(rule),
        }
    }

    /// Removes every rule.
    pub fn clear(&self) {
        match self.inner.rules.write() {
            Ok(mut rules) => rules.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
    }

    /// How many requests got a fault so far.
    pub fn injected(&self) -> u64 {
        self.inner.injected.load(Ordering::Relaxed)
    }

    /// The current rules, in order.
    pub fn rules(&self) -> Vec<FaultRule> {
        match self.inner.rules.read() {
            Ok(rules) => rules.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Whether every GET of `path` fails (a 500, 503 or dropped connection at fraction 1): what
    /// aggregated discovery shows as a `Stale` group-version, the way a real server shows an
    /// aggregated API server that does not answer.
    pub(crate) fn always_fails_get(&self, path: &str) -> bool {
        self.rules().iter().any(|rule| {
            rule.fraction >= 1.0
                && matches!(
                    rule.fault,
                    Fault::ServerError { .. } | Fault::DropConnection
                )
                && rule.matches("GET", path)
        })
    }

    /// Decides what happens to one request and counts it when it gets a fault.
    pub(crate) fn decide(&self, method: &str, path: &str) -> Decision {
        let rules = match self.inner.rules.read() {
            Ok(rules) => rules,
            Err(poisoned) => poisoned.into_inner(),
        };
        if rules.is_empty() {
            return Decision::default();
        }
        let decision = decide(&rules, method, path, || self.next_fraction());
        if decision.is_fault() {
            self.inner.injected.fetch_add(1, Ordering::Relaxed);
        }
        decision
    }

    /// The next number in [0, 1) from a seeded splitmix64 sequence, so runs are repeatable.
    fn next_fraction(&self) -> f64 {
        let state = self
            .inner
            .rng
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // 53 random bits make every f64 in [0, 1) with equal spacing.
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests;
