//! OpenAPI schemas for the fields whose Rust types come from `k8s-openapi` (which is built
//! without its `schemars` feature, to keep its compile time down) or are kept opaque, written
//! the way the API server needs them: structural, with `nullable` where Velero allows `null`.

use schemars::{Schema, SchemaGenerator, json_schema};

/// `metav1.Time`, which Velero marks nullable.
pub(crate) fn time(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "format": "date-time",
        "nullable": true,
    })
}

fn label_selector_object() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "description": "A label query over a set of resources: matchLabels and matchExpressions are ANDed; an empty selector matches every object.",
        "properties": {
            "matchExpressions": {
                "type": "array",
                "description": "Requirements on labels, ANDed.",
                "items": {
                    "type": "object",
                    "description": "A key, an operator (In, NotIn, Exists, DoesNotExist) and values.",
                    "properties": {
                        "key": {"type": "string", "description": "The label key."},
                        "operator": {"type": "string", "description": "In, NotIn, Exists or DoesNotExist."},
                        "values": {
                            "type": "array",
                            "description": "Values for In and NotIn; empty for Exists and DoesNotExist.",
                            "items": {"type": "string"},
                            "x-kubernetes-list-type": "atomic",
                        },
                    },
                    "required": ["key", "operator"],
                },
                "x-kubernetes-list-type": "atomic",
            },
            "matchLabels": {
                "type": "object",
                "description": "Labels that must all be present with these values.",
                "additionalProperties": {"type": "string"},
            },
        },
        "x-kubernetes-map-type": "atomic",
    })
}

/// `*metav1.LabelSelector`, nullable as in Velero.
pub(crate) fn label_selector(_: &mut SchemaGenerator) -> Schema {
    let mut schema = label_selector_object();
    schema["nullable"] = true.into();
    to_schema(schema)
}

/// `[]*metav1.LabelSelector`, nullable as in Velero.
pub(crate) fn label_selectors(_: &mut SchemaGenerator) -> Schema {
    to_schema(serde_json::json!({
        "type": "array",
        "items": label_selector_object(),
        "nullable": true,
    }))
}

/// `*corev1.SecretKeySelector`.
pub(crate) fn secret_key_selector(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "properties": {
            "key": {"type": "string", "description": "The key of the secret to select from."},
            "name": {"type": "string", "description": "The name of the secret, in the object's namespace."},
            "optional": {"type": "boolean", "description": "Whether the secret or its key may be missing."},
        },
        "required": ["key"],
        "x-kubernetes-map-type": "atomic",
    })
}

/// `[]byte`, which JSON carries as base64.
pub(crate) fn bytes(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "format": "byte",
    })
}

/// A field godwit passes through without reading it (hooks, uploader settings): any object, kept
/// whole by the API server.
pub(crate) fn opaque_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "nullable": true,
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

fn to_schema(value: serde_json::Value) -> Schema {
    match value {
        serde_json::Value::Object(map) => Schema::from(map),
        // Only objects are built above; `true` (any value) is the harmless fallback.
        _ => Schema::default(),
    }
}
