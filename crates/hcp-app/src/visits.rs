//! The mystery-shopper commands: drafts, photos, hand-in bundles, review, keys.
//! A director never sees who the shopper was.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hcp_core::case::Actor;
use hcp_core::visit::{Answer, ChecklistTemplate};
use hcp_core::{Capability, Role};
use hcp_store::{
    ImportOutcome, KeyInfo, ReviewImport, Store, TaskImport, VisitDetail, VisitPhoto, VisitReview,
    VisitRow, VisitTaskRow, Who,
};

use crate::ErrorCode;
use crate::cases::load_profile;
use crate::{App, AppError, AppResult, types::*};

fn who_of(s: &Store) -> AppResult<(String, Actor, Option<String>, Role)> {
    let (p, _) = load_profile(s)?;
    Ok((p.name, p.role.actor(), p.hall_id, p.role))
}

fn decode(b64: &str, what: &str) -> AppResult<Vec<u8>> {
    B64.decode(b64.trim())
        .map_err(|_| AppError::invalid(format!("{what}数据无法读取（base64 格式错误）")))
}

/// What a viewer may see of a visit: those who neither visit nor review (a
/// director) only their hall's, and never who the shopper was.
fn redact(row: &mut VisitRow, role: Role, own_hall: Option<&str>) -> AppResult<()> {
    if !role.may(Capability::ViewVisits) && !role.may_read_hall(own_hall, &row.hall_id) {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            format!("{}只能查看本大厅的暗访记录", role.label_zh()),
        ));
    }
    if !role.may(Capability::SeeShopperNames) && !role.may(Capability::FileVisits) {
        row.shopper = None;
    }
    Ok(())
}

impl App {
    /// The checklist template of a version, for the form's sections.
    pub fn visit_template(&self, version: &str) -> AppResult<TemplateView> {
        let t = ChecklistTemplate::builtin(version)
            .ok_or_else(|| AppError::not_found(format!("没有版本为 “{version}” 的检查表模板")))?;
        Ok(TemplateView {
            version: t.version.clone(),
            name: t.name.clone(),
            sections: t
                .sections
                .iter()
                .map(|s| TemplateSection {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    items: s.items.iter().map(|i| i.id.clone()).collect(),
                })
                .collect(),
        })
    }

    /// Visits (a director: their hall's, without the shopper).
    pub async fn list_visits(&self, a: VisitListArgs) -> AppResult<Vec<VisitRow>> {
        self.with_store(move |s| {
            let (_, _, own, role) = who_of(s)?;
            let hall = role
                .hall_scope(own.as_deref(), a.hall_id)
                .map_err(|why| AppError::new(ErrorCode::Forbidden, why))?;
            let mut rows = s.list_visits(hall.as_deref())?;
            for r in &mut rows {
                redact(r, role, own.as_deref())?;
            }
            Ok(rows)
        })
        .await
    }

    /// One visit with every item.
    pub async fn visit_detail(&self, a: VisitIdArgs) -> AppResult<VisitDetail> {
        self.with_store(move |s| {
            let (_, _, own, role) = who_of(s)?;
            let mut d = s.visit_detail(&a.visit_id)?;
            redact(&mut d.visit, role, own.as_deref())?;
            Ok(d)
        })
        .await
    }

