//! Profiles: which built-in groups, versions and resources a Kubernetes minor serves, as its
//! discovery shows them (default-enabled APIs only).

use crate::catalog::{BUILTIN_VERBS, Behaviour, ResourceDef, STATUS_VERBS, SubresourceDef};

/// Which Kubernetes minor's built-in resources to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Profile {
    /// Kubernetes 1.25: autoscaling v2beta2 and flowcontrol v1beta2 still served, no aggregated
    /// discovery.
    V1_25,
    /// Kubernetes 1.33.
    V1_33,
}

impl Profile {
    /// Every known profile, oldest first.
    pub const ALL: [Profile; 2] = [Profile::V1_25, Profile::V1_33];

    /// The Kubernetes minor version number.
    pub fn minor(self) -> u32 {
        match self {
            Profile::V1_25 => 25,
            Profile::V1_33 => 33,
        }
    }

    /// Whether the API server of this minor serves aggregated discovery (`apidiscovery.k8s.io/v2`).
    pub(crate) fn aggregated_discovery(self) -> bool {
        self.minor() >= 30
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "1.{}", self.minor())
    }
}

impl std::str::FromStr for Profile {
    type Err = crate::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().trim_start_matches('v');
        Profile::ALL
            .into_iter()
            .find(|profile| profile.to_string() == wanted)
            .ok_or_else(|| crate::Error::UnknownProfile {
                given: text.to_owned(),
                known: Profile::ALL
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// A built-in resource under construction.
struct Builder(ResourceDef);

fn res(group: &str, version: &str, plural: &str, kind: &str, namespaced: bool) -> Builder {
    Builder(ResourceDef {
        group: group.to_owned(),
        version: version.to_owned(),
        plural: plural.to_owned(),
        singular: kind.to_lowercase(),
        kind: kind.to_owned(),
        list_kind: format!("{kind}List"),
        namespaced,
        verbs: BUILTIN_VERBS.iter().map(|v| (*v).to_owned()).collect(),
        short_names: Vec::new(),
        categories: Vec::new(),
        subresources: Vec::new(),
        storage_version: version.to_owned(),
        storage_group: group.to_owned(),
        generation: false,
        returns_deleted_object: false,
        custom: false,
        behaviour: Behaviour::Stored,
    })
}

impl Builder {
    fn short(mut self, names: &[&str]) -> Self {
        self.0.short_names = names.iter().map(|n| (*n).to_owned()).collect();
        self
    }
    fn category(mut self, name: &str) -> Self {
        self.0.categories.push(name.to_owned());
        self
    }
    fn singular(mut self, name: &str) -> Self {
        self.0.singular = name.to_owned();
        self
    }
    fn verbs(mut self, verbs: &[&str]) -> Self {
        self.0.verbs = verbs.iter().map(|v| (*v).to_owned()).collect();
        self
    }
    /// A subresource of the same kind.
    fn sub(self, name: &str, verbs: &[&str]) -> Self {
        let kind = self.0.kind.clone();
        self.sub_kind(name, &kind, verbs)
    }
    fn sub_kind(mut self, name: &str, kind: &str, verbs: &[&str]) -> Self {
        self.0.subresources.push(SubresourceDef {
            name: name.to_owned(),
            kind: kind.to_owned(),
            group_version: None,
            verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        });
        self
    }
    fn sub_other_group(
        mut self,
        name: &str,
        group: &str,
        version: &str,
        kind: &str,
        verbs: &[&str],
    ) -> Self {
        self.0.subresources.push(SubresourceDef {
            name: name.to_owned(),
            kind: kind.to_owned(),
            group_version: Some((group.to_owned(), version.to_owned())),
            verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        });
        self
    }
    fn status(self) -> Self {
        self.sub("status", STATUS_VERBS)
    }
    fn scale(self) -> Self {
        self.sub_other_group("scale", "autoscaling", "v1", "Scale", STATUS_VERBS)
    }
    /// The server keeps `metadata.generation` for this resource.
    fn generation(mut self) -> Self {
        self.0.generation = true;
        self
    }
    /// A delete answers with the deleted object.
    fn returns_object(mut self) -> Self {
        self.0.returns_deleted_object = true;
        self
    }
    fn stored_at(mut self, group: &str, version: &str) -> Self {
        self.0.storage_group = group.to_owned();
        self.0.storage_version = version.to_owned();
        self
    }
    fn review(mut self) -> Self {
        self.0.behaviour = Behaviour::Review;
        self.0.verbs = vec!["create".to_owned()];
        self
    }
    fn empty(mut self) -> Self {
        self.0.behaviour = Behaviour::Empty;
        self
    }
    fn done(self) -> ResourceDef {
        self.0
    }
}

const CREATE: &[&str] = &["create"];
const CREATE_GET: &[&str] = &["create", "get"];
const PROXY: &[&str] = &["create", "delete", "get", "patch", "update"];

/// The built-in resources of a profile, groups in the API server's order, core first.
pub(crate) fn builtin_resources(profile: Profile) -> Vec<ResourceDef> {
    let minor = profile.minor();
    let mut out = Vec::new();
    let mut add = |b: Builder| out.push(b.done());

    // Core group, /api/v1.
    add(res("", "v1", "bindings", "Binding", true).review());
    add(res("", "v1", "componentstatuses", "ComponentStatus", false)
        .verbs(&["get", "list"])
        .short(&["cs"])
        .empty());
    add(res("", "v1", "configmaps", "ConfigMap", true).short(&["cm"]));
    add(res("", "v1", "endpoints", "Endpoints", true)
        .singular("endpoints")
        .short(&["ep"]));
    add(res("", "v1", "events", "Event", true).short(&["ev"]));
    add(res("", "v1", "limitranges", "LimitRange", true).short(&["limits"]));
    add(res("", "v1", "namespaces", "Namespace", false)
        .verbs(&[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ])
        .short(&["ns"])
        .sub("finalize", &["update"])
        .status()
        .returns_object());
    add(res("", "v1", "nodes", "Node", false)
        .short(&["no"])
        .sub_kind("proxy", "NodeProxyOptions", PROXY)
        .status()
        .returns_object());
    add(res(
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        true,
    )
    .short(&["pvc"])
    .status()
    .returns_object());
    add(
        res("", "v1", "persistentvolumes", "PersistentVolume", false)
            .short(&["pv"])
            .status()
            .returns_object(),
    );
    let mut pods = res("", "v1", "pods", "Pod", true)
        .short(&["po"])
        .category("all")
        .sub_kind("attach", "PodAttachOptions", CREATE_GET)
        .sub_kind("binding", "Binding", CREATE)
        .sub("ephemeralcontainers", STATUS_VERBS)
        .sub_other_group("eviction", "policy", "v1", "Eviction", CREATE)
        .sub_kind("exec", "PodExecOptions", CREATE_GET)
        .sub("log", &["get"])
        .sub_kind("portforward", "PodPortForwardOptions", CREATE_GET)
        .sub_kind("proxy", "PodProxyOptions", PROXY);
    if minor >= 33 {
        pods = pods.sub("resize", STATUS_VERBS).generation();
    }
    add(pods.status().returns_object());
    add(res("", "v1", "podtemplates", "PodTemplate", true).returns_object());
    add(res(
        "",
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        true,
    )
    .short(&["rc"])
    .category("all")
    .scale()
    .status()
    .generation());
    add(res("", "v1", "resourcequotas", "ResourceQuota", true)
        .short(&["quota"])
        .status());
    add(res("", "v1", "secrets", "Secret", true));
    add(res("", "v1", "serviceaccounts", "ServiceAccount", true)
        .short(&["sa"])
        .sub_other_group(
            "token",
            "authentication.k8s.io",
            "v1",
            "TokenRequest",
            CREATE,
        )
        .returns_object());
    add(res("", "v1", "services", "Service", true)
        .short(&["svc"])
        .category("all")
        .sub_kind("proxy", "ServiceProxyOptions", PROXY)
        .status()
        .returns_object());

    add(res(
        "apiregistration.k8s.io",
        "v1",
        "apiservices",
        "APIService",
        false,
    )
    .category("api-extensions")
    .status());

    add(res(
        "apps",
        "v1",
        "controllerrevisions",
        "ControllerRevision",
        true,
    ));
    for (plural, kind, short) in [
        ("daemonsets", "DaemonSet", "ds"),
        ("deployments", "Deployment", "deploy"),
        ("replicasets", "ReplicaSet", "rs"),
        ("statefulsets", "StatefulSet", "sts"),
    ] {
        let b = res("apps", "v1", plural, kind, true)
            .short(&[short])
            .category("all");
        let b = if plural == "daemonsets" { b } else { b.scale() };
        add(b.status().generation());
    }

    add(res("events.k8s.io", "v1", "events", "Event", true)
        .short(&["ev"])
        .stored_at("", "v1"));

    add(res(
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "SelfSubjectReview",
        false,
    )
    .review());
    add(res(
        "authentication.k8s.io",
        "v1",
        "tokenreviews",
        "TokenReview",
        false,
    )
    .review());
    if minor < 28 {
        // SelfSubjectReview went GA in 1.28.
        out.retain(|def| def.plural != "selfsubjectreviews");
    }
    let mut add = |b: Builder| out.push(b.done());

    add(res(
        "authorization.k8s.io",
        "v1",
        "localsubjectaccessreviews",
        "LocalSubjectAccessReview",
        true,
    )
    .review());
    add(res(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        false,
    )
    .review());
    add(res(
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        false,
    )
    .review());
    add(res(
        "authorization.k8s.io",
        "v1",
        "subjectaccessreviews",
        "SubjectAccessReview",
        false,
    )
    .review());

    // Until 1.27 the aggregator ranked autoscaling/v1 above v2 (kubernetes/kubernetes#114358),
    // so v1 was the preferred version.
    let mut autoscaling_versions = if minor < 27 {
        vec!["v1", "v2"]
    } else {
        vec!["v2", "v1"]
    };
    if minor < 26 {
        autoscaling_versions.push("v2beta2");
    }
    // From 1.27 on HorizontalPodAutoscalers are stored at v2; before, at v1.
    let hpa_storage = if minor >= 27 { "v2" } else { "v1" };
    for version in autoscaling_versions {
        add(res(
            "autoscaling",
            version,
            "horizontalpodautoscalers",
            "HorizontalPodAutoscaler",
            true,
        )
        .short(&["hpa"])
        .category("all")
        .status()
        .generation()
        .stored_at("autoscaling", hpa_storage));
    }

    add(res("batch", "v1", "cronjobs", "CronJob", true)
        .short(&["cj"])
        .category("all")
        .status()
        .generation());
    add(res("batch", "v1", "jobs", "Job", true)
        .category("all")
        .status()
        .generation());

    add(res(
        "certificates.k8s.io",
        "v1",
        "certificatesigningrequests",
        "CertificateSigningRequest",
        false,
    )
    .short(&["csr"])
    .sub("approval", STATUS_VERBS)
    .status());

    add(res(
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        "IngressClass",
        false,
    ));
    add(res("networking.k8s.io", "v1", "ingresses", "Ingress", true)
        .short(&["ing"])
        .status()
        .generation());
    if minor >= 33 {
        add(res("networking.k8s.io", "v1", "ipaddresses", "IPAddress", false).short(&["ip"]));
    }
    add(res(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "NetworkPolicy",
        true,
    )
    .short(&["netpol"])
    .generation());
    if minor >= 33 {
        add(res(
            "networking.k8s.io",
            "v1",
            "servicecidrs",
            "ServiceCIDR",
            false,
        )
        .status());
    }

    add(res(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        true,
    )
    .short(&["pdb"])
    .status()
    .generation());

    for (plural, kind, namespaced) in [
        ("clusterrolebindings", "ClusterRoleBinding", false),
        ("clusterroles", "ClusterRole", false),
        ("rolebindings", "RoleBinding", true),
        ("roles", "Role", true),
    ] {
        add(res(
            "rbac.authorization.k8s.io",
            "v1",
            plural,
            kind,
            namespaced,
        ));
    }

    add(res("storage.k8s.io", "v1", "csidrivers", "CSIDriver", false).returns_object());
    add(res("storage.k8s.io", "v1", "csinodes", "CSINode", false));
    add(res(
        "storage.k8s.io",
        "v1",
        "csistoragecapacities",
        "CSIStorageCapacity",
        true,
    ));
    add(res(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "StorageClass",
        false,
    )
    .short(&["sc"])
    .returns_object());
    add(res(
        "storage.k8s.io",
        "v1",
        "volumeattachments",
        "VolumeAttachment",
        false,
    )
    .status()
    .returns_object());
    if minor < 27 {
        // CSIStorageCapacity v1beta1 was removed in 1.27.
        add(res(
            "storage.k8s.io",
            "v1beta1",
            "csistoragecapacities",
            "CSIStorageCapacity",
            true,
        )
        .stored_at("storage.k8s.io", "v1"));
    }

    let admission = "admissionregistration.k8s.io";
    add(res(
        admission,
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        false,
    )
    .category("api-extensions"));
    if minor >= 30 {
        add(res(
            admission,
            "v1",
            "validatingadmissionpolicies",
            "ValidatingAdmissionPolicy",
            false,
        )
        .category("api-extensions")
        .status()
        .generation());
        add(res(
            admission,
            "v1",
            "validatingadmissionpolicybindings",
            "ValidatingAdmissionPolicyBinding",
            false,
        )
        .category("api-extensions")
        .generation());
    }
    add(res(
        admission,
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        false,
    )
    .category("api-extensions"));

    add(res(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        false,
    )
    .short(&["crd", "crds"])
    .category("api-extensions")
    .status()
    .generation()
    .returns_object());

    add(res(
        "scheduling.k8s.io",
        "v1",
        "priorityclasses",
        "PriorityClass",
        false,
    )
    .short(&["pc"]));
    add(res("coordination.k8s.io", "v1", "leases", "Lease", true));
    add(res(
        "node.k8s.io",
        "v1",
        "runtimeclasses",
        "RuntimeClass",
        false,
    ));
    add(res(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
        true,
    ));

    let flowcontrol_versions: &[&str] = if minor >= 29 {
        &["v1"]
    } else {
        &["v1beta2", "v1beta1"]
    };
    for version in flowcontrol_versions {
        let storage = flowcontrol_versions[0];
        add(res(
            "flowcontrol.apiserver.k8s.io",
            version,
            "flowschemas",
            "FlowSchema",
            false,
        )
        .status()
        .generation()
        .stored_at("flowcontrol.apiserver.k8s.io", storage));
        add(res(
            "flowcontrol.apiserver.k8s.io",
            version,
            "prioritylevelconfigurations",
            "PriorityLevelConfiguration",
            false,
        )
        .status()
        .generation()
        .stored_at("flowcontrol.apiserver.k8s.io", storage));
    }
    out
}

#[cfg(test)]
mod tests;
