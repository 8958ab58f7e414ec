//! `godwit backup create|get|describe|delete|logs|inspect`: Velero's backup verbs through the
//! `Backup` custom resource, plus `inspect`, which reads a tarball on disk with no server.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use godwit_api::{Backup, BackupPhase, DeleteBackupRequest};
use godwit_tarball::{BackupIndex, VersionDir};
use kube::Api;
use kube::api::ListParams;
use serde::Serialize;

use super::cluster::ClusterArgs;
use super::describe;
use super::filters::FilterArgs;
use super::location;
use super::wait;
use crate::output::{self, Format};

/// `godwit backup ...`.
#[derive(Debug, clap::Args)]
pub struct BackupCommand {
    /// Cluster and server namespace.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The verb.
    #[command(subcommand)]
    pub action: BackupAction,
}

/// The backup verbs.
#[derive(Debug, clap::Subcommand)]
pub enum BackupAction {
    /// Create a backup (the server runs it).
    #[command(after_help = "Examples:\n  \
        # Back up namespace shop and wait until it is done\n  \
        godwit backup create shop-1 --include-namespaces shop --wait\n\n  \
        # Back up everything labelled app=web, kept for a week\n  \
        godwit backup create web-1 --selector app=web --ttl 168h0m0s\n\n  \
        # Print the Backup resource without creating it\n  \
        godwit backup create shop-1 --include-namespaces shop -o yaml")]
    Create(Box<CreateArgs>),
    /// Get backups.
    #[command(after_help = "Examples:\n  \
        godwit backup get\n  \
        godwit backup get shop-1 -o yaml")]
    Get(GetArgs),
    /// Describe backups.
    #[command(after_help = "Examples:\n  \
        godwit backup describe shop-1\n\n  \
        # Also read the backup's files: its resource list, and the pod volumes Velero's\n  \
        # file-system backup would take (godwit does not back up volume data)\n  \
        godwit backup describe shop-1 --details")]
    Describe(DescribeArgs),
    /// Delete backups (through a DeleteBackupRequest, as Velero does).
    #[command(after_help = "Examples:\n  \
        godwit backup delete shop-1\n  \
        godwit backup delete --all --confirm")]
    Delete(DeleteArgs),
    /// Print a backup's log.
    #[command(after_help = "Examples:\n  \
        godwit backup logs shop-1\n\n  \
        # A backup in a local directory (such as one `godwit migrate` left), no server needed\n  \
        godwit backup logs migrate-20261121060000 --local-dir /tmp/godwit-migrate-abc")]
    Logs(LogsArgs),
    /// List what a backup tarball holds: group-resources, versions, preferred version, counts.
    #[command(after_help = "Examples:\n  \
        godwit backup inspect shop-1.tar.gz\n  \
        godwit backup inspect shop-1.tar.gz -o json")]
    Inspect(InspectArgs),
}

/// Flags of `backup create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The backup's name.
    pub name: String,
    /// What to back up.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// The location to store the backup in; the default location when unset.
    #[arg(long, value_name = "NAME")]
    pub storage_location: Option<String>,
    /// Velero's file-system backup of every pod volume unless a pod opts one out (opt-out mode).
    /// godwit records it and reports the volumes Velero would take in `backup describe
    /// --details`, but does not back up volume data.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    pub default_volumes_to_fs_backup: Option<bool>,
    /// How long to keep the backup (a Go duration such as 720h0m0s); the server's default when unset.
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
    /// Labels for the Backup itself, as key=value,key2=value2.
    #[arg(long, value_delimiter = ',', value_name = "LABELS")]
    pub labels: Vec<String>,
    /// Wait for the backup to finish; the exit code is non-zero unless it ends Completed.
    #[arg(long)]
    pub wait: bool,
    /// Print the Backup resource in this format instead of creating it.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
}

/// Flags of `backup get`.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// Backups to get; all when none is named.
    pub names: Vec<String>,
    /// Only backups whose labels match this selector.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Output format.
    #[arg(
        short = 'o',
        long,
        value_enum,
        default_value = "table",
        value_name = "FORMAT"
    )]
    pub output: Format,
}

/// Names of backups.
#[derive(Debug, clap::Args)]
pub struct NamesArgs {
    /// Backups to describe; all when none is named.
    pub names: Vec<String>,
}

/// Flags of `backup describe`.
#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// Backups to describe; all when none is named.
    pub names: Vec<String>,
    /// Display additional detail read from the backup's storage location: the resource list and
    /// the pod volumes Velero's file-system backup rules would select.
    #[arg(long)]
    pub details: bool,
}

