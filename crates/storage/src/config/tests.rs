//! Parsing BackupStorageLocation spec fields: every config key, and errors that name the key.

use super::*;

fn spec(
    provider: &str,
    bucket: &str,
    prefix: &str,
    config: &[(&str, &str)],
) -> StorageLocationSpec {
    StorageLocationSpec {
        provider: provider.to_owned(),
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
        ca_cert: None,
        config: config
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// Parses an AWS location with `config` and compares with `expected` (an `AwsConfig` for the
/// bucket `velero`, edited by the closure) or with an error message fragment.
fn check(config: &[(&str, &str)], expected: Result<fn(&mut AwsConfig), &str>) {
    let actual = LocationConfig::from_spec(&spec(PROVIDER_AWS, "velero", "", config));
    match (actual, expected) {
        (Ok(actual), Ok(edit)) => {
            let mut aws = AwsConfig::new("velero");
            edit(&mut aws);
            let expected = LocationConfig {
                provider: Provider::Aws(Box::new(aws)),
                prefix: String::new(),
            };
            assert_eq!(actual, expected, "config {config:?}");
        }
        (Err(actual), Err(fragment)) => {
            let message = actual.to_string();
            assert!(
                message.contains(fragment),
                "config {config:?}: error {message:?} lacks {fragment:?}"
            );
        }
        (actual, _) => panic!("config {config:?}: unexpected {actual:?}"),
    }
}

#[test]
fn defaults_match_the_aws_plugin() {
    check(&[], Ok(|_| {}));
    let aws = AwsConfig::new("b");
    assert_eq!(aws.checksum_algorithm, ChecksumAlgorithm::Crc32);
    assert_eq!(aws.signature_version, SignatureVersion::V4);
    assert!(!aws.force_path_style && !aws.insecure_skip_tls_verify);
}

#[test]
fn every_aws_key() {
    check(
        &[("region", "eu-west-1")],
        Ok(|a| a.region = Some("eu-west-1".into())),
    );
    check(&[("region", "")], Ok(|_| {}));
    check(
        &[("s3Url", "http://minio.velero.svc:9000")],
        Ok(|a| a.s3_url = Some("http://minio.velero.svc:9000".into())),
    );
    check(
        &[("publicUrl", "https://minio.example.com")],
        Ok(|a| a.public_url = Some("https://minio.example.com".into())),
    );
    check(
        &[("s3ForcePathStyle", "true")],
        Ok(|a| a.force_path_style = true),
    );
    check(
        &[("s3ForcePathStyle", "1")],
        Ok(|a| a.force_path_style = true),
    );
    check(&[("s3ForcePathStyle", "False")], Ok(|_| {}));
    check(&[("s3ForcePathStyle", "")], Ok(|_| {}));
    check(
        &[("insecureSkipTLSVerify", "T")],
        Ok(|a| a.insecure_skip_tls_verify = true),
    );
    check(
        &[("credentialsFile", "/credentials/cloud")],
        Ok(|a| a.credentials.file = Some("/credentials/cloud".into())),
    );
    check(
        &[("profile", "backup")],
        Ok(|a| a.credentials.profile = Some("backup".into())),
    );
    check(
        &[("enableSharedConfig", "true")],
        Ok(|a| a.credentials.enable_shared_config = true),
    );
    check(
        &[("checksumAlgorithm", "")],
        Ok(|a| a.checksum_algorithm = ChecksumAlgorithm::None),
    );
    check(&[("checksumAlgorithm", "CRC32")], Ok(|_| {}));
    check(
        &[("checksumAlgorithm", "CRC32C")],
        Ok(|a| a.checksum_algorithm = ChecksumAlgorithm::Crc32c),
    );
    check(
        &[("checksumAlgorithm", "SHA1")],
        Ok(|a| a.checksum_algorithm = ChecksumAlgorithm::Sha1),
    );
    check(
        &[("checksumAlgorithm", "SHA256")],
        Ok(|a| a.checksum_algorithm = ChecksumAlgorithm::Sha256),
    );
    check(
        &[("serverSideEncryption", "AES256")],
        Ok(|a| a.encryption = Encryption::ServerSide(ServerSideEncryption::Aes256)),
    );
    check(
        &[("serverSideEncryption", "aws:kms")],
        Ok(|a| a.encryption = Encryption::ServerSide(ServerSideEncryption::AwsKms)),
    );
    check(
        &[("serverSideEncryption", "aws:kms:dsse")],
        Ok(|a| a.encryption = Encryption::ServerSide(ServerSideEncryption::AwsKmsDsse)),
    );
    check(
        &[("kmsKeyId", "alias/velero")],
        Ok(|a| {
            a.encryption = Encryption::Kms {
                key_id: "alias/velero".into(),
            }
        }),
    );
    // As in the plugin, a KMS key makes the algorithm aws:kms whatever serverSideEncryption says.
    check(
        &[("kmsKeyId", "k1"), ("serverSideEncryption", "AES256")],
        Ok(|a| {
            a.encryption = Encryption::Kms {
                key_id: "k1".into(),
            }
        }),
    );
    check(
        &[("customerKeyEncryptionFile", "/credentials/customer-key")],
        Ok(|a| {
            a.encryption = Encryption::CustomerKey {
                file: "/credentials/customer-key".into(),
            }
        }),
    );
    check(
        &[("signatureVersion", "1")],
        Ok(|a| a.signature_version = SignatureVersion::V1),
    );
    check(&[("signatureVersion", "4")], Ok(|_| {}));
    check(
        &[("tagging", "team=infra&tier=backup")],
        Ok(|a| {
            a.tagging = vec![
                ("team".into(), "infra".into()),
                ("tier".into(), "backup".into()),
            ]
        }),
    );
    check(
        &[("tagging", "k=")],
        Ok(|a| a.tagging = vec![("k".into(), String::new())]),
    );
    // Velero's server adds these itself; a config map may carry them.
    check(
        &[("bucket", "other"), ("prefix", "x"), ("caCert", "")],
        Ok(|_| {}),
    );
}

#[test]
fn bad_aws_values_name_their_key() {
    check(
        &[("s3ForcePathStyle", "yes")],
        Err("backup storage location config.s3ForcePathStyle: \"yes\" is not a boolean"),
    );
    check(
        &[("insecureSkipTLSVerify", "maybe")],
        Err("config.insecureSkipTLSVerify: \"maybe\" is not a boolean"),
    );
    check(
        &[("enableSharedConfig", "on")],
        Err("config.enableSharedConfig: \"on\" is not a boolean"),
    );
    check(
        &[("s3Url", "minio:9000")],
        Err(
            "config.s3Url: \"minio:9000\" is not a valid URL; it must start with http:// or https://",
        ),
    );
    check(
        &[("s3Url", "ftp://minio")],
        Err("config.s3Url: \"ftp://minio\" is not a valid URL"),
    );
    check(
        &[("publicUrl", "not a url")],
        Err("config.publicUrl: \"not a url\""),
    );
    check(
        &[("checksumAlgorithm", "MD5")],
        Err(
            "config.checksumAlgorithm: \"MD5\" is not a checksum algorithm; use CRC32, CRC32C, SHA1, SHA256",
        ),
    );
    check(
        &[("checksumAlgorithm", "sha256")],
        Err("config.checksumAlgorithm: \"sha256\""),
    );
    check(
        &[("serverSideEncryption", "aes256")],
        Err("config.serverSideEncryption: \"aes256\" is not a server-side encryption algorithm"),
    );
    check(
        &[("kmsKeyId", "k"), ("customerKeyEncryptionFile", "/f")],
        Err("config.kmsKeyId: cannot be used together with config.customerKeyEncryptionFile"),
    );
    check(
        &[("signatureVersion", "2")],
        Err("config.signatureVersion: \"2\" is not a signature version; use \"1\" or \"4\""),
    );
    check(
        &[("tagging", "a=b=c")],
        Err("config.tagging: \"a=b=c\" is not a tag list"),
    );
    check(
        &[("tagging", "novalue")],
        Err("config.tagging: \"novalue\" is not a tag list"),
    );
    check(
        &[("tagging", "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11")],
        Err("has more than ten tags"),
    );
    let long_key = format!("{}=v", "k".repeat(129));
    let spec = spec(
        PROVIDER_AWS,
        "velero",
        "",
        &[("tagging", long_key.as_str())],
    );
    let message = LocationConfig::from_spec(&spec).unwrap_err().to_string();
    assert!(
        message.contains("tag key longer than 128 characters"),
        "{message}"
    );
}

#[test]
fn unknown_keys_are_listed_with_the_valid_ones() {
    check(
        &[("s3url", "http://x"), ("regoin", "us-east-1")],
        Err(
            "backup storage location config has unknown keys [\"regoin\", \"s3url\"] for provider velero.io/aws; valid keys are [\"region\", \"s3Url\"",
        ),
    );
    let local = spec(PROVIDER_LOCAL, "b", "", &[("root", "/r"), ("region", "x")]);
    let message = LocationConfig::from_spec(&local).unwrap_err().to_string();
    assert!(
        message.contains(
            "unknown keys [\"region\"] for provider godwit.io/local; valid keys are [\"root\"]"
        ),
        "{message}"
    );
}

/// Fields other than `config`: provider, bucket, prefix, caCert.
fn check_spec(spec: StorageLocationSpec, expected: Result<LocationConfig, &str>) {
    let actual = LocationConfig::from_spec(&spec);
    match (actual, expected) {
        (Ok(actual), Ok(expected)) => assert_eq!(actual, expected, "{spec:?}"),
        (Err(actual), Err(fragment)) => {
            let message = actual.to_string();
            assert!(
                message.contains(fragment),
                "{spec:?}: {message:?} lacks {fragment:?}"
            );
        }
        (actual, _) => panic!("{spec:?}: unexpected {actual:?}"),
    }
}

fn aws_location(bucket: &str, prefix: &str) -> LocationConfig {
    LocationConfig {
        provider: Provider::Aws(Box::new(AwsConfig::new(bucket))),
        prefix: prefix.to_owned(),
    }
}

#[test]
fn provider_bucket_and_prefix() {
    check_spec(
        spec("aws", "velero", "", &[]),
        Ok(aws_location("velero", "")),
    );
    check_spec(
        spec(PROVIDER_AWS, "/velero/", "/cluster-1/team-a/", &[]),
        Ok(aws_location("velero", "cluster-1/team-a")),
    );
    check_spec(
        spec(
            PROVIDER_LOCAL,
            "backups",
            "p",
            &[("root", "/var/lib/godwit")],
        ),
        Ok(LocationConfig {
            provider: Provider::Local {
                root: PathBuf::from("/var/lib/godwit/backups"),
            },
            prefix: "p".to_owned(),
        }),
    );
    check_spec(
        spec("velero.io/gcp", "b", "", &[]),
        Err(
            "backup storage location provider \"velero.io/gcp\" is not supported; use velero.io/aws",
        ),
    );
    check_spec(
        spec(PROVIDER_AWS, "velero/prefix", "", &[]),
        Err(
            "backup storage location objectStorage.bucket: \"velero/prefix\" must not contain a '/'; if using a prefix, put it in the prefix field instead",
        ),
    );
    check_spec(
        spec(PROVIDER_AWS, "", "", &[]),
        Err("objectStorage.bucket: \"\" is empty"),
    );
    check_spec(
        spec(PROVIDER_AWS, "..", "", &[]),
        Err("objectStorage.bucket: \"..\" is not a usable bucket name"),
    );
    check_spec(
        spec(PROVIDER_AWS, "b", "a//b", &[]),
        Err("objectStorage.prefix: \"a//b\" is not a usable key prefix"),
    );
    check_spec(
        spec(PROVIDER_AWS, "b", "a/../b", &[]),
        Err("objectStorage.prefix: \"a/../b\" is not a usable key prefix"),
    );
    check_spec(
        spec(PROVIDER_LOCAL, "b", "", &[]),
        Err("backup storage location config.root: is missing"),
    );
}

#[test]
fn ca_cert_is_kept_for_aws() {
    let mut with_cert = spec(PROVIDER_AWS, "velero", "", &[]);
    with_cert.ca_cert = Some(b"-----BEGIN CERTIFICATE-----".to_vec());
    let mut expected = AwsConfig::new("velero");
    expected.ca_cert = Some(b"-----BEGIN CERTIFICATE-----".to_vec());
    check_spec(
        with_cert,
        Ok(LocationConfig {
            provider: Provider::Aws(Box::new(expected)),
            prefix: String::new(),
        }),
    );
}

#[test]
fn local_shorthand_has_no_prefix() {
    assert_eq!(
        LocationConfig::local("/data"),
        LocationConfig {
            provider: Provider::Local {
                root: PathBuf::from("/data")
            },
            prefix: String::new(),
        }
    );
}
