//! The API server's discovery documents as it sends them, for the client half to parse and hand to
//! [`crate::DiscoveryBuilder`]:
//!
//! - legacy discovery: `GET /api` ([`ApiVersions`]), `GET /apis` ([`ApiGroupList`]),
//!   `GET /apis/<group>` ([`ApiGroup`]), `GET /api/<version>` and `GET /apis/<group>/<version>`
//!   ([`ApiResourceList`]);
//! - aggregated discovery: `GET /api` or `GET /apis` with
//!   `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`
//!   ([`ApiGroupDiscoveryList`]).
//!
//! Only the fields godwit uses are kept; unknown fields are ignored and absent or `null` lists
//! read as empty, so newer and older servers parse alike.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::Error;

/// The `Accept` header that asks for aggregated discovery, falling back to legacy discovery.
pub const ACCEPT_AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// A discovery document type, with the `kind` the server writes into it.
pub trait Document: DeserializeOwned {
    /// The `kind` field of this document.
    const KIND: &'static str;
    /// The `kind` field as read, empty when absent.
    fn kind(&self) -> &str;
}

/// Parses one document's JSON body, checking its `kind` when it has one. `document` names it in
/// errors (for example `"/apis"`).
pub fn parse<T: Document>(document: &str, bytes: &[u8]) -> Result<T, Error> {
    let parsed: T = serde_json::from_slice(bytes).map_err(|err| Error::Json {
        document: document.to_owned(),
        message: err.to_string(),
    })?;
    if !parsed.kind().is_empty() && parsed.kind() != T::KIND {
        return Err(Error::WrongKind {
            document: document.to_owned(),
            expected: T::KIND,
            found: parsed.kind().to_owned(),
        });
    }
    Ok(parsed)
}

/// Reads a missing or `null` field as its default (Go writes `null` for a nil slice).
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `GET /api`: the versions of the core group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiVersions {
    /// `APIVersions`.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// The core versions (`["v1"]`), in server order.
    #[serde(default, deserialize_with = "nullable")]
    pub versions: Vec<String>,
}

/// `GET /apis`: every group but the core group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiGroupList {
    /// `APIGroupList`.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// The groups, in server order.
    #[serde(default, deserialize_with = "nullable")]
    pub groups: Vec<ApiGroup>,
}

/// One group of `/apis`, or the whole body of `GET /apis/<group>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiGroup {
    /// `APIGroup` when it is a whole document; absent inside a list.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// The group name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Its versions, in server order.
    #[serde(default, deserialize_with = "nullable")]
    pub versions: Vec<GroupVersionForDiscovery>,
    /// The version the server prefers.
    #[serde(default)]
    pub preferred_version: Option<GroupVersionForDiscovery>,
}

/// One version of a group in legacy discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupVersionForDiscovery {
    /// `<group>/<version>`.
    #[serde(default, deserialize_with = "nullable")]
    pub group_version: String,
    /// `<version>`.
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
}

/// `GET /api/<version>` or `GET /apis/<group>/<version>`: the resources of one group-version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResourceList {
    /// `APIResourceList`.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// `<group>/<version>`, or `<version>` for the core group.
    #[serde(default, deserialize_with = "nullable")]
    pub group_version: String,
    /// Its resources and subresources (`pods/status`), in server order.
    #[serde(default, deserialize_with = "nullable")]
    pub resources: Vec<ApiResource>,
}

/// One resource or subresource in legacy discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResource {
    /// The plural name, or `<plural>/<subresource>`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The singular name; empty for built-ins before Kubernetes 1.27 and for subresources.
    #[serde(default, deserialize_with = "nullable")]
    pub singular_name: String,
    /// Whether it is namespaced.
    #[serde(default, deserialize_with = "nullable")]
    pub namespaced: bool,
    /// The kind.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// The verbs.
    #[serde(default, deserialize_with = "nullable")]
    pub verbs: Vec<String>,
    /// Short names.
    #[serde(default, deserialize_with = "nullable")]
    pub short_names: Vec<String>,
    /// Categories.
    #[serde(default, deserialize_with = "nullable")]
    pub categories: Vec<String>,
}

/// Aggregated discovery (`apidiscovery.k8s.io/v2`): every group with its versions and resources in
/// one document. `/api` answers it with the core group (an item with no name), `/apis` with the
/// others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiGroupDiscoveryList {
    /// `APIGroupDiscoveryList`.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// The groups, in server order.
    #[serde(default, deserialize_with = "nullable")]
    pub items: Vec<ApiGroupDiscovery>,
}

/// One group in aggregated discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiGroupDiscovery {
    /// Holds the group name; no name means the core group.
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    /// The versions, the preferred one first, then in decreasing preference.
    #[serde(default, deserialize_with = "nullable")]
    pub versions: Vec<ApiVersionDiscovery>,
}

/// The only metadata aggregated discovery fills in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// The group name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
}

/// One version of a group in aggregated discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiVersionDiscovery {
    /// The version name.
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    /// Its resources; subresources are nested in them.
    #[serde(default, deserialize_with = "nullable")]
    pub resources: Vec<ApiResourceDiscovery>,
    /// `Current`, or `Stale` when the server behind it did not answer.
    #[serde(default, deserialize_with = "nullable")]
    pub freshness: String,
}

/// The `freshness` of a group-version whose API server did not answer.
pub const FRESHNESS_STALE: &str = "Stale";

/// The `scope` of a namespaced resource.
pub const SCOPE_NAMESPACED: &str = "Namespaced";

/// One resource in aggregated discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResourceDiscovery {
    /// The plural name.
    #[serde(default, deserialize_with = "nullable")]
    pub resource: String,
    /// The kind it returns; required for a resource to be usable.
    #[serde(default)]
    pub response_kind: Option<GroupVersionKind>,
    /// `Namespaced` or `Cluster`.
    #[serde(default, deserialize_with = "nullable")]
    pub scope: String,
    /// The singular name.
    #[serde(default, deserialize_with = "nullable")]
    pub singular_resource: String,
    /// The verbs.
    #[serde(default, deserialize_with = "nullable")]
    pub verbs: Vec<String>,
    /// Short names.
    #[serde(default, deserialize_with = "nullable")]
    pub short_names: Vec<String>,
    /// Categories.
    #[serde(default, deserialize_with = "nullable")]
    pub categories: Vec<String>,
    /// Subresources (`status`, `scale`); godwit does not use them.
    #[serde(default, deserialize_with = "nullable")]
    pub subresources: Vec<ApiSubresourceDiscovery>,
}

/// One subresource in aggregated discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiSubresourceDiscovery {
    /// The subresource name (`status`).
    #[serde(default, deserialize_with = "nullable")]
    pub subresource: String,
    /// The verbs.
    #[serde(default, deserialize_with = "nullable")]
    pub verbs: Vec<String>,
}

/// A group, version and kind; built-ins leave group and version empty in aggregated discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupVersionKind {
    /// The group.
    #[serde(default, deserialize_with = "nullable")]
    pub group: String,
    /// The version.
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    /// The kind.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
}

macro_rules! document {
    ($type:ty, $kind:literal) => {
        impl Document for $type {
            const KIND: &'static str = $kind;
            fn kind(&self) -> &str {
                &self.kind
            }
        }
    };
}

document!(ApiVersions, "APIVersions");
document!(ApiGroupList, "APIGroupList");
document!(ApiGroup, "APIGroup");
document!(ApiResourceList, "APIResourceList");
document!(ApiGroupDiscoveryList, "APIGroupDiscoveryList");
