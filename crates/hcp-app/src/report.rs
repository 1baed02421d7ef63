//! The monthly report commands: preview (page images), export (PDF, Excel, JSON),
//! issue (签发, a frozen snapshot) and the list of issued reports.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{Datelike, Utc};
use hcp_report::{MonthlyReport, ReportSettings};
use hcp_store::{IssuedReport, Store, Who};

use hcp_core::Capability;

use crate::ErrorCode;
use crate::cases::{load_profile, scoped_hall};
use crate::{App, AppError, AppResult, types::*};

fn report_err(e: hcp_report::ReportError) -> AppError {
    match e {
        hcp_report::ReportError::Input(m) => AppError::invalid(m),
        hcp_report::ReportError::Store(s) => s.into(),
        other => AppError::new(ErrorCode::Internal, other.to_string()),
    }
}

fn pdf_err(e: hcp_pdf::PdfError) -> AppError {
    AppError::new(ErrorCode::Internal, e.to_string())
}

/// The draft model of a period (`2026-10`, `2026-Q3`, `2026`) and scope, as of now.
pub fn draft(
    s: &Store,
    month: &str,
    hall: Option<&str>,
    typical: &[i64],
) -> AppResult<MonthlyReport> {
    // No explicit list: the period's cases picked from the inbox (加入典型案例).
    let typical = if typical.is_empty() {
        crate::cases::typical_of_period(s, month, hall)?
            .into_iter()
            .map(|t| t.case_id)
            .collect()
    } else {
        typical.to_vec()
    };
    let chosen = !typical.is_empty();
    let settings = ReportSettings {
        typical,
        count_system_default: s.count_system_default()?,
        ..ReportSettings::default()
    };
    let mut r = hcp_report::build(s, month, hall, settings, Utc::now()).map_err(report_err)?;
    // None chosen and none picked in the inbox: the period's overdue cases, the
    // oldest first, as the report page promises.
    if !chosen && r.typical_cases.is_empty() {
        r.typical_cases = r.overdue.iter().take(AUTO_TYPICAL).cloned().collect();
        r.settings.typical = r.typical_cases.iter().map(|c| c.case_id).collect();
    }
    r.office = Some(office_for(s, hall)?);
    Ok(r)
}

/// How many overdue cases become 典型案例 when none were chosen.
const AUTO_TYPICAL: usize = 3;

/// Where the office's 公文 settings are kept.
const OFFICE_SETTING: &str = "report.office";

/// 设置 → 发文机关 (empty until set).
pub fn office_settings(s: &Store) -> AppResult<OfficeSettings> {
    Ok(match s.setting(OFFICE_SETTING)? {
        Some(v) => serde_json::from_str(&v).unwrap_or_default(),
        None => OfficeSettings::default(),
    })
}

/// The office a report is issued by: a hall director's report of their hall is
/// the hall's own; otherwise 设置 → 发文机关 (效能督查部门 until it is set).
fn office_for(s: &Store, hall: Option<&str>) -> AppResult<hcp_report::model::Office> {
    let (p, _) = load_profile(s)?;
    if p.role == hcp_core::Role::Director
        && let Some(h) = hall
    {
        let name = s
            .hall_profile(h)
            .map(|p| p.name)
            .unwrap_or_else(|_| h.to_owned());
        return Ok(hcp_report::model::Office {
            name,
            ..Default::default()
        });
    }
    office_settings(s)
}

/// Checks and keeps 设置 → 发文机关 (audited); the office's officers set it. A
/// desk linked to a hub takes it from the hub instead.
pub fn set_office_settings(s: &mut Store, o: OfficeSettings) -> AppResult<OfficeSettings> {
    if s.hub_link()?.is_some() {
        return Err(AppError::new(
            ErrorCode::Refused,
            "本机连接团队服务器时，发文机关由管理员在团队服务器上统一设置（hcp hub office …），同步时取回",
        ));
    }
    let (p, _) = load_profile(s)?;
    if !p.role.may(Capability::IssueReports) {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "只有效能督查员可以设置发文机关",
        ));
    }
    keep_office(s, o, &p.name)
}

/// The hub's 发文机关 kept here (audited when it changed).
pub(crate) fn take_office_from_hub(s: &mut Store, o: OfficeSettings, who: &str) -> AppResult<()> {
    if office_settings(s)? != o {
        keep_office(s, o, who)?;
    }
    Ok(())
}

