//! The restore planner: pure decisions over plain data. Given an extracted backup, the target's
//! discovery and the restore spec, it returns the [`Plan`]: tiers in restore order, each with the
//! version chosen for its group-resource (SPEC.md section 4) and the objects that pass the
//! filters (section 5), plus every object skipped or failing and why.
//!
//! No async, no Kubernetes client: the executor fetches discovery and passes it in. Reading the
//! backup goes through the tarball reader, from files already extracted to disk.
//!
//! Groups served by a CRD that the backup itself holds are not guessed: [`plan`] marks them
//! [`Decision::Deferred`], and [`resolve_deferred`] decides them once the executor has created
//! those CRDs and discovered the target again.

use std::collections::BTreeMap;

use godwit_discovery::Discovery;
use godwit_ordering::{PlainResolver, PriorityEntry, Resolver, restore_order};
use godwit_tarball::{ExtractedBackup, GroupResourceIndex, VersionDir};
use godwit_versioning::{
    Choice, GroupResource, Outcome, Rule, Versions, choose_version, choose_without_group_versions,
};
use serde_json::Value;

use crate::filter::{Filters, made_by_the_target, non_restorable};
use crate::plan::{
    Compact, Converted, Decision, ObjectRef, Plan, PlannedNamespace, PlannedObject, PulledIn, Tier,
    Unrestored,
};
use crate::{Error, RestoreSpec};

/// `customresourcedefinitions.apiextensions.k8s.io`.
fn crds() -> GroupResource {
    godwit_ordering::custom_resource_definitions()
}

/// Plans a restore. `Err` only when the request itself is invalid (every problem listed);
/// everything that goes wrong for single objects or group-resources is in the plan.
pub fn plan(
    backup: &ExtractedBackup,
    target: &Discovery,
    spec: &RestoreSpec,
) -> Result<Plan, Vec<Error>> {
    let index = backup.index();
    let group_resources: Vec<GroupResource> = index.group_resources.keys().cloned().collect();
    let filters = Filters::new(spec, target, &group_resources)?;
    let mut plan = Plan {
        backup_name: spec.backup_name.clone(),
        restore_name: spec.restore_name.clone(),
        enable_api_group_versions: spec.enable_api_group_versions,
        namespaces: Vec::new(),
        tiers: Vec::new(),
        skipped: Vec::new(),
        pulled_in: Vec::new(),
        failed: Vec::new(),
        warnings: filters.warnings.clone(),
        pitfalls: Vec::new(),
    };
    let plain = PlainResolver::new(&group_resources);
    let resolver = |entry: &PriorityEntry| {
        target
            .resolve(entry.as_str())
            .ok()
            .or_else(|| plain.resolve(entry))
    };
    let order = restore_order(&group_resources, &spec.resource_priorities, &resolver);
    let positions = positions(&order.ordered);

    // The CRDs this restore creates, by the group-resource they serve.
    let mut restored_crds: BTreeMap<GroupResource, String> = BTreeMap::new();
    let mut backed_up_namespaces: BTreeMap<String, Value> = BTreeMap::new();
    for ordered in order.ordered {
        let group_resource = ordered.group_resource;
        let Some(gr_index) = index.group_resource(&group_resource) else {
            continue;
        };
        if group_resource == godwit_ordering::namespaces() {
            let namespaces = read_objects(backup, &group_resource, gr_index, &mut plan);
            for namespace in namespaces {
                backed_up_namespaces.insert(namespace.name, namespace.object.value());
            }
            continue;
        }
        let ctx = TierContext {
            backup,
            target,
            spec,
            filters: &filters,
            restored_crds: &restored_crds,
        };
        let Some(position) = positions.get(&group_resource) else {
            continue;
        };
        let Some(tier) = ctx.plan_tier(&group_resource, gr_index, position, &mut plan) else {
            continue;
        };
        if group_resource == crds() {
            for object in &tier.objects {
                if let Some(served) = served_by_crd(&object.object.value()) {
                    restored_crds.insert(served, object.name.clone());
                }
            }
        }
        plan.tiers.push(tier);
    }
    let ctx = TierContext {
        backup,
        target,
        spec,
        filters: &filters,
        restored_crds: &restored_crds,
    };
    ctx.pull_in_needed(&mut plan, &positions);
    skip_converted_twins(&mut plan);
    plan.namespaces = needed_namespaces(&plan, spec, &filters, &backed_up_namespaces);
    Ok(plan)
}

