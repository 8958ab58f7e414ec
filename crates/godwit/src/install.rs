//! `godwit install`: the manifests that run godwit in a cluster — the four CRDs, the namespace,
//! a service account bound to `cluster-admin` (as Velero's install does: a restore creates any
//! kind of object), the server Deployment and a default BackupStorageLocation — printed
//! (`--dry-run -o yaml|json`) or applied (create, then merge patch when the object exists).
//!
//! The Deployment runs one replica with the `Recreate` strategy: the server has no leader
//! election, so two pods must never run at once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use godwit_api::{
    AccessMode, BackupStorageLocation, BackupStorageLocationSpec, ObjectStorageLocation,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, ListParams, Patch};
use serde_json::{Value, json};

/// The image the Deployment runs unless `--image` names another.
const DEFAULT_IMAGE: &str = concat!("godwit:", env!("CARGO_PKG_VERSION"));
/// The name of the service account, binding and Deployment.
const NAME: &str = "godwit";
/// The port of `/healthz` and `/metrics` inside the pod.
const METRICS_PORT: u16 = 8085;
/// The labels every installed object carries.
const APP_LABEL: (&str, &str) = ("app.kubernetes.io/name", "godwit");

/// How to print the manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One YAML document holding a `List`.
    Yaml,
    /// One JSON `List`.
    Json,
}

/// Flags of `godwit install`, named as Velero's install names them.
#[derive(Debug, Clone, clap::Args)]
pub struct InstallArgs {
    /// The namespace to install the server into.
    #[arg(long = "namespace", default_value = godwit_api::DEFAULT_NAMESPACE)]
    pub install_namespace: String,

    /// The server's container image.
    #[arg(long, default_value = DEFAULT_IMAGE)]
    pub image: String,

    /// Print (with -o) instead of applying.
    #[arg(long)]
    pub dry_run: bool,

    /// Print the manifests in this format (yaml when --dry-run is given alone).
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,

    /// Install only the CRDs.
    #[arg(long)]
    pub crds_only: bool,

    /// Keep backups in this directory of the node (provider `godwit.io/local`, mounted into
    /// the pod with a hostPath volume).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["provider", "bucket", "prefix", "backup_location_config", "no_default_backup_location"])]
    pub default_local_dir: Option<PathBuf>,

    /// The object storage provider of the default location (`velero.io/aws`).
    #[arg(long)]
    pub provider: Option<String>,

    /// The bucket of the default location.
    #[arg(long)]
    pub bucket: Option<String>,

    /// The prefix inside the bucket.
    #[arg(long)]
    pub prefix: Option<String>,

    /// Provider settings of the default location, `key=value`, comma separated or repeated.
    #[arg(long = "backup-location-config", visible_alias = "config", value_delimiter = ',', value_parser = parse_key_value)]
    pub backup_location_config: Vec<(String, String)>,

    /// Create no BackupStorageLocation.
    #[arg(long)]
    pub no_default_backup_location: bool,

    /// Feature flags for the server, comma separated (`EnableAPIGroupVersions`).
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,

    /// How often the server deletes expired backups (Go duration; the server's default, 1h,
    /// when unset).
    #[arg(long, value_name = "DURATION")]
    pub garbage_collection_frequency: Option<String>,
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!("{text:?} is not key=value")),
    }
}

/// Where the default location points, read from the flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DefaultLocation {
    /// No location (`--no-default-backup-location` or `--crds-only`).
    None,
    /// A directory of the node.
    Local(PathBuf),
    /// A bucket of an object store.
    Bucket {
        /// `--provider`.
        provider: String,
        /// `--bucket`.
        bucket: String,
        /// `--prefix`.
        prefix: String,
        /// `--backup-location-config`.
        config: BTreeMap<String, String>,
    },
}

/// Checks the location flags fit together.
pub(crate) fn default_location(args: &InstallArgs) -> Result<DefaultLocation, String> {
    if args.crds_only || args.no_default_backup_location {
        return Ok(DefaultLocation::None);
    }
    if let Some(dir) = &args.default_local_dir {
        if !dir.is_absolute() {
            return Err(format!(
                "--default-local-dir {} must be an absolute path: the server reads it inside its pod",
                dir.display()
            ));
        }
        return Ok(DefaultLocation::Local(dir.clone()));
    }
    match (&args.provider, &args.bucket) {
        (Some(provider), Some(bucket)) => Ok(DefaultLocation::Bucket {
            provider: provider.clone(),
            bucket: bucket.clone(),
            prefix: args.prefix.clone().unwrap_or_default(),
            config: args.backup_location_config.iter().cloned().collect(),
        }),
        (Some(_), None) => Err("--bucket is required with --provider".to_owned()),
        (None, Some(_)) => Err("--provider is required with --bucket".to_owned()),
        (None, None) => Err(
            "say where backups go: --default-local-dir DIR, or --provider and --bucket \
             (with --prefix and --backup-location-config), or --no-default-backup-location"
                .to_owned(),
        ),
    }
}

