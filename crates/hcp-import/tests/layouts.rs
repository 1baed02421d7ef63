//! Files laid out the way the world writes 好差评 data, imported end to end on a
//! real SQLite cache: the national standard's data set (GB/T 39046-2020 表9, with
//! the A.8 code table and `YYYYMMDDThhmmss` times), a province's 办件评价 interface
//! fields (`projectNo`, `pf`, `satisfaction`, `assessTime`… with its own channel
//! code table), the provincial system's 差评工单 export imported twice as the cases
//! move on, and a 差评详情表 that is not a list of ratings at all. After each, the
//! cache files' bytes are searched for every phone and ID number the test wrote.

use std::path::Path;

use chrono::{FixedOffset, TimeZone, Utc};
use hcp_core::case::{Action, Actor, VerifyOutcome};
use hcp_import::{ImportOptions, ImportSummary, import_file, inspect};
use hcp_store::{CaseFilter, Store, Who};
use rust_xlsxwriter::Workbook;

const BY: Who<'static> = Who {
    name: "王督查",
    actor: Actor::Officer,
};

fn store(dir: &Path) -> Store {
    Store::open(dir.join("hcp.db")).expect("open cache")
}

fn import(s: &mut Store, path: &Path, opts: &ImportOptions) -> ImportSummary {
    import_file(s, path, opts, BY, &mut |_| {}).expect("import")
}

fn create_halls() -> ImportOptions {
    ImportOptions {
        create_halls: true,
        ..ImportOptions::default()
    }
}

fn write_csv(path: &Path, text: &str) {
    let mut b = vec![0xEF, 0xBB, 0xBF];
    b.extend_from_slice(text.as_bytes());
    std::fs::write(path, b).unwrap();
}

/// Every byte of the cache (the database and its WAL) holds none of `secrets`.
fn nothing_in_clear(dir: &Path, secrets: &[&str]) {
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("hcp.db") {
            continue;
        }
        files += 1;
        let bytes = std::fs::read(&path).unwrap();
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{s} is in {name} in clear"
            );
        }
    }
    assert!(files >= 1, "no cache files in {}", dir.display());
}

fn evaluation(s: &Store, hall: &str, id: &str) -> hcp_store::EvaluationRow {
    s.evaluation(hall, id)
        .unwrap()
        .unwrap_or_else(|| panic!("no evaluation {id}"))
}

/// The evaluator's hash as the cache keeps it (never shown to anyone).
fn id_hash(s: &Store, hall: &str, id: &str) -> Option<String> {
    let (_, raw) = s.evaluations_raw(hall, &[id]).unwrap().remove(id).unwrap();
    serde_json::from_str::<hcp_core::wire::Evaluation>(&raw)
        .unwrap()
        .evaluator
        .id_hash
}

fn cases(s: &Store, hall: &str) -> Vec<hcp_store::CaseListRow> {
    s.list_cases(
        &CaseFilter {
            hall_id: Some(hall.into()),
            ..CaseFilter::default()
        },
        Utc::now(),
    )
    .unwrap()
    .rows
}

fn case_of<'a>(cs: &'a [hcp_store::CaseListRow], evaluation: &str) -> &'a hcp_store::CaseListRow {
    cs.iter()
        .find(|c| c.evaluation_id == evaluation)
        .unwrap_or_else(|| panic!("no case of {evaluation}: {cs:?}"))
}