    /// Starts a visit (shoppers).
    pub async fn create_visit(&self, a: NewVisitArgs) -> AppResult<String> {
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            let v = a
                .template_version
                .unwrap_or_else(|| hcp_core::visit::CURRENT_TEMPLATE.into());
            Ok(s.create_visit(&a.hall_id, &v, Who { name: &name, actor })?)
        })
        .await
    }

    /// Saves one item's answer and note at once.
    pub async fn set_visit_answer(&self, a: VisitAnswerArgs) -> AppResult<VisitDetail> {
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            let who = Who { name: &name, actor };
            if a.result.as_deref() == Some("clear") {
                s.clear_visit_answer(&a.visit_id, &a.item_id, who)?;
            } else {
                let answer = match a.result.as_deref() {
                    None => None,
                    Some("pass") => Some(Answer::Pass),
                    Some("not_applicable") => Some(Answer::NotApplicable),
                    Some("deduct") => Some(Answer::Deduct {
                        points: a.points.ok_or_else(|| AppError::invalid("请填写扣分"))?,
                    }),
                    Some(other) => {
                        return Err(AppError::invalid(format!(
                            "检查结果 “{other}” 无效：应为 pass、deduct 或 not_applicable"
                        )));
                    }
                };
                s.set_visit_answer(
                    &a.visit_id,
                    &a.item_id,
                    answer.as_ref(),
                    a.note.as_deref(),
                    who,
                )?;
            }
            Ok(s.visit_detail(&a.visit_id)?)
        })
        .await
    }

    /// Saves the header fields at once.
    pub async fn set_visit_fields(&self, a: VisitFieldsArgs) -> AppResult<VisitDetail> {
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            s.set_visit_fields(&a.visit_id, &a.fields, Who { name: &name, actor })?;
            Ok(s.visit_detail(&a.visit_id)?)
        })
        .await
    }

    /// Attaches a photo to an item.
    pub async fn attach_visit_photo(&self, a: VisitPhotoArgs) -> AppResult<VisitPhoto> {
        let bytes = decode(&a.data_base64, "照片")?;
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            Ok(s.attach_visit_photo(
                &a.visit_id,
                &a.item_id,
                &bytes,
                &a.file_name,
                Who { name: &name, actor },
            )?)
        })
        .await
    }

    /// Takes a wrong photo off an item; the visit as it is now.
    pub async fn detach_visit_photo(&self, a: VisitPhotoRefArgs) -> AppResult<VisitDetail> {
        if a.sha256.len() != 64 || !a.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::invalid("照片编号格式错误"));
        }
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            s.detach_visit_photo(
                &a.visit_id,
                &a.item_id,
                &a.sha256,
                Who { name: &name, actor },
            )?;
            Ok(s.visit_detail(&a.visit_id)?)
        })
        .await
    }

    /// A photo or its thumbnail.
    pub async fn visit_photo(&self, a: PhotoArgs) -> AppResult<FileData> {
        if a.sha256.len() != 64 || !a.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::invalid("照片编号格式错误"));
        }
        self.with_store(move |s| {
            let (path, mime) = if a.thumbnail {
                (s.thumbnail_path(&a.sha256), "image/png".to_string())
            } else {
                (
                    s.photo_path(&a.sha256),
                    "application/octet-stream".to_string(),
                )
            };
            let bytes =
                std::fs::read(&path).map_err(|_| AppError::not_found("照片不在本机照片库中"))?;
            Ok(FileData {
                file_name: a.sha256.clone(),
                mime,
                data_base64: B64.encode(bytes),
            })
        })
        .await
    }

    /// Hands the visit in; returns its revision.
    pub async fn submit_visit(&self, a: VisitIdArgs) -> AppResult<i64> {
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            Ok(s.submit_visit(&a.visit_id, Who { name: &name, actor })?)
        })
        .await
    }

    /// Takes a handed-in visit back to correct it.
    pub async fn reopen_visit(&self, a: VisitIdArgs) -> AppResult<()> {
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            Ok(s.reopen_visit(&a.visit_id, Who { name: &name, actor })?)
        })
        .await
    }

    /// The officer's review; returns the rectification tasks opened.
    pub async fn review_visit(&self, a: VisitReviewArgs) -> AppResult<Vec<i64>> {
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            Ok(s.review_visit(
                &a.visit_id,
                &VisitReview {
                    accept: a.accept,
                    note: &a.note,
                    findings: a.findings.as_deref(),
                    item_comments: &a.item_comments,
                },
                Who { name: &name, actor },
                hcp_store::now_beijing(),
            )?)
        })
        .await
    }

    /// Closes an accepted visit (officers).
    pub async fn close_visit(&self, a: VisitIdArgs) -> AppResult<()> {
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            Ok(s.close_visit(
                &a.visit_id,
                Who { name: &name, actor },
                hcp_store::now_beijing(),
            )?)
        })
        .await
    }

    /// The signed bundle of a submitted visit, to save.
    pub async fn export_visit(&self, a: VisitIdArgs) -> AppResult<FileData> {
        visit_id(&a.visit_id)?;
        self.with_store(move |s| {
            let dir = tempfile_dir(s)?;
            let path = dir.join(format!("{}.hcpv", a.visit_id));
            let result = s
                .export_visit(&a.visit_id, &path)
                .map_err(AppError::from)
                .and_then(|()| {
                    std::fs::read(&path).map_err(|e| {
                        AppError::new(ErrorCode::Store, format!("无法读取交件文件：{e}"))
                    })
                });
            let _ = std::fs::remove_file(&path);
            let bytes = result?;
            let v = s.visit_detail(&a.visit_id)?.visit;
            s.mark_visit_exported(&a.visit_id, v.rev)?;
            let hall = v.hall_id;
            Ok(FileData {
                file_name: format!("暗访-{hall}-{}.hcpv", &a.visit_id[..8]),
                mime: "application/octet-stream".into(),
                data_base64: B64.encode(bytes),
            })
        })
        .await
    }

    /// Imports a bundle (officers).
    pub async fn import_visit(&self, a: ImportVisitArgs) -> AppResult<ImportOutcome> {
        let bytes = decode(&a.data_base64, "交件文件")?;
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            Ok(s.import_visit(&bytes, Who { name: &name, actor })?)
        })
        .await
    }

    /// This installation's key.
    pub async fn own_key(&self) -> AppResult<KeyInfo> {
        self.with_store(|s| Ok(s.own_key()?)).await
    }

    /// Keys trusted for imports.
    pub async fn trusted_keys(&self) -> AppResult<Vec<KeyInfo>> {
        self.with_store(|s| Ok(s.trusted_keys()?)).await
    }

    /// Revokes the trust in a shopper's key (officers): its bundles are refused
    /// from now on. Audited.
    pub async fn revoke_key(&self, a: RevokeKeyArgs) -> AppResult<KeyInfo> {
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            Ok(s.revoke_key(&a.key, Who { name: &name, actor })?)
        })
        .await
    }

    /// Trusts a shopper's key (officers).
    pub async fn trust_key(&self, a: TrustKeyArgs) -> AppResult<KeyInfo> {
        if a.name.trim().is_empty() {
            return Err(AppError::invalid("请填写该公钥所属的暗访员"));
        }
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            Ok(s.trust_key(&a.public_key, &a.name, Who { name: &name, actor })?)
        })
        .await
    }
}

