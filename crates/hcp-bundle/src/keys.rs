//! Fingerprints of the Ed25519 keys that sign bundles, as people compare them.

use sha2::{Digest, Sha256};

/// `3F2A-91C0-77DE-0B14`: the first 8 bytes of sha256(public key).
pub fn fingerprint(public_key: &[u8]) -> String {
    let h = Sha256::digest(public_key);
    h[..8]
        .chunks(2)
        .map(hex::encode_upper)
        .collect::<Vec<_>>()
        .join("-")
}

/// The fingerprint of a public key stored as hex; the text itself when it is not
/// hex (never the case for keys this program stored).
pub fn fingerprint_hex(public_key_hex: &str) -> String {
    match hex::decode(public_key_hex) {
        Ok(b) => fingerprint(&b),
        Err(_) => hcp_core::ident::printable(public_key_hex),
    }
}
