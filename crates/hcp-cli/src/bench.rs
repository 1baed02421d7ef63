//! `hcp bench`: the sync benchmark of issue 2.
//!
//! 1. `hcp-hall generate` makes N evaluations in one hall (in a child process, so
//!    the generator's memory is not counted as the client's);
//! 2. `hcp-hall serve` serves them on loopback (another child);
//! 3. this process syncs them into an empty cache: evaluations/s end to end and the
//!    client's peak RSS;
//! 4. the same rows as CSV are `.import`ed by the `sqlite3` command-line tool into a
//!    table with the same columns and indexes, timed, and the ratio printed;
//! 5. ten halls with nothing new: the time of a sync that brings nothing.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use hcp_store::Store;
use hcp_sync::{SyncOptions, Token};

use crate::{CliError, refresh_alerts, register_hall, runtime, sync_async};

fn msg(e: impl std::fmt::Display) -> CliError {
    CliError::Msg(e.to_string())
}

pub(crate) fn hall_binary() -> Result<PathBuf, CliError> {
    let exe = std::env::current_exe().map_err(msg)?;
    let name = if cfg!(windows) {
        "hcp-hall.exe"
    } else {
        "hcp-hall"
    };
    let p = exe.with_file_name(name);
    if p.exists() {
        Ok(p)
    } else {
        Err(CliError::Msg(format!(
            "找不到 {}：请先运行 `cargo build --release -p hcp-hall -p hcp-cli`",
            p.display()
        )))
    }
}

/// A served data set: the child process and its halls' (id, url, token).
pub(crate) struct Served {
    child: Child,
    pub(crate) halls: Vec<(String, String, String)>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn generate(
    bin: &Path,
    out: &Path,
    halls: usize,
    evaluations: usize,
) -> Result<Duration, CliError> {
    generate_months(bin, out, halls, evaluations, "2026-10", 1, None)
}

/// `evaluations` over `halls` halls and `months` months from `first` (`YYYY-MM`);
/// with `until`, the realistic halls of `hcp-hall generate --until` (ratings up to
/// that day, most bad ratings rectified in time).
pub(crate) fn generate_months(
    bin: &Path,
    out: &Path,
    halls: usize,
    evaluations: usize,
    first: &str,
    months: u32,
    until: Option<NaiveDate>,
) -> Result<Duration, CliError> {
    let t = Instant::now();
    let mut cmd = Command::new(bin);
    cmd.args(["generate", "--seed", "42", "--month", first])
        .args([
            "--months",
            &months.to_string(),
            "--halls",
            &halls.to_string(),
            "--evaluations",
            &evaluations.to_string(),
        ])
        .arg("--out")
        .arg(out);
    if let Some(day) = until {
        cmd.arg("--until").arg(day.to_string());
    }
    let status = cmd.stdout(Stdio::null()).status().map_err(msg)?;
    if !status.success() {
        return Err(CliError::Msg("hcp-hall generate 失败".into()));
    }
    Ok(t.elapsed())
}

pub(crate) fn serve(bin: &Path, data: &Path, work: &Path) -> Result<Served, CliError> {
    let tokens_file = work.join(format!(
        "tokens-{}.json",
        data.file_name().and_then(|s| s.to_str()).unwrap_or("x")
    ));
    let mut child = Command::new(bin)
        .arg("serve")
        .arg("--data")
        .arg(data)
        .args(["--addr", "127.0.0.1:0"])
        .arg("--tokens-out")
        .arg(&tokens_file)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(msg)?;
    let stdout = child.stdout.take().ok_or_else(|| msg("no stdout"))?;
    let mut urls = vec![];
    let mut lines = BufReader::new(stdout).lines();
    let mut served = Served {
        child,
        halls: vec![],
    };
    let mut listening = false;
    for line in lines.by_ref() {
        let line = line.map_err(msg)?;
        if line.starts_with("listening ") {
            listening = true;
        } else if let Some(rest) = line.strip_prefix("hall ") {
            let mut parts = rest.split_whitespace();
            if let (Some(id), Some(url)) = (parts.next(), parts.next()) {
                urls.push((id.to_string(), url.to_string()));
            }
        }
        if listening && !urls.is_empty() && urls.len() == count_halls(data)? {
            break;
        }
    }
    let tokens: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&tokens_file).map_err(msg)?).map_err(msg)?;
    for (id, url) in urls {
        let token = tokens
            .get(&id)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        served.halls.push((id, url, token));
    }
    // Keep draining the child's stdout so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(served)
}

