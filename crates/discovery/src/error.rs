//! The one error type of this crate: documents that do not parse, discovery data that breaks an
//! invariant, per-object problems found while building discovery, and names that do not resolve.

use godwit_versioning::GroupResource;

/// What can go wrong when reading discovery documents and answering questions about them.
///
/// The builders return some of these as a list of per-object problems next to a usable result
/// (see [`crate::DiscoveryBuilder::finish`]); the strict constructors return the first one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A document is not valid JSON or does not have the expected shape.
    #[error("cannot read {document}: {message}; check that it is the body of the right request")]
    Json {
        /// Which document (`/apis`, a fixture name, ...).
        document: String,
        /// What the JSON parser said.
        message: String,
    },
    /// A discovery request got no usable answer (an error status, a timeout, a broken
    /// connection); the body, if any, was not parsed.
    #[error(
        "cannot fetch {document}: {message}; check that the API server (or the aggregated API \
         serving it) is up"
    )]
    Request {
        /// Which document (`/apis/metrics.k8s.io/v1beta1`, ...).
        document: String,
        /// What went wrong, in the server's words where it gave any.
        message: String,
    },
    /// A document says it is of another kind than the one expected (for example an
    /// `APIGroupList` where aggregated discovery was asked for: the server lacks it).
    #[error(
        "{document} has kind {found:?}, not the expected {expected:?}; ask with the matching \
         Accept header, or read it as {found:?}"
    )]
    WrongKind {
        /// Which document.
        document: String,
        /// The kind this reader wanted.
        expected: &'static str,
        /// The kind the document declares.
        found: String,
    },
    /// A group name that is not a lower-case DNS-style name (or `""` for the core group).
    #[error("invalid API group name {group:?}: {why}; drop or rename the group")]
    InvalidGroup {
        /// The group name as given.
        group: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The same group appears twice with different content; the first one is kept.
    #[error("group {group:?} is listed twice with different content; the first one is kept")]
    DuplicateGroup {
        /// The group name.
        group: String,
    },
    /// A group with no usable version; it is left out.
    #[error("group {group:?} has no usable version; it is left out of discovery")]
    GroupWithoutVersions {
        /// The group name.
        group: String,
    },
    /// A version name that is empty or listed twice in its group; the first one is kept.
    #[error("group {group:?} lists version {version:?} {why}; the first entry is kept")]
    InvalidVersion {
        /// The group name.
        group: String,
        /// The version name as given.
        version: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The preferred version a group names is not one of its versions; its first version is
    /// used instead.
    #[error(
        "group {group:?} prefers version {preferred_version:?}, which it does not list \
         (it lists [{}]); its first version is used instead",
        versions.join(", ")
    )]
    PreferredVersionNotServed {
        /// The group name.
        group: String,
        /// The preferred version it names.
        preferred_version: String,
        /// The versions it lists.
        versions: Vec<String>,
    },
    /// A resource entry that cannot be used (bad plural name, no kind, listed twice); it is left
    /// out.
    #[error("resource {resource:?} in {group_version} is left out: {why}")]
    InvalidResource {
        /// `<group>/<version>`, or `<version>` for the core group.
        group_version: String,
        /// The resource name as given.
        resource: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Aggregated discovery marked a group-version `Stale`: the server behind it (usually an
    /// aggregated API server) did not answer, so its resources may be out of date. It is left
    /// out, as client-go and kube-rs do.
    #[error(
        "{group_version} is stale in aggregated discovery (its API server did not answer){}; it \
         is left out until the server answers again",
        if *was_preferred { ", and it was the group's preferred version" } else { "" }
    )]
    StaleVersion {
        /// `<group>/<version>`, or `<version>` for the core group.
        group_version: String,
        /// Whether the server listed it first, i.e. as the group's preferred version.
        was_preferred: bool,
    },
    /// A group lists a version whose resource list was never given (its request failed); the
    /// version is kept with no resources.
    #[error(
        "no resource list for {group_version}, which its group lists; its resources are unknown \
         until {} answers",
        discovery_path(group_version)
    )]
    MissingResourceList {
        /// `<group>/<version>`, or `<version>` for the core group.
        group_version: String,
    },
    /// A resource list for a group-version that no group lists; it is ignored.
    #[error(
        "resource list for {group_version} belongs to no listed group version; it is ignored \
         (read /api and /apis too)"
    )]
    UnlistedResourceList {
        /// The group-version the list names.
        group_version: String,
    },
    /// Two different resource lists for the same group-version; the first one is kept.
    #[error("{group_version} has two different resource lists; the first one is kept")]
    DuplicateResourceList {
        /// `<group>/<version>`, or `<version>` for the core group.
        group_version: String,
    },
    /// A `groupVersion` text that is not `<version>` or `<group>/<version>`.
    #[error("invalid groupVersion {group_version:?}; expected <version> or <group>/<version>")]
    InvalidGroupVersion {
        /// The text as given.
        group_version: String,
    },
    /// A user-written resource name that cannot name anything.
    #[error("invalid resource name {name:?}: {why}; write <resource> or <resource>.<group>")]
    InvalidResourceName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// No served resource has this name.
    #[error(
        "no served resource is named {name:?}; check the spelling against `kubectl \
         api-resources`, or install the CustomResourceDefinition that serves it"
    )]
    ResourceNotFound {
        /// The name as given.
        name: String,
    },
    /// A name that matches resources of more than one API group, none of them the core group.
    #[error(
        "resource name {name:?} is ambiguous: it matches {}; write it with its group, e.g. {}",
        join(candidates),
        candidates.first().map(ToString::to_string).unwrap_or_default()
    )]
    AmbiguousResource {
        /// The name as given.
        name: String,
        /// Every group-resource it matches, in discovery priority order.
        candidates: Vec<GroupResource>,
    },
}

fn join(candidates: &[GroupResource]) -> String {
    candidates
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The legacy discovery path of a group-version: `/api/v1` for the core group, `/apis/<g>/<v>`
/// for the others.
fn discovery_path(group_version: &str) -> String {
    if group_version.contains('/') {
        format!("/apis/{group_version}")
    } else {
        format!("/api/{group_version}")
    }
}
