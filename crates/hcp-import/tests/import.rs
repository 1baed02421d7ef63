//! Spreadsheet imports end to end on a real SQLite cache: files written the way
//! real exports look (rust_xlsxwriter for xlsx; CSV in UTF-8 with a BOM and in
//! GBK), imported through the same path as a hall sync.

use std::path::{Path, PathBuf};

use hcp_core::case::Actor;
use hcp_import::{ImportOptions, ImportSummary, import_file, inspect};
use hcp_store::{CaseFilter, Store, Who};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

const BY: Who<'static> = Who {
    name: "王督查",
    actor: Actor::Officer,
};

fn store(dir: &Path) -> Store {
    Store::open(dir.join("hcp.db")).expect("open cache")
}

fn run(s: &mut Store, path: &Path, create_halls: bool) -> ImportSummary {
    let opts = ImportOptions {
        create_halls,
        ..ImportOptions::default()
    };
    import_file(s, path, &opts, BY, &mut |_| {}).expect("import")
}

fn hall_id(s: &Store, name: &str) -> String {
    s.halls()
        .unwrap()
        .into_iter()
        .find(|h| h.name == name)
        .unwrap_or_else(|| panic!("no hall {name}"))
        .hall_id
}

/// The hall's evaluations, counted; the tally the hall list reads must agree.
fn total(s: &Store, hall: &str) -> i64 {
    let counted = s.hall_counts(hall).unwrap();
    assert_eq!(
        s.all_hall_counts()
            .unwrap()
            .get(hall)
            .copied()
            .unwrap_or_default(),
        counted
    );
    counted.evaluations
}

fn list(s: &Store, hall: &str) -> Vec<hcp_store::EvaluationListRow> {
    s.list_evaluations(
        &hcp_store::EvaluationFilter {
            hall_id: Some(hall.into()),
            include_withdrawn: true,
            ..Default::default()
        },
        None,
        500,
    )
    .unwrap()
    .0
}

fn cases(s: &Store, hall: &str) -> Vec<hcp_store::CaseListRow> {
    s.list_cases(
        &CaseFilter {
            hall_id: Some(hall.into()),
            ..CaseFilter::default()
        },
        chrono::Utc::now(),
    )
    .unwrap()
    .rows
}