/// Decides the deferred tiers of `plan` against the target's discovery taken after the backup's
/// CRDs were created. A group-resource still not served fails, every object with it.
pub fn resolve_deferred(
    plan: &mut Plan,
    backup: &ExtractedBackup,
    refreshed: &Discovery,
    spec: &RestoreSpec,
) {
    let no_crds = BTreeMap::new();
    let mut failed = Vec::new();
    for tier in &mut plan.tiers {
        if !matches!(tier.decision, Decision::Deferred { .. }) {
            continue;
        }
        let Some(gr_index) = backup.index().group_resource(&tier.group_resource) else {
            continue;
        };
        let group_resource = tier.group_resource.clone();
        let legacy_version = legacy_version(gr_index, &tier.objects);
        tier.decision = decide(
            &group_resource,
            gr_index,
            refreshed,
            spec,
            &no_crds,
            legacy_version,
        );
        let objects = std::mem::take(&mut tier.objects);
        tier.objects = load_chosen(
            backup,
            &group_resource,
            gr_index,
            &tier.decision,
            objects,
            &mut failed,
        );
    }
    plan.failed.extend(failed);
}

/// What planning one tier needs besides the tier itself.
struct TierContext<'a> {
    backup: &'a ExtractedBackup,
    target: &'a Discovery,
    spec: &'a RestoreSpec,
    filters: &'a Filters,
    restored_crds: &'a BTreeMap<GroupResource, String>,
}

