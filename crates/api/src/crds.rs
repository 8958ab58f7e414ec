//! The CustomResourceDefinitions of the four resources, generated from the Rust types and
//! adjusted where Velero's own CRDs differ from what the derive produces. The checked-in copies
//! under `deploy/crds/` are what `kubectl apply -f` installs; a test keeps them in sync.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use kube::CustomResourceExt;

use crate::{Backup, BackupStorageLocation, DeleteBackupRequest, Restore};

/// The four CRDs godwit serves, in install order: backups, restores, backupstoragelocations,
/// deletebackuprequests.
///
/// Backups and restores have no status subresource, as in Velero: Velero's controllers write
/// `status` together with the rest of the object, and its backup sync creates Backups with
/// their status in one request, which a status subresource would silently drop.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        without_status_subresource(Backup::crd()),
        without_status_subresource(Restore::crd()),
        BackupStorageLocation::crd(),
        DeleteBackupRequest::crd(),
    ]
    .into_iter()
    .map(without_null_in_enums)
    .collect()
}

/// The file name under `deploy/crds/` for a CRD, as Velero names its own
/// (`velero.io_backups.yaml`).
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// schemars lists `null` among the values of an optional enum; the field is already
/// `nullable`, and Velero's CRDs list only the real values.
fn without_null_in_enums(mut crd: CustomResourceDefinition) -> CustomResourceDefinition {
    for version in &mut crd.spec.versions {
        let Some(schema) = version
            .schema
            .as_mut()
            .and_then(|validation| validation.open_api_v3_schema.as_mut())
        else {
            continue;
        };
        strip_null_enum_values(schema);
    }
    crd
}

fn strip_null_enum_values(schema: &mut JSONSchemaProps) {
    if let Some(values) = &mut schema.enum_ {
        values.retain(|value| value.0 != serde_json::Value::Null);
    }
    for property in schema
        .properties
        .iter_mut()
        .flat_map(|map| map.values_mut())
    {
        strip_null_enum_values(property);
    }
    if let Some(JSONSchemaPropsOrArray::Schema(items)) = &mut schema.items {
        strip_null_enum_values(items);
    }
    if let Some(JSONSchemaPropsOrBool::Schema(additional)) = &mut schema.additional_properties {
        strip_null_enum_values(additional);
    }
}

fn without_status_subresource(mut crd: CustomResourceDefinition) -> CustomResourceDefinition {
    for version in &mut crd.spec.versions {
        version.subresources = None;
    }
    crd
}

#[cfg(test)]
mod tests;
