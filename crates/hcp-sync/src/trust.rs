//! Trusting exactly what a certificate file says, and nothing else: the TLS
//! verifier of every connection made with a `ca_file` (a hall's intranet CA, the
//! hub certificate a desk pinned).
//!
//! A server is accepted when its certificate is one of the file's certificates
//! (a pin, compared by SHA-256 of the whole certificate: a self-signed one with
//! the CA bit, as openssl makes by default, or an intranet CA's leaf, both
//! work), or when it chains to one of them as a root with the right name. The
//! system's roots are not consulted: a certificate a public CA issued for the
//! same name is refused. The handshake signature is always checked, so the
//! server proved it holds the certificate's key.

use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};

/// What a verifier decides about the certificate a server presented; the
/// handshake signature checks around it are always [`Checked`]'s.
pub(crate) trait CertDecision: std::fmt::Debug + Send + Sync {
    /// Accepts or refuses the server's certificate.
    fn decide(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error>;
}

/// A verifier: `decision` on the certificate, and the handshake signature checked
/// with `provider`'s algorithms, so the server proved it holds the key.
#[derive(Debug)]
pub(crate) struct Checked<D> {
    pub decision: D,
    pub provider: Arc<CryptoProvider>,
}

impl<D: CertDecision> ServerCertVerifier for Checked<D> {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.decision
            .decide(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Exactly one certificate file's trust: its certificates as pins and as roots.
#[derive(Debug)]
pub(crate) struct FileTrust {
    pins: Vec<[u8; 32]>,
    chains: Option<Arc<WebPkiServerVerifier>>,
}

impl FileTrust {
    /// Trust in `certs` (DER), as pins and as roots.
    pub(crate) fn new(certs: &[CertificateDer<'static>], provider: Arc<CryptoProvider>) -> Self {
        let pins = certs.iter().map(|c| Sha256::digest(c).into()).collect();
        let mut roots = rustls::RootCertStore::empty();
        // A certificate that cannot be a root (a leaf) is still a pin.
        let (added, _) = roots.add_parsable_certificates(certs.iter().cloned());
        let chains = (added > 0)
            .then(|| {
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .ok()
            })
            .flatten();
        FileTrust { pins, chains }
    }
}

impl CertDecision for FileTrust {
    fn decide(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let sum: [u8; 32] = Sha256::digest(end_entity).into();
        if self.pins.contains(&sum) {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.chains {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(rustls::Error::General(
                "服务器证书与本机固定（信任）的证书不符".into(),
            )),
        }
    }
}

/// A rustls client configuration trusting exactly `certs` (see the module), for
/// HTTP (ALPN h2 and http/1.1).
pub(crate) fn client_config(
    certs: &[CertificateDer<'static>],
) -> Result<rustls::ClientConfig, rustls::Error> {
    exact_trust_config(certs, vec![b"h2".to_vec(), b"http/1.1".to_vec()])
}

/// A rustls client configuration trusting exactly `certs`: the server's
/// certificate is one of them (by SHA-256) or chains to one of them, never the
/// system's roots; `alpn` as given (e.g. `postgresql` for the hub's database).
pub fn exact_trust_config(
    certs: &[CertificateDer<'static>],
    alpn: Vec<Vec<u8>>,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(Checked {
        decision: FileTrust::new(certs, provider.clone()),
        provider: provider.clone(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = alpn;
    Ok(config)
}
