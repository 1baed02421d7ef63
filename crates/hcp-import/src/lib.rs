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
mod halls;
mod inspect;
pub mod personal;
mod pipeline;
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

use halls::*;
pub use inspect::*;
pub use pipeline::*;

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

fn to_json<T: Serialize>(v: &T) -> Result<String, ImportError> {
    serde_json::to_string(v).map_err(|e| ImportError::Unreadable(e.to_string()))
}
