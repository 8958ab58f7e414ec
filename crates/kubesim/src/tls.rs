//! The TLS side of the port: a self-signed certificate for 127.0.0.1 made at start, so kubectl
//! (which sends bearer tokens only over TLS) can use the kubeconfig; plain HTTP stays served on
//! the same port for [`crate::Running::client`] and curl.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::Error;

/// The first byte of a TLS handshake record; plain HTTP requests start with a letter.
pub(crate) const HANDSHAKE: u8 = 0x16;

/// A certificate and the acceptor that serves it.
#[derive(Clone)]
pub(crate) struct Tls {
    /// Accepts TLS connections with the certificate.
    pub(crate) acceptor: TlsAcceptor,
    /// The certificate in PEM, which is also its own certificate authority.
    pub(crate) ca_pem: String,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl Tls {
    /// A fresh self-signed certificate for `127.0.0.1` and `localhost`.
    pub(crate) fn generate() -> Result<Self, Error> {
        let failed = |message: String| Error::Tls { message };
        let certified = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .map_err(|err| failed(err.to_string()))?;
        let ca_pem = certified.cert.pem();
        let cert: CertificateDer<'static> = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| failed(err.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .map_err(|err| failed(err.to_string()))?;
        let mut config = config;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            ca_pem,
        })
    }
}
