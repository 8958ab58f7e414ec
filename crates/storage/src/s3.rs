//! Builds object_store's S3 client from a parsed AWS location.

use base64::Engine as _;
use object_store::ClientOptions;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey, Checksum};

use crate::config::{AwsConfig, ChecksumAlgorithm, Encryption};
use crate::credentials::{self, CredentialSource, Environment};
use crate::{Error, install_crypto_provider};

/// Region used for S3-compatible servers when the location names none: most ignore it, and
/// the AWS SDKs sign for it by default.
const DEFAULT_REGION: &str = "us-east-1";

/// How requests address the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Addressing {
    /// The endpoint to send requests to; `None` lets object_store derive AWS's own.
    pub(crate) endpoint: Option<String>,
    /// `true`: the endpoint already holds the bucket as a host name (`bucket.host`).
    pub(crate) virtual_hosted: bool,
}

/// Velero's `s3ForcePathStyle` is false by default, so buckets are addressed by host name
/// (`https://bucket.s3.region.amazonaws.com`, `https://bucket.minio:9000`). That cannot work
/// for an endpoint that is an IP address or `localhost`, nor over TLS for a bucket name with
/// dots or characters not allowed in host names; those fall back to path style, as the AWS
/// SDKs do for such buckets.
pub(crate) fn addressing(aws: &AwsConfig) -> Addressing {
    let host_safe_bucket = is_host_label_safe(&aws.bucket);
    let Some(s3_url) = &aws.s3_url else {
        return Addressing {
            endpoint: None,
            virtual_hosted: !aws.force_path_style && host_safe_bucket,
        };
    };
    let path_style = Addressing {
        endpoint: Some(s3_url.trim_end_matches('/').to_owned()),
        virtual_hosted: false,
    };
    if aws.force_path_style || !host_safe_bucket {
        return path_style;
    }
    let Ok(mut url) = url::Url::parse(s3_url) else {
        return path_style;
    };
    let host = match url.host() {
        Some(url::Host::Domain(domain)) if domain != "localhost" => domain.to_owned(),
        _ => return path_style,
    };
    if url
        .set_host(Some(&format!("{}.{host}", aws.bucket)))
        .is_err()
    {
        return path_style;
    }
    Addressing {
        endpoint: Some(url.as_str().trim_end_matches('/').to_owned()),
        virtual_hosted: true,
    }
}

/// A bucket name usable as one DNS label (no dots, which TLS wildcard certificates refuse).
fn is_host_label_safe(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

/// Connects to the location's bucket. Reads the credentials and encryption-key files, and asks
/// S3 for the bucket's region when it must.
///
/// The credentials are resolved at once, into owned values: the environment reader is not
/// `Sync`, and holding it across the region lookup would make the future not `Send`.
pub(crate) fn build<'a>(
    aws: &'a AwsConfig,
    env: &dyn Environment,
) -> impl Future<Output = Result<AmazonS3, Error>> + Send + use<'a> {
    connect(aws, credentials::resolve(&aws.credentials, env))
}