fn labels() -> Value {
    json!({ APP_LABEL.0: APP_LABEL.1 })
}

/// The default BackupStorageLocation for a location choice.
fn location_manifest(namespace: &str, location: &DefaultLocation) -> Option<BackupStorageLocation> {
    let spec = match location {
        DefaultLocation::None => return None,
        DefaultLocation::Local(dir) => BackupStorageLocationSpec {
            provider: godwit_storage::PROVIDER_LOCAL.to_owned(),
            config: Some(BTreeMap::from([(
                "root".to_owned(),
                dir.display().to_string(),
            )])),
            object_storage: ObjectStorageLocation {
                bucket: crate::server::LOCAL_BUCKET.to_owned(),
                ..ObjectStorageLocation::default()
            },
            ..BackupStorageLocationSpec::default()
        },
        DefaultLocation::Bucket {
            provider,
            bucket,
            prefix,
            config,
        } => BackupStorageLocationSpec {
            provider: provider.clone(),
            config: (!config.is_empty()).then(|| config.clone()),
            object_storage: ObjectStorageLocation {
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                ca_cert: None,
            },
            ..BackupStorageLocationSpec::default()
        },
    };
    let mut bsl = BackupStorageLocation::new(
        "default",
        BackupStorageLocationSpec {
            default: true,
            access_mode: Some(AccessMode::ReadWrite),
            ..spec
        },
    );
    bsl.metadata.namespace = Some(namespace.to_owned());
    bsl.metadata.labels = Some(BTreeMap::from([(
        APP_LABEL.0.to_owned(),
        APP_LABEL.1.to_owned(),
    )]));
    Some(bsl)
}

/// The server Deployment.
fn deployment(namespace: &str, install: &InstallArgs, location: &DefaultLocation) -> Value {
    let image = &install.image;
    let features = &install.features;
    let mut args = vec![
        "server".to_owned(),
        format!("--namespace={namespace}"),
        format!("--metrics-address=0.0.0.0:{METRICS_PORT}"),
    ];
    if !features.is_empty() {
        args.push(format!("--features={}", features.join(",")));
    }
    if let Some(frequency) = &install.garbage_collection_frequency {
        args.push(format!("--garbage-collection-frequency={frequency}"));
    }
    let mut container = json!({
        "name": NAME,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["godwit"],
        "args": args,
        "ports": [{ "name": "metrics", "containerPort": METRICS_PORT }],
        "livenessProbe": { "httpGet": { "path": "/healthz", "port": "metrics" } },
        "readinessProbe": { "httpGet": { "path": "/healthz", "port": "metrics" } },
        "resources": {
            "requests": { "cpu": "500m", "memory": "128Mi" },
            "limits": { "cpu": "1", "memory": "512Mi" },
        },
        "volumeMounts": [{ "name": "scratch", "mountPath": "/tmp" }],
        "env": [{ "name": "TMPDIR", "value": "/tmp" }],
    });
    let mut volumes = vec![json!({ "name": "scratch", "emptyDir": {} })];
    if let DefaultLocation::Local(dir) = location {
        volumes.push(json!({
            "name": "backups",
            "hostPath": { "path": dir.display().to_string(), "type": "DirectoryOrCreate" },
        }));
        if let Some(mounts) = container["volumeMounts"].as_array_mut() {
            mounts.push(json!({ "name": "backups", "mountPath": dir.display().to_string() }));
        }
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": NAME, "namespace": namespace, "labels": labels() },
        "spec": {
            "replicas": 1,
            // No leader election: never two servers at once, even during a rollout.
            "strategy": { "type": "Recreate" },
            "selector": { "matchLabels": labels() },
            "template": {
                "metadata": {
                    "labels": labels(),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": METRICS_PORT.to_string(),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "serviceAccountName": NAME,
                    "restartPolicy": "Always",
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    })
}

/// One object to install and the API it goes to.
pub(crate) struct Manifest {
    /// Where the object is served.
    resource: ApiResource,
    /// Whether it lives in a namespace.
    namespaced: bool,
    /// The object.
    object: Value,
}

fn manifest<K: kube::Resource<DynamicType = ()>>(namespaced: bool, object: Value) -> Manifest {
    Manifest {
        resource: ApiResource::erase::<K>(&()),
        namespaced,
        object,
    }
}

/// Every object to install, in the order they are applied.
pub(crate) fn manifests(
    args: &InstallArgs,
    location: &DefaultLocation,
) -> anyhow::Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for crd in godwit_api::crds() {
        out.push(manifest::<CustomResourceDefinition>(
            false,
            serde_json::to_value(&crd).context("cannot encode a CRD")?,
        ));
    }
    if args.crds_only {
        return Ok(out);
    }
    let namespace = args.install_namespace.as_str();
    out.push(manifest::<Namespace>(
        false,
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": namespace, "labels": labels() },
        }),
    ));
    out.push(manifest::<ServiceAccount>(
        true,
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": { "name": NAME, "namespace": namespace, "labels": labels() },
        }),
    ));
    out.push(manifest::<ClusterRoleBinding>(
        false,
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            // Named after the namespace so two installs do not share one binding.
            "metadata": { "name": format!("{NAME}-{namespace}"), "labels": labels() },
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [{ "kind": "ServiceAccount", "name": NAME, "namespace": namespace }],
        }),
    ));
    out.push(manifest::<Deployment>(
        true,
        deployment(namespace, args, location),
    ));
    if let Some(bsl) = location_manifest(namespace, location) {
        let mut object =
            serde_json::to_value(&bsl).context("cannot encode the BackupStorageLocation")?;
        // `new` leaves status out only when it is None; keep the manifest free of it.
        if let Some(map) = object.as_object_mut() {
            map.remove("status");
        }
        out.push(manifest::<BackupStorageLocation>(true, object));
    }
    Ok(out)
}

