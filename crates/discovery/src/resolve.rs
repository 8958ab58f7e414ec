//! Resolving a user-written resource name (`deploy`, `Deployment`, `deployments.apps`,
//! `volumesnapshotclass.snapshot.storage.k8s.io`) to the group-resource it denotes, the way
//! kubectl and Velero's discovery helper do.
//!
//! Upstream (client-go's shortcut expander in front of the discovery REST mapper, then kubectl's
//! fall-back to kinds) looks, in this order, for a resource whose plural or singular name
//! matches, then one whose short name matches, then one whose kind matches; the first of these
//! steps that finds anything decides. Matching is case-insensitive. A `.<group>` suffix limits the
//! search to that group. Among several matches the core group wins, and inside a group the
//! preferred version wins over the others.
//!
//! Where this differs from upstream, on purpose: when the matches lie in two or more non-core
//! groups, client-go quietly takes the group the server happened to list first; here that is an
//! [`Error::AmbiguousResource`] listing the candidates, so a restore never acts on a guess. Not
//! accepted: kubectl's `<resource>.<version>.<group>` spelling (Velero does not accept it either:
//! it splits at the first dot only), and the shortcut expander's last resort of matching a short
//! name against a group prefix (`hpa.autoscal`).

use godwit_versioning::GroupResource;

use crate::model::{Group, ResourceInfo};
use crate::{Discovery, Error};

/// A parsed user-written name: the lower-cased resource part, and the group when one was given.
struct Wanted {
    resource: String,
    group: Option<String>,
}

/// One way a resource can answer to a name; tried in this order.
const STEPS: [fn(&ResourceInfo, &str) -> bool; 3] = [
    |r, name| r.name == name || r.singular_name.eq_ignore_ascii_case(name),
    |r, name| r.short_names.iter().any(|s| s.eq_ignore_ascii_case(name)),
    |r, name| r.kind.eq_ignore_ascii_case(name),
];

impl Discovery {
    /// The group-resource a user-written name denotes (plural, singular, short name or kind,
    /// optionally followed by `.<group>`, any case).
    ///
    /// ```
    /// # use godwit_discovery::{Discovery, Group, ServedVersion, ResourceInfo};
    /// # let deployments = ResourceInfo { name: "deployments".into(), singular_name: "deployment".into(),
    /// #     kind: "Deployment".into(), namespaced: true, verbs: vec![], short_names: vec!["deploy".into()],
    /// #     categories: vec![] };
    /// # let apps = Group { name: "apps".into(), preferred_version: "v1".into(),
    /// #     versions: vec![ServedVersion { version: "v1".into(), resources: vec![deployments] }] };
    /// # let discovery = Discovery::new(vec![apps]).unwrap();
    /// assert_eq!(discovery.resolve("Deploy")?.to_string(), "deployments.apps");
    /// # Ok::<(), godwit_discovery::Error>(())
    /// ```
    pub fn resolve(&self, name: &str) -> Result<GroupResource, Error> {
        let candidates = self.resolve_candidates(name)?;
        let Some(first) = candidates.first() else {
            return Err(Error::ResourceNotFound {
                name: name.to_owned(),
            });
        };
        // The core group is searched first, so a core match is always the first candidate.
        if first.is_core() || candidates.iter().all(|c| c.group == first.group) {
            return Ok(first.clone());
        }
        Err(Error::AmbiguousResource {
            name: name.to_owned(),
            candidates,
        })
    }

    /// Every group-resource a user-written name could denote, best first (core group first, then
    /// groups in server order; inside a group, matches in the preferred version first). Empty
    /// when nothing matches; an error only when the name itself is malformed.
    pub fn resolve_candidates(&self, name: &str) -> Result<Vec<GroupResource>, Error> {
        let wanted = parse_name(name)?;
        for step in STEPS {
            let mut found: Vec<GroupResource> = Vec::new();
            for group in self.groups_by_priority() {
                if wanted.group.as_ref().is_some_and(|g| *g != group.name) {
                    continue;
                }
                for version in group.versions_by_preference() {
                    for resource in &version.resources {
                        if step(resource, &wanted.resource) {
                            let candidate = GroupResource::new(&group.name, &resource.name);
                            if !found.contains(&candidate) {
                                found.push(candidate);
                            }
                        }
                    }
                }
            }
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    /// The core group first (client-go always ranks `/v1` first), then the others in server order.
    fn groups_by_priority(&self) -> impl Iterator<Item = &Group> {
        let groups = self.groups();
        groups
            .iter()
            .filter(|g| g.name.is_empty())
            .chain(groups.iter().filter(|g| !g.name.is_empty()))
    }
}

fn parse_name(name: &str) -> Result<Wanted, Error> {
    let lowered = name.trim().to_ascii_lowercase();
    let parsed = GroupResource::parse(&lowered).map_err(|err| Error::InvalidResourceName {
        name: name.to_owned(),
        why: err.to_string(),
    })?;
    Ok(Wanted {
        group: lowered.contains('.').then_some(parsed.group),
        resource: parsed.resource,
    })
}

#[cfg(test)]
mod tests;
