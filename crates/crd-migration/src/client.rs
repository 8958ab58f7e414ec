//! The run over `kube` (feature `client`): read the CRD, [`decide`], list its objects in pages
//! at the version chosen and update each one unchanged (re-reading it on a conflict), read the
//! CRD again, and trim `status.storedVersions` through the status subresource with the CRD's
//! `resourceVersion` as the precondition. Retries of throttled or failed requests belong to the
//! client the caller passes (godwit's binary builds it with `godwit-client`).

use std::time::{Duration, Instant};

use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use serde_json::Value;

use crate::decision::{
    Crd, Decision, Migration, Refusal, changed_during_run, decide, storage_version_hash,
};

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// The field manager every write names (godwit's binary passes `godwit`).
    pub field_manager: String,
    /// Objects per list page.
    pub page_size: u32,
    /// Updates tried per object before it counts as kept conflicting.
    pub conflict_attempts: u32,
    /// Count what would be rewritten and write nothing.
    pub dry_run: bool,
    /// How long to wait for the API server to encode at the storage version (see
    /// [`Refusal::NotYetEncoding`]).
    pub encoding_wait: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            field_manager: "godwit".to_owned(),
            page_size: 500,
            conflict_attempts: 5,
            dry_run: false,
            encoding_wait: Duration::from_secs(30),
        }
    }
}

/// Where a run is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<'a> {
    /// The CRD.
    pub crd: &'a str,
    /// Objects handled so far (rewritten or found gone).
    pub done: u64,
    /// Objects the list announced (the first page plus its `remainingItemCount`), when it did.
    pub total: Option<u64>,
}

/// What a completed migration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The CRD.
    pub crd: String,
    /// The version every object is now stored at.
    pub storage_version: String,
    /// The versions removed from `status.storedVersions`.
    pub versions_removed: Vec<String>,
    /// Objects updated.
    pub objects_rewritten: u64,
    /// Objects deleted between the list and their update.
    pub objects_gone: u64,
    /// Updates that met a newer write and were tried again after a re-read.
    pub conflicts_retried: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// How one CRD's run ended, short of a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `status.storedVersions` already lists only the storage version.
    NothingToDo {
        /// The CRD.
        crd: String,
        /// Its storage version.
        storage_version: String,
    },
    /// Every object rewritten and `status.storedVersions` trimmed.
    Migrated(Report),
    /// Dry run: what a run would do.
    WouldMigrate {
        /// The migration decided.
        migration: Migration,
        /// Objects a run would rewrite (counted by a paged list).
        objects: u64,
    },
    /// Refused; `status.storedVersions` untouched.
    Refused {
        /// Why.
        refusal: Refusal,
        /// Objects rewritten before the refusal (harmless; they stay rewritten).
        objects_rewritten: u64,
    },
}

/// A request that failed (after the client's retries), ending one CRD's run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CRD does not exist.
    #[error("customresourcedefinition {crd} not found; check the name with `kubectl get crd`")]
    CrdNotFound {
        /// The name asked for.
        crd: String,
    },
    /// Reading the CRD failed.
    #[error("cannot read customresourcedefinition {crd}: {source}")]
    ReadCrd {
        /// The CRD.
        crd: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// Listing the CRDs failed.
    #[error("cannot list customresourcedefinitions: {source}")]
    ListCrds {
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// Listing the CRD's objects failed.
    #[error(
        "cannot list {crd} at {version}: {source}; status.storedVersions left as it is; run again"
    )]
    List {
        /// The CRD.
        crd: String,
        /// The version listed at.
        version: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// Updating (or re-reading) one object failed.
    #[error(
        "cannot rewrite {crd} {object}: {source}; status.storedVersions left as it is; run again"
    )]
    Update {
        /// The CRD.
        crd: String,
        /// `namespace/name` or `name`.
        object: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// Writing `status.storedVersions` failed for another reason than a conflict.
    #[error(
        "cannot write status.storedVersions of {crd}: {source}; every object is rewritten, so running again only trims it"
    )]
    TrimStatus {
        /// The CRD.
        crd: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
}

/// Continue tokens that expire mid-run restart the list this many times.
const LIST_RESTARTS: u32 = 3;

