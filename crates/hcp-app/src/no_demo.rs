//! A build without the built-in demo (the `demo` feature off): the commands stay,
//! and say so.

use crate::{App, AppError, AppResult, DemoLoaded, ErrorCode};

/// No server ever runs in this build.
pub(crate) enum DemoServer {}

fn not_built() -> AppError {
    AppError::new(
        ErrorCode::NotFound,
        "此版本未包含演示数据：请添加大厅（设置 → 大厅与同步）或导入评价表格",
    )
}

impl App {
    /// This build has no demo.
    pub async fn load_demo(&self) -> AppResult<DemoLoaded> {
        Err(not_built())
    }

    /// Nothing was ever loaded, so nothing comes back.
    pub async fn resume_demo_if_loaded(&self) -> AppResult<bool> {
        Ok(false)
    }

    /// At start: nothing to do without the demo.
    pub async fn start_demo(&self, _asked: bool) -> AppResult<Option<DemoLoaded>> {
        Ok(None)
    }
}