fn count_halls(data: &Path) -> Result<usize, CliError> {
    let m: hcp_hall::Manifest =
        serde_json::from_slice(&std::fs::read(data.join("halls.json")).map_err(msg)?)
            .map_err(msg)?;
    Ok(m.halls.len())
}

/// Peak resident set size of this process, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Lets the kernel write back the ~700 MB the generator just wrote before the timed
/// sync starts, so the sync is not measured against another program's writeback.
fn flush_disk_writes() {
    #[cfg(unix)]
    let _ = Command::new("sync").status();
}

fn fresh_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", ".tokens"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Changes stored so far, sampled each time the running total passes a step:
/// (seconds since the start, changes).
#[derive(Default)]
struct Progress {
    per_hall: std::collections::HashMap<String, u64>,
    total: u64,
    next_mark: u64,
    marks: Vec<(f64, u64)>,
    /// Halls finished so far, and the peak RSS when the last one did (before
    /// the sync's end builds what a bulk sync deferred).
    finished: usize,
    rss_halls: Option<f64>,
}

/// Throughput between marks, as (changes so far, changes/s of the last step).
fn step_rates(marks: &[(f64, u64)]) -> Vec<(f64, f64)> {
    marks
        .windows(2)
        .filter(|w| w[1].0 > w[0].0)
        .map(|w| (w[1].1 as f64, (w[1].1 - w[0].1) as f64 / (w[1].0 - w[0].0)))
        .collect()
}

