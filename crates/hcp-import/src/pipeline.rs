//! Importing a file: a reader thread turns rows into records (converted, checked, serialised) and hands chunks to the writer, which plans each hall's rows against what is stored and writes them in batches with their quarantine.

use super::*;

/// Rows the reading thread hands over at a time.
pub(crate) const READ_CHUNK_ROWS: usize = 1024;

/// Chunks the reading thread may be ahead of the writing one.
pub(crate) const READ_AHEAD_CHUNKS: usize = 8;

/// What the reading thread hands to the writing one, in file order.
pub(crate) struct ReadChunk {
    items: Vec<ReadItem>,
    /// How far into the file the last of them was.
    fraction: f64,
}

pub(crate) enum ReadItem {
    /// A 合计 / 小计 row.
    Summary,
    /// A hall this import created (before its first row).
    HallCreated { id: String, name: String },
    /// A row for quarantine: (hall, row, column, reason, raw).
    Bad(Box<(String, u32, String, String, String)>),
    /// A row that passed the evaluation rules.
    Ready(Box<ReadyRow>),
}

pub(crate) struct ReadyRow {
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
pub(crate) struct ReaderCtx<'a> {
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
pub(crate) fn read_rows(
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
pub(crate) fn ready_row(
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
pub(crate) const COUNT_RANK: i64 = 10_000_000_000;

/// A row's revision: its export's time, ranked by its 评价次数 when it has one
/// above the first.
pub(crate) fn revision(export_rev: i64, count: u8) -> i64 {
    if count <= 1 {
        export_rev
    } else {
        i64::from(count) * COUNT_RANK + export_rev
    }
}

/// A row waiting for its batch's transaction.
pub(crate) struct PendingRow {
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
pub(crate) struct Pending {
    records: Vec<PendingRow>,
    departments: BTreeMap<String, String>,
    windows: BTreeMap<String, String>,
    staff: BTreeMap<String, String>,
    items: BTreeMap<String, String>,
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
pub(crate) fn seq_for(sha: &str, sheet: &str, row: u32) -> i64 {
    let mut h = Sha256::new();
    h.update(sha.as_bytes());
    h.update(sheet.as_bytes());
    h.update(row.to_le_bytes());
    let b: [u8; 8] = h.finalize()[..8].try_into().expect("8 bytes");
    -((u64::from_le_bytes(b) >> 2) as i64) - 1
}

/// What a flush needs to know of the import.
pub(crate) struct Flush<'a> {
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
pub(crate) enum Planned {
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
pub(crate) struct HallPlan {
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

/// Stores every hall's pending rows in one transaction: rows equal to what is
/// stored, or older than it, are left out; the rest are upserted by revision,
/// and a 工单 row's appeal, verdict, rectification and 追评 follow its rating.
pub(crate) fn flush_all(
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
pub(crate) fn plan_hall(
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
pub(crate) fn plan_work_order(
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

pub(crate) fn write_quarantine(
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
