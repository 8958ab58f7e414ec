//! Where a backup storage location is, parsed once from a BackupStorageLocation's spec fields.
//!
//! The AWS provider takes the `config` keys of velero-plugin-for-aws; the local provider is
//! godwit's own (a directory, no setup needed). Parsing does no IO: files named here (credentials,
//! encryption key) are read when the store is opened.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::Error;

/// The provider name of S3 and S3-compatible locations (Velero also accepts plain `aws`).
pub const PROVIDER_AWS: &str = "velero.io/aws";
/// The provider name of godwit's local-directory locations.
pub const PROVIDER_LOCAL: &str = "godwit.io/local";

/// Keys Velero adds to every object store's config itself, so a config map may hold them.
const SERVER_KEYS: [&str; 3] = ["bucket", "prefix", "caCert"];

/// The `config` keys velero-plugin-for-aws accepts.
const AWS_KEYS: [&str; 14] = [
    "region",
    "s3Url",
    "publicUrl",
    "kmsKeyId",
    "customerKeyEncryptionFile",
    "s3ForcePathStyle",
    "signatureVersion",
    "credentialsFile",
    "profile",
    "serverSideEncryption",
    "insecureSkipTLSVerify",
    "enableSharedConfig",
    "tagging",
    "checksumAlgorithm",
];

/// The `config` keys of the local provider.
const LOCAL_KEYS: [&str; 1] = ["root"];

/// The fields of a BackupStorageLocation's spec that say where its objects live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageLocationSpec {
    /// `spec.provider`: `velero.io/aws` (or `aws`) or `godwit.io/local`.
    pub provider: String,
    /// `spec.objectStorage.bucket`.
    pub bucket: String,
    /// `spec.objectStorage.prefix` (may be empty).
    pub prefix: String,
    /// `spec.objectStorage.caCert`: PEM bytes (already decoded from the resource's base64).
    pub ca_cert: Option<Vec<u8>>,
    /// `spec.config`. Velero's server adds `credentialsFile` here when `spec.credential` is set.
    pub config: BTreeMap<String, String>,
}

/// A parsed, validated storage location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationConfig {
    /// Where the objects are.
    pub provider: Provider,
    /// The key prefix inside the bucket or directory, without leading or trailing `/`
    /// (empty for none).
    pub prefix: String,
}

/// The kinds of storage godwit can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// A directory on the local file system; it is created when missing.
    Local {
        /// The directory that plays the bucket.
        root: PathBuf,
    },
    /// Amazon S3 or an S3-compatible server.
    Aws(Box<AwsConfig>),
}

/// An S3 location, with velero-plugin-for-aws's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsConfig {
    /// The bucket.
    pub bucket: String,
    /// `region`: when absent and no `s3Url` is given, it is asked from S3 on open; with an
    /// `s3Url` it defaults to `us-east-1`.
    pub region: Option<String>,
    /// `s3Url`: the endpoint of an S3-compatible server (`http://minio:9000`).
    pub s3_url: Option<String>,
    /// `publicUrl`: the endpoint to put in download URLs handed to users.
    pub public_url: Option<String>,
    /// `s3ForcePathStyle`: `endpoint/bucket/key` instead of `bucket.endpoint/key`.
    pub force_path_style: bool,
    /// `insecureSkipTLSVerify`: accept any server certificate.
    pub insecure_skip_tls_verify: bool,
    /// `objectStorage.caCert`: PEM certificates to trust besides the system ones.
    pub ca_cert: Option<Vec<u8>>,
    /// Where the access keys come from.
    pub credentials: AwsCredentials,
    /// `checksumAlgorithm`.
    pub checksum_algorithm: ChecksumAlgorithm,
    /// `serverSideEncryption`, `kmsKeyId`, `customerKeyEncryptionFile`.
    pub encryption: Encryption,
    /// `signatureVersion`, for download URLs.
    pub signature_version: SignatureVersion,
    /// `tagging`: tags put on every object written (`key=value&key2=value2`).
    pub tagging: Vec<(String, String)>,
}

