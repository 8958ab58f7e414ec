//! `Status` objects for failures, shaped and worded as the API server writes them.

use serde_json::{Map, Value, json};

use crate::catalog::GroupResource;

/// An API error: HTTP code plus the `Status` body that goes with it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    /// HTTP status code.
    pub(crate) code: u16,
    /// The body: a `Status` object, or plain text for the unrouted 404.
    pub(crate) body: ErrorBody,
    /// Extra `Retry-After` header value, in seconds.
    pub(crate) retry_after: Option<u64>,
}

/// What an error answer carries.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ErrorBody {
    /// A `Status` object, served as JSON.
    Status(Value),
    /// Plain text, as the API server's unmatched-path handler answers.
    Text(&'static str),
}

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cause {
    /// Machine reason such as `FieldValueInvalid`.
    pub(crate) reason: &'static str,
    /// Human message.
    pub(crate) message: String,
    /// The field path.
    pub(crate) field: String,
}

fn status(code: u16, reason: &str, message: String, details: Option<Value>) -> ApiError {
    let mut body = Map::new();
    body.insert("kind".into(), "Status".into());
    body.insert("apiVersion".into(), "v1".into());
    body.insert("metadata".into(), json!({}));
    body.insert("status".into(), "Failure".into());
    body.insert("message".into(), message.into());
    if !reason.is_empty() {
        body.insert("reason".into(), reason.into());
    }
    if let Some(details) = details {
        body.insert("details".into(), details);
    }
    body.insert("code".into(), code.into());
    ApiError {
        code,
        body: ErrorBody::Status(Value::Object(body)),
        retry_after: None,
    }
}

fn details(name: &str, gr: &GroupResource) -> Value {
    let mut details = Map::new();
    if !name.is_empty() {
        details.insert("name".into(), name.into());
    }
    if !gr.group.is_empty() {
        details.insert("group".into(), gr.group.clone().into());
    }
    details.insert("kind".into(), gr.resource.clone().into());
    Value::Object(details)
}

impl ApiError {
    /// 404 for a missing object: `configmaps "x" not found`.
    pub(crate) fn not_found(gr: &GroupResource, name: &str) -> Self {
        status(
            404,
            "NotFound",
            format!("{gr} \"{name}\" not found"),
            Some(details(name, gr)),
        )
    }

    /// 409 for a create whose name is taken: `configmaps "x" already exists`.
    pub(crate) fn already_exists(gr: &GroupResource, name: &str) -> Self {
        status(
            409,
            "AlreadyExists",
            format!("{gr} \"{name}\" already exists"),
            Some(details(name, gr)),
        )
    }

