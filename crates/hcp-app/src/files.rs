//! Exports in the desktop window: the webview cannot download, so files are saved
//! into the user's 下载 folder by name and opened in the system's viewer (打印).
//!
//! Opening goes through the platform's API (ShellExecuteW on Windows, `xdg-open`
//! or `open` elsewhere; the `opener` crate), never through `cmd` or a shell: a
//! file name carries a hall's code, and `&`, `^` or `%` in it must stay characters.
//! Only files this run saved, with the extensions the console writes, are opened.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::ErrorCode;
use crate::{App, AppError, AppResult, types::*};

/// The extensions the console writes and will open: reports, spreadsheets,
/// exports and hand-in bundles. Never a program or a script.
pub const OPENABLE_EXTENSIONS: [&str; 5] = ["pdf", "xlsx", "csv", "json", "hcpv"];

/// Opens a file in the system's viewer.
pub type FileOpener = Box<dyn Fn(&Path) -> std::io::Result<()> + Send + Sync>;

/// What this run saved, and how files are opened.
pub(crate) struct Exports {
    /// Where exports go; `None` = the user's download folder.
    dir: Option<PathBuf>,
    /// Every path `save_file` wrote in this run: the only ones `open_file` opens.
    saved: Mutex<HashSet<PathBuf>>,
    opener: FileOpener,
}

impl Default for Exports {
    fn default() -> Self {
        Self {
            dir: None,
            saved: Mutex::new(HashSet::new()),
            opener: Box::new(|p: &Path| opener::open(p).map_err(std::io::Error::other)),
        }
    }
}

/// Where exports go: the user's download folder, else the home folder.
fn user_save_dir() -> AppResult<PathBuf> {
    directories::UserDirs::new()
        .and_then(|u| {
            u.download_dir()
                .map(Path::to_path_buf)
                .or(Some(u.home_dir().to_path_buf()))
        })
        .ok_or_else(|| AppError::new(ErrorCode::Internal, "找不到用户的下载目录"))
}

/// The lower-case extension of a name, if it is one the console writes.
fn openable_extension(name: &str) -> Option<String> {
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    OPENABLE_EXTENSIONS.contains(&ext.as_str()).then_some(ext)
}

