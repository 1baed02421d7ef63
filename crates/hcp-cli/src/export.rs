//! `hcp evaluations export`: JSON lines with the hall-api field names, or CSV that
//! Excel and WPS open correctly (UTF-8 BOM, Chinese headers, local times).

use std::io::Write;
use std::path::Path;

use hcp_core::wire::Evaluation;
use hcp_store::Store;

use crate::{CliError, Format};

/// A stored UTC instant as Beijing time, `2026-10-08 09:31:05`.
pub fn local_time(utc: &str) -> String {
    hcp_app::export::beijing_text(utc)
}

/// Writes the export; returns the number of evaluations written. The evaluator's
/// ID hash leaves only with `with_id_hash` (JSONL; the CSV never carries it).
pub fn run(
    store: &Store,
    hall: Option<&str>,
    format: Format,
    out: Option<&Path>,
    with_id_hash: bool,
) -> Result<u64, CliError> {
    if let Some(h) = hall
        && store.hall(h)?.is_none()
    {
        return Err(CliError::Msg(format!("没有编码为 “{h}” 的大厅")));
    }
    // Write to a temporary file and rename, so a failed export never leaves half a file.
    let (sink, tmp): (Box<dyn Write>, Option<std::path::PathBuf>) = match out {
        Some(p) => {
            let tmp = p.with_extension("part");
            // Personal data: the file is the owner's only (0600 on Unix).
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let f = opts
                .open(&tmp)
                .map_err(|e| CliError::Msg(format!("无法创建 {}：{e}", tmp.display())))?;
            (Box::new(std::io::BufWriter::new(f)), Some(tmp))
        }
        None => (
            Box::new(std::io::BufWriter::new(QuietStdout(
                std::io::stdout().lock(),
            ))),
            None,
        ),
    };
    let mut n = 0u64;
    match format {
        Format::Jsonl => {
            let mut w = sink;
            store.for_each_evaluation(hall, |row| {
                let mut e: Evaluation =
                    serde_json::from_str(&row.raw_json).map_err(std::io::Error::other)?;
                if !with_id_hash {
                    e.evaluator.id_hash = None;
                }
                serde_json::to_writer(&mut w, &e).map_err(std::io::Error::other)?;
                w.write_all(b"\n")?;
                n += 1;
                Ok(())
            })?;
            w.flush()
                .map_err(|e| CliError::Msg(format!("写入失败：{e}")))?;
        }
        Format::Csv => {
            let names = hcp_app::export::UnitNames::load(store)
                .map_err(|e| CliError::Msg(format!("无法读取大厅资料：{e}")))?;
            let mut w = hcp_app::export::EvaluationCsv::new(sink, names)
                .map_err(|e| CliError::Msg(format!("写入失败：{e}")))?;
            store.for_each_evaluation(hall, |row| {
                w.row(&row)?;
                n += 1;
                Ok(())
            })?;
            w.finish()
                .and_then(|mut s| s.flush())
                .map_err(|e| CliError::Msg(format!("写入失败：{e}")))?;
        }
    }
    if let (Some(tmp), Some(out)) = (tmp, out) {
        std::fs::rename(&tmp, out)
            .map_err(|e| CliError::Msg(format!("无法写入 {}：{e}", out.display())))?;
    }
    Ok(n)
}

/// Standard output that ends the process quietly (exit code 0) once its reader
/// has gone (`hcp … export | head`), as command-line tools do.
pub struct QuietStdout<'a>(pub std::io::StdoutLock<'a>);

impl std::io::Write for QuietStdout<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
            r => r,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
            r => r,
        }
    }
}
