//! Spreadsheet import: what the provincial 好差评 systems export (评价明细,
//! 差评工单; xlsx, xls, CSV in UTF-8 or GBK) and files laid out the way the
//! national standard (GB/T 39046-2020 表9) and the provinces' 办件评价 interfaces
//! write ratings, brought in as a hall source.
//!
//! A file is read row by row ([`read`]); its header is found under the title rows
//! and its columns recognised by their Chinese headers or interface field codes
//! ([`columns`]); each row becomes hall-api records ([`convert`], [`values`], the
//! rater masked on the way in by [`personal`]) and goes through the very path a
//! hall sync takes: the evaluation rules
//! ([`hcp_core::validate::check_evaluation`]), the store's upsert by revision,
//! quarantine, the case engine and the per-day figures, one batch (20,000 rows,
//! whatever their halls) per transaction. `docs/import-layouts.md` lists every
//! layout and code table.
//!
//! **Revision.** A file's revision is its export time (a 「导出时间」 title row,
//! else the file's modification time), in seconds; a 评价次数 of *n* ranks above
//! every export of the (n−1)th. A row that equals the stored evaluation changes
//! nothing; a different one replaces it only when it ranks above the one that
//! wrote it — so re-importing an old file never rolls a 改评 back. A 差评工单 row
//! never rewrites the rating a 评价明细 brought; it adds what happened after it.

pub mod columns;
mod convert;
pub mod personal;
pub mod read;
pub mod values;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::Path;

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::validate::ValidRecord;
use hcp_core::wire::{
    Appeal, Department, Evaluation, EvaluationStatus, Rectification, ServiceItem, Staff, Window,
};
use hcp_store::{FeedRecord, ImportItem, QuarantineEntry, Store, Who};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use columns::{FIELDS, Field, Mapping};
pub use convert::hall_key;
use convert::{Columns, Converted, WorkOrder, convert, is_summary_row, masked_cells};
use read::{Cell, Row, Source};
pub use values::LevelScale;

/// What can stop an import (a bad row never does: it is quarantined).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be opened or read.
    #[error("无法读取 {0}：{1}")]
    Io(String, String),
    /// The file is not a spreadsheet we can read.
    #[error("无法读取该文件：{0}")]
    Unreadable(String),
    /// No header row found.
    #[error("在前 {0} 行中找不到表头：需要至少两列可识别的列名（如 评价时间、评价等级、大厅名称）")]
    NoHeader(usize),
    /// Required columns are not mapped.
    #[error("缺少必需的列：{0}。请在预览中指定这些列对应的表头")]
    Missing(String),
    /// The file has no 评价时间: it cannot be a list of ratings (a 差评详情表
    /// exported without it, a summary sheet).
    #[error(
        "文件中没有“评价时间”列，无法作为评价数据导入：每条评价要按评价时间计入月份、计算整改时限。\
         请在省平台重新导出“评价明细”或“差评工单”并勾选“评价时间”列；若文件中某列就是评价时间\
         （列名不同），请在预览中把它指定为“评价时间”。本次未写入任何数据。"
    )]
    NoEvaluationTime,
    /// A mapping names a column the file does not have.
    #[error("映射中的列 “{0}” 在文件中不存在")]
    NoSuchColumn(String),
    /// A profile name is unknown.
    #[error("没有名为 “{0}” 的映射方案")]
    NoSuchProfile(String),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] hcp_store::StoreError),
}

/// Rows (of all the file's halls) stored per transaction.
pub const BATCH_ROWS: usize = 20_000;

/// Rows the reading thread hands over at a time.
const READ_CHUNK_ROWS: usize = 1024;
/// Chunks the reading thread may be ahead of the writing one.
const READ_AHEAD_CHUNKS: usize = 8;

/// What the reading thread hands to the writing one, in file order.
struct ReadChunk {
    items: Vec<ReadItem>,
    /// How far into the file the last of them was.
    fraction: f64,
}

enum ReadItem {
    /// A 合计 / 小计 row.
    Summary,
    /// A hall this import created (before its first row).
    HallCreated { id: String, name: String },
    /// A row for quarantine: (hall, row, column, reason, raw).
    Bad(Box<(String, u32, String, String, String)>),
    /// A row that passed the evaluation rules.
    Ready(Box<ReadyRow>),
}

struct ReadyRow {
    hall_id: String,
    row: u32,
    raw: String,
    evaluation: Evaluation,
    /// 评价次数.
    count: u8,
    /// A 差评工单 row: what happened after the rating.
    work_order: Option<Box<WorkOrder>>,
    /// Department, window, staff and item first seen in this row.
    profile: [Option<(String, String)>; 4],
}

/// What the reading thread reads with.
struct ReaderCtx<'a> {
    source: &'a Source,
    sheet: &'a str,
    header: &'a columns::Header,
    cols: &'a Columns,
    salt: &'a str,
    file_name: &'a str,
    /// The export's time (seconds): the rows' revision.
    rev: i64,
    dry: bool,
    create_halls: bool,
    by: Who<'a>,
}