impl AwsConfig {
    /// A location in `bucket` with Velero's defaults for every setting.
    pub fn new(bucket: impl Into<String>) -> Self {
        AwsConfig {
            bucket: bucket.into(),
            region: None,
            s3_url: None,
            public_url: None,
            force_path_style: false,
            insecure_skip_tls_verify: false,
            ca_cert: None,
            credentials: AwsCredentials::default(),
            checksum_algorithm: ChecksumAlgorithm::Crc32,
            encryption: Encryption::None,
            signature_version: SignatureVersion::V4,
            tagging: Vec::new(),
        }
    }
}

/// Where S3 access keys come from, as velero-plugin-for-aws looks for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsCredentials {
    /// `credentialsFile`: an AWS shared credentials file (Velero's `cloud-credentials` secret).
    /// When absent, `AWS_SHARED_CREDENTIALS_FILE`, then `~/.aws/credentials`.
    pub file: Option<PathBuf>,
    /// `profile`: the profile in that file; `AWS_PROFILE` or `default` when absent.
    pub profile: Option<String>,
    /// `enableSharedConfig`: the file may be a shared config file (`[profile name]` sections).
    /// godwit reads both section styles either way.
    pub enable_shared_config: bool,
}

/// `checksumAlgorithm` values velero-plugin-for-aws accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    /// Empty value: no additional checksum.
    None,
    /// `CRC32`, Velero's default.
    Crc32,
    /// `CRC32C`.
    Crc32c,
    /// `SHA1`.
    Sha1,
    /// `SHA256`.
    Sha256,
}

/// Server-side encryption of written objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// The bucket's default.
    None,
    /// `serverSideEncryption`.
    ServerSide(ServerSideEncryption),
    /// `kmsKeyId`: SSE-KMS with this key (takes precedence over `serverSideEncryption`).
    Kms {
        /// A key id, ARN or `alias/<name>`.
        key_id: String,
    },
    /// `customerKeyEncryptionFile`: SSE-C with the 32-byte key in this file.
    CustomerKey {
        /// The key file.
        file: PathBuf,
    },
}

/// `serverSideEncryption` values S3 accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSideEncryption {
    /// `AES256`: S3-managed keys.
    Aes256,
    /// `aws:kms`: the account's default KMS key.
    AwsKms,
    /// `aws:kms:dsse`: dual-layer KMS.
    AwsKmsDsse,
}

impl ServerSideEncryption {
    /// The value as S3 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerSideEncryption::Aes256 => "AES256",
            ServerSideEncryption::AwsKms => "aws:kms",
            ServerSideEncryption::AwsKmsDsse => "aws:kms:dsse",
        }
    }
}

/// `signatureVersion` of download URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureVersion {
    /// `1`, for providers that only know the old scheme.
    V1,
    /// `4`, the default.
    V4,
}

impl LocationConfig {
    /// A local-directory location at `root`, with no prefix: godwit's embedded default.
    pub fn local(root: impl Into<PathBuf>) -> Self {
        LocationConfig {
            provider: Provider::Local { root: root.into() },
            prefix: String::new(),
        }
    }

    /// Parses a BackupStorageLocation's spec fields; errors name the offending field or key.
    pub fn from_spec(spec: &StorageLocationSpec) -> Result<Self, Error> {
        let bucket = parse_bucket(&spec.bucket)?;
        let prefix = parse_prefix(&spec.prefix)?;
        let provider = match spec.provider.as_str() {
            "aws" | PROVIDER_AWS => {
                check_keys(&spec.provider, &spec.config, &AWS_KEYS)?;
                let mut aws = parse_aws(bucket, &spec.config)?;
                aws.ca_cert = spec.ca_cert.clone().filter(|c| !c.is_empty());
                Provider::Aws(Box::new(aws))
            }
            PROVIDER_LOCAL => {
                check_keys(&spec.provider, &spec.config, &LOCAL_KEYS)?;
                let root = non_empty(&spec.config, "root").ok_or_else(|| Error::Config {
                    key: "config.root".to_owned(),
                    message: "is missing; set it to the directory that holds the bucket directory"
                        .to_owned(),
                })?;
                Provider::Local {
                    root: PathBuf::from(root).join(bucket),
                }
            }
            other => {
                return Err(Error::UnsupportedProvider {
                    provider: other.to_owned(),
                });
            }
        };
        Ok(LocationConfig { provider, prefix })
    }
}

