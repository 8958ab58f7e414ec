//! S3 access keys: found the way velero-plugin-for-aws finds them (an explicit profile in the
//! shared credentials file, else `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, else the file's
//! default profile, else the ambient identity of the pod or instance).

use std::path::{Path, PathBuf};

use crate::Error;
use crate::config::AwsCredentials;

/// A static key pair with an optional session token.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct AccessKeys {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: Option<String>,
}

// Secrets stay out of logs and panics.
impl std::fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeys")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Where the S3 client gets its identity from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CredentialSource {
    /// Keys from a file or the environment.
    Static(AccessKeys),
    /// No keys: web identity (IRSA), the ECS task role or the instance profile, which the
    /// object_store client resolves from these environment values.
    Ambient {
        web_identity_token_file: Option<String>,
        role_arn: Option<String>,
        role_session_name: Option<String>,
        container_credentials_relative_uri: Option<String>,
    },
}

/// What the resolution reads from the process: environment variables and files.
pub(crate) trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    /// The file's text, `Ok(None)` when it does not exist.
    fn read(&self, path: &Path) -> std::io::Result<Option<String>>;
}

/// The real process environment.
pub(crate) struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn read(&self, path: &Path) -> std::io::Result<Option<String>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Resolves the location's credentials against `env`.
pub(crate) fn resolve(
    config: &AwsCredentials,
    env: &dyn Environment,
) -> Result<CredentialSource, Error> {
    let explicit_file = config
        .file
        .clone()
        .or_else(|| env.var("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from));
    let file = explicit_file.clone().or_else(|| {
        env.var("HOME")
            .map(|home| PathBuf::from(home).join(".aws").join("credentials"))
    });

    // An explicit profile must come from the file, even when keys are in the environment.
    if let Some(profile) = &config.profile {
        let path = file.ok_or_else(|| Error::CredentialsProfile {
            path: PathBuf::from("~/.aws/credentials"),
            profile: profile.clone(),
        })?;
        return from_file(&path, profile, env, true).map(CredentialSource::Static);
    }

    if let (Some(access_key_id), Some(secret_access_key)) = (
        env.var("AWS_ACCESS_KEY_ID"),
        env.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        return Ok(CredentialSource::Static(AccessKeys {
            access_key_id,
            secret_access_key,
            session_token: env.var("AWS_SESSION_TOKEN"),
        }));
    }

    let profile = env
        .var("AWS_PROFILE")
        .unwrap_or_else(|| "default".to_owned());
    if let Some(path) = &file {
        // A file the location names must hold the keys; the home-directory default may be absent.
        let required = explicit_file.is_some();
        match from_file(path, &profile, env, required) {
            Ok(keys) => return Ok(CredentialSource::Static(keys)),
            Err(e) if required => return Err(e),
            Err(_) => {}
        }
    }

    Ok(CredentialSource::Ambient {
        web_identity_token_file: env.var("AWS_WEB_IDENTITY_TOKEN_FILE"),
        role_arn: env.var("AWS_ROLE_ARN"),
        role_session_name: env.var("AWS_ROLE_SESSION_NAME"),
        container_credentials_relative_uri: env.var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
    })
}

fn from_file(
    path: &Path,
    profile: &str,
    env: &dyn Environment,
    required: bool,
) -> Result<AccessKeys, Error> {
    let text = env.read(path).map_err(|source| Error::CredentialsFile {
        path: path.to_owned(),
        source,
    })?;
    let missing = || Error::CredentialsProfile {
        path: path.to_owned(),
        profile: profile.to_owned(),
    };
    match text {
        Some(text) => parse_profile(&text, profile).ok_or_else(missing),
        None if required => Err(Error::CredentialsFile {
            path: path.to_owned(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        }),
        None => Err(missing()),
    }
}

/// Reads one profile of an AWS shared credentials (or config) file: INI sections `[name]` or
/// `[profile name]`, `key = value` lines, `#` and `;` comments. Keys are matched without regard
/// to case, as the AWS SDKs do.
pub(crate) fn parse_profile(text: &str, profile: &str) -> Option<AccessKeys> {
    let mut in_profile = false;
    let mut access_key_id = None;
    let mut secret_access_key = None;
    let mut session_token = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            let name = section.split(']').next().unwrap_or_default().trim();
            let name = name.strip_prefix("profile ").map_or(name, str::trim);
            in_profile = name == profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().to_owned();
        match key.trim().to_ascii_lowercase().as_str() {
            "aws_access_key_id" => access_key_id = Some(value),
            "aws_secret_access_key" => secret_access_key = Some(value),
            "aws_session_token" => session_token = Some(value),
            _ => {}
        }
    }
    Some(AccessKeys {
        access_key_id: access_key_id.filter(|v| !v.is_empty())?,
        secret_access_key: secret_access_key.filter(|v| !v.is_empty())?,
        session_token: session_token.filter(|v| !v.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    struct FakeEnvironment {
        vars: BTreeMap<&'static str, &'static str>,
        files: BTreeMap<PathBuf, &'static str>,
    }

    impl Environment for FakeEnvironment {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).map(|v| (*v).to_owned())
        }

        fn read(&self, path: &Path) -> std::io::Result<Option<String>> {
            Ok(self.files.get(path).map(|t| (*t).to_owned()))
        }
    }

    const FILE: &str = "
# Velero's cloud-credentials secret
[default]
aws_access_key_id = AKDEFAULT
aws_secret_access_key = secret-default

[profile backup]
aws_access_key_id=AKBACKUP
aws_secret_access_key=secret-backup
aws_session_token=token-backup

[half]
aws_access_key_id = AKHALF
";

    fn keys(id: &str, secret: &str, token: Option<&str>) -> CredentialSource {
        CredentialSource::Static(AccessKeys {
            access_key_id: id.to_owned(),
            secret_access_key: secret.to_owned(),
            session_token: token.map(str::to_owned),
        })
    }

    fn ambient() -> CredentialSource {
        CredentialSource::Ambient {
            web_identity_token_file: None,
            role_arn: None,
            role_session_name: None,
            container_credentials_relative_uri: None,
        }
    }

    /// `file`/`profile` are the location's config keys; `files` maps paths to contents.
    fn check(
        file: Option<&str>,
        profile: Option<&str>,
        vars: &[(&'static str, &'static str)],
        files: &[(&str, &'static str)],
        expected: Result<CredentialSource, &str>,
    ) {
        let config = AwsCredentials {
            file: file.map(PathBuf::from),
            profile: profile.map(str::to_owned),
            enable_shared_config: false,
        };
        let env = FakeEnvironment {
            vars: vars.iter().copied().collect(),
            files: files.iter().map(|(p, t)| (PathBuf::from(p), *t)).collect(),
        };
        let actual = resolve(&config, &env).map_err(|e| e.to_string());
        match (&actual, &expected) {
            (Ok(a), Ok(e)) => assert_eq!(a, e),
            (Err(a), Err(e)) => assert!(a.contains(e), "error {a:?} lacks {e:?}"),
            _ => panic!("got {actual:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn credentials_follow_the_aws_plugin() {
        let creds = [("/credentials/cloud", FILE)];
        let env_keys = [
            ("AWS_ACCESS_KEY_ID", "AKENV"),
            ("AWS_SECRET_ACCESS_KEY", "secret-env"),
        ];
        // The file's default profile.
        check(
            Some("/credentials/cloud"),
            None,
            &[],
            &creds,
            Ok(keys("AKDEFAULT", "secret-default", None)),
        );
        // A named profile, written in shared-config style.
        check(
            Some("/credentials/cloud"),
            Some("backup"),
            &[],
            &creds,
            Ok(keys("AKBACKUP", "secret-backup", Some("token-backup"))),
        );
        // An explicit profile wins over keys in the environment.
        check(
            Some("/credentials/cloud"),
            Some("backup"),
            &env_keys,
            &creds,
            Ok(keys("AKBACKUP", "secret-backup", Some("token-backup"))),
        );
        // Without one, the environment wins over the file.
        check(
            Some("/credentials/cloud"),
            None,
            &env_keys,
            &creds,
            Ok(keys("AKENV", "secret-env", None)),
        );
        // Velero's deployment points AWS_SHARED_CREDENTIALS_FILE at the secret.
        check(
            None,
            None,
            &[("AWS_SHARED_CREDENTIALS_FILE", "/credentials/cloud")],
            &creds,
            Ok(keys("AKDEFAULT", "secret-default", None)),
        );
        // AWS_PROFILE picks the profile when the location does not.
        check(
            None,
            None,
            &[("HOME", "/home/u"), ("AWS_PROFILE", "backup")],
            &[("/home/u/.aws/credentials", FILE)],
            Ok(keys("AKBACKUP", "secret-backup", Some("token-backup"))),
        );
        // Nothing anywhere: the pod's or instance's own identity.
        check(None, None, &[("HOME", "/home/u")], &[], Ok(ambient()));
        check(
            None,
            None,
            &[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
                ("AWS_ROLE_ARN", "arn:aws:iam::1:role/velero"),
            ],
            &[],
            Ok(CredentialSource::Ambient {
                web_identity_token_file: Some("/var/run/token".to_owned()),
                role_arn: Some("arn:aws:iam::1:role/velero".to_owned()),
                role_session_name: None,
                container_credentials_relative_uri: None,
            }),
        );
    }

    #[test]
    fn missing_credentials_are_named() {
        let creds = [("/credentials/cloud", FILE)];
        check(
            Some("/credentials/cloud"),
            Some("nope"),
            &[],
            &creds,
            Err("credentials file /credentials/cloud has no profile [nope]"),
        );
        check(
            Some("/credentials/cloud"),
            Some("half"),
            &[],
            &creds,
            Err("has no profile [half] with aws_access_key_id and aws_secret_access_key"),
        );
        check(
            Some("/credentials/missing"),
            None,
            &[],
            &creds,
            Err("reading credentials file /credentials/missing"),
        );
        // The home-directory file is optional, but a profile asked for must exist.
        check(
            None,
            Some("backup"),
            &[("HOME", "/home/u")],
            &[],
            Err("reading credentials file /home/u/.aws/credentials"),
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let CredentialSource::Static(k) = keys("AK", "very-secret", Some("tok")) else {
            unreachable!()
        };
        let shown = format!("{k:?}");
        assert!(shown.contains("AK") && !shown.contains("very-secret") && !shown.contains("tok"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_profile_never_panics(text in "(\\PC{0,20}\n){0,8}", profile in "\\PC{0,8}") {
            let _ = parse_profile(&text, &profile);
        }

        #[test]
        fn written_profiles_read_back(
            id in "[A-Z0-9]{4,20}",
            secret in "[A-Za-z0-9/+]{8,40}",
            profile in "[a-z][a-z0-9-]{0,10}",
        ) {
            let text = format!("[other]\naws_access_key_id=x\naws_secret_access_key=y\n\n[{profile}]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n");
            let parsed = parse_profile(&text, &profile);
            prop_assert_eq!(parsed, Some(AccessKeys { access_key_id: id, secret_access_key: secret, session_token: None }));
        }
    }
}
