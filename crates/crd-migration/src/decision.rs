//! The pure rules: what a CRD needs, read from the CRD alone, and whether the CRD read again
//! after the rewrite still allows trimming `status.storedVersions`.

use serde_json::Value;

/// What the rules need of a CRD, read once from the object the API serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crd {
    /// `metadata.name`: `<plural>.<group>`.
    pub name: String,
    /// `spec.group`.
    pub group: String,
    /// `spec.names.plural`.
    pub plural: String,
    /// `spec.names.kind`.
    pub kind: String,
    /// Whether `spec.scope` is `Namespaced`.
    pub namespaced: bool,
    /// `spec.versions`: name and `served`, in the CRD's order.
    pub versions: Vec<(String, bool)>,
    /// The version marked `storage: true`.
    pub storage_version: String,
    /// `status.storedVersions`, in the server's order.
    pub stored_versions: Vec<String>,
    /// `metadata.generation` (0 when absent).
    pub generation: i64,
    /// `metadata.resourceVersion`.
    pub resource_version: String,
}

/// Why a CRD is not migrated, or why its `status.storedVersions` was left alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The CRD lacks a field the rules need.
    #[error("{crd}: cannot read the CRD: {problem}; check it is a CustomResourceDefinition")]
    Malformed {
        /// The CRD (or `<unnamed>`).
        crd: String,
        /// What is missing.
        problem: String,
    },
    /// A stale stored version is not in `spec.versions`: the server cannot decode its objects.
    #[error(
        "{crd}: stored version {version} is not in spec.versions, so the API server cannot \
         decode objects still stored at {version} (it converts only from versions listed in \
         spec.versions) and they cannot be rewritten; add {version} back to spec.versions with \
         served: true, then run again"
    )]
    StaleVersionNotInSpec {
        /// The CRD.
        crd: String,
        /// The stored version.
        version: String,
    },
    /// A stale stored version has `served: false`: its objects can be read only through an
    /// unverifiable conversion (see the crate documentation).
    #[error(
        "{crd}: stored version {version} is not served, so its objects can be read only through \
         the server's conversion from {version}, which no client can check any more (nobody can \
         read them at {version} to compare, or write them back there); rewriting would persist \
         whatever that conversion returns at {storage_version} and then drop the only record \
         that objects of {version} may exist; set served: true on {version}, check its objects \
         read correctly at {storage_version}, then run again"
    )]
    StaleVersionNotServed {
        /// The CRD.
        crd: String,
        /// The stored version.
        version: String,
        /// The storage version.
        storage_version: String,
    },
    /// No version is served, so no object can be read.
    #[error(
        "{crd}: no version is served, so no object can be read to be rewritten; serve {storage_version}, then run again"
    )]
    NothingServed {
        /// The CRD.
        crd: String,
        /// The storage version.
        storage_version: String,
    },
    /// The storage version changed while the objects were rewritten.
    #[error(
        "{crd}: the storage version changed from {before} to {after} during the run, so objects \
         rewritten meanwhile may be stored at either; status.storedVersions left as it is; run \
         again"
    )]
    StorageVersionChanged {
        /// The CRD.
        crd: String,
        /// The storage version when the run started.
        before: String,
        /// The storage version after the rewrite.
        after: String,
    },
    /// The CRD's spec changed (its generation moved) while the objects were rewritten.
    #[error(
        "{crd}: the CRD's spec changed during the run (generation {before} -> {after}), so the \
         decision it started from no longer holds; status.storedVersions left as it is; run \
         again"
    )]
    GenerationChanged {
        /// The CRD.
        crd: String,
        /// The generation when the run started.
        before: i64,
        /// The generation after the rewrite.
        after: i64,
    },
    /// The CRD changed between its last read and the status write (409 on the precondition).
    #[error(
        "{crd}: the CRD changed between the last check and the write of status.storedVersions \
         (the server answered 409 to resourceVersion {resource_version}); status.storedVersions \
         left as it is; run again"
    )]
    CrdChangedBeforeTrim {
        /// The CRD.
        crd: String,
        /// The resourceVersion the write was conditioned on.
        resource_version: String,
    },
    /// The API server does not yet encode at the storage version (its discovery still shows
    /// another storage version hash) after waiting.
    #[error(
        "{crd}: the API server does not store objects at {storage_version} yet (discovery shows \
         storageVersionHash {shown}, {storage_version} is {expected}), so a rewrite now would \
         keep them where they are; wait until the CRD change has reached the server, then run \
         again"
    )]
    NotYetEncoding {
        /// The CRD.
        crd: String,
        /// The storage version.
        storage_version: String,
        /// The hash discovery shows.
        shown: String,
        /// The hash of the storage version.
        expected: String,
    },
    /// The CRD was deleted during the run.
    #[error("{crd}: the CRD was deleted during the run; nothing left to migrate")]
    CrdDeleted {
        /// The CRD.
        crd: String,
    },
    /// One object's update met a newer write every time.
    #[error(
        "{crd}: object {object} kept changing: {attempts} updates in a row met a newer write, so \
         nothing says it is stored at {storage_version}; status.storedVersions left as it is; \
         run again when its writer is quieter"
    )]
    KeptConflicting {
        /// The CRD.
        crd: String,
        /// `namespace/name` or `name`.
        object: String,
        /// Updates tried.
        attempts: u32,
        /// The storage version.
        storage_version: String,
    },
}

