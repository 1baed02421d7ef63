//! 导入评价表格: the window's way to bring in the provincial system's exports. The
//! browser (and the desktop webview) hands the file over as base64; it is kept
//! under the cache's folder (`imports/<uuid>/`) so the preview can be redone with
//! a corrected mapping and the import run without sending it again.

use std::path::{Path, PathBuf};

use base64::Engine;
use hcp_import::{ImportOptions, ImportProgress, ImportSummary, Inspection, Mapping};
use hcp_store::{ImportProfile, Store, Who};
use hcp_sync::SyncEvent;
use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::cases::load_profile;
use crate::{App, AppError, AppResult};

/// Largest file taken through the window (the CLI reads any size from disk).
pub const MAX_UPLOAD_BYTES: usize = 48 * 1024 * 1024;

/// `import_inspect`: a new file (name + base64) or one staged before, with an
/// optional mapping or profile to preview with.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[serde(default)]
#[ts(export_to = "ImportInspectArgs.ts")]
pub struct ImportInspectArgs {
    /// The file's name as picked.
    pub file_name: Option<String>,
    /// Its bytes, base64.
    pub data_base64: Option<String>,
    /// A file staged by an earlier call.
    pub staged: Option<String>,
    /// Preview with this mapping.
    pub mapping: Option<Mapping>,
    /// Preview with this saved profile.
    pub profile: Option<String>,
}

/// What `import_inspect` answers: the staged file and what it looks like.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export_to = "ImportStaged.ts")]
pub struct ImportStaged {
    /// Pass back to `import_inspect` / `import_run`.
    pub staged: String,
    /// The preview.
    pub inspection: Inspection,
}

/// `import_run`.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[serde(default)]
#[ts(export_to = "ImportRunArgs.ts")]
pub struct ImportRunArgs {
    /// The staged file.
    pub staged: String,
    /// How to import.
    pub options: ImportOptions,
}

fn staging_root(db: &Path) -> PathBuf {
    db.parent()
        .unwrap_or_else(|| Path::new("."))
        .join("imports")
}

/// A file name safe to keep: letters (any script), digits, `.-_()（）`; at most 80.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let s: String = base
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || ".-_()（）".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let s = s.trim_start_matches('.').to_owned();
    if s.is_empty() {
        "评价表格".into()
    } else {
        s
    }
}

/// The staged file of an id (a UUID, checked: it becomes a path).
fn staged_file(db: &Path, staged: &str) -> AppResult<PathBuf> {
    if !hcp_core::ident::is_uuid(staged) {
        return Err(AppError::invalid("导入文件编号无效，请重新选择文件"));
    }
    let dir = staging_root(db).join(staged);
    let entry = std::fs::read_dir(&dir)
        .map_err(|_| AppError::invalid("找不到待导入的文件，请重新选择文件"))?
        .filter_map(Result::ok)
        .find(|e| e.path().is_file())
        .ok_or_else(|| AppError::invalid("找不到待导入的文件，请重新选择文件"))?;
    Ok(entry.path())
}

fn officer(s: &Store) -> AppResult<(String, hcp_core::case::Actor)> {
    let (p, _) = load_profile(s)?;
    p.role
        .check(hcp_core::Capability::ImportFiles)
        .map_err(|why| AppError::new(ErrorCode::Forbidden, why))?;
    Ok((p.name.clone(), p.role.actor()))
}

impl From<hcp_import::ImportError> for AppError {
    fn from(e: hcp_import::ImportError) -> Self {
        match e {
            hcp_import::ImportError::Store(s) => s.into(),
            hcp_import::ImportError::Io(..) => AppError::new(ErrorCode::Io, e.to_string()),
            other => AppError::invalid(other.to_string()),
        }
    }
}