impl TierContext<'_> {
    /// Filters the objects of one group-resource and decides its version. `None` when no object
    /// is left to create or to fail.
    fn plan_tier(
        &self,
        group_resource: &GroupResource,
        gr_index: &GroupResourceIndex,
        position: &Position,
        plan: &mut Plan,
    ) -> Option<Tier> {
        let gr_reason = non_restorable(group_resource)
            .map(|why| format!("never restored: {why}"))
            .or_else(|| {
                (!self.filters.includes_resource(group_resource))
                    .then(|| "excluded by the resource filters".to_owned())
            });
        let mut kept = Vec::new();
        let mut cluster_scoped = true;
        for object in read_objects(self.backup, group_resource, gr_index, plan) {
            let target_namespace = object
                .namespace
                .as_deref()
                .map(|ns| self.spec.target_namespace(ns).to_owned());
            let reason = gr_reason
                .clone()
                .or_else(|| self.object_reason(&object))
                .or_else(|| {
                    made_by_the_target(group_resource, &object.name)
                        .map(|why| format!("left to the target: {why}"))
                });
            match reason {
                Some(reason) => plan.skipped.push(Unrestored {
                    object: ObjectRef {
                        group_resource: group_resource.clone(),
                        namespace: object.namespace.clone(),
                        name: object.name.clone(),
                    },
                    target_namespace,
                    reason,
                }),
                None => {
                    cluster_scoped &= object.namespace.is_none();
                    kept.push(PlannedObject {
                        target_namespace,
                        ..object
                    });
                }
            }
        }
        if kept.is_empty() {
            return None;
        }
        let decision = decide(
            group_resource,
            gr_index,
            self.target,
            self.spec,
            self.restored_crds,
            legacy_version(gr_index, &kept),
        );
        let objects = load_chosen(
            self.backup,
            group_resource,
            gr_index,
            &decision,
            kept,
            &mut plan.failed,
        );
        Some(Tier {
            group_resource: group_resource.clone(),
            placement: position.placement.clone(),
            stage: position.stage,
            decision,
            cluster_scoped,
            objects,
        })
    }

    /// Velero's additional items: what a planned object needs (a bound claim's volume, a pod's
    /// claims and priority class) is restored with it even when the filters left it out, unless
    /// [`Filters::excludes_needed`] says otherwise. Pulled-in objects are planned in their own
    /// group-resource's tier (made when the filters emptied it), so the order stays Velero's:
    /// volumes before claims before pods. What they need is pulled in too.
    fn pull_in_needed(&self, plan: &mut Plan, positions: &BTreeMap<GroupResource, Position>) {
        let key = |object: &ObjectRef| {
            (
                object.group_resource.clone(),
                object.namespace.clone(),
                object.name.clone(),
            )
        };
        let mut planned = planned_keys(plan);
        let mut wanted: Vec<(ObjectRef, ObjectRef)> = Vec::new();
        for tier in &plan.tiers {
            for object in &tier.objects {
                wanted.extend(needs(&tier.group_resource, object));
            }
        }
        // Each group-resource's objects, read once.
        let mut read: BTreeMap<GroupResource, Vec<PlannedObject>> = BTreeMap::new();
        while let Some((item, needed_by)) = wanted.pop() {
            if !planned.insert(key(&item)) {
                continue;
            }
            let Some(position) = plan.skipped.iter().position(|s| s.object == item) else {
                // Neither planned nor left out: it failed (an error already says why), or the
                // backup does not hold it.
                if !plan.failed.iter().any(|f| f.object == item) {
                    plan.warnings.push(format!(
                        "{needed_by} needs {item}, which the backup does not hold; restore it \
                         from elsewhere, or {needed_by} may not work in the target"
                    ));
                }
                continue;
            };
            if self
                .filters
                .excludes_needed(&item.group_resource, item.namespace.as_deref())
                .is_some()
            {
                continue;
            }
            let Some(gr_index) = self.backup.index().group_resource(&item.group_resource) else {
                continue;
            };
            // Unreadable files were recorded when the group-resource was planned.
            let objects = read.entry(item.group_resource.clone()).or_insert_with(|| {
                read_dir(gr_index)
                    .map(|dir| {
                        read_dir_objects(self.backup, &item.group_resource, &dir, &mut Vec::new())
                    })
                    .unwrap_or_default()
            });
            let Some(object) = objects
                .iter()
                .find(|o| o.namespace == item.namespace && o.name == item.name)
                .cloned()
            else {
                continue;
            };
            let skipped = plan.skipped.remove(position);
            let object = PlannedObject {
                target_namespace: skipped.target_namespace.clone(),
                ..object
            };
            wanted.extend(needs(&item.group_resource, &object));
            plan.pulled_in.push(PulledIn {
                object: item.clone(),
                needed_by,
                left_out_because: skipped.reason,
            });
            self.add_to_tier(plan, positions, &item.group_resource, gr_index, object);
        }
    }

    /// Adds one object to its group-resource's tier, making the tier (in restore order) when
    /// there is none.
    fn add_to_tier(
        &self,
        plan: &mut Plan,
        positions: &BTreeMap<GroupResource, Position>,
        group_resource: &GroupResource,
        gr_index: &GroupResourceIndex,
        object: PlannedObject,
    ) {
        if let Some(tier) = plan
            .tiers
            .iter_mut()
            .find(|tier| &tier.group_resource == group_resource)
        {
            let mut loaded = load_chosen(
                self.backup,
                group_resource,
                gr_index,
                &tier.decision,
                vec![object],
                &mut plan.failed,
            );
            tier.cluster_scoped &= loaded.iter().all(|o| o.namespace.is_none());
            tier.objects.append(&mut loaded);
            return;
        }
        let position = positions.get(group_resource).cloned().unwrap_or(Position {
            index: usize::MAX,
            placement: "needed by another object".to_owned(),
            stage: usize::MAX,
        });
        let decision = decide(
            group_resource,
            gr_index,
            self.target,
            self.spec,
            self.restored_crds,
            legacy_version(gr_index, std::slice::from_ref(&object)),
        );
        let cluster_scoped = object.namespace.is_none();
        let objects = load_chosen(
            self.backup,
            group_resource,
            gr_index,
            &decision,
            vec![object],
            &mut plan.failed,
        );
        let tier = Tier {
            group_resource: group_resource.clone(),
            placement: position.placement,
            stage: position.stage,
            decision,
            cluster_scoped,
            objects,
        };
        let at = plan
            .tiers
            .iter()
            .position(|t| {
                positions
                    .get(&t.group_resource)
                    .map_or(usize::MAX, |p| p.index)
                    > position.index
            })
            .unwrap_or(plan.tiers.len());
        plan.tiers.insert(at, tier);
    }

    /// Why the namespace, scope and label filters leave an object out, if they do.
    fn object_reason(&self, object: &PlannedObject) -> Option<String> {
        match &object.namespace {
            Some(namespace) if !self.filters.includes_namespace(namespace) => {
                return Some(format!(
                    "namespace {namespace} is excluded by the namespace filters"
                ));
            }
            Some(_) => {}
            None => {
                if let Some(why) = self.filters.excludes_cluster_scoped() {
                    return Some(why.to_owned());
                }
            }
        }
        (self.filters.has_selector() && !self.filters.selects(&object.object.labels()))
            .then(|| "its labels do not match the label selector".to_owned())
    }
}