    /// 409 for a write against a stale `resourceVersion` or failed precondition.
    pub(crate) fn conflict(gr: &GroupResource, name: &str, why: &str) -> Self {
        status(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {gr} \"{name}\": {why}"),
            Some(details(name, gr)),
        )
    }

    /// The conflict message for a stale `resourceVersion`.
    pub(crate) const STALE: &'static str = "the object has been modified; please apply your changes to the latest version and try again";

    /// 422 with field causes: `Service "s" is invalid: spec.ports[0].nodePort: ...`.
    pub(crate) fn invalid(kind: &str, group: &str, name: &str, causes: &[Cause]) -> Self {
        let qualified_kind = if group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{group}")
        };
        let summary = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect::<Vec<_>>();
        let summary = if summary.len() == 1 {
            summary.concat()
        } else {
            format!("[{}]", summary.join(", "))
        };
        let mut details = Map::new();
        if !name.is_empty() {
            details.insert("name".into(), name.into());
        }
        if !group.is_empty() {
            details.insert("group".into(), group.into());
        }
        details.insert("kind".into(), kind.into());
        details.insert(
            "causes".into(),
            causes
                .iter()
                .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                .collect(),
        );
        status(
            422,
            "Invalid",
            format!("{qualified_kind} \"{name}\" is invalid: {summary}"),
            Some(Value::Object(details)),
        )
    }

    /// 400 with a message.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        status(400, "BadRequest", message.into(), None)
    }

    /// 401 for a missing or wrong token.
    pub(crate) fn unauthorized() -> Self {
        status(401, "Unauthorized", "Unauthorized".to_owned(), None)
    }

    /// 404 from the built-in handlers' router for a path it has no route for.
    pub(crate) fn no_route() -> Self {
        status(
            404,
            "NotFound",
            "the server could not find the requested resource".to_owned(),
            Some(json!({})),
        )
    }

    /// 405 from the built-in handlers' router for a method it has no route for.
    pub(crate) fn method_not_allowed() -> Self {
        status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".to_owned(),
            Some(
                json!({"causes": [{"reason": "UnexpectedServerResponse", "message": "405: Method Not Allowed"}]}),
            ),
        )
    }

    /// 405 from the custom resource handler for a verb the resource lacks.
    pub(crate) fn verb_not_supported(gr: &GroupResource, verb: &str) -> Self {
        status(
            405,
            "MethodNotAllowed",
            format!("{verb} is not supported on resources of kind \"{gr}\""),
            Some(details("", gr)),
        )
    }

    /// Plain-text 404 of the API server's catch-all handler (unknown group or version).
    pub(crate) fn page_not_found() -> Self {
        ApiError {
            code: 404,
            body: ErrorBody::Text("404 page not found\n"),
            retry_after: None,
        }
    }

    /// 406 when the client accepts no media type kubesim writes.
    pub(crate) fn not_acceptable() -> Self {
        status(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json".to_owned(),
            None,
        )
    }

    /// 415 for a body kubesim cannot read.
    pub(crate) fn unsupported_media_type(content_type: &str) -> Self {
        status(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json (got {content_type})"
            ),
            None,
        )
    }

    /// 410 when a watch starts from a resourceVersion older than the kept history.
    pub(crate) fn expired(requested: u64, oldest: u64) -> Self {
        status(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
            None,
        )
    }

    /// 410 for a `continue` token older than the kept history; `continue_token` reads on
    /// from the current state instead.
    pub(crate) fn continue_expired(continue_token: String) -> Self {
        let mut error = status(
            410,
            "Expired",
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.".to_owned(),
            None,
        );
        if let ErrorBody::Status(Value::Object(body)) = &mut error.body {
            body.insert("metadata".into(), json!({"continue": continue_token}));
        }
        error
    }

    /// 413 for an oversized body.
    pub(crate) fn too_large() -> Self {
        status(
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728".to_owned(),
            None,
        )
    }

    /// 429 injected by a fault rule.
    pub(crate) fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut error = status(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.".to_owned(),
            Some(json!({"retryAfterSeconds": retry_after_secs})),
        );
        error.retry_after = Some(retry_after_secs);
        error
    }

    /// 500, 503 or another server error injected by a fault rule.
    pub(crate) fn server_error(code: u16) -> Self {
        match code {
            503 => status(
                503,
                "ServiceUnavailable",
                "the server is currently unable to handle the request".to_owned(),
                None,
            ),
            500 => status(
                500,
                "InternalError",
                "Internal error occurred: kubesim injected a fault".to_owned(),
                Some(json!({"causes": [{"message": "kubesim injected a fault"}]})),
            ),
            other => status(
                other,
                "",
                format!(
                    "an error on the server (kubesim injected {other}) has prevented the request from succeeding"
                ),
                None,
            ),
        }
    }

    /// 422 for a patch that cannot be applied, as the API server's generic server response.
    pub(crate) fn unprocessable(message: String) -> Self {
        status(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request".to_owned(),
            Some(json!({"causes": [{"reason": "UnexpectedServerResponse", "message": message}]})),
        )
    }

    /// 500 for an object stored at a version its CRD no longer lists in `spec.versions`: the
    /// API server's converter refuses to decode it (no reason, no details).
    pub(crate) fn undecodable(group: &str, stored_version: &str) -> Self {
        status(
            500,
            "",
            crate::crds::invalid_version_message(group, stored_version),
            None,
        )
    }

    /// 429 for an unpaged list of a CRD whose objects include one that cannot be decoded: the
    /// watch cache cannot (re)initialize, and says so.
    pub(crate) fn storage_initializing(
        group: &str,
        storage_version: &str,
        kind: &str,
        stored_version: &str,
    ) -> Self {
        let mut error = status(
            429,
            "TooManyRequests",
            format!(
                "storage is (re)initializing: failed to list {group}/{storage_version}, \
                 Kind={kind}: {}",
                crate::crds::invalid_version_message(group, stored_version)
            ),
            Some(json!({"retryAfterSeconds": 1})),
        );
        error.retry_after = Some(1);
        error
    }

    /// 500 for something kubesim could not do.
    pub(crate) fn internal(message: String) -> Self {
        status(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
            Some(json!({"causes": [{"message": message}]})),
        )
    }
}

/// The success Status a delete answers with for resources that do not return the object.
pub(crate) fn delete_success(gr: &GroupResource, name: &str, uid: &str) -> Value {
    let mut details = Map::new();
    details.insert("name".into(), name.into());
    if !gr.group.is_empty() {
        details.insert("group".into(), gr.group.clone().into());
    }
    details.insert("kind".into(), gr.resource.clone().into());
    if !uid.is_empty() {
        details.insert("uid".into(), uid.into());
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": Value::Object(details),
    })
}

#[cfg(test)]
mod tests;
