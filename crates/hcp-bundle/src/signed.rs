//! The signed zip every file that travels between installations uses: a shopper's
//! hand-in (`.hcpv`), an officer's task package (`.hcpt`) and review (`.hcpr`).
//!
//! Layout: `manifest.json` (format, the signer's Ed25519 public key, and every
//! other file's path, sha256 and size), `manifest.sig` (the signature over the
//! manifest), the files, and the zip's archive comment holding a second
//! signature over every byte before it — so a change anywhere, zip headers and
//! timestamps included, is caught. Reading checks both signatures and every sum
//! before anything is handed back, and caps what a crafted file can make us read.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{BundleError, Result};

/// The archive comment: this prefix, then 128 hex digits of signature.
const FILE_SIG_PREFIX: &str = "hcpv-sig:";
const FILE_SIG_LEN: usize = FILE_SIG_PREFIX.len() + 128;
/// At most this many files in a bundle…
const MAX_FILES: usize = 2_000;
/// …this many bytes in all, whatever the manifest says…
pub const MAX_TOTAL_BYTES: u64 = 1 << 30;
/// …and this many in one file (a phone photo is a few MB).
pub const MAX_FILE_BYTES: u64 = 30 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    format: String,
    /// Ed25519 public key of the signer (hex).
    signer: String,
    files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ManifestFile {
    path: String,
    sha256: String,
    size: u64,
}

/// A bundle whose signatures and sums all check out.
pub struct OpenedBundle {
    /// The signer's public key.
    pub signer: [u8; 32],
    /// The files the caller asked to keep (all of them for [`open_signed`]), by path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Every file the manifest lists, by path, with its checked sha256 (hex).
    pub listed: BTreeMap<String, String>,
}

impl OpenedBundle {
    /// The signer's key as stored: 64 lower-case hex digits.
    pub fn signer_hex(&self) -> String {
        hex::encode(self.signer)
    }
}

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// `files` (path, bytes) as a bundle of `format` signed with `key`. Paths under
/// `photos/` are stored, the rest deflated.
pub fn sign(format: &str, files: &[(String, Vec<u8>)], key: &SigningKey) -> Result<Vec<u8>> {
    let manifest = Manifest {
        format: format.into(),
        signer: hex::encode(key.verifying_key().as_bytes()),
        files: files
            .iter()
            .map(|(path, b)| ManifestFile {
                path: path.clone(),
                sha256: sha256_hex(b),
                size: b.len() as u64,
            })
            .collect(),
    };
    let manifest_json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| BundleError::Corrupt(e.to_string()))?;
    let sig = key.sign(&manifest_json);
    let io = |e: std::io::Error| BundleError::Refused(format!("无法写入文件：{e}"));
    let zerr = |e: zip::result::ZipError| BundleError::Refused(format!("无法写入文件：{e}"));
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflate = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("manifest.json", deflate).map_err(zerr)?;
    z.write_all(&manifest_json).map_err(io)?;
    z.start_file("manifest.sig", deflate).map_err(zerr)?;
    z.write_all(hex::encode(sig.to_bytes()).as_bytes())
        .map_err(io)?;
    for (path, bytes) in files {
        // Photos are already compressed: store them.
        let opts = if path.starts_with("photos/") {
            stored
        } else {
            deflate
        };
        z.start_file(path, opts).map_err(zerr)?;
        z.write_all(bytes).map_err(io)?;
    }
    z.set_comment(format!("{FILE_SIG_PREFIX}{}", "0".repeat(128)));
    let mut bytes = z.finish().map_err(zerr)?.into_inner();
    // Sign every byte before the signature itself and write it into the comment.
    let body = bytes.len() - 128;
    let whole = key.sign(&bytes[..body - FILE_SIG_PREFIX.len()]);
    bytes[body..].copy_from_slice(hex::encode(whole.to_bytes()).as_bytes());
    Ok(bytes)
}

/// The format a bundle says it is (`hcpv/1`, `hcpt/1`, `hcpr/1`), read from its
/// manifest without checking anything: only to choose which import to run (that
/// import then checks everything).
pub fn bundle_format(bytes: &[u8]) -> Option<String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let f = zip.by_name("manifest.json").ok()?;
    let mut buf = vec![];
    f.take(1 << 20).read_to_end(&mut buf).ok()?;
    let m: Manifest = serde_json::from_slice(&buf).ok()?;
    Some(m.format)
}

/// Opens a bundle that must be of `format`: both signatures, every sum and size,
/// and the caps. `what` names the kind of file in messages (交件文件, 任务包…).
/// Says nothing yet about whether the signer is trusted: the caller decides.
pub fn open_signed(bytes: &[u8], format: &str, what: &str) -> Result<OpenedBundle> {
    check_signed(bytes, format, what, &|_| true, MAX_TOTAL_BYTES)
}