/// Every planned object, as (group-resource, namespace in the backup, name).
fn planned_keys(
    plan: &Plan,
) -> std::collections::BTreeSet<(GroupResource, Option<String>, String)> {
    plan.tiers
        .iter()
        .flat_map(|tier| {
            tier.objects.iter().map(|object| {
                (
                    tier.group_resource.clone(),
                    object.namespace.clone(),
                    object.name.clone(),
                )
            })
        })
        .collect()
}

/// Old clusters served some kinds in two groups (Ingress in `extensions` and
/// `networking.k8s.io`), so a backup can hold one object twice. When one copy is converted into
/// the other's group-resource and the backup holds the other copy too, the other copy is
/// restored and the converted one skipped: one object, created once.
fn skip_converted_twins(plan: &mut Plan) {
    let planned = planned_keys(plan);
    let mut skipped = Vec::new();
    for tier in &mut plan.tiers {
        let Some(converted) = tier.decision.converted() else {
            continue;
        };
        let twin = converted.to_group_resource.clone();
        if twin == tier.group_resource {
            continue;
        }
        let group_resource = tier.group_resource.clone();
        tier.objects.retain(|object| {
            let key = (twin.clone(), object.namespace.clone(), object.name.clone());
            if !planned.contains(&key) {
                return true;
            }
            skipped.push(Unrestored {
                object: ObjectRef {
                    group_resource: group_resource.clone(),
                    namespace: object.namespace.clone(),
                    name: object.name.clone(),
                },
                target_namespace: object.target_namespace.clone(),
                reason: format!("the backup holds it as {twin} too, which is restored instead"),
            });
            false
        });
    }
    plan.skipped.extend(skipped);
}

