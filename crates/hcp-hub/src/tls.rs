//! The hub's listener over TLS (`hcp hub serve --tls-cert F --tls-key F`): rustls,
//! TLS 1.2 and 1.3, HTTP/1.1 and HTTP/2 by ALPN. On an office intranet the
//! certificate is usually the office's own CA or self-signed; desks trust it with
//! `hcp hub connect … --ca-file F`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::{HubError, Result};

/// A certificate or key file bigger than this is not one.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// A handshake that has not finished in this long is dropped (a client that opens
/// connections and sends nothing cannot hold the hub's sockets).
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn read_pem(path: &Path, what: &str) -> Result<Vec<u8>> {
    let bad = |e: String| HubError::Invalid(format!("无法读取{what} {}：{e}", path.display()));
    let len = std::fs::metadata(path)
        .map_err(|e| bad(e.to_string()))?
        .len();
    if len > MAX_PEM_BYTES {
        return Err(bad("文件超过 1 MiB".into()));
    }
    std::fs::read(path).map_err(|e| bad(e.to_string()))
}

/// The acceptor for a PEM certificate chain and its PEM private key.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    let cert_pem = read_pem(cert, "证书文件")?;
    let key_pem = read_pem(key, "私钥文件")?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| HubError::Invalid(format!("证书文件 {} 无法解析：{e}", cert.display())))?;
    if certs.is_empty() {
        return Err(HubError::Invalid(format!(
            "证书文件 {} 中没有 PEM 格式的证书",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| HubError::Invalid(format!("私钥文件 {} 无法解析：{e}", key.display())))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| HubError::Invalid(format!("TLS 设置无效：{e}")))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| HubError::Invalid(format!("证书与私钥不匹配或无效：{e}")))?;
    // HTTP/1.1 only: one request at a time per connection, each head under the
    // header timeout (see `limits`).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