/// [`open_signed`] keeping in memory only the files `keep` names: the others are
/// hashed while they are decompressed, a block at a time, so checking a bundle
/// costs a few blocks of memory whatever its files hold. Refused as soon as the
/// manifest's total, or the bytes actually decompressed, pass `max_total`.
pub fn check_signed(
    bytes: &[u8],
    format: &str,
    what: &str,
    keep: &dyn Fn(&str) -> bool,
    max_total: u64,
) -> Result<OpenedBundle> {
    let bad = |why: &str| BundleError::Refused(format!("{what}无效，未导入任何内容：{why}"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|_| bad("不是完整的文件（可能未传完或已损坏）"))?;
    let comment = zip.comment().to_vec();
    let mut read = |name: &str, limit: u64| -> Result<Vec<u8>> {
        let f = zip
            .by_name(name)
            .map_err(|_| bad(&format!("缺少 {}", hcp_core::ident::printable(name))))?;
        let mut buf = vec![];
        f.take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|_| bad(&format!("{} 已损坏", hcp_core::ident::printable(name))))?;
        if buf.len() as u64 > limit {
            return Err(bad(&format!("{} 过大", hcp_core::ident::printable(name))));
        }
        Ok(buf)
    };
    let manifest_bytes = read("manifest.json", 1 << 20)?;
    let sig_hex = read("manifest.sig", 1024)?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest_bytes).map_err(|_| bad("清单无法解析"))?;
    if manifest.format != format {
        return Err(bad(&format!(
            "文件类型为 “{}”，应为 “{format}”",
            hcp_core::ident::printable(&manifest.format)
        )));
    }
    let signer: [u8; 32] = hex::decode(&manifest.signer)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("签名公钥格式错误"))?;
    let key = VerifyingKey::from_bytes(&signer).map_err(|_| bad("签名公钥无效"))?;
    let sig: [u8; 64] = hex::decode(String::from_utf8_lossy(&sig_hex).trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("签名格式错误"))?;
    key.verify(&manifest_bytes, &Signature::from_bytes(&sig))
        .map_err(|_| bad("签名校验失败（文件被改动过）"))?;
    // The whole file, zip headers included.
    if comment.len() != FILE_SIG_LEN
        || !comment.starts_with(FILE_SIG_PREFIX.as_bytes())
        || !bytes.ends_with(&comment)
    {
        return Err(bad("缺少整体签名"));
    }
    let whole: [u8; 64] = hex::decode(&comment[FILE_SIG_PREFIX.len()..])
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("整体签名格式错误"))?;
    key.verify(
        &bytes[..bytes.len() - FILE_SIG_LEN],
        &Signature::from_bytes(&whole),
    )
    .map_err(|_| bad("整体签名校验失败（文件被改动过）"))?;
    // A signed manifest can still describe more than this machine should read.
    if manifest.files.len() > MAX_FILES {
        return Err(bad(&format!("文件过多（{} 个）", manifest.files.len())));
    }
    let too_much = || bad(&format!("内容总量超过 {} MiB", max_total >> 20));
    let mut declared: u64 = 0;
    for f in &manifest.files {
        if f.size > MAX_FILE_BYTES {
            return Err(bad(&format!(
                "{} 过大",
                hcp_core::ident::printable(&f.path)
            )));
        }
        declared = declared.saturating_add(f.size);
    }
    if declared > max_total {
        return Err(too_much());
    }
    let mut files = BTreeMap::new();
    let mut listed = BTreeMap::new();
    let mut decompressed: u64 = 0;
    for f in &manifest.files {
        let mismatch = || {
            bad(&format!(
                "{} 的校验和不符（文件被改动过）",
                hcp_core::ident::printable(&f.path)
            ))
        };
        let entry = zip
            .by_name(&f.path)
            .map_err(|_| bad(&format!("缺少 {}", hcp_core::ident::printable(&f.path))))?;
        // Never more than the manifest says (plus one byte to notice a longer file).
        let mut entry = entry.take(f.size + 1);
        let mut hasher = Sha256::new();
        let mut kept = keep(&f.path).then(Vec::new);
        let mut block = [0u8; 64 * 1024];
        let mut n_read: u64 = 0;
        loop {
            let n = entry
                .read(&mut block)
                .map_err(|_| bad(&format!("{} 已损坏", hcp_core::ident::printable(&f.path))))?;
            if n == 0 {
                break;
            }
            n_read += n as u64;
            decompressed += n as u64;
            if n_read > f.size {
                return Err(mismatch());
            }
            if decompressed > max_total {
                return Err(too_much());
            }
            hasher.update(&block[..n]);
            if let Some(k) = kept.as_mut() {
                k.extend_from_slice(&block[..n]);
            }
        }
        let sum = hex::encode(hasher.finalize());
        if n_read != f.size || sum != f.sha256 {
            return Err(mismatch());
        }
        listed.insert(f.path.clone(), sum);
        if let Some(k) = kept {
            files.insert(f.path.clone(), k);
        }
    }
    Ok(OpenedBundle {
        signer,
        files,
        listed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    #[test]
    fn a_bundle_round_trips_and_any_flipped_byte_is_caught() {
        let files = vec![
            ("task.json".to_string(), b"{\"a\":1}".to_vec()),
            ("photos/ab".to_string(), vec![7u8; 3000]),
        ];
        let bytes = sign("hcpt/1", &files, &key(1)).unwrap();
        let opened = open_signed(&bytes, "hcpt/1", "任务包").unwrap();
        assert_eq!(opened.signer, *key(1).verifying_key().as_bytes());
        assert_eq!(opened.files["photos/ab"], vec![7u8; 3000]);
        let e = open_signed(&bytes, "hcpr/1", "审核意见").err().unwrap();
        assert!(e.to_string().contains("应为 “hcpr/1”"), "{e}");
        for at in (0..bytes.len()).step_by(53) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(open_signed(&bad, "hcpt/1", "任务包").is_err(), "byte {at}");
        }
        assert!(open_signed(&bytes[..bytes.len() / 2], "hcpt/1", "任务包").is_err());
    }
}