/// An export as the provincial system writes it: a merged title, 导出时间, a
/// two-row header (评价时间 merged down, 评价人信息 merged across), Excel date
/// cells, full-width digits, a wrong level word, an unreadable time and a 合计 row.
fn write_xlsx(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    ws.merge_range(0, 0, 0, 9, "安徽省政务服务好差评评价明细", &bold)
        .unwrap();
    ws.write(1, 0, "导出时间：2026-11-01 08:00:00").unwrap();
    ws.merge_range(2, 0, 3, 0, "评价时间", &bold).unwrap();
    ws.merge_range(2, 1, 3, 1, "评价等级", &bold).unwrap();
    ws.merge_range(2, 2, 3, 2, "评价渠道", &bold).unwrap();
    ws.merge_range(2, 3, 3, 3, "大厅名称", &bold).unwrap();
    ws.merge_range(2, 4, 3, 4, "窗口号", &bold).unwrap();
    ws.merge_range(2, 5, 3, 5, "工作人员", &bold).unwrap();
    ws.merge_range(2, 6, 3, 6, "评价内容", &bold).unwrap();
    ws.merge_range(2, 7, 3, 7, "差评原因", &bold).unwrap();
    ws.merge_range(2, 8, 2, 9, "评价人信息", &bold).unwrap();
    ws.write(3, 8, "评价人").unwrap();
    ws.write(3, 9, "联系电话").unwrap();
    let rows: [[&str; 10]; 8] = [
        [
            "serial",
            "非常满意",
            "窗口评价器",
            "太湖县政务服务中心",
            "Ａ０３",
            "张三",
            "",
            "",
            "李四",
            "13800005521",
        ],
        [
            "serial",
            "不满意",
            "二维码",
            "太湖县政务服务中心",
            "A03",
            "张三",
            "办理时间太长",
            "办理时间长；服务态度差",
            "赵五",
            "13900001234",
        ],
        [
            "2026-10-12 10:05:00",
            "满意",
            "政务服务网",
            "太湖县政务服务中心",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "２０２６－１０－１３　０９：００：００",
            "非常不满意",
            "12345热线",
            "潜山市政务服务中心",
            "B01",
            "刘六",
            "推诿",
            "推诿扯皮",
            "",
            "",
        ],
        [
            "2026-10-13 11:00",
            "很好",
            "窗口评价器",
            "潜山市政务服务中心",
            "B01",
            "刘六",
            "",
            "",
            "",
            "",
        ],
        [
            "昨天下午",
            "满意",
            "窗口评价器",
            "潜山市政务服务中心",
            "B01",
            "刘六",
            "",
            "",
            "",
            "",
        ],
        [
            "2026/10/14 15:30:00",
            "基本满意",
            "自助终端",
            "潜山市政务服务中心",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        ["合计", "", "", "", "", "", "", "", "", ""],
    ];
    let mut serial = 46307.0 + 9.5 / 24.0; // 2026-10-12 09:30
    for (i, r) in rows.iter().enumerate() {
        let row = 4 + i as u32;
        if r[0] == "serial" {
            let dt = ExcelDateTime::from_serial_datetime(serial).unwrap();
            ws.write_datetime_with_format(row, 0, &dt, &date).unwrap();
            serial += 1.0 / 24.0;
        } else {
            ws.write(row, 0, r[0]).unwrap();
        }
        for (c, v) in r[1..].iter().enumerate() {
            if !v.is_empty() {
                ws.write(row, c as u16 + 1, *v).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

#[test]
fn an_xlsx_export_with_its_title_merged_header_serials_and_total_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("评价明细.xlsx");
    write_xlsx(&path);
    let mut s = store(dir.path());

    let seen = inspect(&s, &path, None, None).unwrap();
    assert_eq!(seen.header_row, 4);
    assert!(seen.new_layout);
    assert!(seen.missing.is_empty(), "{:?}", seen.missing);
    assert_eq!(seen.new_halls, ["太湖县政务服务中心", "潜山市政务服务中心"]);
    assert_eq!(seen.exported_at, "2026-11-01 08:00:00");
    assert_eq!(
        seen.preview[0].evaluated_at.as_deref(),
        Some("2026-10-12 09:30:00")
    );
    assert_eq!(seen.preview[0].window.as_deref(), Some("A03"));
    assert!(seen.preview[4].error.as_deref().unwrap().contains("很好"));

    let sum = run(&mut s, &path, true);
    assert_eq!(sum.rows_read, 7);
    assert_eq!(sum.summary_rows, 1);
    assert_eq!(
        (sum.new, sum.updated, sum.unchanged, sum.quarantined),
        (5, 0, 0, 2)
    );
    assert_eq!(sum.halls_created.len(), 2);

    let taihu = hall_id(&s, "太湖县政务服务中心");
    let qianshan = hall_id(&s, "潜山市政务服务中心");
    assert_eq!(s.hall(&taihu).unwrap().unwrap().source, "file");
    assert_eq!((total(&s, &taihu), total(&s, &qianshan)), (3, 2));

    // Bad rows are in quarantine with their row number and column.
    let q = s.quarantine(None).unwrap();
    assert_eq!(q.len(), 2);
    let reasons: Vec<&str> = q.iter().map(|r| r.reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("第 9 行「评价等级」") && r.contains("很好")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("第 10 行「评价时间」") && r.contains("昨天下午")),
        "{reasons:?}"
    );
    assert!(
        q.iter()
            .all(|r| r.kind == "import_row" && r.raw.contains("评价明细.xlsx"))
    );

    // Bad ratings opened cases, as a sync would.
    assert_eq!(cases(&s, &taihu).len(), 1);
    assert_eq!(cases(&s, &qianshan).len(), 1);

    // The evaluator is masked on the way in; the number is nowhere in the file.
    let bad_id = list(&s, &taihu)
        .into_iter()
        .find(|e| e.level == 2)
        .unwrap()
        .id;
    let bad = s.evaluation(&taihu, &bad_id).unwrap().unwrap();
    assert_eq!(bad.evaluator_name_masked.as_deref(), Some("赵*"));
    assert_eq!(bad.evaluator_phone_masked.as_deref(), Some("*******1234"));
    assert_eq!(bad.channel, "qr_code");
    assert_eq!(bad.reasons, r#"["slow","attitude"]"#);
    assert_eq!(bad.evaluated_at, "2026-10-12T02:30:00Z");
    drop(s);
    let bytes = std::fs::read(dir.path().join("hcp.db")).unwrap();
    let needle = "13900001234".as_bytes();
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    assert!(!bytes.windows("赵五".len()).any(|w| w == "赵五".as_bytes()));

    // The same file again changes nothing and quarantines nothing twice.
    let mut s = store(dir.path());
    let again = run(&mut s, &path, true);
    assert_eq!((again.new, again.updated, again.unchanged), (0, 0, 5));
    assert_eq!(again.quarantined, 0);
    assert!(again.halls_created.is_empty());
    assert_eq!(s.quarantine(None).unwrap().len(), 2);
}

fn csv_text(exported: &str, rows: &[[&str; 8]]) -> String {
    let mut t = format!("评价明细导出\n导出时间：{exported}\n");
    t.push_str("评价ID,评价日期,评价分值,评价方式,服务中心,窗口,意见建议,评价状态\n");
    for r in rows {
        t.push_str(&r.join(","));
        t.push('\n');
    }
    t.push_str("合计,4条,,,,,,\n");
    t
}

fn write_utf8_bom(path: &Path, text: &str) {
    let mut b = vec![0xEF, 0xBB, 0xBF];
    b.extend_from_slice(text.as_bytes());
    std::fs::write(path, b).unwrap();
}

#[test]
fn overlapping_exports_give_no_duplicates_and_a_change_updates_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let first: PathBuf = dir.path().join("10月上.csv");
    let second: PathBuf = dir.path().join("10月下.csv");
    let hall = "宿松县政务服务中心";
    write_utf8_bom(
        &first,
        &csv_text(
            "2026-10-21 08:00:00",
            &[
                [
                    "E1",
                    "2026-10-05 09:00:00",
                    "5",
                    "窗口评价器",
                    hall,
                    "1",
                    "",
                    "有效",
                ],
                [
                    "E2",
                    "2026-10-12 10:00:00",
                    "2",
                    "二维码",
                    hall,
                    "2",
                    "等了两个小时",
                    "有效",
                ],
                [
                    "E3",
                    "2026-10-18 11:00:00",
                    "4",
                    "APP",
                    hall,
                    "",
                    "",
                    "有效",
                ],
            ],
        ),
    );
    // The later export overlaps from the 12th: E2 was re-rated (改评) to 5.
    write_utf8_bom(
        &second,
        &csv_text(
            "2026-11-01 08:00:00",
            &[
                [
                    "E2",
                    "2026-10-12 10:00:00",
                    "5",
                    "二维码",
                    hall,
                    "2",
                    "等了两个小时",
                    "已改评",
                ],
                [
                    "E3",
                    "2026-10-18 11:00:00",
                    "4",
                    "APP",
                    hall,
                    "",
                    "",
                    "有效",
                ],
                [
                    "E4",
                    "2026-10-28 16:00:00",
                    "1",
                    "短信",
                    hall,
                    "",
                    "没人接电话",
                    "有效",
                ],
            ],
        ),
    );
    let a = run(&mut s, &first, true);
    assert_eq!((a.new, a.updated, a.unchanged, a.quarantined), (3, 0, 0, 0));
    let id = hall_id(&s, hall);
    let open = cases(&s, &id);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].evaluation_id, "E2");
    assert_eq!(open[0].state, "open");

    let b = run(&mut s, &second, true);
    assert_eq!((b.new, b.updated, b.unchanged), (1, 1, 1));
    assert_eq!(total(&s, &id), 4, "no duplicates across the overlap");
    assert_eq!(s.hall_counts(&id).unwrap().bad, 1);
    let e2 = s.evaluation(&id, "E2").unwrap().unwrap();
    assert_eq!((e2.level, e2.status.as_str()), (5, "revised"));
    let after = cases(&s, &id);
    let c2 = after.iter().find(|c| c.evaluation_id == "E2").unwrap();
    assert_ne!(
        c2.state, "open",
        "the re-rated case is closed by the engine"
    );
    assert!(after.iter().any(|c| c.evaluation_id == "E4"));

    // Importing the older export again does not roll the 改评 back.
    let c = run(&mut s, &first, true);
    assert_eq!((c.new, c.updated, c.unchanged), (0, 0, 3));
    let e2 = s.evaluation(&id, "E2").unwrap().unwrap();
    assert_eq!(e2.level, 5);
}

#[test]
fn a_gbk_csv_without_ids_gets_the_same_ids_as_its_utf8_twin() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let text = "评价时间,满意度,评价渠道,大厅,窗口号,工号,办件编号\n\
                2026-10-20 09:00:00,非常满意,窗口评价器,怀宁县政务服务中心,３,００７,SB001\n\
                2026-10-20 09:05:00,非常不满意,窗口评价器,怀宁县政务服务中心,3,007,SB002\n\
                2026-10-20 09:06:00,满意,二维码,怀宁县政务服务中心,3,007,\n";
    let (gbk, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad);
    let gbk_path = dir.path().join("gbk.csv");
    std::fs::write(&gbk_path, &gbk).unwrap();
    let seen = inspect(&s, &gbk_path, None, None).unwrap();
    assert_eq!(seen.encoding.as_deref(), Some("GBK"));
    assert_eq!(seen.headers[1], "满意度");
    let a = run(&mut s, &gbk_path, true);
    assert_eq!((a.new, a.quarantined), (3, 0));
    let id = hall_id(&s, "怀宁县政务服务中心");
    let e = list(&s, &id);
    assert_eq!(e.len(), 3);
    assert!(
        e.iter()
            .all(|e| e.window_no.as_deref() == Some("3") && e.staff_no.as_deref() == Some("007"))
    );
    // The same rows saved as UTF-8 with a BOM are the same evaluations.
    let utf8 = dir.path().join("utf8.csv");
    write_utf8_bom(&utf8, text);
    let b = run(&mut s, &utf8, true);
    assert_eq!((b.new, b.updated, b.unchanged), (0, 0, 3));
    assert_eq!(total(&s, &id), 3);
}