fn crds_api(client: &kube::Client) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: "apiextensions.k8s.io".to_owned(),
        version: "v1".to_owned(),
        api_version: "apiextensions.k8s.io/v1".to_owned(),
        kind: "CustomResourceDefinition".to_owned(),
        plural: "customresourcedefinitions".to_owned(),
    };
    Api::all_with(client.clone(), &resource)
}

fn api_status(error: &kube::Error) -> Option<u16> {
    match error {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// Whether the server said the object itself does not exist: a `NotFound` Status. A bare
/// `404 page not found` (a server, perhaps one behind a load balancer, that does not serve the
/// version yet) says nothing about the object, so it is not taken as the object being gone.
fn object_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404 && status.reason == "NotFound")
}

fn object_name(object: &DynamicObject) -> String {
    let name = object.metadata.name.as_deref().unwrap_or_default();
    match object.metadata.namespace.as_deref() {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_owned(),
    }
}

/// The names of every CRD in the cluster, sorted.
pub async fn crd_names(client: &kube::Client) -> Result<Vec<String>, Error> {
    let api = crds_api(client);
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(500);
    loop {
        let page = api
            .list_metadata(&params)
            .await
            .map_err(|source| Error::ListCrds { source })?;
        names.extend(page.items.into_iter().filter_map(|crd| crd.metadata.name));
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    names.sort();
    Ok(names)
}

async fn read_crd(api: &Api<DynamicObject>, name: &str) -> Result<Option<DynamicObject>, Error> {
    api.get_opt(name).await.map_err(|source| Error::ReadCrd {
        crd: name.to_owned(),
        source,
    })
}

fn to_value(object: &DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

/// Migrates one CRD (see the crate documentation for the procedure and the refusals).
pub async fn migrate(
    client: &kube::Client,
    crd_name: &str,
    options: &Options,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<Outcome, Error> {
    let started = Instant::now();
    let crds = crds_api(client);
    let crd = read_crd(&crds, crd_name)
        .await?
        .ok_or_else(|| Error::CrdNotFound {
            crd: crd_name.to_owned(),
        })?;
    let migration = match decide(&to_value(&crd)) {
        Decision::NothingToDo { storage_version } => {
            tracing::info!(crd = crd_name, %storage_version, "nothing to migrate");
            return Ok(Outcome::NothingToDo {
                crd: crd_name.to_owned(),
                storage_version,
            });
        }
        Decision::Refuse(refusal) => {
            tracing::warn!(crd = crd_name, %refusal, "refused");
            return Ok(Outcome::Refused {
                refusal,
                objects_rewritten: 0,
            });
        }
        Decision::Migrate(migration) => migration,
    };
    let resource = ApiResource {
        group: migration.crd.group.clone(),
        version: migration.write_version.clone(),
        api_version: format!("{}/{}", migration.crd.group, migration.write_version),
        kind: migration.crd.kind.clone(),
        plural: migration.crd.plural.clone(),
    };
    let objects: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    tracing::info!(
        crd = crd_name,
        storage_version = %migration.storage_version,
        stale = ?migration.stale_versions,
        via = %migration.write_version,
        dry_run = options.dry_run,
        "migrating"
    );

    if !options.dry_run
        && let Some(refusal) = wait_for_encoding(client, &migration, options.encoding_wait).await?
    {
        tracing::warn!(crd = crd_name, %refusal, "refused");
        return Ok(Outcome::Refused {
            refusal,
            objects_rewritten: 0,
        });
    }
    let mut rewrite = Rewrite {
        crd: crd_name,
        migration: &migration,
        api: &objects,
        options,
        done: 0,
        gone: 0,
        conflicts: 0,
    };
    if let Some(refusal) = rewrite.all(&mut progress).await? {
        return Ok(Outcome::Refused {
            refusal,
            objects_rewritten: rewrite.done - rewrite.gone,
        });
    }
    let rewritten = rewrite.done - rewrite.gone;
    if options.dry_run {
        return Ok(Outcome::WouldMigrate {
            objects: rewritten,
            migration,
        });
    }

    // The trim: only if the CRD still says what the run decided on, and only on the CRD as
    // read here (its resourceVersion is the write's precondition).
    let Some(mut now) = read_crd(&crds, crd_name).await? else {
        return Ok(Outcome::Refused {
            refusal: Refusal::CrdDeleted {
                crd: crd_name.to_owned(),
            },
            objects_rewritten: rewritten,
        });
    };
    let refusal = match Crd::parse(&to_value(&now)) {
        Ok(now) => changed_during_run(&migration.crd, &now),
        Err(refusal) => Some(refusal),
    };
    if let Some(refusal) = refusal {
        tracing::warn!(crd = crd_name, %refusal, "refused after the rewrite");
        return Ok(Outcome::Refused {
            refusal,
            objects_rewritten: rewritten,
        });
    }
    let resource_version = now.metadata.resource_version.clone().unwrap_or_default();
    let status = now.data.as_object_mut().map(|data| {
        data.entry("status")
            .or_insert_with(|| Value::Object(Default::default()))
    });
    if let Some(Value::Object(status)) = status {
        status.insert(
            "storedVersions".into(),
            Value::from(vec![migration.storage_version.clone()]),
        );
    }
    let params = PostParams {
        field_manager: Some(options.field_manager.clone()),
        ..PostParams::default()
    };
    match crds.replace_status(crd_name, &params, &now).await {
        Ok(_) => {}
        Err(error) if api_status(&error) == Some(409) => {
            let refusal = Refusal::CrdChangedBeforeTrim {
                crd: crd_name.to_owned(),
                resource_version,
            };
            tracing::warn!(crd = crd_name, %refusal, "refused at the trim");
            return Ok(Outcome::Refused {
                refusal,
                objects_rewritten: rewritten,
            });
        }
        Err(error) if object_not_found(&error) => {
            return Ok(Outcome::Refused {
                refusal: Refusal::CrdDeleted {
                    crd: crd_name.to_owned(),
                },
                objects_rewritten: rewritten,
            });
        }
        Err(source) => {
            return Err(Error::TrimStatus {
                crd: crd_name.to_owned(),
                source,
            });
        }
    }
    let report = Report {
        crd: crd_name.to_owned(),
        storage_version: migration.storage_version.clone(),
        versions_removed: migration.stale_versions.clone(),
        objects_rewritten: rewritten,
        objects_gone: rewrite.gone,
        conflicts_retried: rewrite.conflicts,
        elapsed: started.elapsed(),
    };
    tracing::info!(
        crd = crd_name,
        objects = report.objects_rewritten,
        removed = ?report.versions_removed,
        "migrated"
    );
    Ok(Outcome::Migrated(report))
}

/// Waits until discovery shows the storage version's hash for the resource; `Some` when it
/// still shows another one after `wait`. A server that shows no hash is taken at its word.
async fn wait_for_encoding(
    client: &kube::Client,
    migration: &Migration,
    wait: Duration,
) -> Result<Option<Refusal>, Error> {
    let crd = &migration.crd;
    let expected = storage_version_hash(&crd.group, &migration.storage_version, &crd.kind);
    let group_version = format!("{}/{}", crd.group, migration.write_version);
    let started = Instant::now();
    loop {
        let shown = match client.list_api_group_resources(&group_version).await {
            Ok(list) => list
                .resources
                .into_iter()
                .find(|resource| resource.name == crd.plural)
                .and_then(|resource| resource.storage_version_hash),
            // Not served yet after a CRD change: ask again.
            Err(error) if api_status(&error) == Some(404) => Some(String::new()),
            Err(source) => {
                return Err(Error::List {
                    crd: crd.name.clone(),
                    version: migration.write_version.clone(),
                    source,
                });
            }
        };
        match shown {
            None => return Ok(None),
            Some(shown) if shown == expected => return Ok(None),
            Some(shown) if started.elapsed() >= wait => {
                return Ok(Some(Refusal::NotYetEncoding {
                    crd: crd.name.clone(),
                    storage_version: migration.storage_version.clone(),
                    shown,
                    expected,
                }));
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The rewrite of every object of one CRD.
struct Rewrite<'a> {
    crd: &'a str,
    migration: &'a Migration,
    api: &'a Api<DynamicObject>,
    options: &'a Options,
    /// Objects handled: rewritten, or found gone.
    done: u64,
    gone: u64,
    conflicts: u64,
}

impl Rewrite<'_> {
    /// Lists every object in pages and rewrites each (counts only, on a dry run); `Some` when
    /// an object kept conflicting.
    async fn all(
        &mut self,
        progress: &mut impl FnMut(Progress<'_>),
    ) -> Result<Option<Refusal>, Error> {
        let mut restarts = 0;
        let mut params = ListParams::default().limit(self.options.page_size.max(1));
        let mut total = None;
        loop {
            let page = match self.api.list(&params).await {
                Ok(page) => page,
                // The continue token expired (etcd compacted past it): list again from the
                // start; objects rewritten already are rewritten again, which is harmless.
                Err(error) if api_status(&error) == Some(410) && restarts < LIST_RESTARTS => {
                    restarts += 1;
                    tracing::warn!(crd = self.crd, "list continue token expired; listing again");
                    params = ListParams::default().limit(self.options.page_size.max(1));
                    continue;
                }
                Err(source) => {
                    return Err(Error::List {
                        crd: self.crd.to_owned(),
                        version: self.migration.write_version.clone(),
                        source,
                    });
                }
            };
            if params.continue_token.is_none() {
                let remaining = page
                    .metadata
                    .remaining_item_count
                    .and_then(|n| u64::try_from(n).ok());
                total = Some(self.done + page.items.len() as u64 + remaining.unwrap_or(0))
                    .filter(|_| remaining.is_some() || page.metadata.continue_.is_none());
            }
            for object in page.items {
                if !self.options.dry_run
                    && let Some(refusal) = self.one(object).await?
                {
                    return Ok(Some(refusal));
                }
                self.done += 1;
                progress(Progress {
                    crd: self.crd,
                    done: self.done,
                    total,
                });
            }
            match page.metadata.continue_.filter(|token| !token.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => return Ok(None),
            }
        }
    }

    /// Updates one object unchanged, re-reading it after each conflict.
    async fn one(&mut self, mut object: DynamicObject) -> Result<Option<Refusal>, Error> {
        let name = object.metadata.name.clone().unwrap_or_default();
        let namespace = object.metadata.namespace.clone();
        let shown = object_name(&object);
        let api = match &namespace {
            Some(namespace) => {
                Api::namespaced_with(self.api.clone().into_client(), namespace, &self.resource())
            }
            None => self.api.clone(),
        };
        let params = PostParams {
            field_manager: Some(self.options.field_manager.clone()),
            ..PostParams::default()
        };
        let attempts = self.options.conflict_attempts.max(1);
        for attempt in 1..=attempts {
            match api.replace(&name, &params, &object).await {
                Ok(_) => return Ok(None),
                Err(error) if object_not_found(&error) => {
                    self.gone += 1;
                    return Ok(None);
                }
                Err(error) if api_status(&error) == Some(409) && attempt < attempts => {
                    self.conflicts += 1;
                    tracing::debug!(crd = self.crd, object = %shown, attempt, "conflict; reading again");
                    match api.get_opt(&name).await {
                        Ok(Some(fresh)) => object = fresh,
                        Ok(None) => {
                            self.gone += 1;
                            return Ok(None);
                        }
                        Err(source) => {
                            return Err(Error::Update {
                                crd: self.crd.to_owned(),
                                object: shown,
                                source,
                            });
                        }
                    }
                }
                Err(error) if api_status(&error) == Some(409) => break,
                Err(source) => {
                    return Err(Error::Update {
                        crd: self.crd.to_owned(),
                        object: shown,
                        source,
                    });
                }
            }
        }
        Ok(Some(Refusal::KeptConflicting {
            crd: self.crd.to_owned(),
            object: shown,
            attempts,
            storage_version: self.migration.storage_version.clone(),
        }))
    }

    fn resource(&self) -> ApiResource {
        let crd = &self.migration.crd;
        ApiResource {
            group: crd.group.clone(),
            version: self.migration.write_version.clone(),
            api_version: format!("{}/{}", crd.group, self.migration.write_version),
            kind: crd.kind.clone(),
            plural: crd.plural.clone(),
        }
    }
}
