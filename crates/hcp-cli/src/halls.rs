//! `hcp hall …`: registering, listing and removing halls (through hcp-app's registration, as the window does).

use super::*;

pub(crate) fn hall(db: &Path, cmd: HallCmd) -> Result<ExitCode, CliError> {
    match cmd {
        HallCmd::Add {
            url,
            token_file,
            ca_file,
        } => {
            // A token is a line of text: a huge file is not a token file.
            let token = match std::fs::metadata(&token_file) {
                Ok(m) if m.len() > 64 * 1024 => {
                    return Err(CliError::Msg(format!(
                        "令牌文件 {} 过大（{} 字节），不像令牌文件",
                        token_file.display(),
                        m.len()
                    )));
                }
                _ => std::fs::read_to_string(&token_file).map_err(|e| {
                    CliError::Msg(format!("无法读取令牌文件 {}：{e}", token_file.display()))
                })?,
            };
            if token.trim().is_empty() {
                return Err(CliError::Msg(format!(
                    "令牌文件 {} 是空的",
                    token_file.display()
                )));
            }
            let ca_file = match ca_file {
                Some(p) => Some(std::fs::canonicalize(&p).map_err(|e| {
                    CliError::Msg(format!("无法读取 CA 证书文件 {}：{e}", p.display()))
                })?),
                None => None,
            };
            let added = add_hall(db, &url, Token::new(token), ca_file.as_deref())?;
            eprintln!(
                "{}大厅 {}（{}），令牌已保存到{}（不写入数据库）。",
                if added.new { "已添加" } else { "已更新" },
                added.hall_id,
                added.name,
                added.token_location
            );
            if let Some(w) = &added.transport_warning {
                eprintln!("警告：{w}");
            }
            println!("{}", added.hall_id);
            Ok(ExitCode::SUCCESS)
        }
        HallCmd::List { json } => {
            // Through hcp-app, like the window: a director sees his hall.
            let app = hcp_app::App::open(db).map_err(|e| CliError::Msg(e.message))?;
            let halls = runtime()?
                .block_on(app.list_halls())
                .map_err(|e| CliError::Msg(e.message))?;
            if json {
                #[derive(serde::Serialize)]
                struct Row<'a> {
                    #[serde(flatten)]
                    hall: &'a hcp_store::HallRecord,
                    sync: &'a hcp_store::SyncState,
                    counts: &'a hcp_store::HallCounts,
                    transport_warning: &'a Option<String>,
                }
                let rows: Vec<Row<'_>> = halls
                    .iter()
                    .map(|h| Row {
                        hall: &h.hall,
                        sync: &h.sync,
                        counts: &h.counts,
                        transport_warning: &h.transport_warning,
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rows)
                        .map_err(|e| CliError::Msg(e.to_string()))?
                );
            } else if halls.is_empty() {
                println!(
                    "尚未添加大厅。用 `hcp hall add URL --token-file FILE` 添加，或运行 `hcp demo` 体验。"
                );
            } else {
                println!("大厅编码\t名称\t评价数\t上次成功同步\t上次错误\t地址");
                for h in &halls {
                    let (hall, s) = (&h.hall, &h.sync);
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        hall.hall_id,
                        hall.name,
                        h.counts.evaluations,
                        s.last_success_at
                            .as_deref()
                            .map(export::local_time)
                            .unwrap_or_else(|| "从未".into()),
                        s.last_error.as_deref().unwrap_or("—"),
                        if h.transport_warning.is_some() {
                            format!("{}（未加密 http）", hall.base_url)
                        } else {
                            hall.base_url.clone()
                        }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        HallCmd::Remove { id } => {
            // Through hcp-app, like the UI: the token goes and the removal is audited.
            let app = hcp_app::App::open(db).map_err(|e| CliError::Msg(e.message))?;
            runtime()?
                .block_on(app.remove_hall(hcp_app::HallIdArgs {
                    hall_id: id.clone(),
                }))
                .map_err(|e| CliError::Msg(e.message))?;
            println!("已移除大厅 {id} 及其本地缓存数据。");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Fetches the hall's profile, stores the hall and its token.
pub(crate) fn add_hall(
    db: &Path,
    url: &str,
    token: Token,
    ca_file: Option<&Path>,
) -> Result<AddedHall, CliError> {
    runtime()?.block_on(register_hall(db, url, token, ca_file))
}

/// [`add_hall`] inside a runtime (hcp-app's registration, shared with the UI).
pub(crate) async fn register_hall(
    db: &Path,
    url: &str,
    token: Token,
    ca_file: Option<&Path>,
) -> Result<AddedHall, CliError> {
    hcp_app::register_hall(db, url, token, ca_file)
        .await
        .map_err(|e| CliError::Msg(e.message))
}