#[test]
fn a_file_without_required_columns_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let path = dir.path().join("缺列.csv");
    std::fs::write(&path, "评价时间,评价渠道,窗口\n2026-10-20 09:00,二维码,3\n").unwrap();
    let err = import_file(&mut s, &path, &ImportOptions::default(), BY, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("评价等级") && err.contains("大厅"), "{err}");
    assert!(s.halls().unwrap().is_empty());
}

#[test]
fn rows_of_an_unconfirmed_hall_wait_in_quarantine_until_it_is_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let path = dir.path().join("x.csv");
    std::fs::write(
        &path,
        "评价时间,评价等级,大厅名称\n2026-10-20 09:00,满意,岳西县政务服务中心\n2026-10-20 10:00,不满意,岳西县政务服务中心\n",
    )
    .unwrap();
    let a = run(&mut s, &path, false);
    assert_eq!((a.new, a.quarantined), (0, 2));
    assert!(s.quarantine(None).unwrap()[0].reason.contains("尚未确认"));
    let b = run(&mut s, &path, true);
    assert_eq!(b.new, 2);
    assert_eq!(b.halls_created, ["岳西县政务服务中心"]);
}

#[test]
fn a_saved_profile_is_reused_when_the_headers_match() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let path = dir.path().join("p.csv");
    // 「备注」 is where this system writes the level; the officer maps it.
    std::fs::write(
        &path,
        "评价时间,备注,大厅名称\n2026-10-20 09:00,非常满意,桐城市政务服务中心\n",
    )
    .unwrap();
    let seen = inspect(&s, &path, None, None).unwrap();
    assert!(seen.new_layout);
    let mut m = seen.mapping.clone();
    m.columns.insert("level".into(), "备注".into());
    let opts = ImportOptions {
        mapping: Some(m),
        save_profile: Some("桐城导出".into()),
        create_halls: true,
        ..ImportOptions::default()
    };
    let sum = import_file(&mut s, &path, &opts, BY, &mut |_| {}).unwrap();
    assert_eq!(sum.new, 1);
    let again = inspect(&s, &path, None, None).unwrap();
    assert_eq!(again.profile.as_deref(), Some("桐城导出"));
    assert!(!again.new_layout);
    assert_eq!(
        again.mapping.columns.get("level").map(String::as_str),
        Some("备注")
    );
}