/// Checks and keeps 设置 → 发文机关 as `who` (audited).
pub(crate) fn keep_office(
    s: &mut Store,
    o: OfficeSettings,
    who: &str,
) -> AppResult<OfficeSettings> {
    let o = o.checked().map_err(AppError::invalid)?;
    let json =
        serde_json::to_string(&o).map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
    s.set_setting_audited(
        OFFICE_SETTING,
        Some(&json),
        &hcp_store::AuditEntry {
            actor: who,
            role: "officer",
            subject: "settings",
            action: "office_settings",
            detail: &json,
        },
    )?;
    Ok(o)
}

/// 公示: the files of a period's public page and open data, checked to hold no
/// personal data or free text (the model's comments, measures and names stay out).
pub fn publish(
    s: &Store,
    month: &str,
    hall: Option<&str>,
) -> AppResult<(String, hcp_report::publish::PublicFiles)> {
    let hall = scoped_hall(s, hall.map(str::to_owned))?;
    let r = draft(s, month, hall.as_deref(), &[])?;
    let url = office_settings(s)?.public_url;
    let names = |id: &str| {
        s.hall_profile(id)
            .map(|p| p.name)
            .unwrap_or_else(|_| id.to_owned())
    };
    let p = hcp_report::publish::public_report(
        &r,
        &names,
        Some(url.as_str()).filter(|u| !u.is_empty()),
    );
    let files = hcp_report::publish::files(&p)
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
    let name = crate::files::clean_name(&format!(
        "好差评公示-{}{}",
        r.month,
        hall.as_deref().map(|h| format!("-{h}")).unwrap_or_default()
    ));
    Ok((name, files))
}

/// A draft PDF's layout from its argument.
fn layout_of(v: Option<&str>) -> AppResult<hcp_pdf::Layout> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(hcp_pdf::Layout::Brief),
        Some(v) => hcp_pdf::Layout::parse(v).ok_or_else(|| {
            AppError::invalid(format!(
                "版式 “{v}” 无效：应为 official（公文）或 brief（数据简报）"
            ))
        }),
    }
}

fn file(name: String, mime: &str, bytes: &[u8]) -> FileData {
    FileData {
        file_name: name,
        mime: mime.into(),
        data_base64: B64.encode(bytes),
    }
}

/// A report's files are named `2026-10好差评情况通报[-hall]`.
fn base_name(r: &MonthlyReport) -> String {
    format!(
        "{}好差评情况通报{}",
        r.month,
        r.scope
            .hall_id
            .as_deref()
            .map(|h| format!("-{h}"))
            .unwrap_or_default()
    )
}

fn xlsx_name(r: &MonthlyReport) -> String {
    format!("{}.xlsx", base_name(r))
}

const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Renders a model in a format (a PDF as the data brief): (file name, MIME, bytes).
pub fn render(r: &MonthlyReport, format: &str) -> AppResult<(String, &'static str, Vec<u8>)> {
    render_as(r, format, hcp_pdf::Layout::Brief)
}

/// Renders a model in a format, a PDF in `layout`.
pub fn render_as(
    r: &MonthlyReport,
    format: &str,
    layout: hcp_pdf::Layout,
) -> AppResult<(String, &'static str, Vec<u8>)> {
    let base = base_name(r);
    match format {
        "pdf" => Ok((
            match layout {
                hcp_pdf::Layout::Official => format!("{base}（公文稿）.pdf"),
                hcp_pdf::Layout::Brief => format!("{base}（数据简报）.pdf"),
            },
            "application/pdf",
            hcp_pdf::to_pdf_as(r, layout).map_err(pdf_err)?,
        )),
        "xlsx" => Ok((
            format!("{base}.xlsx"),
            XLSX_MIME,
            hcp_report::xlsx::to_xlsx(r).map_err(report_err)?,
        )),
        "json" => Ok((
            format!("{base}.json"),
            "application/json",
            hcp_report::to_json(r).map_err(report_err)?.into_bytes(),
        )),
        other => Err(AppError::invalid(format!(
            "格式 “{other}” 无效：应为 pdf、xlsx 或 json"
        ))),
    }
}

/// Issues a report: the model and the PDF as they are now, frozen.
pub fn issue(s: &mut Store, a: &ReportIssueArgs) -> AppResult<IssuedReport> {
    let (p, named) = load_profile(s)?;
    if !p.role.may(hcp_core::Capability::IssueReports) {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "只有效能督查员可以签发通报",
        ));
    }
    check_issuable(named, a)?;
    issue_as(s, a, &p.name)
}