/// Reads the sheet and turns each row into a record for its hall or a reason
/// for quarantine; stops when the writing side hangs up.
fn read_rows(
    x: &ReaderCtx<'_>,
    mut hall_store: Store,
    send: std::sync::mpsc::SyncSender<ReadChunk>,
) -> Result<(), ImportError> {
    let mut halls: HashMap<String, Option<String>> = HashMap::new();
    let mut profile_seen: HashMap<String, [HashSet<String>; 4]> = HashMap::new();
    let mut items: Vec<ReadItem> = Vec::with_capacity(READ_CHUNK_ROWS);
    let mut hung_up = false;
    let header_row = x.header.row;
    x.source.for_each_row(x.sheet, |row, fraction| {
        if row.no <= header_row {
            return Ok(ControlFlow::Continue(()));
        }
        if is_summary_row(&row) {
            items.push(ReadItem::Summary);
        } else {
            match convert(x.cols, &row, x.salt, &|_| None) {
                Err(e) => {
                    let hall = x
                        .cols
                        .row_hall_key(&row)
                        .and_then(|k| halls.get(&k).cloned().flatten())
                        .unwrap_or_default();
                    let raw = serde_json::json!({
                        "file": x.file_name, "sheet": x.sheet, "row": row.no,
                        "column": e.column, "cells": masked_cells(x.cols, x.header, &row)
                    })
                    .to_string();
                    let reason =
                        personal::scrub(&format!("第 {} 行「{}」：{}", row.no, e.column, e.reason));
                    items.push(ReadItem::Bad(Box::new((
                        hall, row.no, e.column, reason, raw,
                    ))));
                }
                Ok(c) => {
                    let hall = match halls.get(&c.hall_key) {
                        Some(h) => h.clone(),
                        None => {
                            let (found, new) =
                                resolve_hall(&mut hall_store, &c, x.create_halls, x.dry, x.by)?;
                            if new && let Some(id) = &found {
                                items.push(ReadItem::HallCreated {
                                    id: id.clone(),
                                    name: c.hall_name.clone(),
                                });
                            }
                            halls.insert(c.hall_key.clone(), found.clone());
                            found
                        }
                    };
                    items.push(match hall {
                        None => ReadItem::Bad(Box::new((
                            String::new(),
                            row.no,
                            Field::Hall.label().to_owned(),
                            format!(
                                "第 {} 行「{}」：大厅 “{}” 尚未确认，确认后重新导入本文件即可",
                                row.no,
                                x.cols.header(Field::Hall),
                                c.hall_name
                            ),
                            masked_cells(x.cols, x.header, &row).to_string(),
                        ))),
                        Some(hall_id) => ready_row(x, &mut profile_seen, hall_id, row.no, c)?,
                    });
                }
            }
        }
        if items.len() >= READ_CHUNK_ROWS {
            let full = std::mem::replace(&mut items, Vec::with_capacity(READ_CHUNK_ROWS));
            if send
                .send(ReadChunk {
                    items: full,
                    fraction,
                })
                .is_err()
            {
                hung_up = true;
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    })?;
    if !hung_up && !items.is_empty() {
        let _ = send.send(ReadChunk {
            items,
            fraction: 1.0,
        });
    }
    Ok(())
}

/// A converted row of a known hall: checked by the evaluation rules and
/// serialised as it will be stored.
fn ready_row(
    x: &ReaderCtx<'_>,
    profile_seen: &mut HashMap<String, [HashSet<String>; 4]>,
    hall_id: String,
    row: u32,
    c: Converted,
) -> Result<ReadItem, ImportError> {
    let mut e = c.evaluation;
    e.hall_id = hall_id.clone();
    e.rev = revision(x.rev, c.count);
    let raw = serde_json::to_string(&e).map_err(|x| ImportError::Unreadable(x.to_string()))?;
    if let Err(why) = hcp_core::validate::check_evaluation(&e, &hall_id) {
        return Ok(ReadItem::Bad(Box::new((
            hall_id,
            row,
            why.field.clone(),
            format!("第 {row} 行：{why}"),
            raw,
        ))));
    }
    let seen = profile_seen.entry(hall_id.clone()).or_default();
    let mut profile: [Option<(String, String)>; 4] = Default::default();
    for (kind, entry) in [c.department, c.window, c.staff, c.item]
        .into_iter()
        .enumerate()
    {
        if let Some((k, v)) = entry
            && !seen[kind].contains(&k)
        {
            seen[kind].insert(k.clone());
            profile[kind] = Some((k, v));
        }
    }
    Ok(ReadItem::Ready(Box::new(ReadyRow {
        hall_id,
        row,
        raw,
        evaluation: e,
        count: c.count,
        work_order: c.work_order,
        profile,
    })))
}

/// How far a 评价次数 ranks a row's revision above every export time: the second
/// rating of a 办件 outranks the first from any export, however much later.
const COUNT_RANK: i64 = 10_000_000_000;

/// A row's revision: its export's time, ranked by its 评价次数 when it has one
/// above the first.
fn revision(export_rev: i64, count: u8) -> i64 {
    if count <= 1 {
        export_rev
    } else {
        i64::from(count) * COUNT_RANK + export_rev
    }
}
/// Rows shown in the preview.
pub const PREVIEW_ROWS: usize = 20;
/// Rows read ahead to find the header and sample the columns.
const SAMPLE_ROWS: usize = 200;

/// A field as the preview lists it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export_to = "ImportField.ts", rename = "ImportField")]
pub struct FieldInfo {
    /// Mapping key.
    pub key: String,
    /// 中文名.
    pub label: String,
    /// Must be mapped (评价时间, 评价等级; 大厅 unless a default hall is given).
    pub required: bool,
}

/// One preview row: what the row becomes, or why it cannot be read.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export_to = "ImportPreviewRow.ts", rename = "ImportPreviewRow")]
pub struct PreviewRow {
    /// 行号.
    pub row: u32,
    /// The cells as read, by header.
    pub cells: Vec<String>,
    /// 大厅 (its name in the file).
    pub hall: String,
    /// 评价时间, Beijing time.
    pub evaluated_at: Option<String>,
    /// 1–5.
    pub level: Option<u8>,
    /// Channel code.
    pub channel: Option<String>,
    /// 窗口.
    pub window: Option<String>,
    /// 工作人员.
    pub staff: Option<String>,
    /// 评价内容.
    pub comment: Option<String>,
    /// Why the row would be quarantined.
    pub error: Option<String>,
}

/// What the file looks like, before anything is written.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export_to = "ImportInspection.ts", rename = "ImportInspection")]
pub struct Inspection {
    /// The file's name.
    pub file_name: String,
    /// xlsx | xls | csv.
    pub format: String,
    /// Text files: the encoding found.
    pub encoding: Option<String>,
    /// The sheet read.
    pub sheet: String,
    /// The header's (last) row.
    pub header_row: u32,
    /// Column names.
    pub headers: Vec<String>,
    /// The mapping used: a saved profile's, or the detected one.
    pub mapping: Mapping,
    /// The saved profile whose headers match, if any.
    pub profile: Option<String>,
    /// No saved profile matches: the officer should check the mapping.
    pub new_layout: bool,
    /// Whether the direction of numeric levels was certain.
    pub scale_sure: bool,
    /// Required fields left unmapped (Chinese names).
    pub missing: Vec<String>,
    /// Hall names in the sample that are not known yet.
    pub new_halls: Vec<String>,
    /// The export's time as found (导出时间, else the file's modification time).
    pub exported_at: String,
    /// The first rows, converted (the rater's name, phone and ID number masked
    /// as they would be stored).
    pub preview: Vec<PreviewRow>,
    /// Every field, for the mapping editor.
    pub fields: Vec<FieldInfo>,
    /// Which known layout the mapping reads (评价明细, GB/T 39046 表9, 办件评价接口,
    /// 差评工单).
    pub layout: String,
    /// The channel codes (digits) the sample's 评价渠道 holds, with what each
    /// reads as now: the profile's own table, else the national one.
    pub channel_codes: Vec<ChannelCodeRow>,
}

/// A 评价渠道 code seen in a file and how it reads.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export_to = "ChannelCodeRow.ts")]
pub struct ChannelCodeRow {
    /// The code as written (`6`).
    pub code: String,
    /// The national table's word for it (GB/T 39046-2020 表9 order), if any.
    pub national: Option<String>,
    /// The hall-api channel it reads as now; `None`: unknown (its rows would be
    /// quarantined).
    pub channel: Option<String>,
}

/// How to import.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[ts(export_to = "ImportOptions.ts")]
pub struct ImportOptions {
    /// The mapping to use; `None` = a saved profile that matches, else detected.
    #[serde(default)]
    pub mapping: Option<Mapping>,
    /// Use this saved profile.
    #[serde(default)]
    pub profile: Option<String>,
    /// Save the mapping used under this name.
    #[serde(default)]
    pub save_profile: Option<String>,
    /// Read and count, write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Create halls the file names that are not known yet (else their rows are
    /// quarantined, to be imported again once the hall is confirmed).
    #[serde(default)]
    pub create_halls: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
#[ts(export_to = "ImportSummary.ts")]
pub struct ImportSummary {
    /// The file's name.
    pub file_name: String,
    /// The sheet read.
    pub sheet: String,
    /// Data rows read (blank rows and 合计 rows not counted).
    pub rows_read: u64,
    /// Evaluations not seen before.
    pub new: u64,
    /// Evaluations changed since an earlier export.
    pub updated: u64,
    /// Evaluations already stored as they are (or newer than this export).
    pub unchanged: u64,
    /// Rows quarantined.
    pub quarantined: u64,
    /// 合计/小计 rows passed over.
    pub summary_rows: u64,
    /// Halls created.
    pub halls_created: Vec<String>,
    /// The halls the rows went to.
    pub halls: Vec<String>,
    /// Nothing was written.
    pub dry_run: bool,
    /// Later ratings that replaced an earlier one (二次评价, a 工单's 追评).
    pub revisions: u64,
    /// 差评工单: appeals filed (or changed) by this file.
    pub appeals: u64,
    /// 差评工单: appeal verdicts recorded (驳回 / 申诉成立).
    pub verdicts: u64,
    /// 差评工单: rectifications submitted (or resubmitted) by this file.
    pub rectifications: u64,
}

/// Progress of a running import.
#[derive(Debug, Clone, Copy, Default, Serialize, ts_rs::TS)]
#[ts(export_to = "ImportProgress.ts")]
pub struct ImportProgress {
    /// Rows read so far.
    pub rows: u64,
    /// How far through the file (0‥1).
    pub fraction: f64,
}

/// The salt of evaluator hashes, made once per cache file.
const SALT_SETTING: &str = "import.evaluator_salt";

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

struct Opened {
    source: Source,
    sheet: String,
    header: columns::Header,
    sample: Vec<Row>,
}

/// Opens the file and finds the sheet with a header (the first one that has one).
fn open(path: &Path) -> Result<Opened, ImportError> {
    let source = Source::open(path)?;
    for sheet in source.sheets()? {
        let mut rows = vec![];
        source.for_each_row(&sheet, |row, _| {
            rows.push(row);
            Ok(if rows.len() >= columns::HEADER_SEARCH_ROWS + SAMPLE_ROWS {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        })?;
        if let Some(header) = columns::find_header(&rows) {
            let sample = rows.into_iter().filter(|r| r.no > header.row).collect();
            return Ok(Opened {
                source,
                sheet,
                header,
                sample,
            });
        }
    }
    Err(ImportError::NoHeader(columns::HEADER_SEARCH_ROWS))
}

fn normalised_headers(h: &columns::Header) -> Vec<String> {
    let mut v: Vec<String> = h
        .names
        .iter()
        .map(|n| columns::normalise_header(n))
        .collect();
    v.sort();
    v
}

/// The saved profile whose headers are exactly this file's.
fn matching_profile(
    store: &Store,
    h: &columns::Header,
) -> Result<Option<(String, Mapping)>, ImportError> {
    let mine = normalised_headers(h);
    for p in store.import_profiles()? {
        if p.headers == mine
            && let Ok(m) = serde_json::from_str::<Mapping>(&p.mapping_json)
        {
            return Ok(Some((p.name, m)));
        }
    }
    Ok(None)
}

fn named_profile(store: &Store, name: &str) -> Result<Mapping, ImportError> {
    let p = store
        .import_profiles()?
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| ImportError::NoSuchProfile(name.to_owned()))?;
    serde_json::from_str(&p.mapping_json).map_err(|e| ImportError::Unreadable(e.to_string()))
}

/// The export time: a 「导出时间」 in the title rows, else the file's mtime.
fn export_time(path: &Path, title: &[String]) -> DateTime<FixedOffset> {
    for line in title {
        let folded = values::fold_width(line);
        for key in ["导出时间", "导出日期", "生成时间", "统计时间", "制表时间"]
        {
            if let Some(i) = folded.find(key) {
                let rest = folded[i + key.len()..].trim_start_matches([':', '：', ' ']);
                // The longest prefix that reads as a time.
                let chars: Vec<char> = rest.chars().collect();
                for n in (8..=chars.len().min(24)).rev() {
                    let s: String = chars[..n].iter().collect();
                    if let Some(t) = values::parse_time(&Cell::Text(s)) {
                        return t;
                    }
                }
            }
        }
    }
    let mtime = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(|_| Utc::now());
    mtime.with_timezone(&hcp_core::metrics::beijing())
}

fn salt(store: &Store, write: bool) -> Result<String, ImportError> {
    if let Some(s) = store.setting(SALT_SETTING)? {
        return Ok(s);
    }
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)
        .map_err(|e| ImportError::Unreadable(format!("系统随机数不可用：{e}")))?;
    let s = hex::encode(b);
    if write {
        store.set_setting(SALT_SETTING, Some(&s))?;
    }
    Ok(s)
}

fn mapping_for(
    store: &Store,
    opened: &Opened,
    mapping: Option<Mapping>,
    profile: Option<&str>,
) -> Result<(Mapping, Option<String>, bool), ImportError> {
    if let Some(m) = mapping {
        return Ok((m, profile.map(str::to_owned), true));
    }
    if let Some(name) = profile {
        return Ok((named_profile(store, name)?, Some(name.to_owned()), true));
    }
    if let Some((name, m)) = matching_profile(store, &opened.header)? {
        return Ok((m, Some(name), true));
    }
    let (m, sure) = columns::detect(&opened.header, &opened.sample);
    Ok((m, None, sure))
}

/// Reads the file's header and first rows and says what an import would do with
/// them. Writes nothing.
pub fn inspect(
    store: &Store,
    path: &Path,
    mapping: Option<Mapping>,
    profile: Option<&str>,
) -> Result<Inspection, ImportError> {
    let opened = open(path)?;
    let explicit = mapping.is_some() || profile.is_some();
    let (mapping, profile_name, sure) = mapping_for(store, &opened, mapping, profile)?;
    let cols = Columns::new(&opened.header, mapping.clone())?;
    let salt = salt(store, false)?;
    let known = |key: &str| store.import_hall(key).ok().flatten();
    let mut new_halls: Vec<String> = vec![];
    let mut preview = vec![];
    let mut codes: BTreeMap<String, ()> = BTreeMap::new();
    for row in opened.sample.iter().filter(|r| !is_summary_row(r)) {
        if let Some(t) = cols.text(row, Field::Channel)
            && t.len() <= 3
            && t.bytes().all(|b| b.is_ascii_digit())
        {
            codes.insert(t, ());
        }
        let converted = convert(&cols, row, &salt, &known);
        if let Ok(c) = &converted
            && c.evaluation.hall_id.is_empty()
            && !new_halls.contains(&c.hall_name)
        {
            new_halls.push(c.hall_name.clone());
        }
        if preview.len() < PREVIEW_ROWS {
            let masked = masked_cells(&cols, &opened.header, row);
            let cells = opened
                .header
                .names
                .iter()
                .map(|n| {
                    masked
                        .get(n)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect();
            preview.push(match converted {
                Ok(c) => PreviewRow {
                    row: row.no,
                    cells,
                    hall: c.hall_name,
                    evaluated_at: Some(
                        c.evaluation
                            .evaluated_at
                            .format("%Y-%m-%d %H:%M:%S")
                            .to_string(),
                    ),
                    level: Some(c.evaluation.level),
                    channel: Some(c.evaluation.channel),
                    window: c.evaluation.window_no,
                    staff: c
                        .staff
                        .map(|(no, name)| if name.is_empty() { no } else { name }),
                    comment: Some(c.evaluation.comment).filter(|s| !s.is_empty()),
                    error: None,
                },
                Err(e) => PreviewRow {
                    row: row.no,
                    cells,
                    hall: String::new(),
                    evaluated_at: None,
                    level: None,
                    channel: None,
                    window: None,
                    staff: None,
                    comment: None,
                    error: Some(personal::scrub(&format!(
                        "第 {} 行「{}」：{}",
                        row.no, e.column, e.reason
                    ))),
                },
            });
        }
    }
    let missing = mapping.missing().into_iter().map(str::to_owned).collect();
    let channel_codes = codes
        .into_keys()
        .map(|code| ChannelCodeRow {
            national: values::NATIONAL_CHANNEL_CODES
                .iter()
                .find(|(c, _, _)| *c == code.trim_start_matches('0'))
                .map(|(_, w, _)| (*w).to_owned()),
            channel: values::channel_of(&code, &mapping.channel_codes).ok(),
            code,
        })
        .collect();
    Ok(Inspection {
        layout: columns::layout_of(&mapping).to_owned(),
        channel_codes,
        file_name: file_name(path),
        format: opened.source.format.as_str().into(),
        encoding: opened.source.encoding.map(|e| e.label().to_owned()),
        sheet: opened.sheet.clone(),
        header_row: opened.header.row,
        headers: opened.header.names.clone(),
        new_layout: profile_name.is_none() && !explicit,
        profile: profile_name,
        scale_sure: sure,
        missing,
        new_halls,
        exported_at: export_time(path, &opened.header.title)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        preview,
        mapping,
        fields: FIELDS
            .iter()
            .map(|f| FieldInfo {
                key: f.key().into(),
                label: f.label().into(),
                required: matches!(f, Field::EvaluatedAt | Field::Level | Field::Hall),
            })
            .collect(),
    })
}

/// A row waiting for its batch's transaction.
struct PendingRow {
    /// 行号.
    row: u32,
    /// The evaluation as stored.
    raw: String,
    evaluation: Evaluation,
    /// 评价次数.
    count: u8,
    work_order: Option<Box<WorkOrder>>,
}

/// A hall's pending rows and what the file taught about its profile.
#[derive(Default)]
struct Pending {
    records: Vec<PendingRow>,
    departments: BTreeMap<String, String>,
    windows: BTreeMap<String, String>,
    staff: BTreeMap<String, String>,
    items: BTreeMap<String, String>,
}

/// A hall id for a name first seen in a file: its region code when the file
/// gives one (`340825-XLS`), else a short hash of the name (`XLS-1f3a…`).
fn new_hall_id(store: &Store, key: &str, region: &str) -> Result<String, ImportError> {
    let digits: String = region.chars().filter(char::is_ascii_digit).collect();
    let mut candidates = vec![];
    if digits.len() >= 6 && digits.len() == region.len() {
        candidates.push(format!("{digits}-XLS"));
    }
    let h = hex::encode(Sha256::digest(key.as_bytes()));
    candidates.push(format!("XLS-{}", &h[..10]));
    candidates.push(format!("XLS-{}", &h[..20]));
    for c in candidates {
        if store.hall(&c)?.is_none() {
            return Ok(c);
        }
    }
    Err(ImportError::Unreadable(format!(
        "无法为大厅 “{key}” 分配编码"
    )))
}

/// The hall a converted row belongs to: one a file or a server already named,
/// else a new file-sourced hall when the officer allowed that, else none.
fn resolve_hall(
    store: &mut Store,
    c: &Converted,
    create: bool,
    dry: bool,
    by: Who<'_>,
) -> Result<(Option<String>, bool), ImportError> {
    if let Some(id) = store.import_hall(&c.hall_key)? {
        return Ok((Some(id), false));
    }
    // A hall registered with its own server and the same name is the same hall.
    if let Some(id) = store
        .halls()?
        .into_iter()
        .find(|h| hall_key(&h.name) == c.hall_key)
        .map(|h| h.hall_id)
    {
        return Ok((Some(id), false));
    }
    if !create {
        return Ok((None, false));
    }
    let id = new_hall_id(store, &c.hall_key, &c.region)?;
    if !dry {
        store.create_file_hall(&c.hall_key, &id, &c.hall_name, &c.region, by)?;
    }
    Ok((Some(id), true))
}

/// Imports one file. Bad rows go to quarantine with their row number; a killed
/// import can simply be run again (nothing is doubled).
pub fn import_file(
    store: &mut Store,
    path: &Path,
    opts: &ImportOptions,
    by: Who<'_>,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<ImportSummary, ImportError> {
    let opened = open(path)?;
    let (mapping, profile_name, _) = mapping_for(
        store,
        &opened,
        opts.mapping.clone(),
        opts.profile.as_deref(),
    )?;
    if mapping.header(Field::EvaluatedAt).is_none() {
        return Err(ImportError::NoEvaluationTime);
    }
    let missing = mapping.missing();
    if !missing.is_empty() {
        return Err(ImportError::Missing(missing.join("、")));
    }
    let cols = Columns::new(&opened.header, mapping.clone())?;
    let dry = opts.dry_run;
    let salt = salt(store, !dry)?;
    let exported = export_time(path, &opened.header.title);
    let rev = exported.timestamp().max(1);
    let name = file_name(path);
    let sha = {
        let mut h = Sha256::new();
        let mut f = std::fs::File::open(path)
            .map_err(|e| ImportError::Io(path.display().to_string(), e.to_string()))?;
        std::io::copy(&mut f, &mut h)
            .map_err(|e| ImportError::Io(path.display().to_string(), e.to_string()))?;
        hex::encode(h.finalize())
    };
    if let Some(p) = &opts.save_profile
        && !dry
    {
        let json =
            serde_json::to_string(&mapping).map_err(|e| ImportError::Unreadable(e.to_string()))?;
        store.save_import_profile(
            p,
            &opened
                .header
                .names
                .iter()
                .map(|n| columns::normalise_header(n))
                .collect::<Vec<_>>(),
            &json,
            by,
        )?;
    } else if let Some(p) = &profile_name
        && !dry
    {
        store.touch_import_profile(p)?;
    }

    let mut sum = ImportSummary {
        file_name: name.clone(),
        sheet: opened.sheet.clone(),
        dry_run: dry,
        ..ImportSummary::default()
    };
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut quarantine: Vec<(String, u32, String, String, String)> = vec![];
    let mut seen_halls: HashSet<String> = HashSet::new();
    let mut pending_rows = 0usize;
    let mut created: HashSet<String> = HashSet::new();
    let mut rows_seen = 0u64;
    let mut last_tick = 0u64;
    let mut failure: Option<ImportError> = None;
    // Reading, converting and checking rows runs on its own thread, writing them
    // on this one, so a two-core laptop imports in about the time of the slower
    // half. The channel is bounded: memory stays a few chunks of rows however big
    // the file. The reader resolves halls on its own connection (a new hall is one
    // short write of its own).
    let reader_ctx = ReaderCtx {
        source: &opened.source,
        sheet: &opened.sheet,
        header: &opened.header,
        cols: &cols,
        salt: &salt,
        file_name: &name,
        rev,
        dry,
        create_halls: opts.create_halls,
        by,
    };
    let hall_store = Store::open(store.path())?;
    let read_result = std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<ReadChunk>(READ_AHEAD_CHUNKS);
        let reader = scope.spawn(move || read_rows(&reader_ctx, hall_store, send));
        'chunks: for chunk in receive.iter() {
            for item in chunk.items {
                let step = match item {
                    ReadItem::Summary => {
                        sum.summary_rows += 1;
                        continue;
                    }
                    ReadItem::HallCreated { id, name } => {
                        sum.halls_created.push(name);
                        created.insert(id);
                        continue;
                    }
                    ReadItem::Bad(b) => {
                        rows_seen += 1;
                        quarantine.push(*b);
                        if quarantine.len() >= BATCH_ROWS {
                            write_quarantine(
                                store,
                                &mut quarantine,
                                &sha,
                                &opened.sheet,
                                dry,
                                &mut sum,
                            )
                        } else {
                            Ok(())
                        }
                    }
                    ReadItem::Ready(r) => {
                        rows_seen += 1;
                        let ReadyRow {
                            hall_id,
                            row,
                            raw,
                            evaluation,
                            count,
                            work_order,
                            profile,
                        } = *r;
                        if seen_halls.insert(hall_id.clone()) {
                            sum.halls.push(hall_id.clone());
                        }
                        let p = pending.entry(hall_id).or_default();
                        for (kind, entry) in profile.into_iter().enumerate() {
                            if let Some((k, v)) = entry {
                                [
                                    &mut p.departments,
                                    &mut p.windows,
                                    &mut p.staff,
                                    &mut p.items,
                                ][kind]
                                    .insert(k, v);
                            }
                        }
                        p.records.push(PendingRow {
                            row,
                            raw,
                            evaluation,
                            count,
                            work_order,
                        });
                        pending_rows += 1;
                        if pending_rows >= BATCH_ROWS {
                            pending_rows = 0;
                            let ctx = Flush {
                                created: &created,
                                rev,
                                exported,
                                dry,
                                by,
                            };
                            flush_all(store, &mut pending, &ctx, &mut sum)
                        } else {
                            Ok(())
                        }
                    }
                };
                if let Err(e) = step {
                    failure = Some(e);
                    break 'chunks;
                }
            }
            sum.rows_read = rows_seen;
            if rows_seen - last_tick >= 1000 {
                last_tick = rows_seen;
                progress(ImportProgress {
                    rows: rows_seen,
                    fraction: chunk.fraction,
                });
            }
        }
        // Dropping the receiver makes a reader that is still going stop.
        drop(receive);
        reader
            .join()
            .unwrap_or_else(|_| Err(ImportError::Unreadable("读取文件的线程意外中止".into())))
    });
    sum.rows_read = rows_seen;
    if let Some(e) = failure {
        return Err(e);
    }
    read_result?;
    let ctx = Flush {
        created: &created,
        rev,
        exported,
        dry,
        by,
    };
    flush_all(store, &mut pending, &ctx, &mut sum)?;
    write_quarantine(store, &mut quarantine, &sha, &opened.sheet, dry, &mut sum)?;
    progress(ImportProgress {
        rows: rows_seen,
        fraction: 1.0,
    });
    if !dry {
        store.record_import(
            &hcp_store::ImportRecord {
                file_name: name,
                sha256: sha.clone(),
                sheet: opened.sheet.clone(),
                profile: opts.save_profile.clone().or(profile_name),
                imported_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                imported_by: by.name.to_owned(),
                rows_read: sum.rows_read as i64,
                new: sum.new as i64,
                updated: sum.updated as i64,
                unchanged: sum.unchanged as i64,
                quarantined: sum.quarantined as i64,
            },
            by,
        )?;
    }
    Ok(sum)
}

/// Where a bad row of a file sits in quarantine: the same row of the same file
/// gets the same (negative) position, so it is quarantined once however often the
/// file is imported.
fn seq_for(sha: &str, sheet: &str, row: u32) -> i64 {
    let mut h = Sha256::new();
    h.update(sha.as_bytes());
    h.update(sheet.as_bytes());
    h.update(row.to_le_bytes());
    let b: [u8; 8] = h.finalize()[..8].try_into().expect("8 bytes");
    -((u64::from_le_bytes(b) >> 2) as i64) - 1
}

/// What a flush needs to know of the import.
struct Flush<'a> {
    /// Halls created by this import (by id).
    created: &'a HashSet<String>,
    /// The export's time in seconds: the rows' revision.
    rev: i64,
    /// …as a time: when an appeal, a rectification or a verdict the export does
    /// not date was known.
    exported: DateTime<FixedOffset>,
    dry: bool,
    by: Who<'a>,
}

/// A record or verdict planned for a hall's part of the transaction; a record's
/// raw text is kept beside it (`raw`: its index). (Nearly every item is a record:
/// see `hcp_store::ImportItem`.)
#[allow(clippy::large_enum_variant)]
enum Planned {
    Record {
        seq: i64,
        raw: usize,
        record: ValidRecord,
        revision: Option<&'static str>,
    },
    Verdict(hcp_store::AppealVerdict),
}

/// One hall's plan: the raw texts and the items in the order they happened.
#[derive(Default)]
struct HallPlan {
    raws: Vec<String>,
    items: Vec<Planned>,
}

impl HallPlan {
    fn record(
        &mut self,
        seq: u32,
        raw: String,
        record: ValidRecord,
        revision: Option<&'static str>,
    ) {
        self.raws.push(raw);
        self.items.push(Planned::Record {
            seq: i64::from(seq),
            raw: self.raws.len() - 1,
            record,
            revision,
        });
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<String, ImportError> {
    serde_json::to_string(v).map_err(|e| ImportError::Unreadable(e.to_string()))
}

/// Stores every hall's pending rows in one transaction: rows equal to what is
/// stored, or older than it, are left out; the rest are upserted by revision,
/// and a 工单 row's appeal, verdict, rectification and 追评 follow its rating.
fn flush_all(
    store: &mut Store,
    pending: &mut HashMap<String, Pending>,
    f: &Flush<'_>,
    sum: &mut ImportSummary,
) -> Result<(), ImportError> {
    let mut halls: Vec<String> = pending.keys().cloned().collect();
    halls.sort();
    let mut plans: Vec<HallPlan> = Vec::with_capacity(halls.len());
    for hall_id in &halls {
        let rows = pending
            .get_mut(hall_id)
            .map(|p| std::mem::take(&mut p.records))
            .unwrap_or_default();
        plans.push(plan_hall(store, hall_id, rows, f, sum)?);
    }
    if !f.dry {
        let batch: Vec<(&str, Vec<ImportItem<'_>>)> = halls
            .iter()
            .zip(plans.iter_mut())
            .map(|(hall, plan)| {
                let raws = &plan.raws;
                let items = std::mem::take(&mut plan.items)
                    .into_iter()
                    .map(|item| match item {
                        Planned::Record {
                            seq,
                            raw,
                            record,
                            revision,
                        } => ImportItem::Record(FeedRecord {
                            seq,
                            raw: &raws[raw],
                            record,
                            revision,
                        }),
                        Planned::Verdict(v) => ImportItem::Verdict(v),
                    })
                    .collect();
                (hall.as_str(), items)
            })
            .collect();
        let out = store.apply_import_items(&batch, f.by)?;
        sum.new += out.evaluations.new;
        sum.updated += out.evaluations.updated;
        sum.unchanged += out.evaluations.unchanged;
        sum.appeals += out.appeals.new + out.appeals.updated;
        sum.rectifications += out.rectifications.new + out.rectifications.updated;
        sum.verdicts += out.verdicts;
        // What the file taught about each file-sourced hall's profile.
        for hall_id in &halls {
            let Some(p) = pending.get_mut(hall_id) else {
                continue;
            };
            if p.departments.is_empty()
                && p.windows.is_empty()
                && p.staff.is_empty()
                && p.items.is_empty()
            {
                continue;
            }
            let dept: Vec<Department> = std::mem::take(&mut p.departments)
                .into_iter()
                .map(|(code, name)| Department { code, name })
                .collect();
            let win: Vec<Window> = std::mem::take(&mut p.windows)
                .into_iter()
                .map(|(no, name)| Window {
                    no,
                    name,
                    department_code: None,
                })
                .collect();
            let staff: Vec<Staff> = std::mem::take(&mut p.staff)
                .into_iter()
                .map(|(no, name)| Staff {
                    name: if name.is_empty() { no.clone() } else { name },
                    no,
                    window_no: None,
                    department_code: None,
                })
                .collect();
            let items: Vec<ServiceItem> = std::mem::take(&mut p.items)
                .into_iter()
                .map(|(code, name)| ServiceItem {
                    name: if name.is_empty() { code.clone() } else { name },
                    code,
                    department_code: None,
                })
                .collect();
            store.merge_file_profile(hall_id, &dept, &win, &staff, &items)?;
        }
    }
    Ok(())
}

/// One hall's rows as records to write, in order. A dry run counts what would
/// be written.
fn plan_hall(
    store: &Store,
    hall_id: &str,
    rows: Vec<PendingRow>,
    f: &Flush<'_>,
    sum: &mut ImportSummary,
) -> Result<HallPlan, ImportError> {
    // A hall this import created has nothing stored before it: no lookups.
    let fresh = f.created.contains(hall_id);
    let mut known: HashMap<String, (i64, String)> = if fresh {
        HashMap::new()
    } else {
        let ids: Vec<&str> = rows.iter().map(|r| r.evaluation.id.as_str()).collect();
        store.evaluations_raw(hall_id, &ids)?
    };
    let follow_up_ids = |suffix: &str| -> Vec<String> {
        rows.iter()
            .filter_map(|r| r.work_order.as_ref())
            .map(|w| format!("GD-{}-{suffix}", w.order_no))
            .collect()
    };
    let (appeal_ids, rect_ids) = (follow_up_ids("SS"), follow_up_ids("ZG"));
    let (mut appeals, mut rects) = if fresh || appeal_ids.is_empty() {
        (HashMap::new(), HashMap::new())
    } else {
        let a: Vec<&str> = appeal_ids.iter().map(String::as_str).collect();
        let r: Vec<&str> = rect_ids.iter().map(String::as_str).collect();
        (
            store.follow_ups_raw(hall_id, "appeal", &a)?,
            store.follow_ups_raw(hall_id, "rectification", &r)?,
        )
    };
    let mut plan = HallPlan::default();
    for r in rows {
        let PendingRow {
            row,
            raw,
            evaluation: e,
            count,
            work_order,
        } = r;
        let Some(wo) = work_order else {
            if let Some((old_rev, old_raw)) = known.get(&e.id) {
                let same = serde_json::from_str::<Evaluation>(old_raw)
                    .ok()
                    .is_some_and(|mut old| {
                        old.rev = e.rev;
                        old == e
                    });
                if same || *old_rev >= e.rev {
                    sum.unchanged += 1;
                    continue;
                }
                if f.dry {
                    sum.updated += 1;
                }
            } else if f.dry {
                sum.new += 1;
            }
            if count >= 2 {
                sum.revisions += 1;
            }
            known.insert(e.id.clone(), (e.rev, raw.clone()));
            plan.record(
                row,
                raw,
                ValidRecord::Evaluation(e),
                (count >= 2).then_some("second_rating"),
            );
            continue;
        };
        plan_work_order(
            store,
            hall_id,
            fresh,
            row,
            raw,
            e,
            &wo,
            f,
            sum,
            &mut known,
            &mut plan,
            &mut appeals,
            &mut rects,
        )?;
    }
    Ok(plan)
}

/// A 工单 row: its rating (found where a 评价明细 brought it, else added), then the
/// appeal, its verdict, the rectification and the 追评 the export shows, each only
/// when it is new or changed since the export that wrote it.
#[allow(clippy::too_many_arguments)]
fn plan_work_order(
    store: &Store,
    hall_id: &str,
    fresh: bool,
    row: u32,
    raw: String,
    mut e: Evaluation,
    wo: &WorkOrder,
    f: &Flush<'_>,
    sum: &mut ImportSummary,
    known: &mut HashMap<String, (i64, String)>,
    plan: &mut HallPlan,
    appeals: &mut HashMap<String, (i64, String)>,
    rects: &mut HashMap<String, (i64, String)>,
) -> Result<(), ImportError> {
    // The rating: stored under its key, or the one bad rating of the hall at the
    // same second (from a 评价明细 without 办件编号), else this row's own.
    let mut stored = known.get(&e.id).cloned();
    if stored.is_none() && !fresh {
        let at = hcp_store::utc_text(e.evaluated_at.with_timezone(&Utc));
        let found = store.bad_evaluations_at(hall_id, &at)?;
        let same_channel: Vec<&(String, String)> =
            found.iter().filter(|(_, ch)| *ch == e.channel).collect();
        let pick = match (found.as_slice(), same_channel.as_slice()) {
            ([one], _) => Some(one.0.clone()),
            (_, [one]) => Some(one.0.clone()),
            _ => None,
        };
        if let Some(id) = pick {
            stored = store.evaluations_raw(hall_id, &[id.as_str()])?.remove(&id);
            if stored.is_some() {
                e.id = id;
            }
        }
    }
    let base: Evaluation = match stored.and_then(|(_, raw)| serde_json::from_str(&raw).ok()) {
        Some(old) => {
            sum.unchanged += 1;
            old
        }
        None => {
            if f.dry {
                sum.new += 1;
            }
            known.insert(e.id.clone(), (e.rev, raw.clone()));
            plan.record(row, raw, ValidRecord::Evaluation(e.clone()), None);
            e
        }
    };
    let when = |t: Option<DateTime<FixedOffset>>| t.unwrap_or(f.exported);
    // A follow-up record is written when new or changed: a changed one outranks
    // the stored rev.
    let rev_of = |stored: Option<&(i64, String)>, same: bool| -> Option<i64> {
        match stored {
            None => Some(f.rev),
            Some(_) if same => None,
            Some((old, _)) => Some((*old + 1).max(f.rev)),
        }
    };
    if let Some(a) = &wo.appeal {
        let id = format!("GD-{}-SS", wo.order_no);
        let old = appeals.get(&id);
        let same = old.is_some_and(|(_, raw)| {
            serde_json::from_str::<Appeal>(raw).is_ok_and(|o| {
                o.statement == a.statement && o.ground == a.ground && o.evaluation_id == base.id
            })
        });
        if let Some(rev) = rev_of(old, same) {
            let appeal = Appeal {
                id: id.clone(),
                rev,
                hall_id: hall_id.to_owned(),
                evaluation_id: base.id.clone(),
                filed_at: when(a.filed_at),
                filed_by: format!("省平台工单{}", wo.order_no),
                ground: a.ground.to_owned(),
                statement: a.statement.clone(),
                attachments: vec![],
            };
            let raw = to_json(&appeal)?;
            appeals.insert(id, (rev, raw.clone()));
            if f.dry {
                sum.appeals += 1;
            }
            plan.record(row, raw, ValidRecord::Appeal(appeal), None);
        }
    }
    if let Some((upheld, note)) = &wo.verdict {
        if f.dry {
            sum.verdicts += 1;
        }
        plan.items.push(Planned::Verdict(hcp_store::AppealVerdict {
            evaluation_id: base.id.clone(),
            upheld: *upheld,
            note: note.clone(),
            at: f.exported.min(Utc::now().fixed_offset()),
        }));
    }
    if let Some(r) = &wo.rectification {
        let id = format!("GD-{}-ZG", wo.order_no);
        let old = rects.get(&id);
        let same = old.is_some_and(|(_, raw)| {
            serde_json::from_str::<Rectification>(raw).is_ok_and(|o| {
                o.measures == r.measures && o.responsible == r.by && o.evaluation_id == base.id
            })
        });
        if let Some(rev) = rev_of(old, same) {
            let rect = Rectification {
                id: id.clone(),
                rev,
                hall_id: hall_id.to_owned(),
                evaluation_id: base.id.clone(),
                submitted_at: when(r.at),
                responsible: r.by.clone(),
                measures: r.measures.clone(),
                attachments: vec![],
            };
            let raw = to_json(&rect)?;
            rects.insert(id, (rev, raw.clone()));
            if f.dry {
                sum.rectifications += 1;
            }
            plan.record(row, raw, ValidRecord::Rectification(rect), None);
        }
    }
    // 追评: the rater's later rating replaces the first, as a 改评 would.
    if let Some((level, text)) = &wo.follow_up {
        let comment = if text.is_empty() {
            base.comment.clone()
        } else {
            text.clone()
        };
        if base.level != *level || base.comment != comment {
            let mut revised = base.clone();
            revised.level = *level;
            revised.comment = comment;
            revised.status = EvaluationStatus::Revised;
            revised.rev = base.rev + 1;
            let raw = to_json(&revised)?;
            known.insert(revised.id.clone(), (revised.rev, raw.clone()));
            sum.revisions += 1;
            if f.dry {
                sum.updated += 1;
            }
            plan.record(
                row,
                raw,
                ValidRecord::Evaluation(revised),
                Some("follow_up"),
            );
        }
    }
    Ok(())
}

fn write_quarantine(
    store: &mut Store,
    q: &mut Vec<(String, u32, String, String, String)>,
    sha: &str,
    sheet: &str,
    dry: bool,
    sum: &mut ImportSummary,
) -> Result<(), ImportError> {
    if q.is_empty() {
        return Ok(());
    }
    if dry {
        sum.quarantined += q.len() as u64;
        q.clear();
        return Ok(());
    }
    let mut by_hall: BTreeMap<String, Vec<QuarantineEntry<'_>>> = BTreeMap::new();
    for (hall, row, field, reason, raw) in q.iter() {
        by_hall
            .entry(hall.clone())
            .or_default()
            .push(QuarantineEntry {
                seq: seq_for(sha, sheet, *row),
                kind: "import_row".into(),
                raw,
                field: field.clone(),
                reason: reason.clone(),
            });
    }
    for (hall, rows) in by_hall {
        sum.quarantined += store.quarantine_import_rows(&hall, &rows)?;
    }
    q.clear();
    Ok(())
}
