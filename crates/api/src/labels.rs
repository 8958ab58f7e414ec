//! Label and annotation keys Velero puts on, or reads from, objects: godwit writes and reads
//! the same keys so Velero and godwit can each see what the other did.

/// On restored objects and on objects Velero creates for a backup: the backup's name.
pub const BACKUP_NAME: &str = "velero.io/backup-name";
/// On objects Velero creates for a backup: the backup's uid.
pub const BACKUP_UID: &str = "velero.io/backup-uid";
/// On restored objects: the restore's name.
pub const RESTORE_NAME: &str = "velero.io/restore-name";
/// On objects Velero creates for a restore: the restore's uid.
pub const RESTORE_UID: &str = "velero.io/restore-uid";
/// On backups made by a schedule: the schedule's name.
pub const SCHEDULE_NAME: &str = "velero.io/schedule-name";
/// On backups: the BackupStorageLocation they are stored in.
pub const STORAGE_LOCATION: &str = "velero.io/storage-location";
/// On any object, value `true`: leave it out of every backup.
pub const EXCLUDE_FROM_BACKUP: &str = "velero.io/exclude-from-backup";
/// On objects Velero creates per pod: the pod's uid.
pub const POD_UID: &str = "velero.io/pod-uid";
/// On objects Velero creates per volume claim: the claim's uid.
pub const PVC_UID: &str = "velero.io/pvc-uid";
/// On objects Velero creates per volume claim: the claim's name.
pub const PVC_NAME: &str = "velero.io/pvc-name";

/// On ConfigMaps in the server's namespace: the ConfigMap configures a plugin (restore action).
pub const PLUGIN_CONFIG: &str = "velero.io/plugin-config";
/// With value `RestoreItemAction`: the ConfigMap maps old storage class names to new ones.
pub const CHANGE_STORAGE_CLASS: &str = "velero.io/change-storage-class";
/// With value `RestoreItemAction`: the ConfigMap maps old node names to new ones for PVCs.
pub const CHANGE_PVC_NODE_SELECTOR: &str = "velero.io/change-pvc-node-selector";
/// With value `RestoreItemAction`: the ConfigMap maps old image names to new ones.
pub const CHANGE_IMAGE_NAME: &str = "velero.io/change-image-name";

/// On backups (an annotation since Velero 1.11, a label before): the source cluster's
/// Kubernetes git version, such as `v1.25.16`.
pub const SOURCE_CLUSTER_K8S_GIT_VERSION: &str = "velero.io/source-cluster-k8s-gitversion";
/// On backups: the source cluster's Kubernetes major version, such as `1`.
pub const SOURCE_CLUSTER_K8S_MAJOR_VERSION: &str = "velero.io/source-cluster-k8s-major-version";
/// On backups: the source cluster's Kubernetes minor version, such as `25`.
pub const SOURCE_CLUSTER_K8S_MINOR_VERSION: &str = "velero.io/source-cluster-k8s-minor-version";
/// On backups and restores: the server's per-resource timeout when the request was made.
pub const RESOURCE_TIMEOUT: &str = "velero.io/resource-timeout";
/// On backups and restores: a timeout for pod volume operations of this request only.
pub const POD_VOLUME_OPERATION_TIMEOUT: &str = "velero.io/pod-volume-timeout";
/// On a PersistentVolume restored under a new name: the name it had in the backup.
pub const ORIGINAL_PV_NAME: &str = "velero.io/original-pv-name";
/// On pods: volumes to back up with file-system backup, comma separated.
pub const VOLUMES_TO_BACKUP: &str = "backup.velero.io/backup-volumes";
/// On pods: volumes to leave out of file-system backup, comma separated.
pub const VOLUMES_TO_EXCLUDE: &str = "backup.velero.io/backup-volumes-excludes";

/// The finalizer Velero (1.14 and later) puts on restores so it can clean up after them.
pub const RESTORE_EXTERNAL_RESOURCES_FINALIZER: &str =
    "restores.velero.io/external-resources-finalizer";
