//! Exports in the desktop window: the webview cannot download, so files are saved
//! into the user's 下载 folder by name and opened in the system's viewer (打印).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::{App, AppError, AppResult, types::*};

/// Where exports go: the user's download folder, else the home folder.
fn save_dir() -> AppResult<PathBuf> {
    directories::UserDirs::new()
        .and_then(|u| {
            u.download_dir()
                .map(Path::to_path_buf)
                .or(Some(u.home_dir().to_path_buf()))
        })
        .ok_or_else(|| AppError::new("internal", "找不到用户的下载目录"))
}

/// `name.pdf`, or `name (2).pdf` … when taken. Path separators never come through.
fn unique(dir: &Path, name: &str) -> PathBuf {
    let clean: String = name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let clean = if clean.trim().is_empty() {
        "导出文件".to_string()
    } else {
        clean
    };
    let (stem, ext) = match clean.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), format!(".{e}")),
        None => (clean.clone(), String::new()),
    };
    let mut p = dir.join(&clean);
    let mut n = 2;
    while p.exists() {
        p = dir.join(format!("{stem} ({n}){ext}"));
        n += 1;
    }
    p
}

impl App {
    /// Saves an export into the download folder; returns its path.
    pub async fn save_file(&self, a: SaveFileArgs) -> AppResult<String> {
        let bytes = B64
            .decode(a.data_base64.trim())
            .map_err(|_| AppError::invalid("文件数据无法读取（base64 格式错误）"))?;
        tokio::task::spawn_blocking(move || {
            let dir = save_dir()?;
            std::fs::create_dir_all(&dir).map_err(|e| {
                AppError::new("internal", format!("无法创建 {}：{e}", dir.display()))
            })?;
            let path = unique(&dir, &a.file_name);
            std::fs::write(&path, bytes).map_err(|e| {
                AppError::new("internal", format!("无法保存 {}：{e}", path.display()))
            })?;
            Ok(path.display().to_string())
        })
        .await?
    }

    /// Opens a file the app saved in the system's viewer (its print dialog is one
    /// click away). Only files in the export folder.
    pub async fn open_file(&self, a: OpenFileArgs) -> AppResult<()> {
        let path = PathBuf::from(&a.path);
        let dir = save_dir()?;
        if path.parent() != Some(dir.as_path()) || !path.is_file() {
            return Err(AppError::invalid("只能打开督查台导出的文件"));
        }
        let result = if cfg!(windows) {
            std::process::Command::new("cmd")
                .args(["/C", "start", ""])
                .arg(&path)
                .spawn()
        } else if cfg!(target_os = "macos") {
            std::process::Command::new("open").arg(&path).spawn()
        } else {
            std::process::Command::new("xdg-open").arg(&path).spawn()
        };
        result
            .map(|_| ())
            .map_err(|e| AppError::new("internal", format!("无法打开 {}：{e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_overwrite_and_never_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let a = unique(dir.path(), "通报.pdf");
        assert_eq!(a, dir.path().join("通报.pdf"));
        std::fs::write(&a, b"x").unwrap();
        assert_eq!(
            unique(dir.path(), "通报.pdf"),
            dir.path().join("通报 (2).pdf")
        );
        assert_eq!(
            unique(dir.path(), "../../etc/passwd"),
            dir.path().join(".._.._etc_passwd")
        );
    }
}
