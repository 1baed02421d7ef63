//! The signing keys of hand-ins: this installation's own Ed25519 key and the
//! shoppers' keys an officer trusts (or revoked).

use std::io::Write;
use std::path::PathBuf;

use ed25519_dalek::{SigningKey, VerifyingKey};
use hcp_core::case::Actor;
use rusqlite::params;
use serde_json::json;

use crate::audit::audit_in;
use crate::cases::Who;
use crate::{Result, Store, StoreError, now_text};

use super::*;

pub use hcp_bundle::keys::{fingerprint, fingerprint_hex};

impl Store {
    pub(super) fn key_path(&self) -> PathBuf {
        let mut p = self.path().as_os_str().to_owned();
        p.push(".visitkey");
        PathBuf::from(p)
    }

    /// This installation's signing key, made on first use and kept owner-only
    /// beside the cache.
    pub(crate) fn signing_key(&self) -> Result<SigningKey> {
        let path = self.key_path();
        let io = |e: std::io::Error| StoreError::Io {
            path: path.display().to_string(),
            source: e,
        };
        // Only a key file that does not exist is made anew: any other failure to
        // read it (permissions, a disk error) must not silently become a new
        // identity that the officers' trusted keys do not know.
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|e| {
                    StoreError::Corrupt(format!("签名密钥文件 {}：{e}", path.display()))
                })?;
                let seed: [u8; 32] = bytes.try_into().map_err(|_| {
                    StoreError::Corrupt(format!("签名密钥文件 {} 长度不对", path.display()))
                })?;
                return Ok(SigningKey::from_bytes(&seed));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| StoreError::Corrupt(format!("无法生成随机数：{e}")))?;
        let key = SigningKey::from_bytes(&seed);
        let tmp = path.with_extension("visitkey.part");
        {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp).map_err(io)?;
            f.write_all(hex::encode(seed).as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(key)
    }

    /// This installation's public key and fingerprint.
    pub fn own_key(&self) -> Result<KeyInfo> {
        let key = self.signing_key()?.verifying_key();
        Ok(KeyInfo {
            fingerprint: fingerprint(key.as_bytes()),
            public_key: hex::encode(key.as_bytes()),
            name: "本机".into(),
            revoked_at: None,
        })
    }

    /// Trusts a public key (hex) under a name: on an office machine an officer
    /// trusts shoppers' keys (for hand-ins), on a shopper's laptop the shopper
    /// trusts the office's key (for task packages and reviews). Trusting a revoked
    /// key again restores it (audited like the first time).
    pub fn trust_key(&mut self, public_key_hex: &str, name: &str, who: Who<'_>) -> Result<KeyInfo> {
        if !matches!(who.actor, Actor::Officer | Actor::Shopper) {
            return Err(refused("只有效能督查员或暗访员可以信任公钥"));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 32 {
            return Err(refused("请填写暗访员姓名（不超过 32 个字）"));
        }
        let bytes: [u8; 32] = hex::decode(public_key_hex.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| refused("公钥格式不正确：应为 64 位十六进制字符"))?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| refused("这不是有效的 Ed25519 公钥"))?;
        let info = KeyInfo {
            fingerprint: fingerprint(&bytes),
            public_key: hex::encode(bytes),
            name: name.to_owned(),
            revoked_at: None,
        };
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO trusted_keys (public_key, fingerprint, name, trusted_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (public_key) DO UPDATE SET name = excluded.name,
                trusted_at = excluded.trusted_at, revoked_at = NULL, revoked_by = NULL",
            params![info.public_key, info.fingerprint, info.name, now_text()],
        )?;
        audit_in(&tx, who, "keys", "key_trusted", &json!({"fingerprint": info.fingerprint, "public_key": info.public_key, "name": info.name}).to_string())?;
        tx.commit()?;
        Ok(info)
    }

    /// Revokes the trust in a key, named by its public key or its fingerprint:
    /// its bundles are refused from now on; visits already imported stay. Audited.
    pub fn revoke_key(&mut self, key_or_fingerprint: &str, who: Who<'_>) -> Result<KeyInfo> {
        if !matches!(who.actor, Actor::Officer | Actor::Shopper) {
            return Err(refused("只有效能督查员或暗访员可以撤销对公钥的信任"));
        }
        let wanted = key_or_fingerprint.trim();
        let matches: Vec<KeyInfo> = self
            .trusted_keys()?
            .into_iter()
            .filter(|k| {
                k.public_key.eq_ignore_ascii_case(wanted)
                    || k.fingerprint.eq_ignore_ascii_case(wanted)
            })
            .collect();
        let key = match matches.as_slice() {
            [] => {
                return Err(refused(format!(
                    "没有受信任的公钥 “{}”",
                    hcp_core::ident::printable(wanted)
                )));
            }
            [k] => k.clone(),
            _ => return Err(refused("有多个公钥的指纹相同，请用完整公钥撤销")),
        };
        if key.revoked_at.is_some() {
            return Ok(key);
        }
        let now = now_text();
        let tx = self.write_tx()?;
        tx.execute(
            "UPDATE trusted_keys SET revoked_at = ?2, revoked_by = ?3 WHERE public_key = ?1",
            params![key.public_key, now, who.name],
        )?;
        audit_in(&tx, who, "keys", "key_revoked", &json!({"fingerprint": key.fingerprint, "public_key": key.public_key, "name": key.name}).to_string())?;
        tx.commit()?;
        Ok(KeyInfo {
            revoked_at: Some(now),
            ..key
        })
    }

    /// Trusted keys, revoked ones included (with the time of revocation).
    pub fn trusted_keys(&self) -> Result<Vec<KeyInfo>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT fingerprint, public_key, name, revoked_at FROM trusted_keys ORDER BY trusted_at, public_key",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(KeyInfo {
                fingerprint: r.get(0)?,
                public_key: r.get(1)?,
                name: r.get(2)?,
                revoked_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
