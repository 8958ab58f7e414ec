//! Which requests the fault proxy ([`crate::fault_proxy`]) spoils, and how: a pure function of
//! a seed and the request's number, so a run with the same seed and the same order of requests
//! gets the same faults. No random-number crate: SplitMix64 is enough to spread the choices.
//!
//! It does not decide which requests are eligible (the proxy leaves watches alone) and does no
//! IO.

use std::fmt;
use std::time::Duration;

/// One kind of misbehaviour, as an API server under load or a flaky network shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// 429 with `Retry-After`, as API Priority and Fairness refuses a request; not applied.
    TooManyRequests,
    /// 500; not applied.
    InternalError,
    /// 503; not applied.
    Unavailable,
    /// Forwarded after a delay, then answered normally.
    Slow,
    /// The connection closed before the request was forwarded; not applied.
    DropBefore,
    /// Forwarded and applied, then the connection closed before the answer: the case a retried
    /// create must recognise as its own.
    DropAfter,
}

impl FaultKind {
    /// Every kind, in the order the schedule draws them (each equally likely).
    pub const ALL: [FaultKind; 6] = [
        FaultKind::TooManyRequests,
        FaultKind::InternalError,
        FaultKind::Unavailable,
        FaultKind::Slow,
        FaultKind::DropBefore,
        FaultKind::DropAfter,
    ];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::TooManyRequests => "429",
            FaultKind::InternalError => "500",
            FaultKind::Unavailable => "503",
            FaultKind::Slow => "slow",
            FaultKind::DropBefore => "drop-before",
            FaultKind::DropAfter => "drop-after",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The kind.
    pub kind: FaultKind,
    /// For [`FaultKind::Slow`], the delay before forwarding; zero otherwise.
    pub delay: Duration,
    /// For [`FaultKind::TooManyRequests`], the `Retry-After` in seconds; zero otherwise.
    pub retry_after_secs: u64,
}

/// The seeded schedule: a share `rate` of requests get a fault, kinds drawn evenly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// The seed; the same seed spoils the same request numbers the same way.
    pub seed: u64,
    /// Share of eligible requests that get a fault, 0.0 to 1.0.
    pub rate: f64,
    /// `Retry-After` of an injected 429, seconds. Default 1 (what kube-apiserver sends).
    pub retry_after_secs: u64,
    /// Shortest delay of a slow response. Default 500 ms.
    pub slow_min: Duration,
    /// Longest delay of a slow response. Default 2 s.
    pub slow_max: Duration,
}

impl Schedule {
    /// A schedule with the default 429 and delays.
    pub fn new(seed: u64, rate: f64) -> Self {
        Schedule {
            seed,
            rate: rate.clamp(0.0, 1.0),
            retry_after_secs: 1,
            slow_min: Duration::from_millis(500),
            slow_max: Duration::from_secs(2),
        }
    }

    /// The fault for eligible request number `index` (0 for the first), if any.
    pub fn fault(&self, index: u64) -> Option<Fault> {
        let draw = splitmix64(self.seed ^ splitmix64(index));
        if unit(draw) >= self.rate {
            return None;
        }
        let choice = splitmix64(draw);
        let kinds = FaultKind::ALL.len() as u64;
        let kind = FaultKind::ALL[usize::try_from(choice % kinds).unwrap_or(0)];
        let delay = match kind {
            FaultKind::Slow => {
                let spread = self.slow_max.saturating_sub(self.slow_min);
                self.slow_min + spread.mul_f64(unit(splitmix64(choice)))
            }
            _ => Duration::ZERO,
        };
        let retry_after_secs = match kind {
            FaultKind::TooManyRequests => self.retry_after_secs,
            _ => 0,
        };
        Some(Fault {
            kind,
            delay,
            retry_after_secs,
        })
    }
}

/// SplitMix64's output function: a well-mixed 64-bit value of any input.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The top 53 bits as a number in [0, 1).
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(schedule: &Schedule, requests: u64) -> std::collections::BTreeMap<FaultKind, u64> {
        let mut counts = std::collections::BTreeMap::new();
        for index in 0..requests {
            if let Some(fault) = schedule.fault(index) {
                *counts.entry(fault.kind).or_default() += 1;
            }
        }
        counts
    }

    #[test]
    fn the_same_seed_spoils_the_same_requests() {
        let a = Schedule::new(15, 0.1);
        let b = Schedule::new(15, 0.1);
        let other = Schedule::new(16, 0.1);
        let faults = |s: &Schedule| (0..2_000).map(|i| s.fault(i)).collect::<Vec<_>>();
        assert_eq!(faults(&a), faults(&b));
        assert_ne!(faults(&a), faults(&other));
    }

    #[test]
    fn the_share_of_faults_is_the_rate() {
        for rate in [0.05, 0.1, 0.2, 0.5] {
            let total: u64 = kinds(&Schedule::new(7, rate), 100_000).values().sum();
            let share = total as f64 / 100_000.0;
            assert!((share - rate).abs() < 0.01, "rate {rate}: got {share}");
        }
        assert!(kinds(&Schedule::new(7, 0.0), 10_000).is_empty());
        let all: u64 = kinds(&Schedule::new(7, 1.0), 10_000).values().sum();
        assert_eq!(all, 10_000);
    }

    #[test]
    fn every_kind_is_drawn_about_evenly() {
        let counts = kinds(&Schedule::new(42, 0.3), 60_000);
        assert_eq!(counts.len(), FaultKind::ALL.len(), "{counts:?}");
        for (kind, count) in counts {
            // 18,000 faults over six kinds: 3,000 each, give or take.
            assert!((2_700..3_300).contains(&count), "{kind}: {count}");
        }
    }

    #[test]
    fn delays_and_retry_after_belong_to_their_kinds() {
        let schedule = Schedule::new(3, 1.0);
        for index in 0..1_000 {
            let fault = schedule.fault(index).unwrap();
            match fault.kind {
                FaultKind::Slow => {
                    assert!(fault.delay >= schedule.slow_min && fault.delay <= schedule.slow_max);
                    assert_eq!(fault.retry_after_secs, 0);
                }
                FaultKind::TooManyRequests => {
                    assert_eq!(fault.retry_after_secs, 1);
                    assert_eq!(fault.delay, Duration::ZERO);
                }
                _ => assert_eq!((fault.delay, fault.retry_after_secs), (Duration::ZERO, 0)),
            }
        }
    }
}