/// Flags of `backup delete`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// Backups to delete.
    #[arg(required_unless_present = "all")]
    pub names: Vec<String>,
    /// Delete every backup.
    #[arg(long, conflicts_with = "names")]
    pub all: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub confirm: bool,
}

/// Flags of `backup logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The backup.
    pub name: String,
    /// Read the backup from this local-directory location instead of asking the server.
    #[arg(long, value_name = "DIR")]
    pub local_dir: Option<PathBuf>,
}

/// Flags of `backup inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The backup tarball (<name>.tar.gz).
    pub file: PathBuf,
    /// Output format.
    #[arg(
        short = 'o',
        long,
        value_enum,
        default_value = "table",
        value_name = "FORMAT"
    )]
    pub output: Format,
}

/// Runs a backup verb.
pub async fn run(command: BackupCommand) -> anyhow::Result<ExitCode> {
    let cluster = command.cluster;
    match command.action {
        BackupAction::Create(args) => create(&cluster, *args).await,
        BackupAction::Get(args) => get(&cluster, args).await,
        BackupAction::Describe(args) => describe(&cluster, args).await,
        BackupAction::Delete(args) => delete(&cluster, args).await,
        BackupAction::Logs(args) => logs(&cluster, args).await,
        BackupAction::Inspect(args) => inspect(&args),
    }
}