/// Velero trims slashes and refuses a bucket with one inside (a prefix put in the wrong field).
fn parse_bucket(bucket: &str) -> Result<String, Error> {
    let trimmed = bucket.trim_matches('/');
    let problem = if trimmed.is_empty() {
        "is empty; name the bucket (or, for godwit.io/local, the directory under config.root)"
    } else if trimmed.contains('/') {
        "must not contain a '/'; if using a prefix, put it in the prefix field instead"
    } else if trimmed == "." || trimmed == ".." || trimmed.chars().any(|c| c.is_ascii_control()) {
        "is not a usable bucket name; use letters, digits, '-' and '.'"
    } else {
        return Ok(trimmed.to_owned());
    };
    Err(Error::Config {
        key: "objectStorage.bucket".to_owned(),
        message: format!("{bucket:?} {problem}"),
    })
}

/// The prefix without surrounding slashes; every segment must be a plain name.
pub(crate) fn parse_prefix(prefix: &str) -> Result<String, Error> {
    prefix_path(prefix).map(|path| path.as_ref().to_owned())
}

/// The prefix as an object key path.
pub(crate) fn prefix_path(prefix: &str) -> Result<object_store::path::Path, Error> {
    object_store::path::Path::parse(prefix.trim_matches('/')).map_err(|source| Error::Config {
        key: "objectStorage.prefix".to_owned(),
        message: format!(
            "{prefix:?} is not a usable key prefix ({source}); use '/'-separated names \
             without empty, '.' or '..' parts"
        ),
    })
}

fn check_keys(
    provider: &str,
    config: &BTreeMap<String, String>,
    valid: &[&'static str],
) -> Result<(), Error> {
    let unknown: Vec<String> = config
        .keys()
        .filter(|k| !valid.contains(&k.as_str()) && !SERVER_KEYS.contains(&k.as_str()))
        .cloned()
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(Error::UnknownConfigKeys {
        provider: provider.to_owned(),
        unknown,
        valid: valid.to_vec(),
    })
}

fn non_empty<'a>(config: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    config
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

fn bad(key: &str, value: &str, fix: &str) -> Error {
    Error::Config {
        key: format!("config.{key}"),
        message: format!("{value:?} {fix}"),
    }
}

/// Go's `strconv.ParseBool`, which the plugin uses; an empty value means false.
fn parse_bool(config: &BTreeMap<String, String>, key: &str) -> Result<bool, Error> {
    match config.get(key).map(String::as_str) {
        None | Some("") => Ok(false),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
        Some(other) => Err(bad(
            key,
            other,
            "is not a boolean; use \"true\" or \"false\"",
        )),
    }
}

/// The plugin accepts an `http://` or `https://` URL with a host.
fn parse_url(config: &BTreeMap<String, String>, key: &str) -> Result<Option<String>, Error> {
    let Some(value) = non_empty(config, key) else {
        return Ok(None);
    };
    let fix = "is not a valid URL; it must start with http:// or https:// and name a host";
    let url = url::Url::parse(value).map_err(|_| bad(key, value, fix))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad(key, value, fix));
    }
    Ok(Some(value.to_owned()))
}

