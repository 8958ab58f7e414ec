//! HTTP handlers: authentication and fault injection in front, then discovery, the resource
//! API (URL and query parsing, verbs, content types) and the `/kubesim/faults` admin endpoint.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::catalog::ResourceDef;
use crate::discovery;
use crate::faults::{Fault, FaultRule};
use crate::managed_fields;
use crate::objects::with_type;
use crate::patch::PatchKind;
use crate::protobuf;
use crate::selectors::{FieldRequirement, FieldSelector, LabelSelector};
use crate::server::{DropConnection, Shared};
use crate::state::{DeleteOptions, ListParams, Reply};
use crate::status::{ApiError, ErrorBody};
use crate::watch::{self, WatchSpec};

/// The API server's request body limit.
const MAX_BODY: usize = 3 * 1024 * 1024;

/// The default watch length when the client gives no `timeoutSeconds`.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

/// All routes, with authentication and fault injection in front.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(ok))
        .route("/livez", get(ok))
        .route("/readyz", get(ok))
        .route("/version", get(version))
        .route(
            "/kubesim/faults",
            get(faults_get).post(faults_add).delete(faults_clear),
        )
        .fallback(api)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), guard))
        .with_state(shared)
}

fn json_response(code: u16, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            ErrorBody::Status(value) => json_response(self.code, value.to_string().into_bytes()),
            ErrorBody::Text(text) => {
                let mut response = Response::new(Body::from(text));
                *response.status_mut() =
                    StatusCode::from_u16(self.code).unwrap_or(StatusCode::NOT_FOUND);
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                response.headers_mut().insert(
                    "x-content-type-options",
                    HeaderValue::from_static("nosniff"),
                );
                response
            }
        };
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Paths anyone may read, as the API server's `system:public-info-viewer` allows.
fn is_public(path: &str) -> bool {
    matches!(path, "/healthz" | "/livez" | "/readyz" | "/version")
        || path.starts_with("/healthz/")
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/")
}

/// Checks the bearer token, then applies fault rules (never to `/kubesim/` admin paths).
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !is_public(&path) {
        let authorized = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|token| token.trim() == shared.token);
        if !authorized {
            return ApiError::unauthorized().into_response();
        }
    }
    if !path.starts_with("/kubesim/") {
        let decision = shared.faults.decide(request.method().as_str(), &path);
        if !decision.delay.is_zero() {
            tokio::time::sleep(decision.delay).await;
        }
        match decision.failure {
            None | Some(Fault::Latency { .. }) => {}
            Some(Fault::TooManyRequests { retry_after_secs }) => {
                return ApiError::too_many_requests(retry_after_secs).into_response();
            }
            Some(Fault::ServerError { code }) => {
                return ApiError::server_error(code).into_response();
            }
            Some(Fault::PageNotFound) => {
                return ApiError::page_not_found().into_response();
            }
            Some(Fault::DropConnection) => {
                let mut response = Response::new(Body::empty());
                response.extensions_mut().insert(DropConnection);
                return response;
            }
        }
    }
    next.run(request).await
}

async fn ok() -> &'static str {
    "ok"
}

async fn version(State(shared): State<Arc<Shared>>) -> Response {
    json_response(
        200,
        discovery::version(shared.profile).to_string().into_bytes(),
    )
}

fn faults_document(shared: &Shared) -> Response {
    let body = serde_json::json!({
        "rules": shared.faults.rules(),
        "injected": shared.faults.injected(),
    });
    json_response(200, body.to_string().into_bytes())
}

async fn faults_get(State(shared): State<Arc<Shared>>) -> Response {
    faults_document(&shared)
}

async fn faults_add(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultRule>(&body) {
        Ok(rule) => {
            shared.faults.add(rule);
            faults_document(&shared)
        }
        Err(err) => ApiError::bad_request(format!(
            "not a fault rule: {err}; send {{\"fault\":{{\"type\":\"serverError\",\"code\":503}},\"fraction\":0.5}}"
        ))
        .into_response(),
    }
}

