//! The backup engine: given a backup spec and a Kubernetes client, list every selected object and
//! stream it into a Velero backup tarball (format 1.1.0), with Velero's resource list, a log,
//! per-object warnings and errors, counts and progress updates.
//!
//! The deciding parts are pure and tested without a cluster:
//! - [`BackupSpec::validate`] and [`ValidSpec::resolve`]: the spec checked, every error naming
//!   its field (`spec.labelSelector`, `spec.orLabelSelectors[1]`, `spec.includedResources[0]`);
//! - [`LabelSelector`]: `kubectl`-style selectors, parsed once, printed canonically, matched
//!   locally;
//! - [`NamespaceFilter`], [`ResourceFilter`], [`Selection`]: Velero's include/exclude rules
//!   (`*`, exclusions win, `include_cluster_resources`);
//! - [`plan()`]: which group-resources, versions and namespaces to list, given a
//!   [`godwit_discovery::Discovery`].
//!
//! - [`pod_volumes()`] and [`read_pod_volumes`]: which pod volumes Velero's file-system backup
//!   would take from a backup's pods and why the others are left out (godwit moves no volume
//!   data; this is reported by `backup describe --details`).
//!
//! The IO half is [`run_backup`]: discovery through `godwit_discovery::discover` (a group that
//! fails is a warning), paged lists with bounded concurrency, one writer task behind a bounded
//! channel. Uploading the tarball, the log and the resource list is the caller's job.

mod actions;
mod error;
mod filter;
mod log;
mod outcome;
mod plan;
mod pod_volumes;
mod run;
mod selector;
mod spec;

pub use error::Error;
pub use filter::{NamespaceFilter, NamespaceScope, ResourceFilter};
pub use outcome::{BackupOutcome, GroupResourceSummary, Phase, Progress, ResourceList, Results};
pub use plan::{ListJob, Plan, PlannedResource, plan};
pub use pod_volumes::{
    Collector, PodVolumeReport, PodVolumes, Reason, Rules, VOLUMES_TO_BACKUP_ANNOTATION,
    VOLUMES_TO_EXCLUDE_ANNOTATION, VolumeChoice, claims_excluded, pod_volumes, read_pod_volumes,
};
pub use run::{BackupOptions, DEFAULT_LISTS_IN_FLIGHT, EXCLUDE_FROM_BACKUP_LABEL, run_backup};
pub use selector::{LabelSelector, MatchExpression, MatchSelector, Operator, Requirement};
pub use spec::{BackupSpec, Selection, ValidSpec};
