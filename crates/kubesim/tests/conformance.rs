//! Conformance suite: the same tests pass against kubesim (the default) and, unchanged, against a
//! real cluster named by `KUBESIM_CONFORMANCE_KUBECONFIG`.
//!
//! Where kubesim and a real kube-apiserver could differ, a test asserts what the real server does,
//! taken from the recorded responses in `fixtures/apiserver/`. Every test makes its own namespace
//! (and CRD group) with a per-run suffix, so tests are independent and a real cluster is left as
//! it was found. Fault-injection tests need kubesim and say so when they are skipped.

#![allow(clippy::unwrap_used)]

#[path = "conformance/support.rs"]
mod support;

#[path = "conformance/crds.rs"]
mod crds;
#[path = "conformance/discovery.rs"]
mod discovery;
#[path = "conformance/errors.rs"]
mod errors;
#[path = "conformance/faults.rs"]
mod faults;
#[path = "conformance/lists.rs"]
mod lists;
#[path = "conformance/services.rs"]
mod services;
#[path = "conformance/watch.rs"]
mod watch;
#[path = "conformance/writes.rs"]
mod writes;
