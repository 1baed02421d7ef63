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

/// A province's 办件评价 interface file: its field codes as headers, its own
/// channel table (6 短信, 7 系统默认评价) given on the command line and saved.
fn write_interface(path: &Path) {
    let mut t = String::from(
        "areaCode,taskCode,taskName,projectNo,proDepart,proManager,pf,certkeyGOV,userName,\
         userProp,satisfaction,evalDetail,writingEvaluation,assessTime,assessNumber,dataSource\n",
    );
    // 4 系统默认评价, 5 people's top ratings, 1 bad one.
    let rows = [
        ("7", "5"),
        ("7", "5"),
        ("7", "5"),
        ("7", "5"),
        ("1", "5"),
        ("2", "5"),
        ("3", "5"),
        ("6", "5"),
        ("1", "5"),
        ("2", "1"),
    ];
    for (i, (pf, sat)) in rows.iter().enumerate() {
        t.push_str(&format!(
            "330108,330108001,居民身份证换领,ZJ{i:04},区公安分局,李警官,{pf},,330108199101010{i:03},1,{sat},,,\
             2026-10-2{} 1{i}:00:00,1,133\n",
            i % 8
        ));
    }
    std::fs::write(path, t).unwrap();
}

fn report_overall(db: &Path, dir: &Path) -> Value {
    let out = dir.join("r.json");
    ok(
        db,
        &[
            "report",
            "monthly",
            "--month",
            "2026-10",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    v["overall"].clone()
}

#[test]
fn system_default_ratings_are_counted_apart_and_the_policy_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let file = dir.path().join("zj.csv");
    write_interface(&file);
    ok(&db, &["user", "set", "--name", "陈静", "--role", "officer"]);
    // A code outside the table is refused on the command line, by name.
    let bad = hcp(
        &db,
        &["import", file.to_str().unwrap(), "--channel-code", "7=传真"],
    );
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("传真"), "{}", text(&bad.stderr));
    let s = summary(&ok(
        &db,
        &[
            "import",
            "--yes",
            "--json",
            "--hall",
            "西湖区政务服务中心",
            "--channel-code",
            "6=短信",
            "--channel-code",
            "7=系统默认评价",
            "--save-profile",
            "浙江省办件评价接口",
            file.to_str().unwrap(),
        ],
    ));
    assert_eq!(
        (s["new"].as_u64(), s["quarantined"].as_u64()),
        (Some(10), Some(0)),
        "{s}"
    );

    // Off by default: counted apart, left out of 评价量 and 好评率.
    let o = report_overall(&db, dir.path());
    assert_eq!(o["evaluations"], 6, "{o}");
    assert_eq!(o["good_rate"]["display"], "83.33%", "{o}");
    let sd = &o["system_default"];
    assert_eq!(
        (sd["count"].as_i64(), sd["counted"].as_bool()),
        (Some(4), Some(false)),
        "{sd}"
    );
    assert_eq!(sd["share"]["display"], "40.00%");
    assert!(sd["text"].as_str().unwrap().contains("未计入"), "{sd}");

    assert!(ok(&db, &["report", "policy", "--count-system-default", "on"]).contains("计入评价量"));
    let o = report_overall(&db, dir.path());
    assert_eq!(o["evaluations"], 10, "{o}");
    assert_eq!(o["good_rate"]["display"], "90.00%", "{o}");
    assert_eq!(o["system_default"]["counted"], true);
    assert!(ok(&db, &["report", "policy"]).contains("计入评价量和好评率"));

    // Shown as its own channel in the export.
    let csv = dir.path().join("e.csv");
    ok(
        &db,
        &[
            "evaluations",
            "export",
            "--format",
            "csv",
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    let exported = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(exported.matches("系统默认评价").count(), 4, "{exported}");
    // …and the ID numbers the file carried are nowhere in it.
    assert!(!exported.contains("330108199101010"), "{exported}");

    // The saved profile reads the next file of this layout with the same table.
    let profiles = ok(&db, &["import", "profiles", "--json"]);
    assert!(
        profiles.contains("浙江省办件评价接口") && profiles.contains("system_default"),
        "{profiles}"
    );
}

#[test]
fn a_closed_pipe_ends_hcp_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let file = dir.path().join("zj.csv");
    write_interface(&file);
    ok(
        &db,
        &[
            "import",
            "--yes",
            "--hall",
            "西湖区政务服务中心",
            file.to_str().unwrap(),
        ],
    );
    // The reader is gone before hcp prints its first line (`hcp … | head` once
    // head has had its lines).
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args([
            "--db",
            db.to_str().unwrap(),
            "evaluations",
            "export",
            "--format",
            "jsonl",
        ])
        .env("HCP_TOKEN_STORE", "file")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert!(
            out.status.success() || out.status.signal() == Some(libc_sigpipe()),
            "{:?}",
            out.status
        );
    }
    // And as a shell runs it.
    let sh = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' --db '{}' evaluations export --format jsonl | head -n 1",
            env!("CARGO_BIN_EXE_hcp"),
            db.display()
        ))
        .env("HCP_TOKEN_STORE", "file")
        .output()
        .unwrap();
    assert_eq!(text(&sh.stdout).lines().count(), 1);
    let err = text(&sh.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
}

/// SIGPIPE's number (13 on every Unix this runs on).
#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}
