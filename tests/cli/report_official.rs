//! The issued 通报 is a 公文 laid out per GB/T 9704-2012, measured from the PDF as
//! a reader's tools see it (poppler's `pdftotext -bbox-layout`): A4, the 版心
//! (156 × 225 mm at 天头 37 mm, 订口 28 mm, mirrored on even pages), 22 lines of
//! 3号 (16 pt) text a page and 28 characters a line, the 发文字号 centred under the
//! 发文机关标志, page numbers "— N —" one character in from the right on odd pages
//! and the left on even ones, 7 mm under the 版心, and the 版记 at the foot of an
//! even last page. Its text, copied out as WPS would, carries no zero-width
//! characters, the rating levels as words, a 大厅 column in an all-hall ledger,
//! and no date running into the next column — in the 公文 and the 数据简报 alike.

mod common;
use common::ok;

use std::path::{Path, PathBuf};
use std::process::Command;

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const PT_MM: f64 = 25.4 / 72.0;

/// One text line of a page, in millimetres from the page's top left.
#[derive(Debug, Clone)]
struct Line {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    words: Vec<Word>,
}

#[derive(Debug, Clone)]
struct Word {
    x0: f64,
    x1: f64,
    text: String,
}

impl Line {
    fn text(&self) -> String {
        self.words.iter().map(|w| w.text.as_str()).collect()
    }
}