/// 表9 exactly: 办件编号, 评价渠道, 评价人, 评价时间, 评价次数, 满意度, 满意度代码,
/// 文字评价, 行政区划 — with the standard's own channel words and time format.
fn write_gbt_xlsx(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "政务服务绩效评价基础数据").unwrap();
    ws.write(1, 0, "导出时间：2026-11-02 08:00:00").unwrap();
    let header = [
        "办件编号",
        "评价渠道",
        "评价人",
        "评价时间",
        "评价次数",
        "满意度",
        "满意度代码",
        "文字评价",
        "行政区划",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write(2, c as u16, *h).unwrap();
    }
    let rows: [[&str; 9]; 9] = [
        [
            "BJ2026001",
            "PC端",
            "李四",
            "20261012T093105",
            "1",
            "非常满意",
            "1",
            "办得很快",
            "340825",
        ],
        [
            "BJ2026002",
            "移动服务端",
            "34082519900101123X",
            "20261012T100000",
            "1",
            "不满意",
            "4",
            "排队太久，请回电13800005521",
            "340825",
        ],
        [
            "BJ2026002",
            "移动服务端",
            "34082519900101123X",
            "20261015T090000",
            "2",
            "满意",
            "2",
            "已解决",
            "340825",
        ],
        [
            "BJ2026003",
            "政务大厅其他终端",
            "王五",
            "20261013T110000",
            "1",
            "基本满意",
            "3",
            "",
            "340825",
        ],
        // The word says 满意, the code says 非常不满意: quarantined with both shown.
        [
            "BJ2026004",
            "政务大厅平板电脑",
            "赵六",
            "20261013T120000",
            "1",
            "满意",
            "5",
            "",
            "340825",
        ],
        [
            "BJ2026005",
            "电话",
            "钱七",
            "20261014T080000+0800",
            "1",
            "非常不满意",
            "5",
            "电话打不通",
            "340825",
        ],
        [
            "BJ2026006",
            "短信",
            "",
            "1792116000000",
            "1",
            "满意",
            "2",
            "",
            "340825",
        ],
        [
            "BJ2026007",
            "二维码",
            "孙八",
            "1792243800",
            "1",
            "非常满意",
            "1",
            "",
            "340825",
        ],
        [
            "BJ2026008",
            "二维码",
            "周九",
            "20261018093000",
            "1",
            "满意",
            "2",
            "",
            "340825",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write(3 + r as u32, c as u16, *v).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

/// The officer's hall, and the region code the standard's files name it by.
fn hall_for_region(s: &mut Store, hall: &str, name: &str, region: &str) {
    s.create_file_hall(name, hall, name, region, BY).unwrap();
    s.link_import_hall(region, hall, BY).unwrap();
}

#[test]
fn the_national_standard_with_words_codes_t_times_and_a_second_rating() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("绩效评价.xlsx");
    write_gbt_xlsx(&path);
    let mut s = store(dir.path());
    let hall = "340825-ZWFW";
    hall_for_region(&mut s, hall, "太湖县政务服务中心", "340825");

    let seen = inspect(&s, &path, None, None).unwrap();
    assert!(seen.missing.is_empty(), "{:?}", seen.missing);
    assert!(seen.layout.contains("GB/T 39046"), "{}", seen.layout);
    assert_eq!(
        seen.mapping.header(hcp_import::Field::LevelCode),
        Some("满意度代码")
    );
    assert_eq!(
        seen.mapping.header(hcp_import::Field::EvalCount),
        Some("评价次数")
    );
    assert!(seen.new_halls.is_empty(), "{:?}", seen.new_halls);
    // The preview shows the rater as the cache will keep them.
    assert!(
        seen.preview[1]
            .cells
            .iter()
            .all(|c| !c.contains("34082519900101123X"))
    );

    let sum = import(&mut s, &path, &ImportOptions::default());
    assert_eq!(sum.rows_read, 9);
    assert_eq!(
        (sum.new, sum.updated, sum.unchanged, sum.quarantined),
        (7, 1, 0, 1),
        "{sum:?}"
    );
    assert_eq!(sum.revisions, 1);
    assert_eq!(s.hall_counts(hall).unwrap().evaluations, 7);

    // Levels from the words and from A.8; channels from the standard's words.
    let want = [
        ("BJ-BJ2026001", 5, "web", "2026-10-12T01:31:05Z"),
        ("BJ-BJ2026002", 4, "app", "2026-10-15T01:00:00Z"),
        ("BJ-BJ2026003", 3, "kiosk", "2026-10-13T03:00:00Z"),
        ("BJ-BJ2026005", 1, "hotline", "2026-10-14T00:00:00Z"),
        ("BJ-BJ2026006", 4, "sms", "2026-10-16T02:00:00Z"),
        ("BJ-BJ2026007", 5, "qr_code", "2026-10-17T13:30:00Z"),
        ("BJ-BJ2026008", 4, "qr_code", "2026-10-18T01:30:00Z"),
    ];
    for (id, level, channel, at) in want {
        let e = evaluation(&s, hall, id);
        assert_eq!(
            (e.level, e.channel.as_str(), e.evaluated_at.as_str()),
            (level, channel, at),
            "{id}"
        );
    }

    // 二次评价 replaced the first rating: its case closed by the engine, both in
    // the rating's history.
    let second = evaluation(&s, hall, "BJ-BJ2026002");
    assert_eq!(second.status, "revised");
    assert_eq!(second.comment, "已解决");
    let versions = s.evaluation_versions(hall, "BJ-BJ2026002").unwrap();
    let shown: Vec<(u8, &str, bool)> = versions
        .iter()
        .map(|v| (v.level, v.how_label.as_str(), v.current))
        .collect();
    assert_eq!(shown, [(2, "首次评价", false), (4, "二次评价", true)]);
    assert_eq!(versions[0].comment, "排队太久，请回电*******5521");
    let cs = cases(&s, hall);
    assert_eq!(cs.len(), 2, "{cs:?}");
    assert_eq!(case_of(&cs, "BJ-BJ2026002").state, "closed_revised");
    assert_eq!(case_of(&cs, "BJ-BJ2026005").state, "open");
    assert_eq!(s.hall_counts(hall).unwrap().bad, 1);

    // An ID number in 评价人 is masked like a phone number and hashed.
    assert_eq!(
        second.evaluator_name_masked.as_deref(),
        Some("**************123X")
    );
    assert!(id_hash(&s, hall, "BJ-BJ2026002").is_some());
    assert_eq!(
        evaluation(&s, hall, "BJ-BJ2026001")
            .evaluator_name_masked
            .as_deref(),
        Some("李*")
    );

    // The disagreeing row: its row number, column and both values readable, the
    // rater masked.
    let q = s.quarantine(None).unwrap();
    assert_eq!(q.len(), 1);
    let r = &q[0];
    assert!(
        r.reason.contains("第 8 行「满意度代码」")
            && r.reason.contains("满意")
            && r.reason.contains("“5”")
            && r.reason.contains("不一致"),
        "{}",
        r.reason
    );
    assert!(
        r.raw.contains("赵*") && !r.raw.contains("赵六"),
        "{}",
        r.raw
    );

    // The same file again: nothing new, nothing doubled, nothing rolled back.
    let again = import(&mut s, &path, &ImportOptions::default());
    assert_eq!(
        (again.new, again.updated, again.unchanged, again.quarantined),
        (0, 0, 8, 0),
        "{again:?}"
    );
    assert_eq!(evaluation(&s, hall, "BJ-BJ2026002").level, 4);
    assert_eq!(
        s.evaluation_versions(hall, "BJ-BJ2026002").unwrap().len(),
        2
    );
    drop(s);
    nothing_in_clear(
        dir.path(),
        &["13800005521", "34082519900101123X", "李四", "赵六", "钱七"],
    );
}

#[test]
fn the_national_standard_with_codes_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codes.csv");
    write_csv(
        &path,
        "办件编号,评价渠道,评价人,评价时间,评价次数,满意度代码,文字评价,行政区划\n\
         C1,PC端,,20261020T090000,1,1,,340826\n\
         C2,PC端,,20261020T090100,1,2,,340826\n\
         C3,二维码,,20261020T090200,1,3,,340826\n\
         C4,二维码,,20261020T090300,1,4,排队,340826\n\
         C5,短信,,20261020T090400,1,5,态度差,340826\n\
         C6,短信,,20261020T090500,1,6,,340826\n",
    );
    let mut s = store(dir.path());
    let seen = inspect(&s, &path, None, None).unwrap();
    assert!(seen.missing.is_empty(), "refused: {:?}", seen.missing);
    let sum = import(&mut s, &path, &create_halls());
    assert_eq!((sum.new, sum.quarantined), (5, 1), "{sum:?}");
    let hall = sum.halls[0].clone();
    assert_eq!(hall, "340826-XLS");
    let levels: Vec<u8> = ["C1", "C2", "C3", "C4", "C5"]
        .iter()
        .map(|c| evaluation(&s, &hall, &format!("BJ-{c}")).level)
        .collect();
    assert_eq!(levels, [5, 4, 3, 2, 1], "A.8: 1 = 非常满意");
    let reason = &s.quarantine(None).unwrap()[0].reason;
    assert!(reason.contains("“6”") && reason.contains("A.8"), "{reason}");
    assert_eq!(cases(&s, &hall).len(), 2);
}