fn parse_aws(bucket: String, config: &BTreeMap<String, String>) -> Result<AwsConfig, Error> {
    let mut aws = AwsConfig::new(bucket);
    aws.region = non_empty(config, "region").map(str::to_owned);
    aws.s3_url = parse_url(config, "s3Url")?;
    aws.public_url = parse_url(config, "publicUrl")?;
    aws.force_path_style = parse_bool(config, "s3ForcePathStyle")?;
    aws.insecure_skip_tls_verify = parse_bool(config, "insecureSkipTLSVerify")?;
    aws.credentials = AwsCredentials {
        file: non_empty(config, "credentialsFile").map(PathBuf::from),
        profile: non_empty(config, "profile").map(str::to_owned),
        enable_shared_config: parse_bool(config, "enableSharedConfig")?,
    };
    aws.checksum_algorithm = match config.get("checksumAlgorithm").map(String::as_str) {
        None => ChecksumAlgorithm::Crc32,
        Some("") => ChecksumAlgorithm::None,
        Some("CRC32") => ChecksumAlgorithm::Crc32,
        Some("CRC32C") => ChecksumAlgorithm::Crc32c,
        Some("SHA1") => ChecksumAlgorithm::Sha1,
        Some("SHA256") => ChecksumAlgorithm::Sha256,
        Some(other) => {
            return Err(bad(
                "checksumAlgorithm",
                other,
                "is not a checksum algorithm; use CRC32, CRC32C, SHA1, SHA256 or \"\" for none",
            ));
        }
    };
    aws.encryption = parse_encryption(config)?;
    aws.signature_version = match non_empty(config, "signatureVersion") {
        None | Some("4") => SignatureVersion::V4,
        Some("1") => SignatureVersion::V1,
        Some(other) => {
            return Err(bad(
                "signatureVersion",
                other,
                "is not a signature version; use \"1\" or \"4\"",
            ));
        }
    };
    if let Some(tagging) = non_empty(config, "tagging") {
        aws.tagging = parse_tagging(tagging)?;
    }
    Ok(aws)
}

fn parse_encryption(config: &BTreeMap<String, String>) -> Result<Encryption, Error> {
    let kms_key_id = non_empty(config, "kmsKeyId");
    let customer_key = non_empty(config, "customerKeyEncryptionFile");
    match (kms_key_id, customer_key) {
        (Some(_), Some(_)) => Err(Error::Config {
            key: "config.kmsKeyId".to_owned(),
            message: "cannot be used together with config.customerKeyEncryptionFile; keep one"
                .to_owned(),
        }),
        (Some(key_id), None) => Ok(Encryption::Kms {
            key_id: key_id.to_owned(),
        }),
        (None, Some(file)) => Ok(Encryption::CustomerKey {
            file: PathBuf::from(file),
        }),
        (None, None) => match non_empty(config, "serverSideEncryption") {
            None => Ok(Encryption::None),
            Some("AES256") => Ok(Encryption::ServerSide(ServerSideEncryption::Aes256)),
            Some("aws:kms") => Ok(Encryption::ServerSide(ServerSideEncryption::AwsKms)),
            Some("aws:kms:dsse") => Ok(Encryption::ServerSide(ServerSideEncryption::AwsKmsDsse)),
            Some(other) => Err(bad(
                "serverSideEncryption",
                other,
                "is not a server-side encryption algorithm; use AES256, aws:kms or aws:kms:dsse",
            )),
        },
    }
}

/// `key=value&key2=value2`, with S3's limits: ten tags, keys up to 128 characters, values up
/// to 256.
fn parse_tagging(tagging: &str) -> Result<Vec<(String, String)>, Error> {
    let tags: Vec<&str> = tagging.split('&').collect();
    if tags.len() > 10 {
        return Err(bad(
            "tagging",
            tagging,
            "has more than ten tags; S3 allows ten per object",
        ));
    }
    tags.into_iter()
        .map(|tag| {
            let mut parts = tag.split('=');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(key), Some(value), None) if !key.is_empty() => {
                    if key.chars().count() > 128 {
                        Err(bad(
                            "tagging",
                            tagging,
                            "has a tag key longer than 128 characters",
                        ))
                    } else if value.chars().count() > 256 {
                        Err(bad(
                            "tagging",
                            tagging,
                            "has a tag value longer than 256 characters",
                        ))
                    } else {
                        Ok((key.to_owned(), value.to_owned()))
                    }
                }
                _ => Err(bad(
                    "tagging",
                    tagging,
                    "is not a tag list; write key=value pairs joined by '&'",
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