/// The manifests as one `List`, in `format`.
pub(crate) fn render(manifests: &[Manifest], format: OutputFormat) -> anyhow::Result<String> {
    let list = json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": manifests.iter().map(|m| m.object.clone()).collect::<Vec<_>>(),
    });
    match format {
        OutputFormat::Yaml => serde_saphyr::to_string(&list).context("cannot write YAML"),
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(&list).context("cannot write JSON")?;
            text.push('\n');
            Ok(text)
        }
    }
}

/// Installs (or prints) godwit.
pub async fn run(args: InstallArgs) -> anyhow::Result<()> {
    let location = default_location(&args).map_err(anyhow::Error::msg)?;
    let manifests = manifests(&args, &location)?;
    let output = args.output.or(args.dry_run.then_some(OutputFormat::Yaml));
    if let Some(format) = output {
        print!("{}", render(&manifests, format)?);
    }
    if args.dry_run {
        return Ok(());
    }
    let config = kube::Config::infer()
        .await
        .context("cannot reach the cluster; set KUBECONFIG or pass --dry-run -o yaml")?;
    let client = crate::writes::client(config).context("cannot build a Kubernetes client")?;
    apply(&client, &manifests, &args.install_namespace).await?;
    if args.crds_only {
        eprintln!(
            "godwit's CRDs are installed; run `godwit install` without --crds-only for the server"
        );
    } else {
        eprintln!(
            "godwit is installed in namespace {}; `kubectl -n {} logs deploy/{NAME}` shows the server",
            args.install_namespace, args.install_namespace
        );
    }
    Ok(())
}

/// Creates each object, or merge-patches it when it exists; waits for the CRDs to be served
/// before the first custom resource.
async fn apply(
    client: &kube::Client,
    manifests: &[Manifest],
    namespace: &str,
) -> anyhow::Result<()> {
    for manifest in manifests {
        let kind = manifest.resource.kind.clone();
        if kind == "BackupStorageLocation" {
            wait_for_crds(client).await?;
        }
        let object: DynamicObject = serde_json::from_value(manifest.object.clone())
            .with_context(|| format!("cannot build the {kind}"))?;
        let name = object.metadata.name.clone().unwrap_or_default();
        let api: Api<DynamicObject> = if manifest.namespaced {
            Api::namespaced_with(client.clone(), namespace, &manifest.resource)
        } else {
            Api::all_with(client.clone(), &manifest.resource)
        };
        match api.create(&crate::writes::post_params(), &object).await {
            Ok(_) => eprintln!("{kind}/{name}: created"),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                api.patch(
                    &name,
                    &crate::writes::patch_params(),
                    &Patch::Merge(&manifest.object),
                )
                .await
                .with_context(|| format!("cannot update {kind}/{name}"))?;
                eprintln!("{kind}/{name}: configured");
            }
            Err(err) => {
                return Err(err).with_context(|| format!("cannot create {kind}/{name}"));
            }
        }
    }
    Ok(())
}

