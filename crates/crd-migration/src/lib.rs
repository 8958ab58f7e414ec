//! Storage-version migration of CustomResourceDefinitions (SPEC.md section 8): the procedure that
//! lets a CRD retire a version. An object is persisted at the storage version of the moment it
//! was last written, and `status.storedVersions` lists every version ever used for storage; the
//! API server refuses to drop a version from `spec.versions` while it is listed there. So: rewrite
//! every object unchanged (the server stores it again, at today's storage version), then trim
//! `status.storedVersions` to the storage version.
//!
//! This half is pure: [`decide`] reads a CRD (`serde_json::Value`, as the API serves it) and says
//! [`Decision::NothingToDo`], [`Decision::Migrate`] or [`Decision::Refuse`] with the reason;
//! [`changed_during_run`] says whether the CRD read again after the rewrite still allows the
//! trim. With the `client` feature, `migrate` carries a decision out against a cluster over
//! `kube`, and `crd_names` lists the CRDs `--all` looks at.
//!
//! # When godwit refuses
//!
//! - **A stale stored version missing from `spec.versions`.** The API server's converter for a
//!   CRD accepts only versions listed in `spec.versions`; every read or write of an object still
//!   stored at another version fails with `request to convert CR from an invalid group/version`
//!   (a whole unpaged list fails with it too). Such objects cannot be rewritten, and trimming
//!   `storedVersions` would hide that they exist. The way out: add the version back
//!   (`served: true`), then migrate.
//! - **A stale stored version with `served: false`.** The server could still read its objects
//!   (the converter accepts every listed version), but only through the conversion *from* that
//!   version to a served one, and nobody can check that conversion any more: no client can read
//!   an object at the old version to compare, or write it back there to repair it. With the
//!   `None` strategy the old-shaped object comes back relabelled with the new `apiVersion` and
//!   unchecked against the new schema; with a webhook, conversion from a version taken out of
//!   service is exactly the code that is dropped next. The rewrite would persist whatever that
//!   conversion returns at the storage version, and the trim would then erase the cluster's only
//!   record that objects of the old version may exist. Kubernetes' own retirement order is
//!   migrate first, stop serving after; the way out is to serve the version again, check the
//!   objects read correctly at the storage version, and run again.
//! - **No served version at all**: nothing can be read to be rewritten.
//! - **The server does not encode at the storage version yet.** A CRD change reaches the API
//!   server's handlers a moment after the write (each server of an HA control plane on its
//!   own); until then an unchanged write keeps the object where it is. The run waits until
//!   discovery shows the storage version's `storageVersionHash` for the resource, and refuses
//!   if it never does (this checks the server that answered, not every server behind a load
//!   balancer).
//! - **The CRD changed under the run** (checked on the CRD read again after the rewrite): its
//!   storage version changed (objects rewritten meanwhile may sit at either version) or its
//!   generation did (the spec the run decided on is gone). The trim is also written with the
//!   CRD's `resourceVersion` as a precondition, so a change between that read and the write
//!   makes the server answer 409, and that is a refusal too.
//! - **An object that keeps conflicting**: every update of it met a newer write, re-read after
//!   re-read. Without its rewrite nothing says it is stored at the storage version.
//!
//! A refusal leaves `status.storedVersions` untouched; objects already rewritten stay rewritten
//! (an unchanged write is harmless), so running again after the cause is fixed is safe.

#[cfg(feature = "client")]
mod client;
mod decision;

#[cfg(feature = "client")]
pub use client::{Error, Options, Outcome, Progress, Report, crd_names, migrate};
pub use decision::{
    Crd, Decision, Migration, Refusal, changed_during_run, decide, storage_version_hash,
};
