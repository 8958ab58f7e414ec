//! The order in which a restore creates the group-resources of a backup (SPEC.md section 5 item
//! 4): CustomResourceDefinitions first, then namespaces, then the high priorities in their order,
//! then everything else alphabetically by its `<resource>.<group>` spelling, then the low
//! priorities in their order. Each group-resource comes exactly once.
//!
//! This matches Velero's restore: it resolves each priority entry through discovery, skips (with
//! an info log) entries that resolve to nothing, sorts the rest by the group-resource's string
//! (`schema.GroupResource.String()`, the spelling of backup directories), and restores a
//! group-resource only the first time it comes up. Velero also restores CRDs in a pass of their
//! own before everything else, and creates namespaces before the first object that needs one.

use std::fmt;

use godwit_versioning::GroupResource;

use crate::{Priorities, PriorityEntry};

/// `customresourcedefinitions.apiextensions.k8s.io`, always restored first.
pub fn custom_resource_definitions() -> GroupResource {
    GroupResource::new("apiextensions.k8s.io", "customresourcedefinitions")
}

/// `namespaces`, always restored right after CRDs.
pub fn namespaces() -> GroupResource {
    GroupResource::new("", "namespaces")
}

/// Maps a priority entry to the group-resource it denotes; `None` when it denotes nothing (or
/// nothing unambiguous). `godwit_discovery::Discovery::resolve` is the real one; any
/// `Fn(&PriorityEntry) -> Option<GroupResource>` is a resolver, and [`PlainResolver`] works
/// without discovery.
pub trait Resolver {
    /// The group-resource this entry denotes, if any.
    fn resolve(&self, entry: &PriorityEntry) -> Option<GroupResource>;
}

impl<F> Resolver for F
where
    F: Fn(&PriorityEntry) -> Option<GroupResource>,
{
    fn resolve(&self, entry: &PriorityEntry) -> Option<GroupResource> {
        self(entry)
    }
}

/// A resolver without discovery, over a known list of group-resources (usually the backup's): an
/// entry with a group matches its exact `<resource>.<group>`; a bare entry matches the core group's
/// resource of that name, else the one resource of that name in another group (several: none).
///
/// It knows neither singular nor short names, so Velero's default
/// `volumesnapshotclass.snapshot.storage.k8s.io` resolves to nothing with it; use discovery when
/// the cluster is at hand.
#[derive(Debug, Clone, Copy)]
pub struct PlainResolver<'a> {
    known: &'a [GroupResource],
}

impl<'a> PlainResolver<'a> {
    /// A resolver over these group-resources.
    pub fn new(known: &'a [GroupResource]) -> Self {
        PlainResolver { known }
    }
}

impl Resolver for PlainResolver<'_> {
    fn resolve(&self, entry: &PriorityEntry) -> Option<GroupResource> {
        let text = entry.as_str();
        if text.contains('.') {
            let wanted = GroupResource::parse(text).ok()?;
            return self.known.contains(&wanted).then_some(wanted);
        }
        let core = GroupResource::new("", text);
        if self.known.contains(&core) {
            return Some(core);
        }
        let mut others = self.known.iter().filter(|gr| gr.resource == text);
        match (others.next(), others.next()) {
            (Some(only), None) => Some(only.clone()),
            _ => None,
        }
    }
}

/// Why a group-resource sits where it does in the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// CRDs come first: custom resources need their definitions served.
    CustomResourceDefinitions,
    /// Namespaces come right after CRDs: namespaced objects need them.
    Namespaces,
    /// Placed by this entry of the high priorities.
    HighPriority(PriorityEntry),
    /// Not in any priority list: alphabetically by `<resource>.<group>`.
    Alphabetical,
    /// Placed by this entry of the low priorities.
    LowPriority(PriorityEntry),
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::CustomResourceDefinitions => f.write_str("CRDs first"),
            Placement::Namespaces => f.write_str("namespaces after CRDs"),
            Placement::HighPriority(entry) => write!(f, "high priority {:?}", entry.as_str()),
            Placement::Alphabetical => f.write_str("alphabetical"),
            Placement::LowPriority(entry) => write!(f, "low priority {:?}", entry.as_str()),
        }
    }
}