fn parse_labels(
    labels: &[String],
) -> anyhow::Result<Option<std::collections::BTreeMap<String, String>>> {
    let mut map = std::collections::BTreeMap::new();
    for label in labels.iter().filter(|l| !l.is_empty()) {
        let (key, value) = label
            .split_once('=')
            .ok_or_else(|| anyhow!("invalid --labels entry {label:?}; write key=value"))?;
        map.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Ok((!map.is_empty()).then_some(map))
}

/// The Backup resource `backup create` sends.
pub fn backup_object(args: &CreateArgs, namespace: &str) -> anyhow::Result<Backup> {
    let mut spec = godwit_api::BackupSpec::default();
    args.filters.apply_to_backup(&mut spec);
    if let Some(ttl) = &args.ttl {
        let duration = godwit_api::Duration::new(ttl.clone());
        duration.to_std().map_err(|err| {
            anyhow!("invalid --ttl {ttl:?}: {err}; write a Go duration such as 720h0m0s")
        })?;
        spec.ttl = Some(duration);
    }
    spec.storage_location = args.storage_location.clone().unwrap_or_default();
    spec.default_volumes_to_fs_backup = args.default_volumes_to_fs_backup;
    let mut backup = Backup::new(&args.name, spec);
    backup.metadata.namespace = Some(namespace.to_owned());
    backup.metadata.labels = parse_labels(&args.labels)?;
    Ok(backup)
}

async fn create(cluster: &ClusterArgs, args: CreateArgs) -> anyhow::Result<ExitCode> {
    let namespace = &cluster.server_namespace;
    let backup = backup_object(&args, namespace)?;
    if let Some(format) = args.output {
        print!("{}", output::serialize(&backup, format)?);
        return Ok(ExitCode::SUCCESS);
    }
    let client = cluster.client().await?;
    let api: Api<Backup> = Api::namespaced(client, namespace);
    let name = &args.name;
    api.create(&crate::writes::post_params(), &backup)
        .await
        .map_err(|err| create_error("backup", name, namespace, err))?;
    println!("Backup request \"{name}\" submitted successfully.");
    if !args.wait {
        println!(
            "Run `godwit backup describe {name}` or `godwit backup logs {name}` for more details."
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Waiting for backup to complete. You may safely press ctrl-c to stop waiting - your \
         backup will continue in the background."
    );
    let phase = wait::backup(&api, name).await?;
    println!(
        "\nBackup completed with status: {phase}. You may check for more information using the \
         commands `godwit backup describe {name}` and `godwit backup logs {name}`."
    );
    Ok(exit_for(phase == BackupPhase::Completed))
}

/// One line for a failed create, naming the object and the way out.
pub fn create_error(kind: &str, name: &str, namespace: &str, err: kube::Error) -> anyhow::Error {
    match err {
        kube::Error::Api(status) if status.code == 409 => anyhow!(
            "{kind} {name} already exists in namespace {namespace}; pick another name or delete it first"
        ),
        kube::Error::Api(status) if status.code == 404 => anyhow!(
            "cannot create {kind} {name}: {}; are the velero.io CRDs installed and does namespace {namespace} exist? run `godwit install`",
            status.message
        ),
        other => anyhow!("cannot create {kind} {name} in namespace {namespace}: {other}"),
    }
}

/// Success, or the failure exit code.
pub fn exit_for(success: bool) -> ExitCode {
    if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn fetch(
    api: &Api<Backup>,
    names: &[String],
    selector: Option<&str>,
    namespace: &str,
) -> anyhow::Result<Vec<Backup>> {
    if names.is_empty() {
        let mut params = ListParams::default();
        if let Some(selector) = selector {
            params = params.labels(selector);
        }
        let mut list = api
            .list(&params)
            .await
            .with_context(|| format!("cannot list backups in namespace {namespace}"))?
            .items;
        list.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        return Ok(list);
    }
    let mut found = Vec::new();
    for name in names {
        let backup = api
            .get_opt(name)
            .await
            .with_context(|| format!("cannot read backup {name}"))?
            .ok_or_else(|| {
                anyhow!("backup {name} not found in namespace {namespace}; list them with `godwit backup get`")
            })?;
        found.push(backup);
    }
    Ok(found)
}

async fn get(cluster: &ClusterArgs, args: GetArgs) -> anyhow::Result<ExitCode> {
    let namespace = &cluster.server_namespace;
    let api: Api<Backup> = Api::namespaced(cluster.client().await?, namespace);
    let backups = fetch(&api, &args.names, args.selector.as_deref(), namespace).await?;
    match args.output {
        Format::Table => print!("{}", describe::backups_table(&backups, &crate::jobs::now())),
        format => print!("{}", objects_output(&backups, format)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// One object as itself, several as a Kubernetes `List`, as Velero prints them.
pub fn objects_output<T: Serialize>(objects: &[T], format: Format) -> anyhow::Result<String> {
    match objects {
        [one] => output::serialize(one, format),
        many => output::serialize(
            &serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": many }),
            format,
        ),
    }
}

async fn describe(cluster: &ClusterArgs, args: DescribeArgs) -> anyhow::Result<ExitCode> {
    let namespace = &cluster.server_namespace;
    let client = cluster.client().await?;
    let api: Api<Backup> = Api::namespaced(client.clone(), namespace);
    let backups = fetch(&api, &args.names, None, namespace).await?;
    let mut texts = Vec::with_capacity(backups.len());
    for backup in &backups {
        let mut text = describe::render_backup(backup);
        if args.details {
            let details = backup_details(&client, namespace, backup).await;
            text.push_str(&describe::render_backup_details(backup, &details));
        }
        texts.push(text);
    }
    print!("{}", texts.join("\n\n"));
    Ok(ExitCode::SUCCESS)
}

/// Reads what `describe --details` shows from the backup's storage location; what cannot be
/// read is shown in its place, as Velero does.
async fn backup_details(
    client: &kube::Client,
    namespace: &str,
    backup: &Backup,
) -> describe::BackupDetails {
    let name = backup.metadata.name.as_deref().unwrap_or_default();
    let location = Some(backup.spec.storage_location.as_str());
    let store = match location::open_named(client, namespace, location).await {
        Ok(store) => store,
        Err(err) => {
            let why = format!("{err:#}");
            return describe::BackupDetails {
                resource_list: Some(Err(why.clone())),
                pod_volumes: Err(why),
            };
        }
    };
    let resource_list = match store
        .get_backup_file(name, godwit_storage::BackupFile::ResourceList)
        .await
    {
        Ok(None) => None,
        Ok(Some(bytes)) => Some(parse_resource_list(&bytes)),
        Err(err) => Some(Err(err.to_string())),
    };
    let pod_volumes = stream_pod_volumes(&store, name, fs_backup_rules(&backup.spec))
        .await
        .map_err(|err| format!("{err:#}"));
    describe::BackupDetails {
        resource_list,
        pod_volumes,
    }
}

/// The gzipped JSON resource list (`{"v1/Pod": ["ns/name", ...]}`).
fn parse_resource_list(
    bytes: &[u8],
) -> Result<std::collections::BTreeMap<String, Vec<String>>, String> {
    serde_json::from_reader(flate2::read::GzDecoder::new(bytes))
        .map_err(|err| format!("not gzipped JSON: {err}"))
}

/// The inputs of Velero's file-system backup volume selection, from the Backup's spec.
pub fn fs_backup_rules(spec: &godwit_api::BackupSpec) -> godwit_backup::Rules {
    let names = |a: &Option<Vec<String>>, b: &Option<Vec<String>>| {
        let mut all = a.clone().unwrap_or_default();
        all.extend(b.iter().flatten().cloned());
        all
    };
    godwit_backup::Rules {
        default_volumes_to_fs_backup: describe::fs_backup_mode(spec).0,
        claims_excluded: godwit_backup::claims_excluded(
            &names(
                &spec.included_resources,
                &spec.included_namespace_scoped_resources,
            ),
            &names(
                &spec.excluded_resources,
                &spec.excluded_namespace_scoped_resources,
            ),
        ),
    }
}

/// Streams the backup's tarball from the store through the pod-volume reader on a blocking
/// thread, a few chunks at a time: nothing is written to disk and only one entry is held.
async fn stream_pod_volumes(
    store: &godwit_storage::BackupStore,
    name: &str,
    rules: godwit_backup::Rules,
) -> anyhow::Result<godwit_backup::PodVolumeReport> {
    use futures::StreamExt as _;

    let download = store
        .get_tarball(name)
        .await
        .with_context(|| format!("cannot read the tarball of backup {name}"))?;
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    let reader = tokio::task::spawn_blocking(move || {
        let chunks = ChunkReader {
            chunks: receiver,
            current: bytes::Bytes::new(),
        };
        godwit_backup::read_pod_volumes(chunks, &godwit_tarball::Limits::default(), rules)
    });
    let mut stream = download.stream;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(std::io::Error::other);
        let failed = chunk.is_err();
        // A closed channel means the reader stopped early; its result says why.
        if sender.send(chunk).await.is_err() || failed {
            break;
        }
    }
    drop(sender);
    let report = reader
        .await
        .context("the tarball reader stopped unexpectedly")??;
    Ok(report)
}

/// A blocking `Read` over chunks sent from an async stream.
struct ChunkReader {
    chunks: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
    current: bytes::Bytes,
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    print!("{question} Are you sure you want to continue (Y/N)? ");
    std::io::stdout()
        .flush()
        .context("cannot write to stdout")?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer; pass --confirm to skip the question")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

async fn delete(cluster: &ClusterArgs, args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let namespace = &cluster.server_namespace;
    let client = cluster.client().await?;
    let api: Api<Backup> = Api::namespaced(client.clone(), namespace);
    let backups = fetch(
        &api,
        if args.all { &[] } else { &args.names },
        None,
        namespace,
    )
    .await?;
    if backups.is_empty() {
        println!("No backups found");
        return Ok(ExitCode::SUCCESS);
    }
    let names: Vec<String> = backups
        .iter()
        .filter_map(|b| b.metadata.name.clone())
        .collect();
    if !args.confirm
        && !confirm(&format!(
            "You are about to delete backup(s) {}.",
            names.join(", ")
        ))?
    {
        println!("Cancelled.");
        return Ok(ExitCode::SUCCESS);
    }
    let requests: Api<DeleteBackupRequest> = Api::namespaced(client, namespace);
    for backup in &backups {
        let name = backup.metadata.name.clone().unwrap_or_default();
        let request = DeleteBackupRequest::for_backup(backup, namespace);
        requests
            .create(&crate::writes::post_params(), &request)
            .await
            .map_err(|err| create_error("delete request for backup", &name, namespace, err))?;
        println!(
            "Request to delete backup \"{name}\" submitted successfully.\nThe backup will be \
             fully deleted after all associated data (disk snapshots, backup files, restores) \
             are removed."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Decompresses a gzipped log and prints it.
pub fn print_gzipped(bytes: &[u8], what: &str) -> anyhow::Result<()> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .with_context(|| {
            format!("the {what} is not gzipped text; the store holds a damaged file")
        })?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .context("cannot write to stdout")?;
    if !text.ends_with('\n') && !text.is_empty() {
        stdout.write_all(b"\n").context("cannot write to stdout")?;
    }
    Ok(())
}

async fn logs(cluster: &ClusterArgs, args: LogsArgs) -> anyhow::Result<ExitCode> {
    let name = &args.name;
    let store = match &args.local_dir {
        Some(dir) => location::open_local(dir).await?,
        None => {
            let namespace = &cluster.server_namespace;
            let client = cluster.client().await?;
            let api: Api<Backup> = Api::namespaced(client.clone(), namespace);
            let backup = fetch(&api, std::slice::from_ref(name), None, namespace)
                .await?
                .remove(0);
            let done = backup.phase().is_some_and(|p| {
                matches!(
                    p,
                    BackupPhase::Completed | BackupPhase::PartiallyFailed | BackupPhase::Failed
                )
            });
            if !done {
                bail!(
                    "logs for backup {name} are not available until it's finished processing; \
                     wait until it is Completed, PartiallyFailed or Failed and try again"
                );
            }
            let location = Some(backup.spec.storage_location.as_str());
            location::open_named(&client, namespace, location).await?
        }
    };
    let bytes = store
        .get_backup_logs(name)
        .await
        .with_context(|| format!("cannot read the log of backup {name}"))?;
    print_gzipped(&bytes, "backup log")?;
    Ok(ExitCode::SUCCESS)
}

/// One group-resource of a tarball, as `backup inspect` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectedGroupResource {
    /// `<resource>.<group>`.
    pub group_resource: String,
    /// Versions held in versioned folders.
    pub versions: Vec<String>,
    /// The source's preferred version, when the tarball names it.
    pub preferred_version: Option<String>,
    /// Objects in the preferred folder (or the legacy one).
    pub objects: u64,
    /// Objects per version folder.
    pub objects_per_version: std::collections::BTreeMap<String, u64>,
}

/// What `backup inspect` shows of a tarball.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspected {
    /// `metadata/version`.
    pub format_version: Option<String>,
    /// Tar entries read.
    pub entries: u64,
    /// Object files (every copy).
    pub object_files: u64,
    /// Per group-resource.
    pub group_resources: Vec<InspectedGroupResource>,
}

/// The inspect view of a tarball index.
pub fn inspected(index: &BackupIndex) -> Inspected {
    let group_resources = index
        .group_resources
        .iter()
        .map(|(group_resource, gr)| {
            let objects = gr
                .preferred_dir()
                .and_then(|dir| gr.dirs.get(dir))
                .map_or(0, |c| c.total());
            let objects_per_version = gr
                .dirs
                .iter()
                .map(|(dir, counts)| {
                    let key = match dir {
                        VersionDir::Legacy => "(legacy)".to_owned(),
                        VersionDir::Version { version, .. } => version.clone(),
                    };
                    (key, counts.total())
                })
                .collect();
            InspectedGroupResource {
                group_resource: group_resource.to_string(),
                versions: {
                    let mut versions: Vec<String> =
                        gr.versions().into_iter().map(str::to_owned).collect();
                    godwit_versioning::sort_by_priority(&mut versions);
                    versions
                },
                preferred_version: gr.preferred_version().map(str::to_owned),
                objects,
                objects_per_version,
            }
        })
        .collect();
    Inspected {
        format_version: index.format_version.clone(),
        entries: index.entries,
        object_files: index.object_files,
        group_resources,
    }
}

/// The `backup inspect` table.
pub fn render_inspected(file: &str, inspected: &Inspected) -> String {
    let total: u64 = inspected.group_resources.iter().map(|g| g.objects).sum();
    let mut out = format!(
        "Backup tarball {file}: format {}, {} group-resources, {total} objects ({} object files, {} entries)\n\n",
        inspected.format_version.as_deref().unwrap_or("<none>"),
        inspected.group_resources.len(),
        inspected.object_files,
        inspected.entries,
    );
    let rows: Vec<Vec<String>> = inspected
        .group_resources
        .iter()
        .map(|g| {
            let versions = if g.versions.is_empty() {
                "(legacy folder only)".to_owned()
            } else {
                g.versions
                    .iter()
                    .map(|v| {
                        if Some(v) == g.preferred_version.as_ref() {
                            format!("{v}*")
                        } else {
                            v.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            vec![
                g.group_resource.clone(),
                versions,
                g.preferred_version
                    .clone()
                    .unwrap_or_else(|| "-".to_owned()),
                g.objects.to_string(),
            ]
        })
        .collect();
    out.push_str(&output::table(
        &["GROUP-RESOURCE", "VERSIONS", "PREFERRED", "OBJECTS"],
        &rows,
    ));
    out.push_str("\n* the source cluster's preferred version\n");
    out
}

fn inspect(args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let path = &args.file;
    let file = std::fs::File::open(path).map_err(|err| {
        anyhow!(
            "cannot open {}: {err}; pass the path of a backup tarball",
            path.display()
        )
    })?;
    let index = godwit_tarball::list(
        std::io::BufReader::new(file),
        &godwit_tarball::Limits::default(),
    )
    .map_err(|err| anyhow!("{} is not a usable backup tarball: {err}", path.display()))?;
    let view = inspected(&index);
    match args.output {
        Format::Table => print!("{}", render_inspected(&path.display().to_string(), &view)),
        format => print!("{}", output::serialize(&view, format)?),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests;
