//! The signed zip every file that travels between installations uses lives in
//! hcp-bundle; here the cache writes finished bundles to disk (privately, through
//! a `.part` file and a rename).

use std::path::Path;

use ed25519_dalek::SigningKey;
pub(crate) use hcp_bundle::signed::{MAX_FILE_BYTES, open_signed, sha256_hex, sign};

use crate::{Result, StoreError};

/// Writes a signed bundle ([`sign`]) to `out`, through a `.part` file and a rename.
pub(crate) fn write_signed(
    out: &Path,
    format: &str,
    files: &[(String, Vec<u8>)],
    key: &SigningKey,
) -> Result<()> {
    let bytes = sign(format, files, key)?;
    write_bytes(out, &bytes)
}

/// Writes finished bundle bytes to `out`, through a `.part` file and a rename.
pub(crate) fn write_bytes(out: &Path, bytes: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| StoreError::Io {
        path: out.display().to_string(),
        source: e,
    };
    let tmp = out.with_extension("part");
    crate::write_private(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, out).map_err(io)?;
    Ok(())
}