/// A migration [`decide`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The CRD as read when deciding.
    pub crd: Crd,
    /// The version every object ends up stored at.
    pub storage_version: String,
    /// The stored versions to remove from `status.storedVersions` (server order).
    pub stale_versions: Vec<String>,
    /// The version objects are read and written at: the storage version when served, else the
    /// highest-priority served version (the server stores at the storage version either way).
    pub write_version: String,
}

/// What a CRD needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `status.storedVersions` lists nothing but the storage version.
    NothingToDo {
        /// The storage version.
        storage_version: String,
    },
    /// Objects may be stored at older versions: rewrite them, then trim.
    Migrate(Migration),
    /// Not migrated, for this reason.
    Refuse(Refusal),
}

impl Crd {
    /// Reads the fields the rules need, or says which one is missing.
    pub fn parse(crd: &Value) -> Result<Crd, Refusal> {
        let text = |pointer: &str| crd.pointer(pointer).and_then(Value::as_str);
        let name = text("/metadata/name").unwrap_or("<unnamed>").to_owned();
        let malformed = |problem: &str| Refusal::Malformed {
            crd: name.clone(),
            problem: problem.to_owned(),
        };
        let required = |pointer: &str, field: &str| {
            text(pointer)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| malformed(&format!("{field} is missing")))
        };
        let group = required("/spec/group", "spec.group")?;
        let plural = required("/spec/names/plural", "spec.names.plural")?;
        let kind = required("/spec/names/kind", "spec.names.kind")?;
        let entries = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("spec.versions is missing"))?;
        let mut versions = Vec::new();
        let mut storage = Vec::new();
        for entry in entries {
            let version = entry
                .get("name")
                .and_then(Value::as_str)
                .filter(|version| !version.is_empty())
                .ok_or_else(|| malformed("a spec.versions entry has no name"))?;
            let flag = |field: &str| entry.get(field).and_then(Value::as_bool) == Some(true);
            if flag("storage") {
                storage.push(version.to_owned());
            }
            versions.push((version.to_owned(), flag("served")));
        }
        let [storage_version] = <[String; 1]>::try_from(storage)
            .map_err(|_| malformed("spec.versions must mark exactly one version storage: true"))?;
        let stored_versions = crd
            .pointer("/status/storedVersions")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Crd {
            name,
            group,
            plural,
            kind,
            namespaced: text("/spec/scope") == Some("Namespaced"),
            versions,
            storage_version,
            stored_versions,
            generation: crd
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            resource_version: text("/metadata/resourceVersion")
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// Whether `version` is listed in `spec.versions` with `served: true`.
    fn serves(&self, version: &str) -> bool {
        self.versions
            .iter()
            .any(|(name, served)| name == version && *served)
    }
}

/// What `crd` needs: nothing, a migration, or a refusal with its reason (checked in the order
/// of `status.storedVersions`, so the first stale version at fault is named).
pub fn decide(crd: &Value) -> Decision {
    let crd = match Crd::parse(crd) {
        Ok(crd) => crd,
        Err(refusal) => return Decision::Refuse(refusal),
    };
    let storage_version = crd.storage_version.clone();
    let mut stale_versions: Vec<String> = Vec::new();
    for version in &crd.stored_versions {
        if *version == storage_version || stale_versions.contains(version) {
            continue;
        }
        match crd.versions.iter().find(|(name, _)| name == version) {
            None => {
                return Decision::Refuse(Refusal::StaleVersionNotInSpec {
                    crd: crd.name.clone(),
                    version: version.clone(),
                });
            }
            Some((_, false)) => {
                return Decision::Refuse(Refusal::StaleVersionNotServed {
                    crd: crd.name.clone(),
                    version: version.clone(),
                    storage_version,
                });
            }
            Some((_, true)) => stale_versions.push(version.clone()),
        }
    }
    if stale_versions.is_empty() {
        return Decision::NothingToDo { storage_version };
    }
    let write_version = if crd.serves(&storage_version) {
        storage_version.clone()
    } else {
        let mut served: Vec<&str> = crd
            .versions
            .iter()
            .filter(|(_, served)| *served)
            .map(|(name, _)| name.as_str())
            .collect();
        godwit_versioning::sort_by_priority(&mut served);
        match served.first() {
            Some(version) => (*version).to_owned(),
            None => {
                return Decision::Refuse(Refusal::NothingServed {
                    crd: crd.name.clone(),
                    storage_version,
                });
            }
        }
    };
    Decision::Migrate(Migration {
        storage_version,
        stale_versions,
        write_version,
        crd,
    })
}

/// The `storageVersionHash` discovery shows for a resource stored at `group/version` with
/// `kind`: base64 of the first 8 bytes of the SHA-256 of `group/version/kind`. A server that
/// shows the hash of the storage version has switched its encoding to it.
pub fn storage_version_hash(group: &str, version: &str, kind: &str) -> String {
    use sha2::Digest as _;
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digest = sha2::Sha256::digest(format!("{group}/{version}/{kind}").as_bytes());
    let mut out = String::new();
    for chunk in digest[..8].chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Whether the CRD read again after the rewrite (`now`) still allows trimming
/// `status.storedVersions` to what `before` decided: `None` when it does, else the refusal.
pub fn changed_during_run(before: &Crd, now: &Crd) -> Option<Refusal> {
    if now.storage_version != before.storage_version {
        return Some(Refusal::StorageVersionChanged {
            crd: before.name.clone(),
            before: before.storage_version.clone(),
            after: now.storage_version.clone(),
        });
    }
    if now.generation != before.generation {
        return Some(Refusal::GenerationChanged {
            crd: before.name.clone(),
            before: before.generation,
            after: now.generation,
        });
    }
    None
}

#[cfg(test)]
mod tests;
