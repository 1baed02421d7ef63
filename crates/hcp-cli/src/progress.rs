//! Progress bars for `hcp sync`: one line per hall, on a terminal only.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use hcp_sync::SyncEvent;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One spinner line per hall.
pub struct SyncBars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl SyncBars {
    /// Bars drawn to stderr when it is a terminal (hidden otherwise or when `show` is false).
    pub fn new(show: bool) -> Self {
        let target = if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn bar(&self, hall: &str) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        bars.entry(hall.to_string())
            .or_insert_with(|| {
                let b = self.multi.add(ProgressBar::new_spinner());
                b.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:14} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                b.set_prefix(hall.to_string());
                b.enable_steady_tick(Duration::from_millis(120));
                b
            })
            .clone()
    }

    /// Updates the hall's line from an event.
    pub fn on_event(&self, e: &SyncEvent) {
        match e {
            SyncEvent::Started { hall_id } => self.bar(hall_id).set_message("连接中…"),
            SyncEvent::Page {
                hall_id,
                pages,
                records,
                totals,
                ..
            } => self.bar(hall_id).set_message(format!(
                "第 {pages} 页 · {records} 条 · 新增 {} 更新 {} 隔离 {}",
                totals.new, totals.updated, totals.quarantined
            )),
            SyncEvent::Retrying {
                hall_id,
                attempt,
                reason,
                wait_ms,
            } => self.bar(hall_id).set_message(format!(
                "第 {attempt} 次请求失败（{reason}），{:.1} 秒后重试",
                *wait_ms as f64 / 1000.0
            )),
            SyncEvent::Restarted { hall_id } => self
                .bar(hall_id)
                .set_message("游标已过期，从头重新同步（已有数据不会重复）"),
            SyncEvent::Finished { report } => {
                let b = self.bar(&report.hall_id);
                match &report.error {
                    None => b.finish_with_message(format!(
                        "完成 · {} 条 · 新增 {} 更新 {}",
                        report.records, report.outcome.new, report.outcome.updated
                    )),
                    Some(err) => b.finish_with_message(format!("失败：{err}")),
                }
            }
            // `hcp import` draws its own bar.
            SyncEvent::ImportProgress { .. } | SyncEvent::Ended { .. } => {}
        }
    }

    /// Clears the bars before the summary is printed.
    pub fn finish(&self) {
        let _ = self.multi.clear();
    }
}
