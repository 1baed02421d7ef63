//! Visit photos: stored once by content (sha256) beside the cache, with a
//! thumbnail, and attached to checklist items.

use std::path::{Path, PathBuf};

use hcp_core::visit::VisitAction;
use rusqlite::{Transaction, params};

use crate::bundle::sha256_hex;
use crate::cases::Who;
use crate::{Result, Store, StoreError, now_text};

use super::*;

/// A photo larger than this is refused (a phone photo is a few MB).
pub const MAX_PHOTO_BYTES: usize = crate::bundle::MAX_FILE_BYTES as usize;

/// EXIF DateTimeOriginal (or DateTime) of a photo, as written in it.
pub(super) fn exif_time(bytes: &[u8]) -> Option<String> {
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .ok()?;
    for tag in [exif::Tag::DateTimeOriginal, exif::Tag::DateTime] {
        if let Some(f) = exif.get_field(tag, exif::In::PRIMARY)
            && let exif::Value::Ascii(v) = &f.value
            && let Some(first) = v.first()
        {
            return Some(String::from_utf8_lossy(first).trim().to_string());
        }
    }
    None
}

pub(super) fn insert_photo(
    tx: &Transaction<'_>,
    visit_id: &str,
    item_id: &str,
    p: &VisitPhoto,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO visit_photos (visit_id, item_id, sha256, file_name, exif_time, size, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![visit_id, item_id, p.sha256, p.file_name, p.exif_time, p.size, now_text()])?;
    Ok(())
}

impl Store {
    /// Where photos live: `photos/` beside the cache file.
    pub fn photo_dir(&self) -> PathBuf {
        self.path()
            .parent()
            .unwrap_or(Path::new("."))
            .join("photos")
    }

    /// The stored photo of `sha256`.
    pub fn photo_path(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("xx");
        self.photo_dir().join(prefix).join(sha256)
    }

    /// Its thumbnail (PNG, at most 320 px), when one could be made.
    pub fn thumbnail_path(&self, sha256: &str) -> PathBuf {
        self.photo_dir()
            .join("thumbs")
            .join(format!("{sha256}.png"))
    }

    /// Writes a photo into the store unless it is there; returns whether it was
    /// written (so a failed import can take back exactly what it added).
    pub(super) fn put_photo(&self, bytes: &[u8], sha: &str) -> Result<bool> {
        let path = self.photo_path(sha);
        if path.exists() {
            return Ok(false);
        }
        let io = |e: std::io::Error| StoreError::Io {
            path: path.display().to_string(),
            source: e,
        };
        // Evidence photos are for the owner only: photos/ is 0700, each file 0600.
        crate::create_private_dir(&self.photo_dir(), true).map_err(io)?;
        if let Some(dir) = path.parent() {
            crate::create_private_dir(dir, true).map_err(io)?;
        }
        // Write aside, then rename: a crash never leaves half a photo under its name.
        let tmp = path.with_extension("part");
        crate::write_private(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        // A thumbnail when the bytes are a picture we can read; never fatal.
        if let Ok(img) = image::load_from_memory(bytes) {
            let thumb = img.thumbnail(320, 320);
            let tpath = self.thumbnail_path(sha);
            if let Some(dir) = tpath.parent() {
                let _ = crate::create_private_dir(dir, true);
            }
            let _ = thumb.save_with_format(&tpath, image::ImageFormat::Png);
        }
        Ok(true)
    }

    pub(super) fn remove_photos(&self, shas: &[String]) {
        for sha in shas {
            let _ = std::fs::remove_file(self.photo_path(sha));
            let _ = std::fs::remove_file(self.thumbnail_path(sha));
        }
    }

    /// Attaches a photo to an item: stored by content, with its thumbnail and EXIF
    /// time. The same photo twice is kept once.
    pub fn attach_visit_photo(
        &mut self,
        visit_id: &str,
        item_id: &str,
        bytes: &[u8],
        file_name: &str,
        who: Who<'_>,
    ) -> Result<VisitPhoto> {
        if bytes.is_empty() {
            return Err(refused("照片文件是空的"));
        }
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(refused("照片超过 30 MB，请压缩后再添加"));
        }
        let sha = sha256_hex(bytes);
        let written = self.put_photo(bytes, &sha)?;
        let photo = VisitPhoto {
            sha256: sha.clone(),
            file_name: file_name.chars().take(200).collect(),
            exif_time: exif_time(bytes),
            size: bytes.len() as i64,
        };
        let result = (|| -> Result<()> {
            let tx = self.write_tx()?;
            let (_, next, template) = Self::visit_step(&tx, visit_id, &VisitAction::Edit, who)?;
            template
                .item(item_id)
                .ok_or_else(|| refused(format!("检查表中没有条目 “{item_id}”")))?;
            insert_photo(&tx, visit_id, item_id, &photo)?;
            touch(&tx, visit_id, next)?;
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = result {
            if written {
                self.remove_photos(std::slice::from_ref(&sha));
            }
            return Err(e);
        }
        Ok(photo)
    }

    /// Takes a photo off an item (a wrong picture) while the visit can still be
    /// edited; the file goes once no visit uses it. Audited.
    pub fn detach_visit_photo(
        &mut self,
        visit_id: &str,
        item_id: &str,
        sha256: &str,
        who: Who<'_>,
    ) -> Result<()> {
        let tx = self.write_tx()?;
        let (_, next, _) = Self::visit_step(&tx, visit_id, &VisitAction::Edit, who)?;
        let gone = tx.execute(
            "DELETE FROM visit_photos WHERE visit_id = ?1 AND item_id = ?2 AND sha256 = ?3",
            params![visit_id, item_id, sha256],
        )?;
        if gone == 0 {
            return Err(refused("该条目没有这张照片"));
        }
        touch(&tx, visit_id, next)?;
        audit_visit(
            &tx,
            who,
            visit_id,
            "visit_photo_removed",
            serde_json::json!({"item_id": item_id, "sha256": sha256}),
        )?;
        let still_used: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM visit_photos WHERE sha256 = ?1)",
            [sha256],
            |r| r.get(0),
        )?;
        tx.commit()?;
        if !still_used {
            self.remove_photos(&[sha256.to_owned()]);
        }
        Ok(())
    }
}