const INTERFACE_HEADER: &str = "areaCode,taskCode,taskName,projectNo,proDepart,proManager,pf,\
certkeyGOV,userName,userProp,satisfaction,evalDetail,writingEvaluation,assessTime,assessNumber,dataSource";

/// One row: [areaCode, projectNo, pf, certkeyGOV, userName, userProp,
/// satisfaction, assessTime, assessNumber].
fn interface_row(cells: [&str; 9]) -> String {
    let [area, project, pf, cert, user, prop, sat, at, n] = cells;
    format!(
        "{area},330106001,个体工商户设立登记,{project},区市场监督管理局,张三,{pf},{cert},{user},{prop},{sat},501,,{at},{n},133\n"
    )
}

#[test]
fn interface_field_codes_with_the_national_and_a_provinces_channel_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());

    // National table (pf 6 电话, 7 短信); an ID number in userName for a person,
    // a company's name for a 法人; pf 9 is in no table.
    let national = dir.path().join("interface.csv");
    let mut t = format!("{INTERFACE_HEADER}\n");
    t += &interface_row([
        "330106",
        "P001",
        "1",
        "330106199001011234",
        "330106199001011234",
        "1",
        "5",
        "2026-10-21 09:00:00",
        "1",
    ]);
    t += &interface_row([
        "330106",
        "P002",
        "2",
        "91330106MA2H1234X5",
        "杭州某某科技有限公司",
        "2",
        "1",
        "2026-10-21 09:10:00",
        "1",
    ]);
    t += &interface_row([
        "330106",
        "P003",
        "7",
        "",
        "",
        "1",
        "4",
        "2026-10-21 09:20:00",
        "1",
    ]);
    t += &interface_row([
        "330106",
        "P004",
        "6",
        "",
        "",
        "1",
        "4",
        "2026-10-21 09:30:00",
        "1",
    ]);
    t += &interface_row([
        "330106",
        "P005",
        "9",
        "330106198802023456",
        "330106198802023456",
        "1",
        "5",
        "2026-10-21 09:40:00",
        "1",
    ]);
    t += &interface_row([
        "330106",
        "P006",
        "3",
        "",
        "",
        "1",
        "2",
        "2026-10-21 09:50:00",
        "1",
    ]);
    t += &interface_row([
        "330106",
        "P006",
        "3",
        "",
        "",
        "1",
        "4",
        "2026-10-23 15:00:00",
        "2",
    ]);
    write_csv(&national, &t);
    let seen = inspect(&s, &national, None, None).unwrap();
    assert!(seen.layout.contains("办件评价接口"), "{}", seen.layout);
    assert_eq!(
        seen.mapping.header(hcp_import::Field::SerialNo),
        Some("projectNo")
    );
    assert_eq!(
        seen.mapping.header(hcp_import::Field::Level),
        Some("satisfaction")
    );
    assert!(seen.scale_sure, "the interface defines 5 = 非常满意");
    let codes: Vec<(&str, Option<&str>)> = seen
        .channel_codes
        .iter()
        .map(|c| (c.code.as_str(), c.channel.as_deref()))
        .collect();
    assert!(
        codes.contains(&("7", Some("sms"))) && codes.contains(&("9", None)),
        "{codes:?}"
    );
    let sum = import(&mut s, &national, &create_halls());
    assert_eq!(
        (sum.new, sum.updated, sum.quarantined, sum.revisions),
        (5, 1, 1, 1),
        "{sum:?}"
    );
    let hall = "330106-XLS";
    let channel = |s: &Store, id: &str| evaluation(s, hall, id).channel;
    assert_eq!(channel(&s, "BJ-P001"), "web");
    assert_eq!(channel(&s, "BJ-P002"), "app");
    assert_eq!(channel(&s, "BJ-P003"), "sms", "national table: 7 = 短信");
    assert_eq!(
        channel(&s, "BJ-P004"),
        "hotline",
        "national table: 6 = 电话"
    );
    let p1 = evaluation(&s, hall, "BJ-P001");
    assert_eq!(p1.level, 5);
    assert_eq!(
        p1.evaluator_name_masked.as_deref(),
        Some("**************1234")
    );
    assert!(id_hash(&s, hall, "BJ-P001").is_some());
    let p2 = evaluation(&s, hall, "BJ-P002");
    assert_eq!(
        (p2.level, p2.evaluator_name_masked.as_deref()),
        (1, Some("杭*********"))
    );
    let p6 = evaluation(&s, hall, "BJ-P006");
    assert_eq!((p6.level, p6.status.as_str()), (4, "revised"));
    let q = s.quarantine(None).unwrap();
    assert_eq!(q.len(), 1);
    assert!(
        q[0].reason.contains("「pf」")
            && q[0].reason.contains("“9”")
            && q[0].reason.contains("国家标准"),
        "{}",
        q[0].reason
    );
    assert!(!q[0].raw.contains("330106198802023456"), "{}", q[0].raw);

    // A province whose table has 6 短信 and 7 系统默认评价, kept in its profile.
    let province = dir.path().join("zj.csv");
    let mut t = format!("{INTERFACE_HEADER}\n");
    t += &interface_row([
        "330108",
        "Z001",
        "6",
        "",
        "",
        "1",
        "4",
        "2026-10-22 09:00:00",
        "1",
    ]);
    t += &interface_row([
        "330108",
        "Z002",
        "7",
        "",
        "",
        "1",
        "5",
        "2026-10-22 09:10:00",
        "1",
    ]);
    t += &interface_row([
        "330108",
        "Z003",
        "8",
        "",
        "",
        "1",
        "5",
        "2026-10-22 09:20:00",
        "1",
    ]);
    write_csv(&province, &t);
    let mut m = inspect(&s, &province, None, None).unwrap().mapping;
    m.channel_codes = [("6", "sms"), ("7", "system_default")]
        .into_iter()
        .map(|(c, w)| (c.to_owned(), w.to_owned()))
        .collect();
    let opts = ImportOptions {
        mapping: Some(m),
        save_profile: Some("浙江省办件评价接口".into()),
        create_halls: true,
        ..ImportOptions::default()
    };
    let sum = import(&mut s, &province, &opts);
    assert_eq!((sum.new, sum.quarantined), (2, 1), "{sum:?}");
    let zj = "330108-XLS";
    assert_eq!(evaluation(&s, zj, "BJ-Z001").channel, "sms");
    assert_eq!(evaluation(&s, zj, "BJ-Z002").channel, "system_default");
    let reason = &s
        .quarantine(None)
        .unwrap()
        .into_iter()
        .find(|r| r.hall_id == zj)
        .unwrap()
        .reason;
    assert!(
        reason.contains("“8”") && reason.contains("本方案"),
        "{reason}"
    );
    // The profile keeps the table for the next file of that layout.
    let again = inspect(&s, &province, None, None).unwrap();
    assert_eq!(again.profile.as_deref(), Some("浙江省办件评价接口"));
    assert_eq!(
        again.mapping.channel_codes.get("7").map(String::as_str),
        Some("system_default")
    );
    drop(s);
    nothing_in_clear(
        dir.path(),
        &[
            "330106199001011234",
            "91330106MA2H1234X5",
            "330106198802023456",
            "杭州某某科技",
        ],
    );
}