async fn faults_clear(State(shared): State<Arc<Shared>>) -> Response {
    shared.faults.clear();
    faults_document(&shared)
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`).
fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query string as decoded pairs; the first value wins.
#[derive(Debug, Default)]
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: Option<&str>) -> Self {
        Self(
            query
                .unwrap_or_default()
                .split('&')
                .filter(|part| !part.is_empty())
                .map(|part| {
                    let (key, value) = part.split_once('=').unwrap_or((part, ""));
                    (percent_decode(key, true), percent_decode(value, true))
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    fn dry_run(&self) -> Result<bool, ApiError> {
        match self.get("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid dryRun value: {other:?}; the only accepted value is \"All\""
            ))),
        }
    }

    fn list_params(&self) -> Result<ListParams, ApiError> {
        let labels = LabelSelector::parse(self.get("labelSelector").unwrap_or_default())
            .map_err(|err| ApiError::bad_request(format!("unable to parse requirement: {err}")))?;
        let fields = FieldSelector::parse(self.get("fieldSelector").unwrap_or_default())
            .map_err(ApiError::bad_request)?;
        let limit = match self.get("limit").filter(|l| !l.is_empty()) {
            Some(text) => Some(text.parse::<usize>().map_err(|_| {
                ApiError::bad_request(format!(
                    "limit: Invalid value: {text:?}: must be a non-negative integer"
                ))
            })?),
            None => None,
        };
        Ok(ListParams {
            labels,
            fields,
            limit,
            continue_token: self.get("continue").map(str::to_owned),
        })
    }
}

/// Whether the client accepts JSON (kubectl and kube always list a JSON-compatible type).
fn accepts_json(accept: Option<&str>) -> bool {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return true;
    };
    accept.split(',').any(|part| {
        let media = part.split(';').next().unwrap_or_default().trim();
        matches!(media, "application/json" | "application/*" | "*/*" | "")
    })
}

/// What a path below `/api/v1` or `/apis/<group>/<version>` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourcePath {
    /// The namespace, for namespaced paths.
    pub(crate) namespace: Option<String>,
    /// The plural resource name.
    pub(crate) plural: String,
    /// The object name, for item paths.
    pub(crate) name: Option<String>,
    /// The subresource, if any.
    pub(crate) subresource: Option<String>,
    /// Whether the deprecated `/watch/` prefix was used.
    pub(crate) watch: bool,
}

/// Splits the segments after the group version into a resource path.
pub(crate) fn parse_resource_path(segments: &[String]) -> Option<ResourcePath> {
    let (watch, rest) = match segments.first().map(String::as_str) {
        Some("watch") => (true, &segments[1..]),
        _ => (false, segments),
    };
    let path = |namespace: Option<&String>,
                plural: &String,
                name: Option<&String>,
                sub: Option<&String>| ResourcePath {
        namespace: namespace.cloned(),
        plural: plural.clone(),
        name: name.cloned(),
        subresource: sub.cloned(),
        watch,
    };
    let namespace_subresource = |s: &str| matches!(s, "status" | "finalize");
    match rest {
        [plural] => Some(path(None, plural, None, None)),
        [plural, name] => Some(path(None, plural, Some(name), None)),
        [first, name, sub] if first == "namespaces" && namespace_subresource(sub) => {
            Some(path(None, first, Some(name), Some(sub)))
        }
        [first, ns, plural] if first == "namespaces" => Some(path(Some(ns), plural, None, None)),
        [plural, name, sub] => Some(path(None, plural, Some(name), Some(sub))),
        [first, ns, plural, name] if first == "namespaces" => {
            Some(path(Some(ns), plural, Some(name), None))
        }
        [first, ns, plural, name, sub] if first == "namespaces" => {
            Some(path(Some(ns), plural, Some(name), Some(sub)))
        }
        _ => None,
    }
}

/// The Kubernetes API: discovery and resources.
async fn api(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    match serve_api(&shared, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn serve_api(shared: &Arc<Shared>, request: Request) -> Result<Response, ApiError> {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let segments: Vec<String> = request
        .uri()
        .path()
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    let first = segments.first().map(String::as_str);
    if !matches!(first, Some("api" | "apis")) {
        return Err(ApiError::page_not_found());
    }
    if !accepts_json(accept.as_deref()) {
        return Err(ApiError::not_acceptable());
    }
    let catalog = shared.catalog();
    let (group, version, rest): (&str, &str, &[String]) = match segments.as_slice() {
        [api] if api == "api" || api == "apis" => {
            if request.method() != Method::GET {
                return Err(ApiError::method_not_allowed());
            }
            let core = api == "api";
            if catalog.profile().aggregated_discovery()
                && accept.as_deref().is_some_and(discovery::wants_aggregated)
            {
                let mut response = json_response(
                    200,
                    discovery::aggregated(&catalog, core, |path| {
                        shared.faults.always_fails_get(path)
                    })
                    .to_string()
                    .into_bytes(),
                );
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(discovery::AGGREGATED_CONTENT_TYPE),
                );
                return Ok(response);
            }
            let body = if core {
                discovery::api_versions(&shared.server_address)
            } else {
                discovery::api_group_list(&catalog)
            };
            return Ok(json_response(200, body.to_string().into_bytes()));
        }
        [api, version, rest @ ..] if api == "api" => ("", version.as_str(), rest),
        [apis, group] if apis == "apis" => {
            if request.method() != Method::GET {
                return Err(ApiError::method_not_allowed());
            }
            let body =
                discovery::api_group(&catalog, group).ok_or_else(ApiError::page_not_found)?;
            return Ok(json_response(200, body.to_string().into_bytes()));
        }
        [apis, group, version, rest @ ..] if apis == "apis" => {
            (group.as_str(), version.as_str(), rest)
        }
        _ => return Err(ApiError::page_not_found()),
    };
    if !catalog.serves_group_version(group, version) {
        // Under a built-in group the API server's own handlers answer, with a Status; only
        // groups nothing serves and custom resource groups reach the plain catch-all.
        return Err(if catalog.is_builtin_group(group) {
            ApiError::no_route()
        } else {
            ApiError::page_not_found()
        });
    }
    let builtin = catalog.is_builtin_group_version(group, version);
    let no_route = || {
        if builtin {
            ApiError::no_route()
        } else {
            ApiError::page_not_found()
        }
    };
    if rest.is_empty() {
        if request.method() != Method::GET {
            return Err(ApiError::method_not_allowed());
        }
        let body = discovery::resource_list(&catalog, group, version).ok_or_else(no_route)?;
        return Ok(json_response(200, body.to_string().into_bytes()));
    }
    let path = parse_resource_path(rest).ok_or_else(no_route)?;
    let def = catalog
        .find(group, version, &path.plural)
        .ok_or_else(no_route)?;
    if path.namespace.is_some() && !def.namespaced {
        return Err(no_route());
    }
    if let Some(sub) = &path.subresource {
        let known = def.subresources.iter().any(|s| &s.name == sub);
        let served = matches!(sub.as_str(), "status" | "scale")
            || (sub == "finalize" && def.plural == "namespaces");
        if !known || !served {
            // The custom resource handler answers a subresource its CRD does not enable as if
            // the object were missing.
            return Err(if builtin {
                no_route()
            } else {
                ApiError::not_found(&def.group_resource(), path.name.as_deref().unwrap_or(""))
            });
        }
    }
    serve_resource(shared, def, path, builtin, request).await
}

fn method_error(def: &ResourceDef, builtin: bool, verb: &str) -> ApiError {
    if builtin {
        ApiError::method_not_allowed()
    } else {
        ApiError::verb_not_supported(&def.group_resource(), verb)
    }
}

async fn read_body(request: Request) -> Result<(Option<String>, Bytes), ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|_| ApiError::too_large())?;
    Ok((content_type, bytes))
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|err| {
        ApiError::bad_request(format!(
            "the body of the request could not be decoded: json parse error: {err}"
        ))
    })
}

/// Reads a create, replace or delete body: JSON, or protobuf for the few kinds kubectl's
/// generators send that way.
fn parse_body(content_type: Option<&str>, bytes: &[u8]) -> Result<Value, ApiError> {
    let essence = content_type
        .map(|c| c.split(';').next().unwrap_or_default().trim().to_owned())
        .unwrap_or_default();
    if essence.is_empty() || essence == "application/json" || essence == "*/*" {
        parse_json(bytes)
    } else if protobuf::is_protobuf(&essence) {
        protobuf::decode(bytes).map_err(|message| {
            let mut error = ApiError::unsupported_media_type(&essence);
            if let ErrorBody::Status(Value::Object(body)) = &mut error.body {
                body.insert("message".into(), message.into());
            }
            error
        })
    } else {
        Err(ApiError::unsupported_media_type(&essence))
    }
}

fn delete_options(
    query: &Query,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<DeleteOptions, ApiError> {
    let mut options = DeleteOptions {
        dry_run: query.dry_run()?,
        ..DeleteOptions::default()
    };
    if !body.iter().all(u8::is_ascii_whitespace) {
        let value = parse_body(content_type, body)?;
        if value
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|v| v == "All"))
        {
            options.dry_run = true;
        }
        options.uid = value
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_owned);
        options.resource_version = value
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    Ok(options)
}

fn object_response(def: &ResourceDef, reply: Reply) -> Response {
    match reply {
        Reply::Object(code, json) => {
            json_response(code, with_type(&def.kind, &def.api_version(), &json))
        }
        Reply::Json(code, body) => json_response(code, body),
    }
}

async fn serve_resource(
    shared: &Arc<Shared>,
    def: Arc<ResourceDef>,
    path: ResourcePath,
    builtin: bool,
    request: Request,
) -> Result<Response, ApiError> {
    let query = Query::parse(request.uri().query());
    let method = request.method().clone();
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let manager = managed_fields::manager_name(query.get("fieldManager"), user_agent);
    let namespace = path.namespace.as_deref();
    let subresource = path.subresource.as_deref();
    match (&method, path.name.as_deref()) {
        (&Method::GET | &Method::PUT | &Method::PATCH, Some(name))
            if subresource == Some("scale") =>
        {
            let dry_run = query.dry_run()?;
            let change = if method == Method::GET {
                None
            } else {
                let (content_type, bytes) = read_body(request).await?;
                let content_type = content_type.unwrap_or_default();
                if method == Method::PATCH {
                    let kind = PatchKind::from_content_type(&content_type)
                        .ok_or_else(|| ApiError::unsupported_media_type(&content_type))?;
                    Some((Some(kind), parse_json(&bytes)?))
                } else {
                    Some((None, parse_body(Some(&content_type), &bytes)?))
                }
            };
            let reply = shared
                .lock()
                .scale(&def, namespace, name, change, &manager, dry_run)?;
            Ok(object_response(&def, reply))
        }
        (&Method::GET, None) if path.watch || query.flag("watch") => {
            if !def.allows("watch") {
                return Err(method_error(&def, builtin, "watch"));
            }
            watch_response(shared, def, path.namespace.clone(), None, &query).await
        }
        (&Method::GET, Some(name))
            if subresource.is_none() && (path.watch || query.flag("watch")) =>
        {
            if !def.allows("watch") {
                return Err(method_error(&def, builtin, "watch"));
            }
            watch_response(
                shared,
                def,
                path.namespace.clone(),
                Some(name.to_owned()),
                &query,
            )
            .await
        }
        (&Method::GET, None) => {
            if !def.allows("list") {
                return Err(method_error(&def, builtin, "list"));
            }
            let params = query.list_params()?;
            let body = shared.lock().list(&def, namespace, &params)?;
            Ok(json_response(200, body))
        }
        (&Method::GET, Some(name)) => {
            if !def.allows("get") {
                return Err(method_error(&def, builtin, "get"));
            }
            let reply = shared.lock().get(&def, namespace, name)?;
            Ok(object_response(&def, reply))
        }
        (&Method::POST, None) => {
            if !def.allows("create") {
                return Err(method_error(&def, builtin, "create"));
            }
            let dry_run = query.dry_run()?;
            let (content_type, bytes) = read_body(request).await?;
            let body = parse_body(content_type.as_deref(), &bytes)?;
            let reply = shared
                .lock()
                .create(&def, namespace, body, &manager, dry_run)?;
            Ok(object_response(&def, reply))
        }
        (&Method::PUT, Some(name)) => {
            if !def.allows("update") {
                return Err(method_error(&def, builtin, "update"));
            }
            let dry_run = query.dry_run()?;
            let (content_type, bytes) = read_body(request).await?;
            let body = parse_body(content_type.as_deref(), &bytes)?;
            let reply = shared.lock().update(
                &def,
                namespace,
                name,
                body,
                subresource,
                &manager,
                dry_run,
            )?;
            Ok(object_response(&def, reply))
        }
        (&Method::PATCH, Some(name)) => {
            if !def.allows("patch") {
                return Err(method_error(&def, builtin, "patch"));
            }
            let dry_run = query.dry_run()?;
            let (content_type, bytes) = read_body(request).await?;
            let content_type = content_type.unwrap_or_default();
            let kind = PatchKind::from_content_type(&content_type)
                .ok_or_else(|| ApiError::unsupported_media_type(&content_type))?;
            let patch = parse_json(&bytes)?;
            let reply = shared.lock().patch(
                &def,
                namespace,
                name,
                kind,
                patch,
                subresource,
                &manager,
                dry_run,
            )?;
            Ok(object_response(&def, reply))
        }
        (&Method::DELETE, Some(name)) if subresource.is_none() => {
            if !def.allows("delete") {
                return Err(method_error(&def, builtin, "delete"));
            }
            let (content_type, bytes) = read_body(request).await?;
            let options = delete_options(&query, content_type.as_deref(), &bytes)?;
            let reply = shared.lock().delete(&def, namespace, name, &options)?;
            Ok(object_response(&def, reply))
        }
        (&Method::DELETE, None) => {
            if !def.allows("deletecollection") {
                return Err(method_error(&def, builtin, "deletecollection"));
            }
            let params = query.list_params()?;
            let (content_type, bytes) = read_body(request).await?;
            let options = delete_options(&query, content_type.as_deref(), &bytes)?;
            let body = shared
                .lock()
                .delete_collection(&def, namespace, &params, &options)?;
            Ok(json_response(200, body))
        }
        _ => Err(method_error(&def, builtin, method.as_str())),
    }
}

async fn watch_response(
    shared: &Arc<Shared>,
    def: Arc<ResourceDef>,
    namespace: Option<String>,
    name: Option<String>,
    query: &Query,
) -> Result<Response, ApiError> {
    let mut params = query.list_params()?;
    if let Some(name) = name {
        params.fields.requirements.push(FieldRequirement {
            field: "metadata.name".to_owned(),
            value: name,
            negated: false,
        });
    }
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|t| *t > 0)
        .map_or(DEFAULT_WATCH_TIMEOUT, Duration::from_secs);
    let send_initial_events = match query.get("sendInitialEvents") {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    let spec = WatchSpec {
        def,
        namespace,
        labels: params.labels,
        fields: params.fields,
        bookmarks: query.flag("allowWatchBookmarks"),
        timeout,
    };
    let start =
        shared
            .lock()
            .start_watch(&spec, query.get("resourceVersion"), send_initial_events)?;
    let (sender, receiver) = mpsc::channel::<Bytes>(256);
    let source: Arc<dyn watch::Source> = Arc::clone(shared) as Arc<dyn watch::Source>;
    tokio::spawn(watch::run(
        spec,
        start.lines,
        start.rv,
        start.events,
        source,
        sender,
        shared.shutdown.clone(),
    ));
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|line| (Ok::<Bytes, std::convert::Infallible>(line), receiver))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests;
