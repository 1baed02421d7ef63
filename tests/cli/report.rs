//! The monthly (and quarterly, yearly) report with the `hcp` binary on data synced from the real reference
//! hall: a PDF whose text is Chinese and whose figures match the JSON, an Excel
//! workbook, and an issued report that stays byte-identical after new data.

mod common;
use common::{hcp, ok};

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

fn artifacts() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pdf_reads_in_chinese_the_workbook_opens_and_an_issued_report_never_changes() {
    let srv = hcp_hall::serve_fixture(11, 2, 3_000, "admin").await;
    let halls = srv.state.hall_ids();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let root = dir.path().to_path_buf();
    let urls: Vec<(String, String, String)> = halls
        .iter()
        .map(|h| (h.clone(), srv.base_url(h), srv.token(h).unwrap()))
        .collect();
    let d = db.clone();
    let names = tokio::task::spawn_blocking(move || {
        for (h, url, token) in &urls {
            let tf = root.join(format!("{h}.txt"));
            std::fs::write(&tf, token).unwrap();
            ok(
                &d,
                &["hall", "add", url, "--token-file", tf.to_str().unwrap()],
            );
        }
        ok(&d, &["user", "set", "--name", "陈静", "--role", "officer"]);
        ok(&d, &["sync", "--no-push"]);
        let list: Value = serde_json::from_str(&ok(&d, &["hall", "list", "--json"])).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();

    let d = db.clone();
    let out = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        // 典型案例 picked from the inbox are the report's.
        let cases: Value = serde_json::from_str(&ok(&d, &["cases", "list", "--json"])).unwrap();
        let picked = cases["rows"][0]["case_id"].as_i64().unwrap();
        let said = ok(&d, &["case", "typical", &picked.to_string()]);
        assert!(said.contains("已加入 2026-10 的典型案例"), "{said}");
        let json_path = out.join("r.json");
        let pdf_path = out.join("r.pdf");
        let xlsx_path = out.join("r.xlsx");
        ok(
            &d,
            &[
                "report",
                "monthly",
                "--month",
                "2026-10",
                "--format",
                "json",
                "--out",
                json_path.to_str().unwrap(),
            ],
        );
        ok(
            &d,
            &[
                "report",
                "monthly",
                "--month",
                "2026-10",
                "--format",
                "pdf",
                "--out",
                pdf_path.to_str().unwrap(),
            ],
        );
        ok(
            &d,
            &[
                "report",
                "monthly",
                "--month",
                "2026-10",
                "--format",
                "xlsx",
                "--out",
                xlsx_path.to_str().unwrap(),
            ],
        );
        let model: Value =
            serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
        assert_eq!(model["schema"], "hcp-monthly-report/1");
        assert_eq!(model["typical_cases"][0]["case_id"].as_i64(), Some(picked));
        assert_eq!(model["typical_cases"].as_array().unwrap().len(), 1);
        assert!(model["overall"]["evaluations"].as_i64().unwrap() > 2_000);

        let text = Command::new("pdftotext")
            .args(["-layout", pdf_path.to_str().unwrap(), "-"])
            .output()
            .expect("pdftotext (poppler-utils; scripts/deps.sh installs it)");
        let text = String::from_utf8_lossy(&text.stdout).replace(['\u{201c}', '\u{201d}'], "\"");
        assert!(
            text.contains("2026年10月政务服务\"好差评\"情况通报"),
            "{text}"
        );
        assert!(
            text.contains("一、总体情况") && text.contains("差评整改台账"),
            "{text}"
        );
        assert!(text.contains("全部大厅"));
        let o = &model["overall"];
        for figure in [
            o["good_rate"]["display"].as_str().unwrap().to_string(),
            o["mean_score"]["display"].as_str().unwrap().to_string(),
            o["evaluations"].to_string(),
        ] {
            assert!(text.contains(&figure), "PDF lacks {figure}");
        }
        assert!(text.contains("第 1 页 / 共"), "page numbers");
        for name in &names {
            assert!(text.contains(name.as_str()), "PDF lacks the hall {name}");
        }
        // A page image as an artifact, to look at.
        let png = artifacts().join("monthly-page1");
        let st = Command::new("pdftoppm")
            .args([
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                pdf_path.to_str().unwrap(),
                png.to_str().unwrap(),
            ])
            .status()
            .unwrap();
        assert!(st.success());
        assert!(std::fs::read(&xlsx_path).unwrap().starts_with(b"PK"));

        // Issue, then let new data arrive: the issued PDF stays byte for byte.
        let issued = ok(&d, &["report", "issue", "--month", "2026-10"]);
        assert!(issued.contains("〔2026〕第1期"), "{issued}");
        let again = hcp(&d, &["report", "issue", "--month", "2026-10"]);
        assert!(!again.status.success(), "a correction needs its note");
        assert!(String::from_utf8_lossy(&again.stderr).contains("更正说明"));
        let first = out.join("issued-1.pdf");
        ok(
            &d,
            &["report", "export", "1", "--out", first.to_str().unwrap()],
        );
        std::fs::copy(&first, artifacts().join("issued-1.pdf")).unwrap();
        first
    })
    .await
    .unwrap();

    // New October ratings reach the cache.
    let resp = reqwest::Client::new()
        .post(format!("http://{}/admin/h/{}/changes", srv.addr, halls[0]))
        .bearer_auth("admin")
        .header("content-type", "application/json")
        .body(
            json!([{"kind": "evaluation", "data": {
                "id": "LATE-1", "rev": 1, "hall_id": halls[0], "channel": "web", "level": 1,
                "evaluated_at": "2026-10-20T10:00:00+08:00", "status": "valid"}}])
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let d = db.clone();
    let out = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        ok(&d, &["sync", "--no-push"]);
        let later = out.join("issued-1-later.pdf");
        ok(
            &d,
            &["report", "export", "1", "--out", later.to_str().unwrap()],
        );
        assert_eq!(
            std::fs::read(out.join("issued-1.pdf")).unwrap(),
            std::fs::read(&later).unwrap(),
            "an issued report is frozen"
        );
        let json_now = out.join("now.json");
        ok(
            &d,
            &[
                "report",
                "monthly",
                "--month",
                "2026-10",
                "--format",
                "json",
                "--out",
                json_now.to_str().unwrap(),
            ],
        );
        let issued_json = out.join("issued.json");
        ok(
            &d,
            &[
                "report",
                "export",
                "1",
                "--format",
                "json",
                "--out",
                issued_json.to_str().unwrap(),
            ],
        );
        let now: Value = serde_json::from_str(&std::fs::read_to_string(json_now).unwrap()).unwrap();
        let then: Value =
            serde_json::from_str(&std::fs::read_to_string(issued_json).unwrap()).unwrap();
        assert_eq!(
            now["overall"]["evaluations"].as_i64().unwrap(),
            then["overall"]["evaluations"].as_i64().unwrap() + 1,
            "the draft sees the new rating, the issued snapshot does not"
        );
        // The chain head as `hcp audit verify` prints it now is what the next
        // issued report prints in its footer.
        let verify = ok(&d, &["audit", "verify"]);
        let head_line = verify
            .lines()
            .find(|l| l.starts_with("链头："))
            .unwrap_or_else(|| panic!("no chain head in {verify}"));
        let (seq, hash) = head_line
            .trim_start_matches("链头：第 ")
            .split_once(" 条，哈希 ")
            .unwrap();
        assert_eq!(hash.len(), 64, "{head_line}");
        // A correction is a new version with its note, keeping the number.
        let fixed = ok(
            &d,
            &[
                "report",
                "issue",
                "--month",
                "2026-10",
                "--correction",
                "补入迟到的 1 条评价",
            ],
        );
        assert!(
            fixed.contains("〔2026〕第1期") && fixed.contains("第 2 版"),
            "{fixed}"
        );
        let listed = ok(&d, &["report", "list"]);
        assert!(listed.contains("补入迟到的 1 条评价"), "{listed}");
        let v2 = out.join("issued-2.pdf");
        ok(
            &d,
            &["report", "export", "2", "--out", v2.to_str().unwrap()],
        );
        let text = Command::new("pdftotext")
            .args([v2.to_str().unwrap(), "-"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("更正说明"));
        assert!(
            text.contains(&format!("留痕链头：第 {seq} 条 · {hash}")),
            "the footer carries the chain head: {text}"
        );

        // The quarter holding October: the same October figures, a trend of its
        // months, a PDF that says so; issued, it takes the year's next number.
        let q_json = out.join("q4.json");
        ok(
            &d,
            &[
                "report",
                "quarterly",
                "--quarter",
                "2026-Q4",
                "--format",
                "json",
                "--out",
                q_json.to_str().unwrap(),
            ],
        );
        let q: Value = serde_json::from_str(&std::fs::read_to_string(&q_json).unwrap()).unwrap();
        assert_eq!(q["kind"], "quarterly");
        assert_eq!(q["title"], "2026年第四季度政务服务“好差评”情况通报");
        assert_eq!(q["trend"][0]["month"], "2026-10");
        assert_eq!(
            q["trend"][0]["metrics"]["evaluations"], now["overall"]["evaluations"],
            "October in the quarter is October's report"
        );
        assert_eq!(
            q["overall"]["evaluations"], now["overall"]["evaluations"],
            "the data hold October only"
        );
        let q_pdf = out.join("q4.pdf");
        ok(
            &d,
            &[
                "report",
                "quarterly",
                "--quarter",
                "2026-Q4",
                "--out",
                q_pdf.to_str().unwrap(),
            ],
        );
        let text = Command::new("pdftotext")
            .args([q_pdf.to_str().unwrap(), "-"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(
            text.contains("各月趋势") && text.contains("本季度"),
            "{text}"
        );
        let y_json = out.join("y.json");
        ok(
            &d,
            &[
                "report",
                "yearly",
                "--year",
                "2026",
                "--format",
                "json",
                "--out",
                y_json.to_str().unwrap(),
            ],
        );
        let y: Value = serde_json::from_str(&std::fs::read_to_string(&y_json).unwrap()).unwrap();
        assert_eq!(y["previous_name"], "上年度");
        assert_eq!(y["overall"]["evaluations"], now["overall"]["evaluations"]);
        // A month given where a quarter is asked is refused in words.
        let wrong = hcp(
            &d,
            &[
                "report",
                "quarterly",
                "--quarter",
                "2026-10",
                "--out",
                "x.pdf",
            ],
        );
        assert!(!wrong.status.success());
        assert!(String::from_utf8_lossy(&wrong.stderr).contains("不是季度"));
        // 2026-Q4 has not ended (today is in it or before its end): refused
        // unless the officer confirms issuing it early.
        let early = hcp(&d, &["report", "issue", "--quarter", "2026-Q4"]);
        assert!(!early.status.success());
        assert!(
            String::from_utf8_lossy(&early.stderr).contains("尚未结束"),
            "{}",
            String::from_utf8_lossy(&early.stderr)
        );
        let issued_q = ok(&d, &["report", "issue", "--quarter", "2026-Q4", "--early"]);
        assert!(issued_q.contains("〔2026〕第2期"), "{issued_q}");
        assert!(ok(&d, &["report", "list"]).contains("2026-Q4"));
    })
    .await
    .unwrap();
}

/// A 通报 is signed by a named person: a desk whose user never gave a name
/// (签发人 would read 本机用户) is refused before anything is rendered or numbered.
#[test]
fn a_default_signer_cannot_issue() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let out = hcp(&db, &["report", "issue", "--month", "2026-10"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("签发人尚未设置"), "{err}");
    assert!(!ok(&db, &["report", "list"]).contains("〔"));
}
