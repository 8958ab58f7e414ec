//! Just enough of the Kubernetes protobuf encoding to read the bodies kubectl's built-in
//! generators send (`kubectl create configmap|secret|namespace|serviceaccount|service`), the
//! `DeleteOptions` of `kubectl delete` and the reviews of `kubectl auth can-i|whoami`.
//! Everything else must be sent as JSON.
//!
//! A body is the magic `k8s\0` followed by a `runtime.Unknown` message whose `raw` field holds
//! the object; fields are read by number following the published `generated.proto` files.

use serde_json::{Map, Value};

/// The content type kubectl uses for protobuf bodies.
pub(crate) const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

const MAGIC: &[u8] = b"k8s\0";

/// How one field is read.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    /// A plain bool: `false` is left out, as JSON omits it.
    Bool,
    /// A pointer bool: written whenever it is sent.
    OptBool,
    /// `intstr.IntOrString`.
    IntOrString,
    Int,
    Time,
    Message(&'static [Field]),
    RepeatedStr,
    RepeatedMessage(&'static [Field]),
    MapStrStr,
    MapStrBytes,
}

/// One field of a message.
#[derive(Clone, Copy)]
struct Field {
    number: u64,
    name: &'static str,
    kind: Kind,
}

const fn f(number: u64, name: &'static str, kind: Kind) -> Field {
    Field { number, name, kind }
}

const OWNER_REFERENCE: &[Field] = &[
    f(1, "kind", Kind::Str),
    f(3, "name", Kind::Str),
    f(4, "uid", Kind::Str),
    f(5, "apiVersion", Kind::Str),
    f(6, "controller", Kind::OptBool),
    f(7, "blockOwnerDeletion", Kind::OptBool),
];

const OBJECT_META: &[Field] = &[
    f(1, "name", Kind::Str),
    f(2, "generateName", Kind::Str),
    f(3, "namespace", Kind::Str),
    f(4, "selfLink", Kind::Str),
    f(5, "uid", Kind::Str),
    f(6, "resourceVersion", Kind::Str),
    f(7, "generation", Kind::Int),
    f(8, "creationTimestamp", Kind::Time),
    f(9, "deletionTimestamp", Kind::Time),
    f(10, "deletionGracePeriodSeconds", Kind::Int),
    f(11, "labels", Kind::MapStrStr),
    f(12, "annotations", Kind::MapStrStr),
    f(
        13,
        "ownerReferences",
        Kind::RepeatedMessage(OWNER_REFERENCE),
    ),
    f(14, "finalizers", Kind::RepeatedStr),
];

const CONFIG_MAP: &[Field] = &[
    f(1, "metadata", Kind::Message(OBJECT_META)),
    f(2, "data", Kind::MapStrStr),
    f(3, "binaryData", Kind::MapStrBytes),
    f(4, "immutable", Kind::OptBool),
];

const SECRET: &[Field] = &[
    f(1, "metadata", Kind::Message(OBJECT_META)),
    f(2, "data", Kind::MapStrBytes),
    f(3, "type", Kind::Str),
    f(4, "stringData", Kind::MapStrStr),
    f(5, "immutable", Kind::OptBool),
];

const NAMESPACE_SPEC: &[Field] = &[f(1, "finalizers", Kind::RepeatedStr)];
const NAMESPACE_STATUS: &[Field] = &[f(1, "phase", Kind::Str)];
const NAMESPACE: &[Field] = &[
    f(1, "metadata", Kind::Message(OBJECT_META)),
    f(2, "spec", Kind::Message(NAMESPACE_SPEC)),
    f(3, "status", Kind::Message(NAMESPACE_STATUS)),
];

const OBJECT_REFERENCE: &[Field] = &[
    f(1, "kind", Kind::Str),
    f(2, "namespace", Kind::Str),
    f(3, "name", Kind::Str),
    f(4, "uid", Kind::Str),
    f(5, "apiVersion", Kind::Str),
    f(6, "resourceVersion", Kind::Str),
    f(7, "fieldPath", Kind::Str),
];
const LOCAL_OBJECT_REFERENCE: &[Field] = &[f(1, "name", Kind::Str)];
const SERVICE_ACCOUNT: &[Field] = &[
    f(1, "metadata", Kind::Message(OBJECT_META)),
    f(2, "secrets", Kind::RepeatedMessage(OBJECT_REFERENCE)),
    f(
        3,
        "imagePullSecrets",
        Kind::RepeatedMessage(LOCAL_OBJECT_REFERENCE),
    ),
    f(4, "automountServiceAccountToken", Kind::OptBool),
];

const SERVICE_PORT: &[Field] = &[
    f(1, "name", Kind::Str),
    f(2, "protocol", Kind::Str),
    f(3, "port", Kind::Int),
    f(4, "targetPort", Kind::IntOrString),
    f(5, "nodePort", Kind::Int),
    f(6, "appProtocol", Kind::Str),
];
const SERVICE_SPEC: &[Field] = &[
    f(1, "ports", Kind::RepeatedMessage(SERVICE_PORT)),
    f(2, "selector", Kind::MapStrStr),
    f(3, "clusterIP", Kind::Str),
    f(4, "type", Kind::Str),
    f(5, "externalIPs", Kind::RepeatedStr),
    f(7, "sessionAffinity", Kind::Str),
    f(8, "loadBalancerIP", Kind::Str),
    f(9, "loadBalancerSourceRanges", Kind::RepeatedStr),
    f(10, "externalName", Kind::Str),
    f(11, "externalTrafficPolicy", Kind::Str),
    f(12, "healthCheckNodePort", Kind::Int),
    f(13, "publishNotReadyAddresses", Kind::Bool),
    f(17, "ipFamilyPolicy", Kind::Str),
    f(18, "clusterIPs", Kind::RepeatedStr),
    f(19, "ipFamilies", Kind::RepeatedStr),
    f(20, "allocateLoadBalancerNodePorts", Kind::OptBool),
    f(21, "loadBalancerClass", Kind::Str),
    f(22, "internalTrafficPolicy", Kind::Str),
    f(23, "trafficDistribution", Kind::Str),
];
const SERVICE: &[Field] = &[
    f(1, "metadata", Kind::Message(OBJECT_META)),
    f(2, "spec", Kind::Message(SERVICE_SPEC)),
];

const PRECONDITIONS: &[Field] = &[f(1, "uid", Kind::Str), f(2, "resourceVersion", Kind::Str)];
const DELETE_OPTIONS: &[Field] = &[
    f(1, "gracePeriodSeconds", Kind::Int),
    f(2, "preconditions", Kind::Message(PRECONDITIONS)),
    f(3, "orphanDependents", Kind::OptBool),
    f(4, "propagationPolicy", Kind::Str),
    f(5, "dryRun", Kind::RepeatedStr),
];

const RESOURCE_ATTRIBUTES: &[Field] = &[
    f(1, "namespace", Kind::Str),
    f(2, "verb", Kind::Str),
    f(3, "group", Kind::Str),
    f(4, "version", Kind::Str),
    f(5, "resource", Kind::Str),
    f(6, "subresource", Kind::Str),
    f(7, "name", Kind::Str),
];
const NON_RESOURCE_ATTRIBUTES: &[Field] = &[f(1, "path", Kind::Str), f(2, "verb", Kind::Str)];
const SELF_SUBJECT_ACCESS_REVIEW_SPEC: &[Field] = &[
    f(1, "resourceAttributes", Kind::Message(RESOURCE_ATTRIBUTES)),
    f(
        2,
        "nonResourceAttributes",
        Kind::Message(NON_RESOURCE_ATTRIBUTES),
    ),
];
const SELF_SUBJECT_ACCESS_REVIEW: &[Field] = &[
    f(1, "metadata", Kind::Message(OBJECT_META)),
    f(2, "spec", Kind::Message(SELF_SUBJECT_ACCESS_REVIEW_SPEC)),
];
const SELF_SUBJECT_RULES_REVIEW: &[Field] = &[
    f(1, "metadata", Kind::Message(OBJECT_META)),
    f(2, "spec", Kind::Message(&[f(1, "namespace", Kind::Str)])),
];
const SELF_SUBJECT_REVIEW: &[Field] = &[f(1, "metadata", Kind::Message(OBJECT_META))];

const TYPE_META: &[Field] = &[f(1, "apiVersion", Kind::Str), f(2, "kind", Kind::Str)];

/// The schema of a kind kubesim can read, by `apiVersion` and `kind`.
fn schema(api_version: &str, kind: &str) -> Option<&'static [Field]> {
    match (api_version, kind) {
        ("v1", "ConfigMap") => Some(CONFIG_MAP),
        ("v1", "Secret") => Some(SECRET),
        ("v1", "Namespace") => Some(NAMESPACE),
        ("v1", "ServiceAccount") => Some(SERVICE_ACCOUNT),
        ("v1", "Service") => Some(SERVICE),
        ("v1" | "meta.k8s.io/v1", "DeleteOptions") => Some(DELETE_OPTIONS),
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => Some(SELF_SUBJECT_ACCESS_REVIEW),
        ("authorization.k8s.io/v1", "SelfSubjectRulesReview") => Some(SELF_SUBJECT_RULES_REVIEW),
        ("authentication.k8s.io/v1", "SelfSubjectReview") => Some(SELF_SUBJECT_REVIEW),
        _ => None,
    }
}