/// Waits (up to a minute) until BackupStorageLocations can be listed.
async fn wait_for_crds(client: &kube::Client) -> anyhow::Result<()> {
    let api: Api<BackupStorageLocation> = Api::all(client.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match api.list(&ListParams::default().limit(1)).await {
            Ok(_) => return Ok(()),
            Err(err) if tokio::time::Instant::now() >= deadline => {
                return Err(err).context(
                    "the velero.io CRDs are not served a minute after creating them; check the API server",
                );
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: InstallArgs,
    }

    fn parse(line: &[&str]) -> Result<InstallArgs, String> {
        Wrapper::try_parse_from(std::iter::once("install").chain(line.iter().copied()))
            .map(|wrapper| wrapper.args)
            .map_err(|err| err.to_string())
    }

    #[test]
    fn location_flags() {
        let check = |line: &[&str], expected: Result<DefaultLocation, &str>| {
            let got = parse(line).and_then(|args| default_location(&args));
            match (got, expected) {
                (Ok(got), Ok(expected)) => assert_eq!(got, expected, "{line:?}"),
                (Err(got), Err(expected)) => assert!(got.contains(expected), "{line:?}: {got}"),
                (got, expected) => panic!("{line:?}: got {got:?}, expected {expected:?}"),
            }
        };
        check(
            &["--default-local-dir", "/var/lib/godwit"],
            Ok(DefaultLocation::Local(PathBuf::from("/var/lib/godwit"))),
        );
        check(
            &["--default-local-dir", "backups"],
            Err("must be an absolute path"),
        );
        check(
            &[
                "--provider",
                "velero.io/aws",
                "--bucket",
                "b",
                "--prefix",
                "p",
                "--backup-location-config",
                "region=minio,s3ForcePathStyle=true",
                "--config",
                "s3Url=http://minio:9000",
            ],
            Ok(DefaultLocation::Bucket {
                provider: "velero.io/aws".to_owned(),
                bucket: "b".to_owned(),
                prefix: "p".to_owned(),
                config: BTreeMap::from([
                    ("region".to_owned(), "minio".to_owned()),
                    ("s3ForcePathStyle".to_owned(), "true".to_owned()),
                    ("s3Url".to_owned(), "http://minio:9000".to_owned()),
                ]),
            }),
        );
        check(
            &["--provider", "velero.io/aws"],
            Err("--bucket is required"),
        );
        check(&["--bucket", "b"], Err("--provider is required"));
        check(&[], Err("say where backups go"));
        check(&["--no-default-backup-location"], Ok(DefaultLocation::None));
        check(&["--crds-only"], Ok(DefaultLocation::None));
        check(
            &["--default-local-dir", "/d", "--bucket", "b"],
            Err("cannot be used with"),
        );
        check(&["--config", "novalue"], Err("is not key=value"));
    }

    #[test]
    fn crds_only_installs_the_four_crds() {
        let args = parse(&["--crds-only"]).unwrap();
        let all = manifests(&args, &DefaultLocation::None).unwrap();
        let kinds: Vec<&str> = all.iter().map(|m| m.resource.kind.as_str()).collect();
        assert_eq!(kinds, ["CustomResourceDefinition"; 4]);
    }

    #[test]
    fn manifests_are_in_apply_order_and_json_round_trips() {
        let args = parse(&["--default-local-dir", "/d", "--namespace", "backup-system"]).unwrap();
        let location = default_location(&args).unwrap();
        let all = manifests(&args, &location).unwrap();
        let kinds: Vec<&str> = all.iter().map(|m| m.resource.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "CustomResourceDefinition",
                "CustomResourceDefinition",
                "CustomResourceDefinition",
                "CustomResourceDefinition",
                "Namespace",
                "ServiceAccount",
                "ClusterRoleBinding",
                "Deployment",
                "BackupStorageLocation",
            ]
        );
        let json: Value = serde_json::from_str(&render(&all, OutputFormat::Json).unwrap()).unwrap();
        assert_eq!(json["kind"], "List");
        assert_eq!(json["items"][8]["metadata"]["namespace"], "backup-system");
        assert_eq!(json["items"][8]["spec"]["config"]["root"], "/d");
        let yaml: Value =
            serde_saphyr::from_str(&render(&all, OutputFormat::Yaml).unwrap()).unwrap();
        assert_eq!(yaml, json);
    }
}