fn attr(tag: &str, name: &str) -> f64 {
    let at = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = tag[at..].find('"').unwrap();
    tag[at..at + end].parse::<f64>().unwrap() * PT_MM
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Every page's lines, as `pdftotext -bbox-layout` finds them.
fn pages(pdf: &Path) -> Vec<Vec<Line>> {
    let out = Command::new("pdftotext")
        .args(["-bbox-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils; scripts/deps.sh installs it)");
    let html = String::from_utf8_lossy(&out.stdout).into_owned();
    html.split("<page ")
        .skip(1)
        .map(|page| {
            page.split("<line ")
                .skip(1)
                .map(|l| {
                    let head = &l[..l.find('>').unwrap()];
                    let words = l
                        .split("<word ")
                        .skip(1)
                        .map(|w| {
                            let tag_end = w.find('>').unwrap();
                            let text_end = w.find("</word>").unwrap();
                            Word {
                                x0: attr(&w[..tag_end], "xMin"),
                                x1: attr(&w[..tag_end], "xMax"),
                                text: unescape(&w[tag_end + 1..text_end]),
                            }
                        })
                        .collect();
                    Line {
                        x0: attr(head, "xMin"),
                        y0: attr(head, "yMin"),
                        x1: attr(head, "xMax"),
                        y1: attr(head, "yMax"),
                        words,
                    }
                })
                .collect()
        })
        .collect()
}

fn near(v: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (v - want).abs() <= tol,
        "{what}: {v:.2} mm, want {want:.2} ± {tol} mm"
    );
}

/// "— 12 —" → 12.
fn page_number(l: &Line) -> Option<usize> {
    let t = l.text();
    let t = t.trim();
    let inner = t.strip_prefix('—')?.strip_suffix('—')?;
    inner.trim().parse().ok()
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
        || ('\u{3000}'..='\u{303f}').contains(&c)
        || ('\u{ff00}'..='\u{ffef}').contains(&c)
}

/// What a reader copying the PDF's text gets, checked: no zero-width characters,
/// levels as words, a 大厅 column in the all-hall ledger, no date running into
/// the next column.
fn check_text(pdf: &Path, what: &str) {
    let text = Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for c in ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'] {
        assert!(
            !text.contains(c),
            "{what}: U+{:04X} in the text, {} times",
            c as u32,
            text.matches(c).count()
        );
    }
    assert!(
        text.contains("不满意"),
        "{what}: the ledger shows levels as words"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("工单") && l.contains("大厅") && l.contains("整改时限")),
        "{what}: the all-hall ledger has a 大厅 column"
    );
    let mut dates = 0;
    for page in pages(pdf) {
        // The ledger's header cells (poppler may read each cell as its own line).
        let word = |t: &str| {
            page.iter()
                .flat_map(|l| l.words.iter().map(move |w| (l.y0, l.y1, w)))
                .find(|(_, _, w)| w.text == t)
                .map(|(y0, y1, w)| (y0, y1, w.x0))
        };
        let header = match (word("整改时限"), word("整改措施")) {
            (Some(a), Some(b)) if (a.0 - b.0).abs() < 1.0 => Some((a.1, a.2, b.2)),
            _ => None,
        };
        for l in &page {
            for w in &l.words {
                let starts_with_date = w.text.len() > 10
                    && w.text.as_bytes()[..10].iter().enumerate().all(|(i, b)| {
                        if i == 4 || i == 7 {
                            *b == b'-'
                        } else {
                            b.is_ascii_digit()
                        }
                    });
                assert!(
                    !(starts_with_date
                        && w.text[10..]
                            .chars()
                            .next()
                            .is_some_and(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
                    "{what}: a date runs into the next cell: {}",
                    w.text
                );
            }
        }
        let Some((header_bottom, col, next)) = header else {
            continue;
        };
        for l in page.iter().filter(|l| l.y0 > header_bottom) {
            for w in l
                .words
                .iter()
                .filter(|w| w.x0 >= col - 1.0 && w.x0 < next - 1.0)
            {
                if w.text.len() == 10 && w.text.as_bytes()[4] == b'-' {
                    dates += 1;
                    assert!(
                        w.x1 <= next,
                        "{what}: {} ends at {:.1} mm, past the 整改措施 column at {next:.1} mm",
                        w.text,
                        w.x1
                    );
                }
            }
        }
    }
    assert!(dates > 0, "{what}: no 整改时限 dates found to check");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issued_report_is_a_gongwen_per_gb_t_9704() {
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
    tokio::task::spawn_blocking(move || {
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
        let office = ok(
            &d,
            &[
                "report",
                "office",
                "--name",
                "测试市政务服务管理局",
                "--code",
                "测政管",
                "--to",
                "各县（市、区）政务服务中心",
                "--to",
                "市直有关部门",
                "--cc",
                "市纪委监委",
            ],
        );
        assert!(
            office.contains("发文机关标志：测试市政务服务管理局文件"),
            "{office}"
        );
        ok(&d, &["report", "issue", "--month", "2026-10"]);
        let pdf = root.join("issued.pdf");
        ok(
            &d,
            &["report", "export", "1", "--out", pdf.to_str().unwrap()],
        );
        let brief = root.join("brief.pdf");
        ok(
            &d,
            &[
                "report",
                "monthly",
                "--month",
                "2026-10",
                "--layout",
                "brief",
                "--out",
                brief.to_str().unwrap(),
            ],
        );

        // A4.
        let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains("595.276 x 841.89 pts (A4)"), "{info}");
        let fonts = Command::new("pdffonts").arg(&pdf).output().unwrap();
        let fonts = String::from_utf8_lossy(&fonts.stdout);
        assert!(
            fonts.contains("FandolFang") && fonts.contains("FandolSong"),
            "仿宋 body, 宋 title embedded: {fonts}"
        );

        let pages = pages(&pdf);
        assert!(pages.len() >= 4, "{} pages", pages.len());
        // 版头: the mark, then the 发文字号 centred on the 版心 (odd page: 28 + 78 mm).
        let first = &pages[0];
        let mark = first
            .iter()
            .find(|l| l.text() == "测试市政务服务管理局文件")
            .expect("发文机关标志");
        near(
            mark.y0,
            37.0 + 35.0,
            3.0,
            "发文机关标志 35 mm below the 版心's top",
        );
        let number = first
            .iter()
            .find(|l| l.text() == "测政管〔2026〕1号")
            .unwrap_or_else(|| {
                panic!(
                    "发文字号: {:?}",
                    first.iter().map(Line::text).collect::<Vec<_>>()
                )
            });
        near(
            (number.x0 + number.x1) / 2.0,
            106.0,
            1.0,
            "发文字号 centred",
        );
        assert!(number.y0 > mark.y1, "发文字号 under the mark");
        assert!(
            first
                .iter()
                .any(|l| l.text() == "关于2026年10月政务服务“好差评”情况的通报"),
            "the title"
        );
        assert!(
            first
                .iter()
                .any(|l| l.text() == "各县（市、区）政务服务中心，市直有关部门："),
            "主送机关"
        );

        // Page numbers on every page; odd right, even left, one character (4号,
        // 14 pt) in, 7 mm under the 版心 (its bottom at 297 − 35 = 262 mm).
        let mut body_pages = 0;
        let mut full_lines = 0;
        for (i, page) in pages.iter().enumerate() {
            let n = i + 1;
            let num = page
                .iter()
                .find(|l| page_number(l).is_some())
                .unwrap_or_else(|| panic!("page {n} has no page number"));
            assert_eq!(page_number(num), Some(n));
            near(
                num.y0,
                262.0 + 7.0,
                1.5,
                &format!("page {n}'s number below the 版心"),
            );
            if n % 2 == 1 {
                near(
                    num.x1,
                    28.0 + 156.0 - 14.0 * PT_MM,
                    1.5,
                    &format!("page {n}'s number at the right"),
                );
            } else {
                near(
                    num.x0,
                    26.0 + 14.0 * PT_MM,
                    1.5,
                    &format!("page {n}'s number at the left"),
                );
            }
            // A full page of body text (not 附件 tables): 22 lines, the 版心's
            // edges, 16 pt characters, 28 to a line.
            let body: Vec<&Line> = page
                .iter()
                .filter(|l| l.y1 < 262.5 && (l.y1 - l.y0) > 5.0 && page_number(l).is_none())
                .collect();
            let mut ys: Vec<f64> = body.iter().map(|l| (l.y0 * 10.0).round() / 10.0).collect();
            ys.dedup_by(|a, b| (*a - *b).abs() < 0.5);
            if n == 1 || ys.len() < 20 || page.iter().any(|l| l.text().starts_with("附件")) {
                continue;
            }
            body_pages += 1;
            // Every line on the 22-line grid of the 版心; the page full to its
            // 21st or 22nd line (a heading is never left as a page's last line).
            near(ys[0], 37.0, 1.0, &format!("page {n}: 天头"));
            let pitch = (ys[ys.len() - 1] - ys[0]) / (ys.len() - 1) as f64;
            near(pitch, 225.0 / 22.0, 0.15, &format!("page {n}: line pitch"));
            for (k, y) in ys.iter().enumerate() {
                near(
                    *y,
                    37.0 + k as f64 * 225.0 / 22.0,
                    0.4,
                    &format!("page {n}: line {}", k + 1),
                );
            }
            let height = body[0].y1 - body[0].y0;
            let fit = ((225.0 - height) / pitch).floor() as usize + 1;
            assert_eq!(fit, 22, "page {n}: lines that fit the 版心 at this pitch");
            assert!(
                (21..=22).contains(&ys.len()),
                "page {n}: {} lines {ys:?}",
                ys.len()
            );
            let left = if n % 2 == 1 { 28.0 } else { 26.0 };
            let x0 = body.iter().map(|l| l.x0).fold(f64::MAX, f64::min);
            // A line-end 。、，） is set half-width (its ink in the left half) but
            // poppler boxes the whole glyph: the right edge is read off the lines
            // that end in a character, and the others may reach half a character
            // past it.
            let ends_in_punct = |l: &Line| {
                l.text()
                    .chars()
                    .last()
                    .is_some_and(|c| "、。，；：？！）》」』”".contains(c))
            };
            let x1 = body
                .iter()
                .filter(|l| !ends_in_punct(l))
                .map(|l| l.x1)
                .fold(f64::MIN, f64::max);
            for l in body.iter().filter(|l| ends_in_punct(l)) {
                assert!(
                    l.x1 <= left + 156.0 + 8.0 * PT_MM + 0.5,
                    "page {n}: a line past the 版心: {} ends at {:.1} mm",
                    l.text(),
                    l.x1
                );
            }
            near(x0, left, 1.0, &format!("page {n}: the 版心's left edge"));
            near(
                x1,
                left + 156.0,
                1.0,
                &format!("page {n}: the 版心's right edge"),
            );
            for l in &body {
                near(
                    (l.y1 - l.y0) / PT_MM,
                    16.0,
                    0.8,
                    &format!("page {n}: body size"),
                );
                let t = l.text();
                // 28 characters a line; punctuation may be set half-width to fit
                // (two marks in the space of one).
                if t.chars().all(is_cjk) && l.x1 > left + 155.0 && l.x0 < left + 1.0 {
                    let punct = t
                        .chars()
                        .filter(|c| "、。，；：？！（）《》“”".contains(*c))
                        .count();
                    let count = t.chars().count();
                    assert!(
                        (28..=28 + punct.div_ceil(2)).contains(&count),
                        "page {n}: a full line of {count} characters ({punct} punctuation): {t}"
                    );
                    full_lines += 1;
                }
            }
        }
        assert!(body_pages >= 1, "no full page of body text was measured");
        assert!(full_lines >= 1, "no full line of Chinese text was measured");

        // 版记 on the last page, an even one, at its foot.
        let last = pages.last().unwrap();
        assert_eq!(pages.len() % 2, 0, "the 版记 is on an even page");
        let cc = last
            .iter()
            .find(|l| l.text().starts_with("抄送：市纪委监委"))
            .expect("抄送");
        let printed = last
            .iter()
            .find(|l| l.text().ends_with("印发"))
            .expect("印发机关 and 印发日期");
        // 印发机关 at the left of the same line.
        assert!(
            last.iter()
                .any(|l| l.text().starts_with("测试市政务服务管理局")
                    && (l.y0 - printed.y0).abs() < 1.0
                    && l.x0 < 40.0),
            "{:?}",
            last.iter().map(Line::text).collect::<Vec<_>>()
        );
        assert!(
            printed.y0 > cc.y1 && printed.y1 > 240.0,
            "at the page's foot"
        );

        // Page 1 to look at.
        let png = artifacts().join("official-page1");
        let st = Command::new("pdftoppm")
            .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&pdf)
            .arg(&png)
            .status()
            .unwrap();
        assert!(st.success());

        check_text(&pdf, "公文");
        check_text(&brief, "数据简报");

        // 公示: a page and open data with no personal data and no free text.
        ok(
            &d,
            &[
                "report",
                "office",
                "--public-url",
                "https://zwfw.example.gov.cn/hcp/gongshi/",
            ],
        );
        let public = root.join("gongshi");
        let said = ok(
            &d,
            &[
                "report",
                "publish",
                "--month",
                "2026-10",
                "--out",
                public.to_str().unwrap(),
            ],
        );
        assert!(said.contains("已生成公示"), "{said}");
        check_public(&d, &public);
    })
    .await
    .unwrap();
}

