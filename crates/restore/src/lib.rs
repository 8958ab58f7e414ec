//! The restore engine, in two halves with a hard line between them.
//!
//! - The **planner** ([`plan`], [`resolve_deferred`]) is pure: an extracted backup, the
//!   target's discovery and a [`RestoreSpec`] in, a [`Plan`] out. It applies the filters of
//!   SPEC.md section 5, the never-restore list, the namespace mapping and the restore order, and
//!   chooses a version per group-resource (section 4) through `godwit-versioning`. It never sees
//!   a Kubernetes client and builds without the `executor` feature.
//! - The **executor** (feature `executor`, on by default) fetches what the planner needs from
//!   the target, runs the built-in restore actions, and creates the plan's objects tier by tier
//!   through the dynamic Kubernetes API with bounded concurrency and retries.
//!
//! Where godwit differs from Velero, on purpose: groups served by CRDs in the backup are
//! decided after those CRDs are created and discovered (Velero guesses before); objects of one
//! tier are created concurrently (Velero creates one at a time); a group-resource with no common
//! version fails each of its objects with one error naming both sides' versions.

mod compare;
mod error;
mod filter;
mod managed_fields;
mod pitfalls;
mod plan;
mod planner;
mod render;
mod results;
mod selector;
mod spec;

#[cfg(feature = "executor")]
mod executor;

pub use compare::{differs, merge_patch, merge_service_account, normalize};
pub use error::Error;
pub use filter::{MADE_BY_THE_TARGET, NON_RESTORABLE, made_by_the_target, non_restorable};
pub use managed_fields::{FIELD_MANAGER, restored_managed_fields};
pub use pitfalls::{
    CrdStorage, OPERATOR_LIFECYCLE_MANAGER, Pitfall, PitfallKind, SCC_ANNOTATIONS, ServerVersion,
    TargetFacts, pitfalls,
};
pub use plan::{
    Compact, Converted, Decision, ObjectRef, Plan, PlannedNamespace, PlannedObject, PulledIn, Tier,
    Unrestored,
};
pub use planner::{plan, resolve_deferred};
pub use results::{ObjectOutcome, Outcome, Phase, Progress, RestoreCounts, RestoreResult, Results};
pub use selector::{LabelSelector, LabelSelectorRequirement, Operator};
pub use spec::{ExistingResourcePolicy, ResourceSelection, RestoreSpec, parse_namespace_mapping};

#[cfg(feature = "executor")]
pub use executor::{DEFAULT_REQUESTS_IN_FLIGHT, ExecuteOptions, ProgressFn, dry_run, restore};
