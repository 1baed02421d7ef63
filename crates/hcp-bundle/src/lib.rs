//! The signed bundles that travel between installations — a shopper's hand-in
//! (`.hcpv`), an officer's task package (`.hcpt`) and review (`.hcpr`) — as bytes:
//! the signed zip ([`signed`]), the fingerprints people compare keys by
//! ([`keys`]) and the hand-in's document with the checks every reader makes
//! before trusting it ([`handin`]). No storage: the desk's cache and the office
//! hub both read bundles through this crate.

pub mod handin;
pub mod keys;
pub mod signed;

pub use handin::{HANDIN_MAX_TOTAL, HandinInfo, inspect_handin};
pub use keys::{fingerprint, fingerprint_hex};
pub use signed::bundle_format;

/// Why a bundle could not be made or read (zh-CN for people).
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The bundle is not what it must be; nothing was taken from it.
    #[error("{0}")]
    Refused(String),
    /// Our own data would not serialise (a defect).
    #[error("数据无法写入：{0}")]
    Corrupt(String),
}

/// This crate's results.
pub type Result<T> = std::result::Result<T, BundleError>;