/// Runs the benchmark and prints its figures. One hall: the month 2026-10;
/// several: a year (2026) spread over them. Realistic (the default): the year
/// stops yesterday (Beijing), halls rectify most bad ratings in time, and after
/// the timed figures a simulated office works every case up to now; `worst_case`:
/// the whole year whatever today is, halls rectify about half, nobody acts.
pub fn run(
    evaluations: usize,
    halls: usize,
    work_dir: Option<PathBuf>,
    worst_case: bool,
) -> Result<ExitCode, CliError> {
    let halls = halls.max(1);
    let bin = hall_binary()?;
    let (work, cleanup) = match work_dir {
        Some(d) => (d, false),
        None => (
            std::env::temp_dir().join(format!("hcp-bench-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&work).map_err(msg)?;
    let rt = runtime()?;
    let opts = SyncOptions::default();

    // The bench's "today": ratings stop at the end of yesterday (Beijing).
    let beijing = hcp_core::metrics::beijing();
    let now = chrono::Utc::now().with_timezone(&beijing);
    let until = (!worst_case).then(|| {
        if halls == 1 {
            NaiveDate::from_ymd_opt(2026, 10, 31).expect("valid day")
        } else {
            now.date_naive() - chrono::Days::new(1)
        }
    });
    // 1–3: N evaluations, end to end.
    let data = work.join(match until {
        None => format!("halls-{halls}-{evaluations}"),
        Some(day) => format!("realistic-{halls}-{evaluations}-{day}"),
    });
    if !data.join("halls.json").exists() {
        let _ = std::fs::remove_dir_all(&data);
        eprintln!(
            "生成 {evaluations} 条评价（{halls} 个大厅，{}）…",
            match until {
                None => "最坏情形".to_string(),
                Some(day) => format!("贴近实际，截至 {day}"),
            }
        );
        let (first, months) = if halls == 1 {
            ("2026-10", 1)
        } else {
            ("2026-01", 12)
        };
        let gen_time = generate_months(&bin, &data, halls, evaluations, first, months, until)?;
        eprintln!("生成用时 {:.1}s", gen_time.as_secs_f64());
    }
    eprintln!("启动参考大厅…");
    let served = serve(&bin, &data, &work)?;
    let db = work.join("bench.db");
    fresh_db(&db);
    let mut opts = opts;
    opts.concurrency = opts.concurrency.max(4);
    let rss_before = peak_rss_mib();
    rt.block_on(async {
        for (_, url, token) in &served.halls {
            register_hall(&db, url, Token::new(token.clone()), None).await?;
        }
        Ok::<_, CliError>(())
    })?;
    flush_disk_writes();
    const STEP: u64 = 250_000;
    let progress = std::sync::Arc::new(std::sync::Mutex::new(Progress {
        next_mark: STEP,
        marks: vec![(0.0, 0)],
        ..Progress::default()
    }));
    let start = Instant::now();
    let p2 = progress.clone();
    let hall_count = served.halls.len();
    let on_event: hcp_sync::ProgressFn = std::sync::Arc::new(move |e: &hcp_sync::SyncEvent| {
        if let hcp_sync::SyncEvent::Finished { .. } = e
            && let Ok(mut p) = p2.lock()
        {
            p.finished += 1;
            if p.finished == hall_count {
                p.rss_halls = peak_rss_mib();
            }
        }
        if let hcp_sync::SyncEvent::Page {
            hall_id, records, ..
        } = e
            && let Ok(mut p) = p2.lock()
        {
            let before = p.per_hall.insert(hall_id.clone(), *records).unwrap_or(0);
            p.total += records.saturating_sub(before);
            if p.total >= p.next_mark {
                let total = p.total;
                p.marks.push((start.elapsed().as_secs_f64(), total));
                p.next_mark = (total / STEP + 1) * STEP;
            }
        }
    });
    let (sync_time, reports) = rt.block_on(async {
        let eps = hcp_sync::endpoints(
            &Store::open(&db)?,
            &hcp_store::TokenVault::for_database(&db),
            &[],
        )?;
        let t = Instant::now();
        let reports = hcp_sync::sync_halls(&db, eps, &opts, on_event).await;
        Ok::<_, CliError>((t.elapsed(), reports))
    })?;
    let rss = peak_rss_mib();
    // What `hcp sync` does next: the alerts of the months it touched (here all of
    // them, a full recompute). Its memory is reported apart from the sync's.
    let t = Instant::now();
    let alerts = refresh_alerts(&db)?;
    let alerts_time = t.elapsed();
    let alerts_rss = peak_rss_mib();
    if let Some(e) = reports.iter().find_map(|r| r.error.clone()) {
        return Err(CliError::Msg(format!("同步失败：{e}")));
    }
    let records: u64 = reports.iter().map(|r| r.records).sum();
    let store = Store::open(&db)?;
    let mut stored = 0i64;
    for (id, _, _) in &served.halls {
        stored += store.hall_counts(id)?.evaluations;
    }
    let evals_per_s = stored as f64 / sync_time.as_secs_f64();
    let changes_per_s = records as f64 / sync_time.as_secs_f64();
    let marks = progress.lock().map(|p| p.marks.clone()).unwrap_or_default();
    let rss_halls = progress.lock().ok().and_then(|p| p.rss_halls);
    let rates = step_rates(&marks);
    let svg = work.join("sync-throughput.svg");
    std::fs::write(
        &svg,
        hcp_pdf::line_chart_svg(
            &format!(
                "同步吞吐（{stored} 条评价，{} 个大厅，每 25 万条变更）",
                halls
            ),
            "已入库变更（万条）",
            "变更/s",
            &rates
                .iter()
                .map(|(x, y)| (x / 10_000.0, *y))
                .collect::<Vec<_>>(),
        ),
    )
    .map_err(msg)?;
    // The cache's size on disk, after a checkpoint (as a user would copy it).
    let cache_bytes = {
        store.checkpoint()?;
        std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
    };

    // 4: sqlite3 .import of the same rows into a twin table.
    let csv = work.join("evaluations.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).map_err(msg)?);
        store.write_evaluations_csv(&mut f)?;
        f.flush().map_err(msg)?;
    }
    drop(store);
    let import_db = work.join("import.db");
    fresh_db(&import_db);
    let mut ddl = Command::new("sqlite3")
        .arg(&import_db)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| CliError::Msg(format!("无法运行 sqlite3（apt-get install sqlite3）：{e}")))?;
    ddl.stdin
        .take()
        .ok_or_else(|| msg("no stdin"))?
        .write_all(Store::evaluations_ddl().as_bytes())
        .map_err(msg)?;
    ddl.wait().map_err(msg)?;
    flush_disk_writes();
    let t = Instant::now();
    let out = Command::new("sqlite3")
        .arg(&import_db)
        .arg(".mode csv")
        .arg(format!(".import --skip 1 '{}' evaluations", csv.display()))
        .output()
        .map_err(msg)?;
    let import_time = t.elapsed();
    if !out.status.success() || !out.stderr.is_empty() {
        return Err(CliError::Msg(format!(
            "sqlite3 .import 失败：{}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let imported = Command::new("sqlite3")
        .arg(&import_db)
        .arg("SELECT count(*) FROM evaluations")
        .output()
        .map_err(msg)?;
    let imported = String::from_utf8_lossy(&imported.stdout).trim().to_string();
    let sqlite_version = Command::new("sqlite3")
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();

    // 5: the same halls again (several), or ten small halls (one), nothing new.
    let (idle_db, idle_served, idle_halls) = if halls > 1 {
        (db.clone(), served, halls)
    } else {
        drop(served);
        let data10 = work.join("ten-halls");
        let _ = std::fs::remove_dir_all(&data10);
        generate(&bin, &data10, 10, 20_000)?;
        let served10 = serve(&bin, &data10, &work)?;
        let db10 = work.join("bench10.db");
        fresh_db(&db10);
        (db10, served10, 10)
    };
    let idle = rt.block_on(async {
        let mut o = opts.clone();
        o.concurrency = 10;
        if halls == 1 {
            for (_, url, token) in &idle_served.halls {
                register_hall(&idle_db, url, Token::new(token.clone()), None).await?;
            }
            let first = sync_async(&idle_db, &[], &o, false).await?;
            if let Some(e) = first.iter().find_map(|r| r.error.clone()) {
                return Err(CliError::Msg(format!("同步失败：{e}")));
            }
        }
        let mut times = vec![];
        for _ in 0..7 {
            let t = Instant::now();
            let r = sync_async(&idle_db, &[], &o, false).await?;
            times.push(t.elapsed());
            if r.iter().any(|r| r.error.is_some() || r.outcome.new > 0) {
                return Err(CliError::Msg("空同步出现了新数据或错误".into()));
            }
        }
        times.sort();
        Ok::<_, CliError>(times[times.len() / 2])
    })?;
    drop(idle_served);

    // 6 (realistic): the office works the year's cases up to now, so the cache
    // left for `hcp bench-report --cache` is what a province's looks like.
    let office = match until {
        Some(_) => {
            eprintln!("模拟督查室办理全年工单…");
            let mut store = Store::open(&idle_db)?;
            let office = crate::bench_office::work_the_year(&mut store, now)?;
            let counts = store.case_counts(None, chrono::Utc::now())?;
            Some((office, counts))
        }
        None => None,
    };

    let ratio = sync_time.as_secs_f64() / import_time.as_secs_f64();
    let ok = |b: bool| if b { "达标" } else { "未达标" };
    println!(
        "== hcp bench（{}）==",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    println!(
        "机器: {} 核, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    println!(
        "数据: {}",
        match until {
            None => "最坏情形（全年整月数据不论今天，约一半差评有整改，无人办理工单）".to_string(),
            Some(day) =>
                format!("贴近实际（评价截至 {day}，大厅按时整改大部分差评，模拟督查室办理至今）"),
        }
    );
    println!("评价数: {stored}，{halls} 个大厅（feed 共 {records} 条变更，含改评/撤评/申诉/整改）");
    println!("端到端同步用时: {:.2} s", sync_time.as_secs_f64());
    println!(
        "端到端吞吐: {:.0} 评价/s（{:.0} 变更/s）  目标 ≥ 100000 评价/s: {}",
        evals_per_s,
        changes_per_s,
        ok(evals_per_s >= 100_000.0)
    );
    println!(
        "sqlite3 {sqlite_version} .import 同样 {imported} 行（同列同索引）: {:.2} s；同步/导入 = {ratio:.2}  目标 ≤ 2: {}",
        import_time.as_secs_f64(),
        ok(ratio <= 2.0)
    );
    match rss {
        Some(r) => println!(
            "客户端峰值 RSS: {r:.0} MiB（同步前 {:.0} MiB，各大厅同步完时 {}）  目标 ≤ 300 MB: {}",
            rss_before.unwrap_or(0.0),
            rss_halls.map_or("无法读取".to_string(), |h| format!("{h:.0} MiB")),
            ok(r * 1.048_576 <= 300.0)
        ),
        None => println!("客户端峰值 RSS: 无法读取（非 Linux）"),
    }
    // A day's sync recomputes at most the current month of every hall: the target
    // is per month (issue 34); the first sync of a year recomputes all of them.
    let per_month = alerts_time / u32::try_from(alerts.len().max(1)).unwrap_or(u32::MAX);
    println!(
        "同步后的预警重算: {:.2} s（{} 个月，平均每月 {:.2} s；读取评价 {} 条，预警 {} 条；重算后峰值 RSS {}）  目标 每月 ≤ 10 s: {}",
        alerts_time.as_secs_f64(),
        alerts.len(),
        per_month.as_secs_f64(),
        alerts.iter().map(|(_, r)| r.ratings).sum::<u64>(),
        alerts.iter().map(|(_, r)| r.found).sum::<u64>(),
        alerts_rss.map_or("无法读取".to_string(), |r| format!("{r:.0} MiB")),
        ok(per_month <= Duration::from_secs(10))
    );
    println!(
        "{idle_halls} 个大厅无新数据的同步（含预警重算：无新数据的月份不重算）: {:.0} ms（7 次取中位数）  目标 ≤ {} ms: {}",
        idle.as_secs_f64() * 1000.0,
        if idle_halls > 10 { 1000 } else { 200 },
        ok(idle <= Duration::from_millis(if idle_halls > 10 { 1000 } else { 200 }))
    );
    println!(
        "缓存大小（检查点后）: {:.2} GB，每条评价 {:.0} 字节  目标 ≤ 3 GB / 1000 万: {}",
        cache_bytes as f64 / 1e9,
        cache_bytes as f64 / stored.max(1) as f64,
        ok(cache_bytes as f64 / stored.max(1) as f64 <= 300.0)
    );
    if let (Some(min), Some(max)) = (
        rates.iter().map(|r| r.1).reduce(f64::min),
        rates.iter().map(|r| r.1).reduce(f64::max),
    ) {
        println!(
            "分段吞吐（每 25 万条变更）: 最低 {min:.0}/s，最高 {max:.0}/s，最后一段 {:.0}/s；曲线 {}",
            rates.last().map_or(0.0, |r| r.1),
            svg.display()
        );
    }
    if let Some((office, counts)) = office {
        let total: i64 = counts.iter().map(|c| c.total).sum();
        let closed: i64 = counts
            .iter()
            .filter(|c| hcp_core::case::CaseState::parse(&c.state).is_some_and(|s| s.is_closed()))
            .map(|c| c.total)
            .sum();
        let overdue: i64 = counts.iter().map(|c| c.overdue).sum();
        println!(
            "模拟督查室办理（不计入上列目标）: {} 次办理（{} 轮，引擎拒绝 {}），用时 {:.1} s；工单 {total} 件，办结 {closed}（{:.1}%），在办 {}，其中超期 {overdue}",
            office.acts.acted,
            office.acts.rounds,
            office.acts.refused,
            office.took.as_secs_f64(),
            closed as f64 * 100.0 / total.max(1) as f64,
            total - closed
        );
    }
    if cleanup {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(ExitCode::SUCCESS)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "未知 CPU".into())
}

/// `hcp bench-report`: N evaluations in one month across `halls` halls, synced
/// with the production path, then the report of all halls for `period` timed as
/// model and JSON, PDF and XLSX (release build; one warm-up, then one run each). A
/// cache from an earlier run in the work directory is reported again without
/// generating and syncing; `cache` reports an existing file instead (e.g. the year
/// `hcp bench --halls` left).
pub fn run_report(
    evaluations: usize,
    halls: usize,
    work_dir: Option<PathBuf>,
    period: &str,
    cache: Option<PathBuf>,
) -> Result<ExitCode, CliError> {
    let kind = hcp_core::metrics::Period::parse(period).map_err(CliError::Msg)?;
    let work = work_dir.unwrap_or_else(|| std::env::temp_dir().join("hcp-bench-report"));
    let db = match &cache {
        Some(c) => c.clone(),
        None => work.join("report.db"),
    };
    let marker = work.join(format!("synced-{evaluations}-{halls}"));
    if cache.is_none() && !marker.exists() {
        std::fs::create_dir_all(&work).map_err(msg)?;
        let bin = hall_binary()?;
        let data = work.join("report-halls");
        let _ = std::fs::remove_dir_all(&data);
        eprintln!("生成 {evaluations} 条评价（{halls} 个大厅，2026 年 10 月）…");
        generate(&bin, &data, halls, evaluations)?;
        let served = serve(&bin, &data, &work)?;
        fresh_db(&db);
        let rt = runtime()?;
        let t = Instant::now();
        rt.block_on(async {
            for (_, url, token) in &served.halls {
                register_hall(&db, url, Token::new(token.clone()), None).await?;
            }
            let reports = sync_async(&db, &[], &SyncOptions::default(), false).await?;
            if let Some(e) = reports.iter().find_map(|r| r.error.clone()) {
                return Err(CliError::Msg(format!("同步失败：{e}")));
            }
            Ok::<_, CliError>(())
        })?;
        eprintln!("同步用时 {:.1}s", t.elapsed().as_secs_f64());
        drop(served);
        std::fs::write(&marker, b"").map_err(msg)?;
    }
    let opened = Instant::now();
    let store = Store::open(&db)?;
    let open_s = opened.elapsed().as_secs_f64();
    let build = || {
        hcp_report::build(
            &store,
            period,
            None,
            hcp_report::ReportSettings::default(),
            chrono::Utc::now(),
        )
        .map_err(|e| CliError::Msg(e.to_string()))
    };
    let time = |f: &mut dyn FnMut() -> Result<usize, CliError>| -> Result<(f64, usize), CliError> {
        f()?; // warm-up
        let t = Instant::now();
        let n = f()?;
        Ok((t.elapsed().as_secs_f64(), n))
    };
    let mut model_json = || {
        let r = build()?;
        Ok(hcp_report::to_json(&r)
            .map_err(|e| CliError::Msg(e.to_string()))?
            .len())
    };
    // The first build after a sync also rebuilds the level counts of the months
    // the sync touched (`report_groups`); later ones read them.
    let first = Instant::now();
    model_json()?;
    let first_s = first.elapsed().as_secs_f64();
    let (model_s, json_len) = time(&mut model_json)?;
    let r = build()?;
    let (pdf_s, pdf_len) = time(&mut || Ok(hcp_pdf::to_pdf(&r).map_err(msg)?.len()))?;
    let (xlsx_s, xlsx_len) = time(&mut || {
        Ok(hcp_report::xlsx::to_xlsx(&r)
            .map_err(|e| CliError::Msg(e.to_string()))?
            .len())
    })?;
    println!(
        "== hcp bench-report（{}）==",
        chrono::Local::now().format("%Y-%m-%d")
    );
    println!(
        "机器: {} 核, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    println!(
        "{}：有效评价 {}，差评工单台账 {} 件（模型列出 {} 件），{} 个大厅",
        kind.label_zh(),
        r.overall.evaluations,
        r.ledger_counts().total,
        r.ledger.len(),
        store.halls()?.len()
    );
    let verdict = |s: f64, limit: f64| if s <= limit { "达标" } else { "未达标" };
    // Monthly: ≤ 1 s and PDF ≤ 3 s; a quarter or a year: ≤ 5 s each.
    let (model_limit, pdf_limit) = match kind {
        hcp_core::metrics::Period::Month(_) => (1.0, 3.0),
        _ => (5.0, 5.0),
    };
    println!("打开缓存（含升级）: {open_s:.2} s");
    println!(
        "模型 + JSON，同步后首次（含重建该期各月分组计数）: {first_s:.2} s  目标 ≤ {model_limit} s: {}",
        verdict(first_s, model_limit)
    );
    println!(
        "模型 + JSON: {model_s:.2} s（{json_len} 字节）  目标 ≤ {model_limit} s: {}",
        verdict(model_s, model_limit)
    );
    println!(
        "PDF: {pdf_s:.2} s（{pdf_len} 字节）  目标 ≤ {pdf_limit} s: {}",
        verdict(pdf_s, pdf_limit)
    );
    println!(
        "XLSX: {xlsx_s:.2} s（{xlsx_len} 字节）  目标 ≤ 3 s: {}",
        verdict(xlsx_s, 3.0)
    );
    Ok(ExitCode::SUCCESS)
}
