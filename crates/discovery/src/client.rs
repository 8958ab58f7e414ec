//! The client half (feature `client`): fetches what a live cluster serves over a `kube::Client`
//! and builds a [`Discovery`] from it with [`DiscoveryBuilder`].
//!
//! [`discover`] asks for aggregated discovery first: two requests (`/api`, `/apis`) describe the
//! whole cluster, against one per group-version for legacy discovery (about 25 on a bare 1.36,
//! more with CRDs). It falls back to [`discover_legacy`] when the server answers either with a
//! legacy document (servers before 1.26, or with the feature off), when either request fails, and
//! when any group-version is marked `Stale`. Aggregated discovery hides why a version is stale;
//! the legacy path says which request failed and how, so a cluster with a broken aggregated API
//! server gets the same warnings either way.
//!
//! [`discover_legacy`] reads one request per group-version (`/api`, `/api/<v>`, `/apis`,
//! `/apis/<g>/<v>`), the way client-go's `ServerGroupsAndResources` does for Velero: a
//! group-version whose request fails (an aggregated API server answering 503, a CRD deleted
//! mid-way) costs only that group-version, which is kept with no resources and reported next to
//! the result. Only failing to read `/api` or `/apis` themselves is an error.

use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::wire::{
    self, ACCEPT_AGGREGATED, ApiGroupDiscoveryList, ApiGroupList, ApiResourceList, ApiVersions,
    Document, FRESHNESS_STALE,
};
use crate::{Discovery, DiscoveryBuilder, Error};

/// How many group-version requests are in flight at once: enough to hide latency, few enough
/// not to trip API priority and fairness on a busy server (client-go fetches all at once).
const CONCURRENT_REQUESTS: usize = 8;

/// How long one discovery request may take, retries by the client included: client-go's
/// discovery timeout. A kube client retries 503 answers for minutes by default; an aggregated API
/// that is down must not hold the backup that long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(32);

/// Fetches discovery from a cluster: aggregated discovery when the server offers it and every
/// group-version in it is fresh, else [`discover_legacy`] (see the module documentation), whose
/// problems and errors it returns.
pub async fn discover(client: &kube::Client) -> Result<(Discovery, Vec<Error>), Error> {
    match aggregated(client).await {
        Ok(found) => Ok(found),
        Err(reason) => {
            tracing::debug!(%reason, "aggregated discovery not used; reading legacy discovery");
            discover_legacy(client).await
        }
    }
}

/// Aggregated discovery, or why it cannot be used.
async fn aggregated(client: &kube::Client) -> Result<(Discovery, Vec<Error>), Error> {
    let (api, apis) = futures::join!(
        fetch_as::<ApiGroupDiscoveryList>(client, "/api", ACCEPT_AGGREGATED),
        fetch_as::<ApiGroupDiscoveryList>(client, "/apis", ACCEPT_AGGREGATED),
    );
    let documents = [api?, apis?];
    if let Some(group_version) = first_stale(&documents) {
        return Err(Error::StaleVersion {
            group_version,
            was_preferred: false,
        });
    }
    Ok(Discovery::from_aggregated(&documents))
}

/// The first group-version marked `Stale` in aggregated documents, as `<group>/<version>`.
fn first_stale(documents: &[ApiGroupDiscoveryList]) -> Option<String> {
    documents
        .iter()
        .flat_map(|document| &document.items)
        .find_map(|group| {
            let version = group
                .versions
                .iter()
                .find(|v| v.freshness == FRESHNESS_STALE)?;
            Some(match group.metadata.name.as_str() {
                "" => version.version.clone(),
                name => format!("{name}/{}", version.version),
            })
        })
}

/// Fetches legacy discovery from a cluster, one request per group-version.
///
/// Returns the discovery and its per-object problems: every group-version whose resource list
/// could not be read appears there (as [`Error::Request`] naming its path and the server's answer,
/// then [`Error::MissingResourceList`] naming the group-version), along with whatever
/// [`DiscoveryBuilder`] reports about imperfect documents. Fails only when `/api` or `/apis`
/// cannot be read.
pub async fn discover_legacy(client: &kube::Client) -> Result<(Discovery, Vec<Error>), Error> {
    let api: ApiVersions = fetch(client, "/api").await?;
    let apis: ApiGroupList = fetch(client, "/apis").await?;

    let mut builder = DiscoveryBuilder::new();
    builder.core_versions(&api).group_list(&apis);

    let paths = resource_list_paths(&api, &apis);
    let results: Vec<(String, Result<ApiResourceList, Error>)> = stream::iter(paths)
        .map(|path| async move {
            let result = fetch::<ApiResourceList>(client, &path).await;
            (path, result)
        })
        .buffered(CONCURRENT_REQUESTS)
        .collect()
        .await;

    let mut failed = Vec::new();
    for (path, result) in results {
        match result {
            Ok(list) => {
                builder.resource_list(&list);
            }
            Err(err) => {
                tracing::warn!(path = %path, error = %err, "discovery request failed; its group-version is left without resources");
                failed.push(err);
            }
        }
    }
    let (discovery, problems) = builder.finish();
    failed.extend(problems);
    Ok((discovery, failed))
}

