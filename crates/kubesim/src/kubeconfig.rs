//! The kubeconfig kubesim writes for itself, and a kube client built from the same facts.

use crate::Error;

/// Renders a kubeconfig with one cluster, user and context, all named `kubesim`; `ca_pem` is
/// the certificate authority for an https `url`.
pub(crate) fn render(url: &str, token: &str, ca_pem: &str) -> String {
    // JSON strings are valid YAML double-quoted scalars, so any token is quoted safely.
    let server = serde_json::Value::from(url);
    let token = serde_json::Value::from(token);
    let ca = crate::catalog::base64_standard(ca_pem.as_bytes());
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: kubesim\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n\
         users:\n\
         - name: kubesim\n  user:\n    token: {token}\n\
         contexts:\n\
         - name: kubesim\n  context:\n    cluster: kubesim\n    user: kubesim\n    namespace: default\n\
         current-context: kubesim\n\
         preferences: {{}}\n"
    )
}

/// A kube client that talks to `url` with a bearer token.
pub(crate) fn client(url: &str, token: &str) -> Result<kube::Client, Error> {
    let failed = |message: String| Error::Client {
        url: url.to_owned(),
        message,
    };
    let uri: http::Uri = url.parse().map_err(|err| failed(format!("{err}")))?;
    let mut config = kube::Config::new(uri);
    config.default_namespace = "default".to_owned();
    config.auth_info = serde_json::from_value(serde_json::json!({ "token": token }))
        .map_err(|err| failed(format!("{err}")))?;
    kube::Client::try_from(config).map_err(|err| failed(format!("{err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_names_everything_kubesim_and_quotes_the_token() {
        let yaml = render("https://127.0.0.1:4321", "a \"b\" c", "PEM");
        let config = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
        assert_eq!(config.current_context.as_deref(), Some("kubesim"));
        let cluster = config.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:4321"));
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("UEVN"));
        assert_eq!(config.auth_infos[0].name, "kubesim");
        assert!(yaml.contains(r#"token: "a \"b\" c""#), "{yaml}");
        let context = config.contexts[0].context.as_ref().unwrap();
        assert_eq!(context.namespace.as_deref(), Some("default"));
    }
}