impl App {
    /// Stages an uploaded file (or takes a staged one) and previews it.
    pub async fn import_inspect(&self, a: ImportInspectArgs) -> AppResult<ImportStaged> {
        let db = self.db.clone();
        self.with_store(move |s| {
            officer(s)?;
            let (staged, path) = match (&a.staged, &a.data_base64) {
                (Some(id), _) => (id.clone(), staged_file(&db, id)?),
                (None, Some(b64)) => {
                    if b64.len() > MAX_UPLOAD_BYTES / 3 * 4 + 4 {
                        return Err(AppError::invalid(format!(
                            "文件超过 {} MB：请用命令行 hcp import 导入大文件",
                            MAX_UPLOAD_BYTES / 1024 / 1024
                        )));
                    }
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(b64.trim())
                        .map_err(|_| AppError::invalid("文件内容无效（不是 base64）"))?;
                    let id = uuid::Uuid::new_v4().to_string();
                    let dir = staging_root(&db).join(&id);
                    std::fs::create_dir_all(&dir).map_err(|e| {
                        AppError::new(ErrorCode::Io, format!("无法保存待导入的文件：{e}"))
                    })?;
                    let path = dir.join(safe_name(a.file_name.as_deref().unwrap_or("")));
                    std::fs::write(&path, bytes).map_err(|e| {
                        AppError::new(ErrorCode::Io, format!("无法保存待导入的文件：{e}"))
                    })?;
                    (id, path)
                }
                (None, None) => return Err(AppError::invalid("请选择要导入的评价表格")),
            };
            let inspection =
                hcp_import::inspect(s, &path, a.mapping.clone(), a.profile.as_deref())?;
            Ok(ImportStaged { staged, inspection })
        })
        .await
    }

    /// Imports a staged file, with progress on the event stream; the staged copy
    /// is removed once it is in.
    pub async fn import_run(&self, a: ImportRunArgs) -> AppResult<ImportSummary> {
        let path = staged_file(&self.db, &a.staged)?;
        let sum = self.import_path(path.clone(), a.options).await?;
        if !sum.dry_run
            && let Some(dir) = path.parent()
        {
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(sum)
    }

    /// Imports a file from disk (the CLI's way), as the profile's officer.
    pub async fn import_path(
        &self,
        path: PathBuf,
        opts: ImportOptions,
    ) -> AppResult<ImportSummary> {
        let events = self.events.clone();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sum = self
            .with_store(move |s| {
                let (who, actor) = officer(s)?;
                let by = Who { name: &who, actor };
                let mut tick = |p: ImportProgress| {
                    let _ = events.send(SyncEvent::ImportProgress {
                        file_name: name.clone(),
                        rows: p.rows,
                        fraction: p.fraction,
                    });
                };
                Ok(hcp_import::import_file(s, &path, &opts, by, &mut tick)?)
            })
            .await?;
        if !sum.dry_run && (sum.new > 0 || sum.updated > 0) {
            self.refresh_alerts().await;
            // Figures, cases and reports follow, as after a sync.
            let _ = self.events.send(SyncEvent::ImportProgress {
                file_name: sum.file_name.clone(),
                rows: sum.rows_read,
                fraction: 1.0,
            });
        }
        Ok(sum)
    }

    /// Inspects a file on disk (the CLI's way).
    pub async fn import_inspect_path(
        &self,
        path: PathBuf,
        mapping: Option<Mapping>,
        profile: Option<String>,
    ) -> AppResult<Inspection> {
        self.with_store(move |s| Ok(hcp_import::inspect(s, &path, mapping, profile.as_deref())?))
            .await
    }

    /// The saved column profiles.
    pub async fn import_profiles(&self) -> AppResult<Vec<ImportProfile>> {
        self.with_store(|s| Ok(s.import_profiles()?)).await
    }

    /// Every hall name files have used and the hall it stands for:
    /// (name key, hall id, name as first seen).
    pub async fn import_hall_names(&self) -> AppResult<Vec<(String, String, String)>> {
        self.with_store(|s| Ok(s.import_hall_names()?)).await
    }

    /// Points a hall name used in files at an existing hall (e.g. the same hall
    /// registered with its own server), so that later imports of the name land
    /// there. Rows imported before stay where they are.
    pub async fn import_link_hall(&self, name: String, hall_id: String) -> AppResult<()> {
        let key = hcp_import::hall_key(&name);
        if key.is_empty() {
            return Err(AppError::invalid("大厅名称不能为空"));
        }
        self.with_store(move |s| {
            let (who, actor) = officer(s)?;
            Ok(s.link_import_hall(&key, &hall_id, Who { name: &who, actor })?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_safe() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\x\\10月 评价.xlsx"), "10月_评价.xlsx");
        assert_eq!(safe_name("..."), "评价表格");
        assert_eq!(safe_name("a&calc&.csv"), "a_calc_.csv");
    }
}
