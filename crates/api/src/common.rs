//! Small types shared by more than one resource.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::serde_helpers::{is_zero, null_as_default};

/// Hooks run and hooks failed, for a backup or a restore (`status.hookStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookStatus {
    /// Hooks attempted.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub hooks_attempted: i64,

    /// Hooks that failed.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub hooks_failed: i64,
}

/// A reference to an object in the same namespace, by kind and name (`corev1` shape); Velero
/// uses it to point at ConfigMaps of resource policies and resource modifiers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypedLocalObjectReference {
    /// The group of the referenced kind; absent for the core group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,

    /// The kind, such as `configmap`.
    pub kind: String,

    /// The name.
    pub name: String,
}