const ORDER_HEADER: &str = "工单编号,地区,部门名称,事项名称,办结时间,评价时间,差评内容,评价渠道,评价等级,\
差评人姓名,差评人手机,申诉理由,驳回理由,整改回复,整改人,工单状态,追评等级,追评文本";

/// A 差评工单 export: title, 导出时间, then one row per work order.
fn write_orders(path: &Path, exported: &str, rows: &[[&str; 18]]) {
    let mut t = format!("差评工单导出\n导出时间：{exported}\n{ORDER_HEADER}\n");
    for r in rows {
        t.push_str(&r.join(","));
        t.push('\n');
    }
    write_csv(path, &t);
}

#[test]
fn a_work_order_export_imported_twice_moves_the_cases_without_doubling() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let hall_name = "宿松县政务服务中心";

    // The month's 评价明细 first (no 评价编号): two bad ratings among good ones.
    let detail = dir.path().join("评价明细.csv");
    write_csv(
        &detail,
        &format!(
            "导出时间：2026-11-01 08:00:00\n评价时间,评价等级,评价渠道,大厅名称,窗口号,评价内容\n\
             2026-10-20 09:00:00,非常满意,窗口评价器,{hall_name},A01,\n\
             2026-10-20 10:00:00,不满意,窗口评价器,{hall_name},A02,等了很久\n\
             2026-10-21 11:00:00,非常不满意,二维码,{hall_name},,态度差\n\
             2026-10-22 09:00:00,满意,APP,{hall_name},,\n"
        ),
    );
    let a = import(&mut s, &detail, &create_halls());
    assert_eq!(a.new, 4);
    let hall = a.halls[0].clone();
    s.link_import_hall("宿松县", &hall, BY).unwrap();

    // Export 1: the two cases the 明细 brought (found by their time) and one it
    // did not; one appealed.
    let first = dir.path().join("差评工单1.csv");
    write_orders(
        &first,
        "2026-11-05 09:00:00",
        &[
            [
                "GD001",
                "宿松县",
                "县人社局",
                "社保卡申领",
                "2026-10-20 09:50:00",
                "2026-10-20 10:00:00",
                "等了很久",
                "窗口评价器",
                "不满意",
                "陈一",
                "13911112222",
                "",
                "",
                "",
                "",
                "待整改",
                "",
                "",
            ],
            [
                "GD002",
                "宿松县",
                "县公安局",
                "户口迁移",
                "2026-10-21 10:30:00",
                "2026-10-21 11:00:00",
                "态度差",
                "二维码",
                "非常不满意",
                "林二",
                "13922223333",
                "评价人恶意差评，多次无理投诉",
                "",
                "",
                "",
                "申诉中",
                "",
                "",
            ],
            [
                "GD003",
                "宿松县",
                "县税务局",
                "发票申领",
                "2026-10-23 14:00:00",
                "2026-10-23 14:30:00",
                "系统老是卡",
                "PC端",
                "不满意",
                "何三",
                "13933334444",
                "",
                "",
                "",
                "",
                "待整改",
                "",
                "",
            ],
        ],
    );
    let one = import(&mut s, &first, &ImportOptions::default());
    assert_eq!(
        (one.new, one.unchanged, one.updated, one.quarantined),
        (1, 2, 0, 0),
        "{one:?}"
    );
    assert_eq!((one.appeals, one.rectifications, one.verdicts), (1, 0, 0));
    assert_eq!(
        s.hall_counts(&hall).unwrap().evaluations,
        5,
        "only GD003 is new"
    );
    let cs = cases(&s, &hall);
    assert_eq!(cs.len(), 3);
    let (x_wait, x_appeal) = {
        let bad: Vec<&hcp_store::CaseListRow> = cs
            .iter()
            .filter(|c| c.evaluation_id.starts_with('X'))
            .collect();
        assert_eq!(bad.len(), 2, "the 明细's ratings carry the 工单: {cs:?}");
        let appealed = bad
            .iter()
            .find(|c| c.state == "under_appeal")
            .expect("GD002 under appeal");
        let waiting = bad.iter().find(|c| c.state == "open").expect("GD001 open");
        (waiting.case_id, appealed.case_id)
    };
    assert_eq!(case_of(&cs, "GD-GD003").state, "open");

    // Between the two exports the officer verifies GD001 on this desk.
    let at = FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 6, 10, 0, 0)
        .unwrap();
    s.act_on_case(
        x_wait,
        &Action::Verify {
            outcome: VerifyOutcome::True,
            note: "调取监控属实".into(),
        },
        BY,
        None,
        at,
    )
    .unwrap();

    // Export 2: GD001 rectified, GD002's appeal dismissed, GD003 re-rated.
    let second = dir.path().join("差评工单2.csv");
    write_orders(
        &second,
        "2026-11-20 09:00:00",
        &[
            [
                "GD001",
                "宿松县",
                "县人社局",
                "社保卡申领",
                "2026-10-20 09:50:00",
                "2026-10-20 10:00:00",
                "等了很久",
                "窗口评价器",
                "不满意",
                "陈一",
                "13911112222",
                "",
                "",
                "已增开高峰窗口并约谈当事人",
                "张科长",
                "已整改",
                "",
                "",
            ],
            [
                "GD002",
                "宿松县",
                "县公安局",
                "户口迁移",
                "2026-10-21 10:30:00",
                "2026-10-21 11:00:00",
                "态度差",
                "二维码",
                "非常不满意",
                "林二",
                "13922223333",
                "评价人恶意差评，多次无理投诉",
                "经核查评价属实，不予支持",
                "",
                "",
                "申诉驳回",
                "",
                "",
            ],
            [
                "GD003",
                "宿松县",
                "县税务局",
                "发票申领",
                "2026-10-23 14:00:00",
                "2026-10-23 14:30:00",
                "系统老是卡",
                "PC端",
                "不满意",
                "何三",
                "13933334444",
                "",
                "",
                "",
                "",
                "已办结",
                "满意",
                "问题已解决",
            ],
        ],
    );
    let two = import(&mut s, &second, &ImportOptions::default());
    assert_eq!(
        (two.new, two.updated, two.unchanged, two.quarantined),
        (0, 1, 3, 0),
        "{two:?}"
    );
    assert_eq!(
        (two.appeals, two.verdicts, two.rectifications, two.revisions),
        (0, 1, 1, 1),
        "{two:?}"
    );
    let cs = cases(&s, &hall);
    assert_eq!(cs.len(), 3, "no case doubled");
    let state = |id: i64| cs.iter().find(|c| c.case_id == id).unwrap().state.clone();
    assert_eq!(
        state(x_wait),
        "awaiting_signoff",
        "the hall's rectification arrived"
    );
    assert_eq!(
        state(x_appeal),
        "open",
        "the appeal was dismissed: back where it was"
    );
    assert_eq!(
        case_of(&cs, "GD-GD003").state,
        "closed_revised",
        "追评 满意"
    );
    let g3 = evaluation(&s, &hall, "GD-GD003");
    assert_eq!(
        (g3.level, g3.status.as_str(), g3.comment.as_str()),
        (4, "revised", "问题已解决")
    );
    let history = s.evaluation_versions(&hall, "GD-GD003").unwrap();
    assert_eq!(
        history
            .iter()
            .map(|v| v.how_label.as_str())
            .collect::<Vec<_>>(),
        ["首次评价", "追评"]
    );
    // The dismissal is the importing officer's decision, citing the province's.
    let timeline = s.case_timeline(x_appeal).unwrap();
    assert!(
        timeline.iter().any(|e| e.actor == "王督查"
            && e.action == "appeal_decided"
            && e.note
                .as_deref()
                .is_some_and(|n| n.contains("经核查评价属实"))),
        "{timeline:?}"
    );
    let rect = s.case_detail(x_wait, Utc::now()).unwrap();
    assert!(format!("{rect:?}").contains("已增开高峰窗口"));

    // The later export again: nothing moves, nothing doubles.
    let three = import(&mut s, &second, &ImportOptions::default());
    assert_eq!(
        (
            three.new,
            three.updated,
            three.appeals,
            three.verdicts,
            three.rectifications,
            three.revisions
        ),
        (0, 0, 0, 0, 0, 0),
        "{three:?}"
    );
    assert_eq!(s.hall_counts(&hall).unwrap().evaluations, 5);
    assert_eq!(cases(&s, &hall).len(), 3);
    drop(s);
    nothing_in_clear(
        dir.path(),
        &[
            "13911112222",
            "13922223333",
            "13933334444",
            "陈一",
            "林二",
            "何三",
        ],
    );
}

#[test]
fn a_bad_rating_detail_sheet_without_evaluation_time_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let path = dir.path().join("差评详情表.csv");
    write_csv(
        &path,
        "差评详情表\n序号,大厅名称,部门名称,事项名称,评价等级,差评内容,评价人,联系电话\n\
         1,岳西县政务服务中心,县医保局,医保转移,不满意,来回跑了三趟,吴四,13800009999\n",
    );
    let before = s.audit_rows(1000).unwrap().len();
    let err = import_file(&mut s, &path, &create_halls(), BY, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("评价时间") && err.contains("重新导出") && err.contains("未写入"),
        "{err}"
    );
    assert!(s.halls().unwrap().is_empty());
    assert!(s.quarantine(None).unwrap().is_empty());
    assert!(s.imports(10).unwrap().is_empty());
    assert_eq!(s.audit_rows(1000).unwrap().len(), before);
    drop(s);
    nothing_in_clear(dir.path(), &["13800009999", "吴四"]);
}