impl App {
    /// The officer's task package for shoppers (`.hcpt`): the chosen halls'
    /// profiles, planned dates and the checklist version, signed. A shopper needs
    /// nothing else — no hall server, no token.
    pub async fn export_task_package(&self, a: TaskPackageArgs) -> AppResult<FileData> {
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            let version = a
                .template_version
                .unwrap_or_else(|| hcp_core::visit::CURRENT_TEMPLATE.into());
            let dir = tempfile_dir(s)?;
            let path = dir.join(format!("task-{}.hcpt", uuid_like()));
            let result = s
                .export_task_package(
                    &a.halls,
                    &version,
                    &a.note,
                    &path,
                    Who { name: &name, actor },
                )
                .map_err(AppError::from)
                .and_then(|_| read_scratch(&path));
            let _ = std::fs::remove_file(&path);
            let bytes = result?;
            let day = hcp_store::now_beijing().format("%Y%m%d");
            Ok(FileData {
                file_name: format!("暗访任务-{day}.hcpt"),
                mime: "application/octet-stream".into(),
                data_base64: B64.encode(bytes),
            })
        })
        .await
    }

    /// The shopper imports a task package.
    pub async fn import_task_package(&self, a: ImportVisitArgs) -> AppResult<TaskImport> {
        let bytes = decode(&a.data_base64, "任务包")?;
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            Ok(s.import_task_package(&bytes, Who { name: &name, actor })?)
        })
        .await
    }

    /// Imported tasks (a shopper's to-do list).
    pub async fn visit_tasks(&self) -> AppResult<Vec<VisitTaskRow>> {
        self.with_store(|s| Ok(s.visit_tasks()?)).await
    }

    /// The officer's review of an imported visit as a signed file for the shopper
    /// (`.hcpr`).
    pub async fn export_review(&self, a: VisitIdArgs) -> AppResult<FileData> {
        visit_id(&a.visit_id)?;
        self.with_store(move |s| {
            let dir = tempfile_dir(s)?;
            let path = dir.join(format!("{}.hcpr", a.visit_id));
            let result = s
                .export_review(&a.visit_id, &path)
                .map_err(AppError::from)
                .and_then(|()| read_scratch(&path));
            let _ = std::fs::remove_file(&path);
            let bytes = result?;
            let hall = s.visit_detail(&a.visit_id)?.visit.hall_id;
            Ok(FileData {
                file_name: format!("暗访审核意见-{hall}-{}.hcpr", &a.visit_id[..8]),
                mime: "application/octet-stream".into(),
                data_base64: B64.encode(bytes),
            })
        })
        .await
    }

    /// The shopper imports the officer's review of a visit filled here.
    pub async fn import_review(&self, a: ImportVisitArgs) -> AppResult<ReviewImport> {
        let bytes = decode(&a.data_base64, "审核意见文件")?;
        self.with_store(move |s| {
            let (name, actor, _, _) = who_of(s)?;
            Ok(s.import_review(&bytes, Who { name: &name, actor })?)
        })
        .await
    }
}

