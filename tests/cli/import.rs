//! `hcp import` as a script uses it: a new layout stops for review (exit 3)
//! unless `--yes`; `import halls` lists the names files used; `import link` sends
//! a second name for the same hall into it instead of creating another hall.

mod common;
use common::{hcp, ok, text};

use std::path::Path;

use serde_json::Value;

fn write_csv(path: &Path, hall: &str, ids: &[&str]) {
    let mut t = String::from("\u{feff}评价明细导出\n导出时间：2026-11-30 09:00:00\n");
    t.push_str("评价编号,评价时间,评价结果,评价渠道,服务中心,窗口号,评价内容\n");
    for (i, id) in ids.iter().enumerate() {
        let level = if i == 0 { "非常不满意" } else { "满意" };
        t.push_str(&format!(
            "{id},2026-11-2{i} 10:00:00,{level},二维码,{hall},A0{i},窗口办理慢\n"
        ));
    }
    t.push_str("合计,,,,,,\n");
    std::fs::write(path, t).unwrap();
}

fn summary(out: &str) -> Value {
    let v: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    match v {
        Value::Array(mut a) => a.remove(0),
        v => v,
    }
}

#[test]
fn a_second_name_linked_to_a_hall_imports_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let first = dir.path().join("十月.csv");
    write_csv(&first, "滨湖区政务服务中心", &["P1", "P2", "P3"]);

    // A new layout and a new hall: shown, not imported.
    let out = hcp(&db, &["import", first.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("滨湖区政务服务中心"));

    let s = summary(&ok(
        &db,
        &["import", "--yes", "--json", first.to_str().unwrap()],
    ));
    assert_eq!(s["new"], 3, "{s}");
    assert_eq!(s["halls_created"].as_array().unwrap().len(), 1, "{s}");
    let hall = s["halls"][0].as_str().unwrap().to_owned();

    let names: Value = serde_json::from_str(&ok(&db, &["import", "halls", "--json"])).unwrap();
    assert_eq!(names.as_array().unwrap().len(), 1, "{names}");
    assert_eq!(names[0]["hall_id"], hall.as_str());

    // An unknown hall id is refused with a message, and nothing is linked.
    let bad = hcp(&db, &["import", "link", "滨湖区政务中心", "NO-SUCH-HALL"]);
    assert!(!bad.status.success());
    assert!(!text(&bad.stderr).trim().is_empty());

    ok(&db, &["import", "link", "滨湖区 政务中心", &hall]);
    let second = dir.path().join("十一月.csv");
    write_csv(&second, "滨湖区政务中心", &["P3", "P4"]);
    let s = summary(&ok(
        &db,
        &["import", "--yes", "--json", second.to_str().unwrap()],
    ));
    assert_eq!(s["halls_created"].as_array().unwrap().len(), 0, "{s}");
    assert_eq!(s["halls"][0], hall.as_str(), "{s}");
    // P3 is in that hall already: one new row, and nothing doubled.
    assert_eq!(
        (s["new"].as_u64(), s["unchanged"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    let names: Value = serde_json::from_str(&ok(&db, &["import", "halls", "--json"])).unwrap();
    assert_eq!(names.as_array().unwrap().len(), 2, "{names}");
}