/// Decides the version of one group-resource.
fn decide(
    group_resource: &GroupResource,
    gr_index: &GroupResourceIndex,
    target: &Discovery,
    spec: &RestoreSpec,
    restored_crds: &BTreeMap<GroupResource, String>,
    legacy_version: Option<String>,
) -> Decision {
    let discovery = target;
    let backup = Versions::new(
        gr_index.versions(),
        gr_index.preferred_version().unwrap_or_default(),
    );
    let served = target.versions_serving(group_resource);
    let target_versions = (!served.is_empty()).then(|| {
        Versions::new(
            served,
            target
                .preferred_version_for(group_resource)
                .unwrap_or_default(),
        )
    });
    let not_served = |backup: Versions, only: Option<&Choice>, message: String| match restored_crds
        .get(group_resource)
    {
        Some(crd) => Decision::Deferred {
            custom_resource_definition: crd.clone(),
            backup,
        },
        None => converted(group_resource, &backup, only, discovery).unwrap_or(Decision::Failed {
            error: message,
            backup,
            target: None,
        }),
    };
    // A backup written before format 1.1.0 has no version folders: its one copy is at the
    // objects' own apiVersion, and there is nothing to choose from.
    let fixed = match legacy_version {
        Some(version) => Some(Choice {
            group_resource: group_resource.clone(),
            version,
            dir: String::new(),
            rule: Rule::FeatureFlagOff,
        }),
        None if !spec.enable_api_group_versions => {
            choose_without_group_versions(group_resource, &backup)
        }
        None => None,
    };
    if let Some(choice) = fixed {
        let backup = match backup.by_priority().is_empty() {
            true => Versions::new([choice.version.clone()], choice.version.clone()),
            false => backup,
        };
        let Some(target) = target_versions else {
            let message = godwit_versioning::NotServed {
                group_resource: group_resource.clone(),
                backup_versions: backup.by_priority(),
            }
            .to_string();
            return not_served(backup, Some(&choice), message);
        };
        if !target.holds(&choice.version) {
            if let Some(decision) = converted(group_resource, &backup, Some(&choice), discovery) {
                return decision;
            }
            let error = format!(
                "cluster serves {group_resource} at [{}] but not at {}, the version the backup \
                 holds as the source's preferred one; turn on EnableAPIGroupVersions (with a \
                 backup taken with it) or serve {} in the target",
                target.by_priority().join(", "),
                choice.version,
                choice.version,
            );
            return Decision::Failed {
                error,
                backup,
                target: Some(target),
            };
        }
        return Decision::Chosen {
            choice,
            backup,
            target,
            converted: None,
        };
    }
    let user = spec.user_priorities.get(group_resource);
    match choose_version(group_resource, &backup, target_versions.as_ref(), user) {
        Outcome::Chosen(choice) => Decision::Chosen {
            choice,
            backup,
            target: target_versions.unwrap_or_default(),
            converted: None,
        },
        Outcome::NotServed(not_served_outcome) => {
            not_served(backup, None, not_served_outcome.to_string())
        }
        Outcome::NoCommonVersion(none) => converted(group_resource, &backup, None, discovery)
            .unwrap_or(Decision::Failed {
                error: none.to_string(),
                backup,
                target: target_versions,
            }),
    }
}

/// The conversion decision when the target serves no version of `group_resource` the backup
/// holds but serves the version that replaced one of them (`godwit-convert`). `only`: the one
/// copy the restore may read (`EnableAPIGroupVersions` off, or a legacy backup); otherwise the
/// backup's versions are tried highest priority first.
fn converted(
    group_resource: &GroupResource,
    backup: &Versions,
    only: Option<&Choice>,
    target: &Discovery,
) -> Option<Decision> {
    let candidates = match only {
        Some(choice) => vec![choice.version.clone()],
        None => backup.by_priority(),
    };
    let serves = |gr: &GroupResource, version: &str| target.versions_serving(gr).contains(&version);
    let conversion = godwit_convert::find(group_resource, &candidates, serves)?;
    let from = conversion.from.version;
    let dir = match only {
        Some(choice) => choice.dir.clone(),
        None if backup.preferred_version == from => format!("{from}-preferredversion"),
        None => from.to_owned(),
    };
    let to_group_resource = conversion.to.group_resource();
    let served = target.versions_serving(&to_group_resource);
    Some(Decision::Chosen {
        choice: Choice {
            group_resource: group_resource.clone(),
            version: conversion.to.version.to_owned(),
            dir,
            rule: Rule::Converted,
        },
        backup: backup.clone(),
        target: Versions::new(
            served,
            target
                .preferred_version_for(&to_group_resource)
                .unwrap_or_default(),
        ),
        converted: Some(Box::new(Converted {
            kind: conversion.kind.to_owned(),
            from_api_version: conversion.from.api_version(),
            to_group_resource,
            to_api_version: conversion.to.api_version(),
            summary: conversion.summary.to_owned(),
        })),
    })
}