/// A 通报 is an official act: signed by a named person (not the desk's default
/// user), and for a period that has ended unless the officer confirmed issuing it
/// early (`early`).
pub(crate) fn check_issuable(named: bool, a: &ReportIssueArgs) -> AppResult<()> {
    if !named {
        return Err(AppError::new(
            ErrorCode::Refused,
            "签发人尚未设置：请先在 设置 中填写姓名与身份（hcp user set --name 姓名 --role officer），通报的签发人不能是“本机用户”",
        ));
    }
    let period = hcp_core::metrics::Period::parse(&a.month).map_err(AppError::invalid)?;
    let (_, last) = period.days();
    let today = Utc::now()
        .with_timezone(&hcp_core::metrics::beijing())
        .date_naive();
    if today <= last && !a.early {
        return Err(AppError::new(
            ErrorCode::Refused,
            format!(
                "{}尚未结束（至 {last}），现在签发只含已过去的天数；确需提前签发请确认“提前签发”（hcp report issue --early）",
                period.label_zh()
            ),
        ));
    }
    Ok(())
}

/// Issues a report signed by the officer `issuer`, numbered by this desk.
pub(crate) fn issue_as(
    s: &mut Store,
    a: &ReportIssueArgs,
    issuer: &str,
) -> AppResult<IssuedReport> {
    let year = hcp_report::model::year_of(&a.month);
    let next = s.next_issue(&a.month, a.hall_id.as_deref(), i64::from(year))?;
    let (json, pdf) = render_issue(s, a, next, issuer)?;
    store_issue(s, a, next, &json, &pdf, issuer)
}

/// The frozen model (JSON) and PDF of an issue numbered `next` = (version, year, no).
pub(crate) fn render_issue(
    s: &Store,
    a: &ReportIssueArgs,
    next: hcp_store::NextIssue,
    issuer: &str,
) -> AppResult<(String, Vec<u8>)> {
    let mut r = draft(s, &a.month, a.hall_id.as_deref(), &a.typical)?;
    let today = Utc::now().with_timezone(&hcp_core::metrics::beijing());
    let doc_number = r.office.as_ref().map(|o| o.doc_number(next.1, next.2));
    r.issue = Some(hcp_report::model::IssueInfo {
        doc_number,
        number: format!("〔{}〕第{}期", next.1, next.2),
        version: next.0,
        correction: if next.0 > 1 {
            correction_of(a).map(str::to_owned)
        } else {
            None
        },
        issued_by: issuer.to_owned(),
        issued_at: format!("{}年{}月{}日", today.year(), today.month(), today.day()),
        audit_head: s
            .audit_head()?
            .map(|(seq, hash)| hcp_report::model::AuditHead { seq, hash }),
    });
    // What is issued, and kept, is the 公文.
    let pdf = hcp_pdf::to_pdf_as(&r, hcp_pdf::Layout::Official).map_err(pdf_err)?;
    let json = hcp_report::to_json(&r).map_err(report_err)?;
    Ok((json, pdf))
}

fn correction_of(a: &ReportIssueArgs) -> Option<&str> {
    a.correction
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
}

/// Keeps an issue in this cache (audited) and returns it as listed.
pub(crate) fn store_issue(
    s: &mut Store,
    a: &ReportIssueArgs,
    next: hcp_store::NextIssue,
    json: &str,
    pdf: &[u8],
    issuer: &str,
) -> AppResult<IssuedReport> {
    let id = s.store_issued_report(
        &a.month,
        a.hall_id.as_deref(),
        next,
        json,
        Some(pdf),
        correction_of(a),
        Who {
            name: issuer,
            actor: hcp_core::case::Actor::Officer,
        },
    )?;
    s.issued_reports()?
        .into_iter()
        .find(|x| x.report_id == id)
        .ok_or_else(|| AppError::new(ErrorCode::Internal, "签发记录未找到"))
}