/// The resource-list path of every group-version, core first, each once, in server order.
fn resource_list_paths(api: &ApiVersions, apis: &ApiGroupList) -> Vec<String> {
    let core = api.versions.iter().map(|v| format!("/api/{v}"));
    let named = apis.groups.iter().flat_map(|group| {
        group.versions.iter().map(|v| {
            if v.group_version.contains('/') {
                format!("/apis/{}", v.group_version)
            } else {
                format!("/apis/{}/{}", group.name, v.version)
            }
        })
    });
    let mut paths: Vec<String> = Vec::new();
    for path in core.chain(named) {
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    paths
}

/// GETs one discovery document and parses it, naming the path in every error.
async fn fetch<T: Document>(client: &kube::Client, path: &str) -> Result<T, Error> {
    fetch_as(client, path, "application/json").await
}

/// GETs one discovery document with the given `Accept` header and parses it; a document of
/// another kind (a server falling back to legacy discovery) is [`Error::WrongKind`].
async fn fetch_as<T: Document>(
    client: &kube::Client,
    path: &str,
    accept: &str,
) -> Result<T, Error> {
    let failed = |message: String| Error::Request {
        document: path.to_owned(),
        message,
    };
    let request = http::Request::get(path)
        .header(http::header::ACCEPT, accept)
        .body(Vec::new())
        .map_err(|err| failed(format!("cannot build the request: {err}")))?;
    let text = tokio::time::timeout(REQUEST_TIMEOUT, client.request_text(request))
        .await
        .map_err(|_| {
            failed(format!(
                "no answer within {} seconds",
                REQUEST_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|err| failed(format!("the request failed: {}", describe(&err))))?;
    wire::parse(path, text.as_bytes())
}

/// The server's own words for an API error (code, reason, message), else kube's.
fn describe(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                "no reason given"
            } else {
                status.reason.as_str()
            };
            format!("{} {reason}: {}", status.code, status.message)
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ApiGroup, GroupVersionForDiscovery};

    fn check(api: &[&str], groups: &[(&str, &[&str])], expected: &[&str]) {
        let api = ApiVersions {
            kind: String::new(),
            versions: api.iter().map(|v| (*v).to_owned()).collect(),
        };
        let apis = ApiGroupList {
            kind: String::new(),
            groups: groups
                .iter()
                .map(|(name, versions)| ApiGroup {
                    kind: String::new(),
                    name: (*name).to_owned(),
                    versions: versions
                        .iter()
                        .map(|gv| GroupVersionForDiscovery {
                            group_version: (*gv).to_owned(),
                            version: gv.rsplit('/').next().unwrap_or_default().to_owned(),
                        })
                        .collect(),
                    preferred_version: None,
                })
                .collect(),
        };
        assert_eq!(resource_list_paths(&api, &apis), expected);
    }

    #[test]
    fn a_stale_version_sends_discovery_to_the_legacy_path() {
        let bytes = godwit_fixtures::read("apiserver/disc-apis-aggregated.body");
        let mut document: ApiGroupDiscoveryList = wire::parse("/apis", &bytes).unwrap();
        assert_eq!(first_stale(std::slice::from_ref(&document)), None);
        let group = document
            .items
            .iter_mut()
            .find(|g| g.metadata.name == "autoscaling")
            .unwrap();
        group.versions[0].freshness = FRESHNESS_STALE.to_owned();
        let version = group.versions[0].version.clone();
        assert_eq!(
            first_stale(&[ApiGroupDiscoveryList::default(), document]),
            Some(format!("autoscaling/{version}"))
        );
    }

    #[test]
    fn resource_list_paths_cover_every_group_version_once() {
        check(&["v1"], &[], &["/api/v1"]);
        check(
            &["v1"],
            &[
                ("apps", &["apps/v1"]),
                (
                    "music.example.io",
                    &["music.example.io/v2", "music.example.io/v1"],
                ),
            ],
            &[
                "/api/v1",
                "/apis/apps/v1",
                "/apis/music.example.io/v2",
                "/apis/music.example.io/v1",
            ],
        );
        // A server that writes only `version` still gets its path built from the group name.
        check(&[], &[("batch", &["v1"])], &["/apis/batch/v1"]);
        check(
            &["v1", "v1"],
            &[("apps", &["apps/v1", "apps/v1"])],
            &["/api/v1", "/apis/apps/v1"],
        );
    }
}