/// Where a group-resource sits in the restore order, and the stage it is restored in.
#[derive(Debug, Clone)]
struct Position {
    /// Its index in the order.
    index: usize,
    /// Why it sits there.
    placement: String,
    /// Its stage; see [`crate::Tier::stage`].
    stage: usize,
}

/// The position of every group-resource of the order. Stages: CRDs 0 (before all else);
/// then one stage per high-priority group-resource, in order (Velero's order among them is
/// kept: PVs before claims, roles before bindings, and so on); then one stage for all the
/// group-resources of neither list (Velero restores them alphabetically, an order nothing
/// depends on); then one stage per low-priority group-resource, last.
fn positions(order: &[godwit_ordering::Ordered]) -> BTreeMap<GroupResource, Position> {
    use godwit_ordering::Placement;
    let mut stage = 0;
    let mut unlisted = None;
    let mut positions = BTreeMap::new();
    for (index, ordered) in order.iter().enumerate() {
        let this = match &ordered.placement {
            Placement::CustomResourceDefinitions | Placement::Namespaces => 0,
            Placement::HighPriority(_) | Placement::LowPriority(_) => {
                stage += 1;
                stage
            }
            Placement::Alphabetical => *unlisted.get_or_insert_with(|| {
                stage += 1;
                stage
            }),
        };
        positions.insert(
            ordered.group_resource.clone(),
            Position {
                index,
                placement: ordered.placement.to_string(),
                stage: this,
            },
        );
    }
    positions
}

/// What one planned object needs restored with it, each with the object that needs it.
fn needs(group_resource: &GroupResource, object: &PlannedObject) -> Vec<(ObjectRef, ObjectRef)> {
    if !godwit_mutators::asks_for_items(group_resource) {
        return Vec::new();
    }
    let needed_by = ObjectRef {
        group_resource: group_resource.clone(),
        namespace: object.namespace.clone(),
        name: object.name.clone(),
    };
    godwit_mutators::additional_items(group_resource, &object.object.value())
        .into_iter()
        .map(|item| {
            (
                ObjectRef {
                    group_resource: item.group_resource,
                    namespace: item.namespace,
                    name: item.name,
                },
                needed_by.clone(),
            )
        })
        .collect()
}

/// The version of a group-resource that has only the legacy folder (format 1 backups): the
/// version in its objects' `apiVersion`.
fn legacy_version(gr_index: &GroupResourceIndex, objects: &[PlannedObject]) -> Option<String> {
    if !gr_index.versions().is_empty() {
        return None;
    }
    let api_version = objects.iter().find_map(|o| {
        o.object
            .value()
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(str::to_owned)
    })?;
    Some(
        api_version
            .rsplit_once('/')
            .map_or(api_version.as_str(), |(_, version)| version)
            .to_owned(),
    )
}

/// The folder read to filter a group-resource: its source-preferred (or legacy) folder, else
/// the first one.
fn read_dir(gr_index: &GroupResourceIndex) -> Option<VersionDir> {
    gr_index
        .preferred_dir()
        .or_else(|| gr_index.dirs.keys().next())
        .cloned()
}