/// An export: a draft rendered now, or an issued report exactly as issued.
pub fn export(s: &Store, a: &ReportExportArgs) -> AppResult<(String, &'static str, Vec<u8>)> {
    if let Some(id) = a.report_id {
        let (meta, json, doc) = s.issued_report(id)?;
        scoped_hall(s, meta.hall_id.clone())?;
        let model: MonthlyReport = serde_json::from_str(&json)
            .map_err(|e| AppError::new(ErrorCode::Store, format!("已签发通报的快照已损坏：{e}")))?;
        let scope = match meta.hall_id.as_deref() {
            Some(h) => s
                .hall_profile(h)
                .map(|p| p.name)
                .unwrap_or_else(|_| h.to_owned()),
            None => "全部大厅".to_owned(),
        };
        // Named by period, scope and 期号 (two scopes of one month are two files).
        let name = crate::files::clean_name(&format!(
            "{}好差评情况通报-{scope}-〔{}〕第{}期{}",
            meta.month,
            meta.year,
            meta.issue_no,
            if meta.version > 1 {
                format!("（第{}版）", meta.version)
            } else {
                String::new()
            }
        ));
        if a.format == "pdf"
            && let Some(doc) = doc
        {
            // Exactly the bytes that were issued.
            return Ok((format!("{name}.pdf"), "application/pdf", doc));
        }
        let (file, mime, bytes) = render(&model, &a.format)?;
        let ext = file.rsplit('.').next().unwrap_or("bin");
        return Ok((format!("{name}.{ext}"), mime, bytes));
    }
    let month = a
        .month
        .as_deref()
        .ok_or_else(|| AppError::invalid("请选择月份"))?;
    let hall = scoped_hall(s, a.hall_id.clone())?;
    let layout = layout_of(a.layout.as_deref())?;
    let r = draft(s, month, hall.as_deref(), &a.typical)?;
    if a.format == "xlsx" {
        // A draft's workbook lists every case of the ledger and every overdue
        // one, not only the model's first.
        let full = hcp_report::model::full_lists(s, &r).map_err(report_err)?;
        return Ok((
            xlsx_name(&r),
            XLSX_MIME,
            hcp_report::xlsx::to_xlsx_full(&r, &full).map_err(report_err)?,
        ));
    }
    render_as(&r, &a.format, layout)
}

impl App {
    /// The exact pages of a draft, as images.
    pub async fn report_preview(&self, a: ReportArgs) -> AppResult<ReportPreview> {
        self.with_store(move |s| {
            let hall = scoped_hall(s, a.hall_id)?;
            let r = draft(s, &a.month, hall.as_deref(), &a.typical)?;
            let year = hcp_report::model::year_of(&r.month);
            let next = s.next_issue(&r.month, hall.as_deref(), i64::from(year))?;
            let (profile, named) = load_profile(s)?;
            let scope_name = match hall.as_deref() {
                Some(h) => s
                    .hall_profile(h)
                    .map(|p| p.name)
                    .unwrap_or_else(|_| h.to_owned()),
                None => "全部大厅".to_owned(),
            };
            let layout = layout_of(a.layout.as_deref())?;
            let (pages, texts) = hcp_pdf::to_preview_pages(&r, layout, 1.5)
                .map_err(pdf_err)?
                .into_iter()
                .map(|(png, text)| (B64.encode(png), text))
                .unzip();
            Ok(ReportPreview {
                title: r.title,
                pages,
                texts,
                next_version: next.0,
                next_year: next.1,
                next_issue_no: next.2,
                scope_name,
                signer: named.then_some(profile.name),
            })
        })
        .await
    }

    /// A draft or issued report as a file.
    pub async fn report_export(&self, a: ReportExportArgs) -> AppResult<FileData> {
        self.with_store(move |s| {
            let (name, mime, bytes) = export(s, &a)?;
            Ok(file(name, mime, &bytes))
        })
        .await
    }

    /// Issues (签发) the report of a month and scope.
    pub async fn report_issue(&self, a: ReportIssueArgs) -> AppResult<IssuedReport> {
        if let Some(link) = self.hub_link().await? {
            return self.issue_through_hub(&link, a).await;
        }
        self.with_store(move |s| issue(s, &a)).await
    }

    /// 公示: writes a period's public page and open data into a new folder.
    pub async fn report_publish(&self, a: ReportPublishArgs) -> AppResult<PublishedFiles> {
        let (name, files) = self
            .with_store(move |s| publish(s, &a.month, a.hall_id.as_deref()))
            .await?;
        let (folder, index) = self.save_folder(&name, files).await?;
        Ok(PublishedFiles { folder, index })
    }

    /// 设置 → 发文机关.
    pub async fn office_settings(&self) -> AppResult<OfficeSettings> {
        self.with_store(|s| office_settings(s)).await
    }

    /// Sets 设置 → 发文机关 (officers; audited).
    pub async fn set_office_settings(&self, o: OfficeSettings) -> AppResult<OfficeSettings> {
        self.with_store(move |s| set_office_settings(s, o)).await
    }

    /// Issued reports (a director: their hall's).
    pub async fn report_list(&self) -> AppResult<Vec<IssuedReport>> {
        self.with_store(|s| {
            let (p, _) = load_profile(s)?;
            let all = s.issued_reports()?;
            Ok(if p.role.may(Capability::AllHalls) {
                all
            } else {
                all.into_iter().filter(|r| r.hall_id == p.hall_id).collect()
            })
        })
        .await
    }
}