/// Whether a content type is the Kubernetes protobuf one.
pub(crate) fn is_protobuf(content_type: &str) -> bool {
    content_type.split(';').next().unwrap_or_default().trim() == CONTENT_TYPE
}

/// Reads a protobuf body into the JSON object it stands for, with `apiVersion` and `kind`.
pub(crate) fn decode(body: &[u8]) -> Result<Value, String> {
    let envelope = body.strip_prefix(MAGIC).ok_or_else(|| {
        "the protobuf body does not start with the Kubernetes magic bytes".to_owned()
    })?;
    let mut type_meta = Map::new();
    let mut raw: &[u8] = &[];
    for item in Reader::new(envelope) {
        let (number, value) = item?;
        match (number, value) {
            (1, Wire::Bytes(bytes)) => type_meta = message(bytes, TYPE_META)?,
            (2, Wire::Bytes(bytes)) => raw = bytes,
            _ => {}
        }
    }
    let api_version = type_meta
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let kind = type_meta
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let fields = schema(&api_version, &kind).ok_or_else(|| {
        format!("kubesim reads protobuf only for ConfigMap, Secret, Namespace, ServiceAccount, Service, DeleteOptions and self-subject reviews, not {kind} {api_version}; send JSON (kubectl create -f or apply -f)")
    })?;
    let mut object = Map::new();
    object.insert("kind".into(), kind.into());
    object.insert("apiVersion".into(), api_version.into());
    object.append(&mut message(raw, fields)?);
    Ok(Value::Object(object))
}

