//! The hand-in bundle (`.hcpv`): a submitted visit with its answers and photos,
//! written signed by the shopper's installation and read back, checked against
//! the trusted keys, by the officer's. The bundle's document and checks are hcp-bundle's.

use std::path::Path;

use hcp_bundle::handin::{
    BUNDLE_FORMAT, BundleAnswer, BundlePhoto, BundleVisit, CheckedHandin, check_handin,
};
pub use hcp_bundle::handin::{HANDIN_MAX_TOTAL, HandinInfo, inspect_handin};
use hcp_core::case::Actor;
use rusqlite::{OptionalExtension, params};
use serde_json::json;

use crate::cases::Who;
use crate::{Result, Store, StoreError, now_text};

use super::*;

/// The trusted key a bundle was signed with.
pub(super) struct BundleSigner<'a> {
    fingerprint: &'a str,
    public_key: &'a str,
    /// Its name in the trusted keys: the shopper's name as the officer knows it.
    name: &'a str,
}

impl Store {
    /// Writes a submitted visit as a signed bundle to `out`.
    pub fn export_visit(&self, visit_id: &str, out: &Path) -> Result<()> {
        let bytes = self.export_visit_bytes(visit_id)?;
        crate::bundle::write_bytes(out, &bytes)
    }

    /// Records that revision `rev` of a visit left this desk (a file or an upload).
    pub fn mark_visit_exported(&self, visit_id: &str, rev: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE visits SET exported_rev = max(coalesce(exported_rev, 0), ?2) WHERE visit_id = ?1",
            params![visit_id, rev],
        )?;
        Ok(())
    }

    /// A submitted visit as a signed bundle (what [`Store::export_visit`] writes,
    /// and what a shopper's desk uploads to the office hub).
    pub fn export_visit_bytes(&self, visit_id: &str) -> Result<Vec<u8>> {
        let (state, rev, hall_id, version, shopper, fields, submitted_at): (
            String,
            i64,
            String,
            String,
            String,
            String,
            Option<String>,
        ) = self
            .conn
            .query_row(
                "SELECT state, rev, hall_id, template_version, shopper, fields, submitted_at
                 FROM visits WHERE visit_id = ?1",
                [visit_id],
                |r| r.try_into(),
            )
            .optional()?
            .ok_or_else(|| refused(format!("没有编号为 {visit_id} 的暗访记录")))?;
        if rev == 0 || state != "submitted" {
            return Err(refused("请先提交暗访记录，再导出交件"));
        }
        let answers: Vec<BundleAnswer> = self
            .conn
            .prepare("SELECT item_id, answer, note FROM visit_answers WHERE visit_id = ?1 ORDER BY item_id")?
            .query_map([visit_id], |r| {
                let a: Option<String> = r.get(1)?;
                Ok(BundleAnswer {
                    item_id: r.get(0)?,
                    answer: a.and_then(|a| serde_json::from_str(&a).ok()),
                    note: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let photos: Vec<BundlePhoto> = self
            .conn
            .prepare(
                "SELECT item_id, sha256, file_name, exif_time, size FROM visit_photos
                 WHERE visit_id = ?1 ORDER BY item_id, sha256",
            )?
            .query_map([visit_id], |r| {
                Ok(BundlePhoto {
                    item_id: r.get(0)?,
                    sha256: r.get(1)?,
                    file_name: r.get(2)?,
                    exif_time: r.get(3)?,
                    size: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let doc = BundleVisit {
            format: BUNDLE_FORMAT.into(),
            visit_id: visit_id.into(),
            rev,
            hall_id,
            template_version: version,
            shopper,
            fields: serde_json::from_str(&fields).unwrap_or_default(),
            submitted_at,
            answers,
            photos: photos.clone(),
        };
        let visit_json =
            serde_json::to_vec_pretty(&doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut files: Vec<(String, Vec<u8>)> = vec![("visit.json".into(), visit_json)];
        let mut seen = std::collections::HashSet::new();
        for p in &photos {
            if !seen.insert(p.sha256.clone()) {
                continue;
            }
            let path = self.photo_path(&p.sha256);
            let bytes = std::fs::read(&path).map_err(|e| StoreError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            files.push((format!("photos/{}", p.sha256), bytes));
        }
        Ok(crate::bundle::sign(
            BUNDLE_FORMAT,
            &files,
            &self.signing_key()?,
        )?)
    }

    /// Imports a bundle: signature by a trusted key, every file's sum, then one
    /// transaction. The same revision again changes nothing; a newer one replaces
    /// the older; anything wrong imports nothing (photos written for it are taken
    /// back).
    pub fn import_visit(&mut self, bytes: &[u8], who: Who<'_>) -> Result<ImportOutcome> {
        self.import_handin(bytes, Vouched::TrustedKey, who)
    }

    /// Imports a bundle the office hub handed over. The hub checked it and tied it
    /// to the shopper's account when it was uploaded, so the shopper is that
    /// account and no key needs to be trusted here first; every other check and
    /// rule of [`Store::import_visit`] holds.
    pub fn import_visit_from_hub(
        &mut self,
        bytes: &[u8],
        account: &str,
        who: Who<'_>,
    ) -> Result<ImportOutcome> {
        self.import_handin(bytes, Vouched::Hub { account }, who)
    }

    fn import_handin(
        &mut self,
        bytes: &[u8],
        vouched: Vouched<'_>,
        who: Who<'_>,
    ) -> Result<ImportOutcome> {
        if who.actor != Actor::Officer {
            return Err(refused("只有效能督查员可以导入暗访交件"));
        }
        let CheckedHandin {
            files,
            doc,
            signer_hex,
            fingerprint: fp,
        } = check_handin(bytes)?;
        let shopper_name = match vouched {
            Vouched::Hub { account } => account.to_owned(),
            Vouched::TrustedKey => {
                crate::tasks::trusted_signer(self, &signer_hex, &fp, "交件", "该暗访员")?
            }
        };
        if self.hall(&doc.hall_id)?.is_none() {
            return Err(refused(format!(
                "交件中的大厅 “{}” 未在本机登记，请先添加该大厅",
                doc.hall_id
            )));
        }
        // What is stored already decides: same rev → nothing; newer → replace, but
        // only when the same key signed both.
        let existing: Option<(i64, String, String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT rev, state, origin, signer_key FROM visits WHERE visit_id = ?1",
                [&doc.visit_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        if let Some((_, _, origin, stored_key)) = &existing
            && origin == "imported"
            && stored_key.as_deref() != Some(signer_hex.as_str())
        {
            return Err(refused(format!(
                "该暗访记录此前由另一把密钥签名，不能用指纹为 {fp} 的密钥签名的交件替换，未导入"
            )));
        }
        let status = match &existing {
            None => "new",
            Some((rev, _, _, _)) if *rev >= doc.rev => {
                return Ok(ImportOutcome {
                    visit_id: doc.visit_id,
                    rev: *rev,
                    status: "unchanged".into(),
                    photos_added: 0,
                });
            }
            Some((_, _, origin, _)) if origin == "local" => {
                return Err(refused("这是本机填写的暗访记录，不能用交件覆盖"));
            }
            Some((_, state, _, _)) if matches!(state.as_str(), "accepted" | "closed") => {
                return Err(refused("该暗访记录已审核通过，不能再用新版本替换"));
            }
            Some(_) => "replaced",
        };
        // Photos first (content-addressed, so harmless), taken back on failure.
        let mut written = vec![];
        for p in &doc.photos {
            let b = &files[&format!("photos/{}", p.sha256)];
            match self.put_photo(b, &p.sha256) {
                Ok(true) => written.push(p.sha256.clone()),
                Ok(false) => {}
                Err(e) => {
                    self.remove_photos(&written);
                    return Err(e);
                }
            }
        }
        let signer = BundleSigner {
            fingerprint: &fp,
            public_key: &signer_hex,
            name: &shopper_name,
        };
        let result = self.store_imported(&doc, &signer, status, who);
        if let Err(e) = result {
            self.remove_photos(&written);
            return Err(e);
        }
        Ok(ImportOutcome {
            visit_id: doc.visit_id,
            rev: doc.rev,
            status: status.into(),
            photos_added: written.len() as u32,
        })
    }

    pub(super) fn store_imported(
        &mut self,
        doc: &BundleVisit,
        signer: &BundleSigner<'_>,
        status: &str,
        who: Who<'_>,
    ) -> Result<()> {
        let tx = self.write_tx()?;
        let now = now_text();
        let fields =
            serde_json::to_string(&doc.fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.execute(
            "DELETE FROM visit_answers WHERE visit_id = ?1",
            [&doc.visit_id],
        )?;
        tx.execute(
            "DELETE FROM visit_photos WHERE visit_id = ?1",
            [&doc.visit_id],
        )?;
        tx.execute(
            "INSERT INTO visits (visit_id, hall_id, template_version, state, rev, shopper, origin, signer,
                signer_key, fields, created_at, updated_at, submitted_at)
             VALUES (?1, ?2, ?3, 'submitted', ?4, ?5, 'imported', ?6, ?7, ?8, ?9, ?9, ?10)
             ON CONFLICT (visit_id) DO UPDATE SET state = 'submitted', rev = excluded.rev,
                shopper = excluded.shopper, signer = excluded.signer, signer_key = excluded.signer_key,
                fields = excluded.fields, updated_at = excluded.updated_at,
                submitted_at = excluded.submitted_at, review_note = NULL, reviewed_at = NULL",
            params![
                doc.visit_id,
                doc.hall_id,
                doc.template_version,
                doc.rev,
                // The name the officer gave the key, not what the bundle claims.
                signer.name,
                signer.fingerprint,
                signer.public_key,
                fields,
                now,
                doc.submitted_at
            ],
        )?;
        for a in &doc.answers {
            let json = a
                .answer
                .as_ref()
                .map(|x| serde_json::to_string(x).map_err(|e| StoreError::Corrupt(e.to_string())))
                .transpose()?;
            tx.execute(
                "INSERT INTO visit_answers (visit_id, item_id, answer, note, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![doc.visit_id, a.item_id, json, a.note, now],
            )?;
        }
        for p in &doc.photos {
            insert_photo(
                &tx,
                &doc.visit_id,
                &p.item_id,
                &VisitPhoto {
                    sha256: p.sha256.clone(),
                    file_name: p.file_name.clone(),
                    exif_time: p.exif_time.clone(),
                    size: p.size,
                },
            )?;
        }
        audit_visit(
            &tx,
            who,
            &doc.visit_id,
            "visit_imported",
            json!({
                "rev": doc.rev,
                "signer": signer.fingerprint,
                "signer_key": signer.public_key,
                "shopper": signer.name,
                "bundle_shopper": doc.shopper,
                "status": status
            }),
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Who vouches for the shopper of a bundle being imported.
enum Vouched<'a> {
    /// A key an officer of this desk trusted (USB hand-in): its name is the shopper.
    TrustedKey,
    /// The office hub, which took the upload from this signed-in account.
    Hub { account: &'a str },
}
