//! 首次连接时查看服务器证书: a TLS handshake with an `https://` address that
//! trusts nothing and keeps the certificate the server presented, so the window can
//! show its fingerprint for the officer to compare with the one the office's
//! administrator gave out, and pin it (trust exactly that certificate from then
//! on) once accepted. Nothing is sent over this connection: it is closed right
//! after the handshake, so no password or token can go to an unverified server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::ServerCertVerified;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::SyncError;
use crate::trust::{CertDecision, Checked};

/// A certificate bigger than this is not one an office would use.
pub const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

/// The certificate a server presented.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export_to = "PeekedCertificate.ts")]
pub struct PeekedCertificate {
    /// `host:port` it came from.
    pub address: String,
    /// SHA-256 of the certificate (DER), as upper-case hex pairs joined by `:`
    /// (the form certificate viewers show).
    pub sha256: String,
    /// The certificate, PEM.
    pub pem: String,
}

/// The SHA-256 fingerprint of a DER certificate, `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// PEM text of a DER certificate.
pub fn to_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Keeps the end-entity certificate and accepts it; the handshake signature is
/// still checked (by [`Checked`]), so the server proved it holds the
/// certificate's key.
#[derive(Debug)]
struct Capture {
    seen: Mutex<Option<Vec<u8>>>,
}

impl CertDecision for Capture {
    fn decide(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.len() > MAX_CERTIFICATE_BYTES {
            return Err(rustls::Error::General("certificate too large".into()));
        }
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(end_entity.to_vec());
        Ok(ServerCertVerified::assertion())
    }
}

/// Connects to an `https://` address, completes the TLS handshake trusting
/// nothing, and returns the certificate the server presented.
pub async fn peek_certificate(
    url: &str,
    timeout: Duration,
) -> Result<PeekedCertificate, SyncError> {
    let bad = |detail: &str| SyncError::BadUrl {
        url: url.to_owned(),
        detail: detail.to_owned(),
    };
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
    if parsed.scheme() != "https" {
        return Err(bad("只有 https:// 地址有证书可查看"));
    }
    let host = parsed.host_str().ok_or_else(|| bad("缺少主机名"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let name = ServerName::try_from(host.clone()).map_err(|_| bad("主机名无效"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let capture = Arc::new(Checked {
        decision: Capture {
            seen: Mutex::new(None),
        },
        provider: provider.clone(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SyncError::Client(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(capture.clone())
        .with_no_client_auth();
    let address = format!("{host}:{port}");
    let unreachable = |detail: String| SyncError::GaveUp {
        attempts: 1,
        last: format!("无法连接 {address}：{detail}"),
    };
    let handshake = async {
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| unreachable(format!("TLS 握手失败：{e}")))
    };
    let stream = tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| unreachable(format!("{} 秒内没有完成 TLS 握手", timeout.as_secs())))??;
    // Nothing is sent: the connection only served to read the certificate.
    drop(stream);
    let der = capture
        .decision
        .seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| unreachable("服务器没有出示证书".into()))?;
    Ok(PeekedCertificate {
        sha256: fingerprint(&der),
        pem: to_pem(&der),
        address,
    })
}
