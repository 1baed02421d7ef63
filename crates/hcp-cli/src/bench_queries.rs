//! `hcp bench-queries`: how fast the console's screens answer on a big cache
//! (issue 3's targets): the dashboard, the first page of filtered evaluation lists,
//! a page 200 pages deep (keyset paging), and the count beside the pager. Times are
//! medians of repeated calls through hcp-app, the layer both front ends use.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hcp_app::{App, DashboardArgs, EvaluationQuery};
use hcp_store::EvaluationFilter;

use crate::{CliError, runtime};

fn msg(e: hcp_app::AppError) -> CliError {
    CliError::Msg(e.message)
}

/// Median wall time of `runs` calls of `f`.
async fn median<F, Fut, T>(runs: usize, mut f: F) -> Result<Duration, CliError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CliError>>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Runs the query benchmark on the cache at `db` (which should hold data).
pub fn run(db: &Path, runs: usize) -> Result<ExitCode, CliError> {
    runtime()?.block_on(async {
        let app = App::open(db).map_err(msg)?;
        let halls = app.list_halls().await.map_err(msg)?;
        let Some(first) = halls.first() else {
            return Err(CliError::Msg("该数据库中没有大厅：请先同步数据（例如 hcp bench --work-dir DIR 之后用其中的 bench.db）".into()));
        };
        let total: i64 = halls.iter().map(|h| h.counts.evaluations).sum();
        let hall = first.hall.hall_id.clone();
        let opts = app
            .form_options(DashboardArgs {
                month: None,
                hall_id: Some(hall.clone()),
            })
            .await
            .map_err(msg)?;
        let window = opts.windows.first().map(|w| w.code.clone());
        println!("== hcp bench-queries（{}）==", chrono::Utc::now().format("%Y-%m-%d"));
        println!("数据库: {}；评价 {total} 条，大厅 {} 个；每项取 {runs} 次中位数", db.display(), halls.len());

        let d = median(runs, || async {
            app.dashboard(DashboardArgs::default()).await.map_err(msg)
        })
        .await?;
        println!("工作台（本月/今日统计、每日差评、各大厅状态）: {}", ms(d));

        let cases: Vec<(&str, EvaluationFilter)> = vec![
            ("全部评价，首页", EvaluationFilter::default()),
            (
                "某大厅差评，首页",
                EvaluationFilter {
                    hall_id: Some(hall.clone()),
                    levels: vec![1, 2],
                    ..EvaluationFilter::default()
                },
            ),
            (
                "某大厅某窗口差评，首页",
                EvaluationFilter {
                    hall_id: Some(hall.clone()),
                    levels: vec![1, 2],
                    window_no: window.clone(),
                    ..EvaluationFilter::default()
                },
            ),
            (
                "评价内容含“三趟”，首页",
                EvaluationFilter {
                    text: Some("三趟".into()),
                    ..EvaluationFilter::default()
                },
            ),
        ];
        let mut worst = Duration::ZERO;
        for (name, filter) in &cases {
            let t = median(runs, || async {
                app.query_evaluations(EvaluationQuery {
                    filter: filter.clone(),
                    after: None,
                    limit: Some(20),
                })
                .await
                .map_err(msg)
            })
            .await?;
            worst = worst.max(t);
            println!("{name}（20 条）: {}", ms(t));
        }
        // 200 pages deep by key, then time the next page there.
        let filter = EvaluationFilter::default();
        let mut after = None;
        for _ in 0..200 {
            let page = app
                .query_evaluations(EvaluationQuery {
                    filter: filter.clone(),
                    after: after.clone(),
                    limit: Some(20),
                })
                .await
                .map_err(msg)?;
            after = page.next;
            if after.is_none() {
                break;
            }
        }
        let deep = median(runs, || async {
            app.query_evaluations(EvaluationQuery {
                filter: filter.clone(),
                after: after.clone(),
                limit: Some(20),
            })
            .await
            .map_err(msg)
        })
        .await?;
        println!("全部评价，第 201 页（按键翻页）: {}", ms(deep));
        worst = worst.max(deep);
        let c = median(runs.min(5), || async {
            app.count_evaluations(cases[1].1.clone()).await.map_err(msg)
        })
        .await?;
        println!("某大厅差评计数（分页器旁“共 N 条”，不阻塞首页）: {}", ms(c));
        println!(
            "列表首页/深页最慢: {}  目标 ≤ 50 ms: {}",
            ms(worst),
            if worst <= Duration::from_millis(50) { "达标" } else { "未达标" }
        );
        Ok(ExitCode::SUCCESS)
    })
}