/// [`build`] once the credentials are resolved; their error is reported only after the CA and
/// region checks, so a location with several problems names the same one first as it always has.
async fn connect(
    aws: &AwsConfig,
    credentials: Result<CredentialSource, Error>,
) -> Result<AmazonS3, Error> {
    // reqwest is built without a crypto provider of its own; without a process default it panics.
    install_crypto_provider();

    let location = format!("s3://{}", aws.bucket);
    let configuring = |source: object_store::Error| Error::ObjectStore {
        action: "connecting to",
        key: aws.bucket.clone(),
        location: location.clone(),
        source: Box::new(source),
    };

    let mut options = ClientOptions::new()
        .with_allow_http(
            aws.s3_url
                .as_deref()
                .is_some_and(|u| u.starts_with("http://")),
        )
        .with_allow_invalid_certificates(aws.insecure_skip_tls_verify);
    if let Some(pem) = &aws.ca_cert {
        let certificates =
            object_store::Certificate::from_pem_bundle(pem).map_err(|e| Error::Config {
                key: "objectStorage.caCert".to_owned(),
                message: format!("is not a PEM certificate bundle ({e}); paste the CA's PEM"),
            })?;
        for certificate in certificates {
            options = options.with_root_certificate(certificate);
        }
    }

    let region = match (&aws.region, &aws.s3_url) {
        (Some(region), _) => region.clone(),
        (None, Some(_)) => DEFAULT_REGION.to_owned(),
        (None, None) => object_store::aws::resolve_bucket_region(&aws.bucket, &options)
            .await
            .map_err(|source| Error::ObjectStore {
                action: "finding the region of",
                key: aws.bucket.clone(),
                location: location.clone(),
                source: Box::new(source),
            })?,
    };

    let Addressing {
        endpoint,
        virtual_hosted,
    } = addressing(aws);
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&aws.bucket)
        .with_region(region)
        .with_virtual_hosted_style_request(virtual_hosted)
        .with_client_options(options);
    if let Some(endpoint) = endpoint {
        builder = builder.with_endpoint(endpoint);
    }

    builder = match credentials? {
        CredentialSource::Static(keys) => {
            let builder = builder
                .with_access_key_id(keys.access_key_id)
                .with_secret_access_key(keys.secret_access_key);
            match keys.session_token {
                Some(token) => builder.with_token(token),
                None => builder,
            }
        }
        CredentialSource::Ambient {
            web_identity_token_file,
            role_arn,
            role_session_name,
            container_credentials_relative_uri,
        } => {
            let settings = [
                (
                    AmazonS3ConfigKey::WebIdentityTokenFile,
                    web_identity_token_file,
                ),
                (AmazonS3ConfigKey::RoleArn, role_arn),
                (AmazonS3ConfigKey::RoleSessionName, role_session_name),
                (
                    AmazonS3ConfigKey::ContainerCredentialsRelativeUri,
                    container_credentials_relative_uri,
                ),
            ];
            settings
                .into_iter()
                .fold(builder, |b, (key, value)| match value {
                    Some(value) => b.with_config(key, value),
                    None => b,
                })
        }
    };

    // object_store computes SHA-256 or CRC64-NVME only; for CRC32, CRC32C and SHA1 it sends no
    // extra checksum, and the signed payload hash (SigV4) still guards every upload.
    if aws.checksum_algorithm == ChecksumAlgorithm::Sha256 {
        builder = builder.with_checksum_algorithm(Checksum::SHA256);
    }

    builder = match &aws.encryption {
        Encryption::None => builder,
        Encryption::ServerSide(algorithm) => {
            // object_store does not export the encryption key enum; its string form is stable.
            let key = "aws_server_side_encryption"
                .parse::<AmazonS3ConfigKey>()
                .map_err(configuring)?;
            builder.with_config(key, algorithm.as_str())
        }
        Encryption::Kms { key_id } => builder.with_sse_kms_encryption(key_id),
        Encryption::CustomerKey { file } => {
            let key = tokio::fs::read(file)
                .await
                .map_err(|source| Error::LocalFile {
                    action: "reading config.customerKeyEncryptionFile",
                    path: file.clone(),
                    source,
                })?;
            if key.len() != 32 {
                return Err(Error::Config {
                    key: "config.customerKeyEncryptionFile".to_owned(),
                    message: format!(
                        "{} holds {} bytes; an SSE-C key is exactly 32 bytes",
                        file.display(),
                        key.len()
                    ),
                });
            }
            builder.with_ssec_encryption(base64::engine::general_purpose::STANDARD.encode(key))
        }
    };

    builder.build().map_err(configuring)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bucket: &str, s3_url: Option<&str>, path_style: bool, expected: (Option<&str>, bool)) {
        let mut aws = AwsConfig::new(bucket);
        aws.s3_url = s3_url.map(str::to_owned);
        aws.force_path_style = path_style;
        let expected = Addressing {
            endpoint: expected.0.map(str::to_owned),
            virtual_hosted: expected.1,
        };
        assert_eq!(
            addressing(&aws),
            expected,
            "{bucket} {s3_url:?} {path_style}"
        );
    }

    #[test]
    fn bucket_addressing() {
        // AWS itself: object_store derives the endpoint.
        check("velero", None, false, (None, true));
        check("velero", None, true, (None, false));
        check("my.dotted.bucket", None, false, (None, false));
        // S3-compatible servers.
        check(
            "velero",
            Some("http://minio:9000"),
            false,
            (Some("http://velero.minio:9000"), true),
        );
        check(
            "velero",
            Some("https://s3.example.com/"),
            false,
            (Some("https://velero.s3.example.com"), true),
        );
        check(
            "velero",
            Some("http://minio:9000/"),
            true,
            (Some("http://minio:9000"), false),
        );
        check(
            "velero",
            Some("http://127.0.0.1:9000"),
            false,
            (Some("http://127.0.0.1:9000"), false),
        );
        check(
            "velero",
            Some("http://localhost:9000"),
            false,
            (Some("http://localhost:9000"), false),
        );
        check(
            "velero",
            Some("http://[::1]:9000"),
            false,
            (Some("http://[::1]:9000"), false),
        );
        check(
            "Velero_Backups",
            Some("https://s3.example.com"),
            false,
            (Some("https://s3.example.com"), false),
        );
    }
}