/// A file name that is only a name on every system: no separators, no control
/// characters, nothing Windows reserves (`CON`, `aux.pdf`, a trailing dot), at
/// most 120 characters.
pub(crate) fn clean_name(name: &str) -> String {
    let mut clean: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let (stem, ext) = match clean.rsplit_once('.') {
        Some((s, e)) if !e.trim().is_empty() => (s.to_string(), format!(".{}", e.trim())),
        Some((s, _)) => (s.to_string(), String::new()),
        None => (clean.clone(), String::new()),
    };
    let mut stem: String = stem
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .chars()
        .take(120)
        .collect();
    if stem.is_empty() {
        stem = "导出文件".into();
    }
    let upper = stem.to_ascii_uppercase();
    let reserved = ["CON", "PRN", "AUX", "NUL"].contains(&upper.as_str())
        || ((upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.len() == 4
            && upper.as_bytes()[3].is_ascii_digit());
    if reserved {
        stem.insert(0, '_');
    }
    clean = format!("{stem}{ext}");
    clean
}

/// `name.pdf`, or `name (2).pdf` … when taken, created empty and exclusively so
/// that two saves never race for one name.
fn create_unique(dir: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    let clean = clean_name(name);
    let (stem, ext) = match clean.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), format!(".{e}")),
        None => (clean.clone(), String::new()),
    };
    let mut n = 1;
    loop {
        let p = if n == 1 {
            dir.join(&clean)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
        {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// A new folder `name`, or `name (2)` … when taken, in `dir`.
fn create_unique_dir(dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    let clean = clean_name(name);
    let mut n = 1;
    loop {
        let p = if n == 1 {
            dir.join(&clean)
        } else {
            dir.join(format!("{clean} ({n})"))
        };
        match std::fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

impl App {
    /// Writes `files` into a new folder `name` in the exports folder; returns the
    /// folder and its `index.html` (remembered: it may be opened).
    pub(crate) async fn save_folder(
        &self,
        name: &str,
        files: hcp_report::publish::PublicFiles,
    ) -> AppResult<(String, String)> {
        let dir = match &self.exports.dir {
            Some(d) => d.clone(),
            None => user_save_dir()?,
        };
        let name = name.to_owned();
        let folder = tokio::task::spawn_blocking(move || -> AppResult<PathBuf> {
            let failed = |e: std::io::Error| {
                AppError::new(
                    ErrorCode::Internal,
                    format!("无法在 {} 中保存公示：{e}", dir.display()),
                )
            };
            std::fs::create_dir_all(&dir).map_err(failed)?;
            let folder = create_unique_dir(&dir, &name).map_err(failed)?;
            for (file, bytes) in files {
                std::fs::write(folder.join(file), bytes).map_err(failed)?;
            }
            Ok(folder)
        })
        .await??;
        let index = self.remember_saved(folder.join("index.html"));
        Ok((folder.display().to_string(), index))
    }

    /// Notes a file this run saved (only those may be opened) and names it.
    fn remember_saved(&self, path: PathBuf) -> String {
        let shown = path.display().to_string();
        self.exports
            .saved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path);
        shown
    }

    /// Saves exports into `dir` instead of the user's download folder (tests, or
    /// a deployment that wants them elsewhere).
    pub fn with_export_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.exports.dir = Some(dir.into());
        self
    }

    /// Replaces how files are opened (the tests watch what would be opened).
    pub fn with_file_opener(mut self, opener: FileOpener) -> Self {
        self.exports.opener = opener;
        self
    }

    /// Saves an export into the download folder; returns its path. Only the
    /// kinds of file the console writes (`.pdf .xlsx .csv .json .hcpv`).
    pub async fn save_file(&self, a: SaveFileArgs) -> AppResult<String> {
        if openable_extension(&a.file_name).is_none() {
            return Err(AppError::invalid(
                "只能保存 PDF、Excel（.xlsx）、CSV、JSON 或暗访交件（.hcpv）文件",
            ));
        }
        let bytes = B64
            .decode(a.data_base64.trim())
            .map_err(|_| AppError::invalid("文件数据无法读取（base64 格式错误）"))?;
        let dir = match &self.exports.dir {
            Some(d) => d.clone(),
            None => user_save_dir()?,
        };
        let path = tokio::task::spawn_blocking(move || -> AppResult<PathBuf> {
            std::fs::create_dir_all(&dir).map_err(|e| {
                AppError::new(
                    ErrorCode::Internal,
                    format!("无法创建 {}：{e}", dir.display()),
                )
            })?;
            let (path, mut f) = create_unique(&dir, &a.file_name).map_err(|e| {
                AppError::new(
                    ErrorCode::Internal,
                    format!("无法在 {} 中保存文件：{e}", dir.display()),
                )
            })?;
            use std::io::Write as _;
            f.write_all(&bytes)
                .and_then(|()| f.sync_all())
                .map_err(|e| {
                    let _ = std::fs::remove_file(&path);
                    AppError::new(
                        ErrorCode::Internal,
                        format!("无法保存 {}：{e}", path.display()),
                    )
                })?;
            Ok(path)
        })
        .await??;
        Ok(self.remember_saved(path))
    }

    /// Saves an export where the user chose in the save dialog (the desktop
    /// shell asks); the console's extension is added when the name lacks it.
    /// Returns the path.
    pub async fn save_file_at(&self, chosen: PathBuf, a: SaveFileArgs) -> AppResult<String> {
        let Some(ext) = openable_extension(&a.file_name) else {
            return Err(AppError::invalid(
                "只能保存 PDF、Excel（.xlsx）、CSV、JSON 或暗访交件（.hcpv）文件",
            ));
        };
        let name_ok = chosen
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(openable_extension)
            .is_some_and(|e| e == ext);
        let path = if name_ok {
            chosen
        } else {
            let mut p = chosen.into_os_string();
            p.push(format!(".{ext}"));
            PathBuf::from(p)
        };
        let bytes = B64
            .decode(a.data_base64.trim())
            .map_err(|_| AppError::invalid("文件数据无法读取（base64 格式错误）"))?;
        let p2 = path.clone();
        tokio::task::spawn_blocking(move || {
            // Aside, then renamed over: a failed write never leaves half a file.
            let tmp = p2.with_extension(format!("{ext}.part"));
            std::fs::write(&tmp, &bytes)
                .and_then(|()| std::fs::rename(&tmp, &p2))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    AppError::new(
                        ErrorCode::Internal,
                        format!("无法保存 {}：{e}", p2.display()),
                    )
                })
        })
        .await??;
        Ok(self.remember_saved(path))
    }

    /// Opens a file this run saved in the system's viewer (its print dialog is one
    /// click away), through the platform's API, never a shell.
    pub async fn open_file(&self, a: OpenFileArgs) -> AppResult<()> {
        let path = PathBuf::from(&a.path);
        let saved = self
            .exports
            .saved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&path);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // A 公示 page this run wrote (no script in it) opens in the browser too.
        let page = name == "index.html";
        if !saved || (openable_extension(name).is_none() && !page) || !path.is_file() {
            return Err(AppError::invalid(
                "只能打开督查台本次保存的导出文件（PDF、Excel、CSV、JSON、暗访交件）",
            ));
        }
        (self.exports.opener)(&path).map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("无法打开 {}：{e}", path.display()),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_overwrite_and_never_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _) = create_unique(dir.path(), "通报.pdf").unwrap();
        assert_eq!(a, dir.path().join("通报.pdf"));
        let (b, _) = create_unique(dir.path(), "通报.pdf").unwrap();
        assert_eq!(b, dir.path().join("通报 (2).pdf"));
        let (c, _) = create_unique(dir.path(), "../../etc/passwd.json").unwrap();
        assert_eq!(c, dir.path().join("_.._etc_passwd.json"));
    }

    #[test]
    fn names_windows_reserves_are_made_harmless() {
        assert_eq!(clean_name("CON.pdf"), "_CON.pdf");
        assert_eq!(clean_name("lpt1.csv"), "_lpt1.csv");
        assert_eq!(clean_name("报告. .pdf"), "报告.pdf");
        assert_eq!(clean_name("a\u{7}b\nc.pdf"), "a_b_c.pdf");
        assert_eq!(clean_name(".pdf"), "导出文件.pdf");
        assert_eq!(clean_name("a. "), "a");
        assert!(
            clean_name(&format!("{}.pdf", "长".repeat(500)))
                .chars()
                .count()
                <= 124
        );
    }

    #[test]
    fn only_the_console_s_own_kinds_of_file_are_openable() {
        for ok in ["a.pdf", "a.XLSX", "a.csv", "a.json", "暗访.hcpv"] {
            assert!(openable_extension(ok).is_some(), "{ok}");
        }
        for bad in [
            "a.exe",
            "a.bat",
            "a.cmd",
            "a.lnk",
            "a.pdf.exe",
            "pdf",
            "a.js",
        ] {
            assert!(openable_extension(bad).is_none(), "{bad}");
        }
    }
}