/// One group-resource in restore order, with the reason for its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ordered {
    /// The group-resource.
    pub group_resource: GroupResource,
    /// Why it is where it is.
    pub placement: Placement,
}

/// The result of [`restore_order`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestoreOrder {
    /// The backup's group-resources, each once, in the order to restore them.
    pub ordered: Vec<Ordered>,
    /// Priority entries the resolver mapped to nothing; they are skipped, as Velero skips them
    /// (with an info log). Normal for entries like `datauploads.velero.io` on a cluster without
    /// them.
    pub unresolved: Vec<PriorityEntry>,
}

impl RestoreOrder {
    /// The group-resources alone, in order.
    pub fn group_resources(&self) -> impl Iterator<Item = &GroupResource> {
        self.ordered.iter().map(|o| &o.group_resource)
    }
}

/// One line per group-resource (`3. persistentvolumes  (high priority "persistentvolumes")`),
/// then the unresolved entries: the form a dry-run plan shows.
impl fmt::Display for RestoreOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .ordered
            .iter()
            .map(|o| o.group_resource.to_string().len())
            .max()
            .unwrap_or(0);
        for (index, ordered) in self.ordered.iter().enumerate() {
            let name = ordered.group_resource.to_string();
            writeln!(
                f,
                "{:>3}. {name:<width$}  ({})",
                index + 1,
                ordered.placement
            )?;
        }
        if !self.unresolved.is_empty() {
            let entries: Vec<&str> = self.unresolved.iter().map(PriorityEntry::as_str).collect();
            writeln!(f, "unresolved priority entries: {}", entries.join(", "))?;
        }
        Ok(())
    }
}

/// Orders a backup's group-resources for restore. Repeated input keeps its first occurrence;
/// entries that resolve to a group-resource absent from the backup change nothing; entries that
/// resolve to nothing are listed in [`RestoreOrder::unresolved`].
pub fn restore_order<R>(
    backup: &[GroupResource],
    priorities: &Priorities,
    resolver: &R,
) -> RestoreOrder
where
    R: Resolver + ?Sized,
{
    let mut remaining: Vec<GroupResource> = Vec::with_capacity(backup.len());
    for group_resource in backup {
        if !remaining.contains(group_resource) {
            remaining.push(group_resource.clone());
        }
    }
    let mut ordered = Vec::with_capacity(remaining.len());
    let mut take = |wanted: &GroupResource| {
        let index = remaining.iter().position(|gr| gr == wanted)?;
        Some(remaining.remove(index))
    };

    let mut unresolved = Vec::new();
    let fixed = [
        (
            custom_resource_definitions(),
            Placement::CustomResourceDefinitions,
        ),
        (namespaces(), Placement::Namespaces),
    ];
    for (wanted, placement) in fixed {
        if let Some(group_resource) = take(&wanted) {
            ordered.push(Ordered {
                group_resource,
                placement,
            });
        }
    }

    let mut place = |entries: &[PriorityEntry], placement: fn(PriorityEntry) -> Placement| {
        let mut placed = Vec::new();
        for entry in entries {
            match resolver.resolve(entry) {
                None => unresolved.push(entry.clone()),
                Some(wanted) => {
                    if let Some(group_resource) = take(&wanted) {
                        placed.push(Ordered {
                            group_resource,
                            placement: placement(entry.clone()),
                        });
                    }
                }
            }
        }
        placed
    };
    // Low entries claim their group-resources before the alphabetical middle is sorted, but a
    // group-resource that is also a high priority stays high: high entries resolve first.
    let high = place(&priorities.high, Placement::HighPriority);
    let low = place(&priorities.low, Placement::LowPriority);

    let mut middle: Vec<(String, GroupResource)> = remaining
        .into_iter()
        .map(|gr| (gr.to_string(), gr))
        .collect();
    middle.sort();

    ordered.extend(high);
    ordered.extend(middle.into_iter().map(|(_, group_resource)| Ordered {
        group_resource,
        placement: Placement::Alphabetical,
    }));
    ordered.extend(low);
    RestoreOrder {
        ordered,
        unresolved,
    }
}

#[cfg(test)]
mod tests;
