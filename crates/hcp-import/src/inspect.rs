//! Looking at a file before importing it: its layout, header, mapping (a saved profile or the one found), preview rows and the codes it uses.

use super::*;

/// Rows shown in the preview.
pub const PREVIEW_ROWS: usize = 20;

/// Rows read ahead to find the header and sample the columns.
pub(crate) const SAMPLE_ROWS: usize = 200;

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

pub(crate) fn normalised_headers(h: &columns::Header) -> Vec<String> {
    let mut v: Vec<String> = h
        .names
        .iter()
        .map(|n| columns::normalise_header(n))
        .collect();
    v.sort();
    v
}

/// The saved profile whose headers are exactly this file's.
pub(crate) fn matching_profile(
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

pub(crate) fn named_profile(store: &Store, name: &str) -> Result<Mapping, ImportError> {
    let p = store
        .import_profiles()?
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| ImportError::NoSuchProfile(name.to_owned()))?;
    serde_json::from_str(&p.mapping_json).map_err(|e| ImportError::Unreadable(e.to_string()))
}

pub(crate) fn mapping_for(
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