/// Everything personal or free-text in the cache, looked for in every file of a
/// 公示: raters' masked names and phones, ID hashes, staff names, comments,
/// appeal statements and rectification measures.
fn check_public(db: &Path, dir: &Path) {
    let mut files = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        files.push((
            p.file_name().unwrap().to_string_lossy().into_owned(),
            std::fs::read_to_string(&p).unwrap(),
        ));
    }
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "index.html",
        "data.json",
        "halls.csv",
        "departments.csv",
        "windows.csv",
        "cases.csv",
    ] {
        assert!(names.contains(&want), "{want} missing: {names:?}");
    }
    let c = rusqlite::Connection::open(db).unwrap();
    let column = |sql: &str| -> Vec<String> {
        let mut st = c.prepare(sql).unwrap();
        st.query_map([], |r| r.get::<_, Option<String>>(0))
            .unwrap()
            .filter_map(|v| v.unwrap())
            .filter(|v| !v.trim().is_empty())
            .collect()
    };
    // Names of halls, departments and windows are published; a person's name
    // that happens to be part of one is not a leak.
    let public_names = column(
        "SELECT name FROM halls UNION ALL SELECT name FROM departments UNION ALL SELECT name FROM windows",
    )
    .join("\n");
    let mut secrets: Vec<(&str, String)> = vec![];
    for (what, sql, min_chars) in [
        (
            "评价人（脱敏姓名）",
            "SELECT DISTINCT evaluator_name_masked FROM evaluations",
            2,
        ),
        (
            "评价人电话",
            "SELECT DISTINCT evaluator_phone_masked FROM evaluations",
            7,
        ),
        (
            "评价人身份标识",
            "SELECT DISTINCT evaluator_id_hash FROM evaluations",
            16,
        ),
        ("工作人员姓名", "SELECT DISTINCT name FROM staff", 2),
        ("评价内容", "SELECT DISTINCT comment FROM evaluations", 6),
        ("申诉陈述", "SELECT DISTINCT statement FROM appeals", 6),
        (
            "整改措施",
            "SELECT DISTINCT measures FROM rectifications",
            6,
        ),
    ] {
        let values = column(sql);
        assert!(!values.is_empty(), "the cache has no {what} to look for");
        for v in values {
            if v.chars().count() >= min_chars && !public_names.contains(&v) {
                secrets.push((what, v));
            }
        }
    }
    assert!(
        secrets.len() > 50,
        "only {} values to look for",
        secrets.len()
    );
    for (file, text) in &files {
        for (what, v) in &secrets {
            assert!(!text.contains(v.as_str()), "{file} holds a {what}: {v}");
        }
    }
    let html = &files.iter().find(|(n, _)| n == "index.html").unwrap().1;
    assert!(!html.contains("<script"), "the page runs no script");
    assert!(html.contains("窗口红黑榜") && html.contains("差评整改情况"));
    assert!(
        html.contains("data:image/svg+xml;base64,"),
        "the QR code to the page's address"
    );
    let cases = &files.iter().find(|(n, _)| n == "cases.csv").unwrap().1;
    assert!(
        cases.starts_with('\u{FEFF}'),
        "Excel/WPS read UTF-8 with a BOM"
    );
    assert!(cases.lines().count() > 10, "{cases}");
}