/// Reads every object of a group-resource from its read folder. Unreadable files become plan
/// failures.
fn read_objects(
    backup: &ExtractedBackup,
    group_resource: &GroupResource,
    gr_index: &GroupResourceIndex,
    plan: &mut Plan,
) -> Vec<PlannedObject> {
    let Some(dir) = read_dir(gr_index) else {
        return Vec::new();
    };
    read_dir_objects(backup, group_resource, &dir, &mut plan.failed)
}

fn read_dir_objects(
    backup: &ExtractedBackup,
    group_resource: &GroupResource,
    dir: &VersionDir,
    failed: &mut Vec<Unrestored>,
) -> Vec<PlannedObject> {
    let unreadable = |why: String| Unrestored {
        object: ObjectRef {
            group_resource: group_resource.clone(),
            namespace: None,
            name: format!("(folder {dir})"),
        },
        target_namespace: None,
        reason: why,
    };
    let objects = match backup.objects(group_resource, dir) {
        Ok(objects) => objects,
        Err(err) => {
            failed.push(unreadable(err.to_string()));
            return Vec::new();
        }
    };
    let mut read = Vec::new();
    for object in objects {
        match object {
            Ok(object) => read.push(PlannedObject {
                namespace: object.namespace,
                target_namespace: None,
                name: object.name,
                object: Compact::from_parsed(object.raw, &object.object),
            }),
            Err(err) => failed.push(unreadable(err.to_string())),
        }
    }
    read
}

/// Puts the chosen version's copy of each kept object in place (read again when the chosen
/// folder is not the one the filters read), or moves every object to the failures when no
/// version can be restored. Deferred tiers keep what they have until decided. Converted
/// tiers' objects are converted here, so the plan already names every object a conversion
/// refuses (with the field) among the failures.
fn load_chosen(
    backup: &ExtractedBackup,
    group_resource: &GroupResource,
    gr_index: &GroupResourceIndex,
    decision: &Decision,
    kept: Vec<PlannedObject>,
    failed: &mut Vec<Unrestored>,
) -> Vec<PlannedObject> {
    let loaded = load_chosen_dir(backup, group_resource, gr_index, decision, kept, failed);
    let Some(converted) = decision.converted() else {
        return loaded;
    };
    let conversion = godwit_convert::all().iter().find(|c| {
        c.from.group_resource() == *group_resource
            && c.from.api_version() == converted.from_api_version
            && c.to.api_version() == converted.to_api_version
    });
    let mut done = Vec::with_capacity(loaded.len());
    for object in loaded {
        let result = match conversion {
            Some(conversion) => conversion.convert(object.object.value()),
            None => Err(godwit_convert::Lossy {
                field: "apiVersion".to_owned(),
                reason: "no conversion is known for it".to_owned(),
            }),
        };
        match result {
            Ok(body) => done.push(PlannedObject {
                object: Compact::new(&body),
                namespace: object.namespace,
                target_namespace: object.target_namespace,
                name: object.name,
            }),
            Err(lossy) => failed.push(Unrestored {
                reason: format!(
                    "cannot convert it from {} to {} without losing data: {lossy}; restore it \
                     into a cluster that serves {} or recreate it by hand",
                    converted.from_api_version,
                    converted.to_api_version,
                    converted.from_api_version
                ),
                object: ObjectRef {
                    group_resource: group_resource.clone(),
                    namespace: object.namespace,
                    name: object.name,
                },
                target_namespace: object.target_namespace,
            }),
        }
    }
    done
}