/// One decoded wire value.
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Reader<'a> {
    data: &'a [u8],
    failed: bool,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            failed: false,
        }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self
                .data
                .split_first()
                .ok_or_else(|| "truncated protobuf varint".to_owned())?;
            self.data = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("protobuf varint longer than 10 bytes".to_owned())
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        if len > self.data.len() {
            return Err("truncated protobuf field".to_owned());
        }
        let (taken, rest) = self.data.split_at(len);
        self.data = rest;
        Ok(taken)
    }

    fn next_field(&mut self) -> Result<(u64, Wire<'a>), String> {
        let key = self.varint()?;
        let number = key >> 3;
        let value = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| "protobuf length overflows".to_owned())?;
                Wire::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed
            }
            other => return Err(format!("unsupported protobuf wire type {other}")),
        };
        Ok((number, value))
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<(u64, Wire<'a>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() || self.failed {
            return None;
        }
        let item = self.next_field();
        self.failed = item.is_err();
        Some(item)
    }
}

fn text(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| "protobuf string is not UTF-8".to_owned())
}

/// A map entry: key in field 1, value in field 2.
fn map_entry(bytes: &[u8]) -> Result<(String, &[u8]), String> {
    let mut key = String::new();
    let mut value: &[u8] = &[];
    for item in Reader::new(bytes) {
        match item? {
            (1, Wire::Bytes(b)) => key = text(b)?,
            (2, Wire::Bytes(b)) => value = b,
            _ => {}
        }
    }
    Ok((key, value))
}

