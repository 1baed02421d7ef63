//! `hcp bench-queries`: how fast the console's screens answer on a big cache
//! (issue 3's targets): the dashboard, the first page of filtered evaluation lists,
//! a page 200 pages deep (keyset paging), the count beside the pager, and the
//! case inbox (差评工单) as it opens, on a hall's overdue cases and 200 pages
//! deep. Times are medians of repeated calls through hcp-app, the layer both front
//! ends use.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hcp_app::{App, CaseCountArgs, DashboardArgs, EvaluationQuery};
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

        // 差评工单 as it opens: the 全部待办 tab's first page (soonest deadline
        // first) and the tab badges, which the window asks for together.
        let todo: Vec<String> = hcp_core::case::case_tabs()
            .into_iter()
            .find(|t| t.key == "todo")
            .map(|t| t.states.iter().map(|s| s.as_str().to_owned()).collect())
            .unwrap_or_default();
        let inbox = |f: hcp_store::CaseFilter| {
            let app = &app;
            async move {
                let page = app.list_cases(f).await.map_err(msg)?;
                let counts = app
                    .case_counts(CaseCountArgs::default())
                    .await
                    .map_err(msg)?;
                Ok::<_, CliError>((page.total, counts.len()))
            }
        };
        let first_page = |states: &[String]| hcp_store::CaseFilter {
            states: states.to_vec(),
            limit: Some(20),
            ..hcp_store::CaseFilter::default()
        };
        let case_lists: Vec<(&str, hcp_store::CaseFilter)> = vec![
            ("差评工单·全部待办，首页与页签计数", first_page(&todo)),
            (
                "差评工单·某大厅已超期，首页与页签计数",
                hcp_store::CaseFilter {
                    hall_id: Some(hall.clone()),
                    urgency: Some("overdue".into()),
                    ..first_page(&todo)
                },
            ),
            (
                "差评工单·全部待办，第 201 页与页签计数",
                hcp_store::CaseFilter {
                    offset: Some(200 * 20),
                    ..first_page(&todo)
                },
            ),
        ];
        for (name, f) in &case_lists {
            let t = median(runs, || inbox(f.clone())).await?;
            worst = worst.max(t);
            println!("{name}（20 条）: {}", ms(t));
        }
        println!(
            "列表首页/深页最慢: {}  目标 ≤ 50 ms: {}",
            ms(worst),
            if worst <= Duration::from_millis(50) { "达标" } else { "未达标" }
        );
        Ok(ExitCode::SUCCESS)
    })
}