impl App {
    /// Imports whatever signed file this is — a hand-in (officers), a task
    /// package or a review (shoppers) — and says what happened.
    pub async fn import_file(&self, a: ImportVisitArgs) -> AppResult<ImportedFile> {
        let bytes = decode(&a.data_base64, "文件")?;
        match hcp_store::bundle_format(&bytes).as_deref() {
            Some("hcpt/1") => {
                let o = self.import_task_package(a).await?;
                Ok(ImportedFile {
                    kind: "task".into(),
                    summary: if o.status == "new" {
                        format!(
                            "已导入{}下发的暗访任务：{} 个大厅（新增 {} 个）",
                            o.issued_by, o.halls, o.halls_added
                        )
                    } else {
                        "该任务包已导入过，未做改动".into()
                    },
                    visit_id: None,
                })
            }
            Some("hcpr/1") => {
                let o = self.import_review(a).await?;
                let verdict = if o.outcome == "accepted" {
                    "审核通过"
                } else {
                    "退回修改"
                };
                Ok(ImportedFile {
                    kind: "review".into(),
                    summary: match o.status.as_str() {
                        "applied" => format!("已导入审核意见：第 {} 版{verdict}", o.rev),
                        "outdated" => format!(
                            "该审核意见针对第 {} 版，本机已提交更新的版本，未做改动",
                            o.rev
                        ),
                        _ => "该审核意见已导入过，未做改动".into(),
                    },
                    visit_id: Some(o.visit_id),
                })
            }
            Some("hcpv/1") | None => {
                let o = self.import_visit(a).await?;
                Ok(ImportedFile {
                    kind: "visit".into(),
                    summary: match o.status.as_str() {
                        "new" => format!(
                            "已导入暗访记录（第 {} 版），照片 {} 张",
                            o.rev, o.photos_added
                        ),
                        "replaced" => format!(
                            "已用第 {} 版替换原暗访记录，新增照片 {} 张",
                            o.rev, o.photos_added
                        ),
                        _ => format!("已有第 {} 版，未做改动", o.rev),
                    },
                    visit_id: Some(o.visit_id),
                })
            }
            Some(other) => Err(AppError::invalid(format!(
                "不认识的文件类型 “{}”：督查台只导入暗访交件（.hcpv）、任务包（.hcpt）和审核意见（.hcpr）",
                hcp_core::ident::printable(other)
            ))),
        }
    }
}

/// A scratch file's bytes.
fn read_scratch(path: &std::path::Path) -> AppResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        AppError::new(
            ErrorCode::Store,
            format!("无法读取 {}：{e}", path.display()),
        )
    })
}

/// A name for a scratch file no other export uses at the same time.
fn uuid_like() -> String {
    crate::random_token()[..16].to_string()
}

/// A scratch directory beside the cache for writing bundles (owner-only).
fn tempfile_dir(s: &Store) -> AppResult<std::path::PathBuf> {
    let dir = s
        .path()
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("exports");
    hcp_store::create_private_dir(&dir, true).map_err(|e| {
        AppError::new(
            ErrorCode::Store,
            format!("无法创建目录 {}：{e}", dir.display()),
        )
    })?;
    Ok(dir)
}

/// A visit id from the window or the command line is checked before it is used
/// in a file name.
fn visit_id(id: &str) -> AppResult<&str> {
    hcp_core::ident::check_visit_id(id).map_err(|e| AppError::invalid(e.to_string()))?;
    Ok(id)
}