/// `IntOrString`: `type` 0 reads `intVal`, 1 reads `strVal`.
fn int_or_string(bytes: &[u8]) -> Result<Value, String> {
    let (mut kind, mut int, mut text) = (0, 0i64, String::new());
    for item in Reader::new(bytes) {
        match item? {
            (1, Wire::Varint(v)) => kind = v,
            // int32 values arrive as sign-extended varints.
            (2, Wire::Varint(v)) => int = v as i64,
            (3, Wire::Bytes(b)) => text = self::text(b)?,
            _ => {}
        }
    }
    Ok(if kind == 1 { text.into() } else { int.into() })
}

fn time(bytes: &[u8]) -> Result<Option<String>, String> {
    let mut seconds = 0u64;
    for item in Reader::new(bytes) {
        if let (1, Wire::Varint(v)) = item? {
            seconds = v;
        }
    }
    Ok((seconds > 0).then(|| crate::time::rfc3339(seconds)))
}

/// Decodes a message; empty strings, zero numbers and empty collections are left out, as the
/// JSON encoding omits them.
fn message(bytes: &[u8], fields: &[Field]) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for item in Reader::new(bytes) {
        let (number, wire) = item?;
        let Some(field) = fields.iter().find(|f| f.number == number) else {
            continue;
        };
        let name = field.name.to_owned();
        match (field.kind, wire) {
            (Kind::Str, Wire::Bytes(b)) => {
                if !b.is_empty() {
                    out.insert(name, text(b)?.into());
                }
            }
            (Kind::Bool, Wire::Varint(v)) => {
                if v != 0 {
                    out.insert(name, true.into());
                }
            }
            (Kind::OptBool, Wire::Varint(v)) => {
                out.insert(name, (v != 0).into());
            }
            (Kind::IntOrString, Wire::Bytes(b)) => {
                out.insert(name, int_or_string(b)?);
            }
            (Kind::Int, Wire::Varint(v)) => {
                if v != 0 {
                    // Negative int64 values arrive as two's complement.
                    out.insert(name, (v as i64).into());
                }
            }
            (Kind::Time, Wire::Bytes(b)) => {
                if let Some(stamp) = time(b)? {
                    out.insert(name, stamp.into());
                }
            }
            (Kind::Message(inner), Wire::Bytes(b)) => {
                out.insert(name, Value::Object(message(b, inner)?));
            }
            (Kind::RepeatedStr, Wire::Bytes(b)) => {
                let list = out.entry(name).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    items.push(text(b)?.into());
                }
            }
            (Kind::RepeatedMessage(inner), Wire::Bytes(b)) => {
                let item = Value::Object(message(b, inner)?);
                let list = out.entry(name).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    items.push(item);
                }
            }
            (Kind::MapStrStr | Kind::MapStrBytes, Wire::Bytes(b)) => {
                let (key, value) = map_entry(b)?;
                let value: Value = if matches!(field.kind, Kind::MapStrBytes) {
                    crate::catalog::base64_standard(value).into()
                } else {
                    text(value)?.into()
                };
                let map = out.entry(name).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(map) = map {
                    map.insert(key, value);
                }
            }
            _ => {
                return Err(format!(
                    "protobuf field {} has an unexpected wire type",
                    field.name
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