/// [`load_chosen`] before any conversion.
fn load_chosen_dir(
    backup: &ExtractedBackup,
    group_resource: &GroupResource,
    gr_index: &GroupResourceIndex,
    decision: &Decision,
    kept: Vec<PlannedObject>,
    failed: &mut Vec<Unrestored>,
) -> Vec<PlannedObject> {
    let fail_all = |kept: Vec<PlannedObject>, failed: &mut Vec<Unrestored>, reason: &str| {
        failed.extend(kept.into_iter().map(|object| Unrestored {
            object: ObjectRef {
                group_resource: group_resource.clone(),
                namespace: object.namespace,
                name: object.name,
            },
            target_namespace: object.target_namespace,
            reason: reason.to_owned(),
        }));
        Vec::new()
    };
    let choice = match decision {
        Decision::Chosen { choice, .. } => choice,
        Decision::Deferred { .. } => return kept,
        Decision::Failed { error, .. } => return fail_all(kept, failed, error),
    };
    let chosen_dir = match VersionDir::parse(&choice.dir) {
        Ok(dir) => dir,
        Err(why) => return fail_all(kept, failed, &why),
    };
    if read_dir(gr_index).as_ref() == Some(&chosen_dir) {
        return kept;
    }
    let mut by_key: BTreeMap<(Option<String>, String), Compact> =
        read_dir_objects(backup, group_resource, &chosen_dir, failed)
            .into_iter()
            .map(|o| ((o.namespace, o.name), o.object))
            .collect();
    let mut loaded = Vec::with_capacity(kept.len());
    for object in kept {
        match by_key.remove(&(object.namespace.clone(), object.name.clone())) {
            Some(body) => loaded.push(PlannedObject {
                object: body,
                ..object
            }),
            None => failed.push(Unrestored {
                reason: format!(
                    "the backup holds no copy of it in resources/{group_resource}/{}; the \
                     backup is incomplete",
                    choice.dir
                ),
                object: ObjectRef {
                    group_resource: group_resource.clone(),
                    namespace: object.namespace,
                    name: object.name,
                },
                target_namespace: object.target_namespace,
            }),
        }
    }
    loaded
}

/// Every target namespace the plan needs, with the labels and annotations of the backed-up
/// Namespace when there is one; plus backed-up namespaces the filters keep even if empty.
fn needed_namespaces(
    plan: &Plan,
    spec: &RestoreSpec,
    filters: &Filters,
    backed_up: &BTreeMap<String, Value>,
) -> Vec<PlannedNamespace> {
    let mut needed: BTreeMap<String, String> = BTreeMap::new();
    for tier in &plan.tiers {
        if matches!(tier.decision, Decision::Failed { .. }) {
            continue;
        }
        for object in &tier.objects {
            if let (Some(source), Some(target)) = (&object.namespace, &object.target_namespace) {
                needed
                    .entry(target.clone())
                    .or_insert_with(|| source.clone());
            }
        }
    }
    let namespaces = godwit_ordering::namespaces();
    let whole_namespaces = filters.includes_resource(&namespaces) && !filters.has_selector();
    if whole_namespaces {
        for name in backed_up.keys().filter(|n| filters.includes_namespace(n)) {
            needed
                .entry(spec.target_namespace(name).to_owned())
                .or_insert_with(|| name.clone());
        }
    }
    needed
        .into_iter()
        .map(|(name, source)| {
            let object = backed_up.get(&source);
            PlannedNamespace {
                source: (object.is_some() || source != name).then_some(source),
                backed_up: object.is_some(),
                labels: object.map(labels_of).unwrap_or_default(),
                annotations: object
                    .map(|o| string_map(o, "annotations"))
                    .unwrap_or_default(),
                name,
            }
        })
        .collect()
}

/// The group-resource a CustomResourceDefinition object serves (`spec.names.plural` of
/// `spec.group`).
fn served_by_crd(crd: &Value) -> Option<GroupResource> {
    let spec = crd.get("spec")?;
    let group = spec.get("group")?.as_str()?;
    let plural = spec.get("names")?.get("plural")?.as_str()?;
    Some(GroupResource::new(group, plural))
}

/// `metadata.labels` as a map; values that are not strings are left out.
pub(crate) fn labels_of(object: &Value) -> BTreeMap<String, String> {
    string_map(object, "labels")
}

fn string_map(object: &Value, field: &str) -> BTreeMap<String, String> {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
