//! `hcp hub …`: the office hub on PostgreSQL — set up the schema, serve the API,
//! manage accounts, check the audit chain. Every command takes the database from
//! `HCP_HUB_PG`, `--pg-file FILE` or `--pg URL` (the last shows in the process
//! list: not for a URL with a password); it is never printed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use hcp_hub::server::RunningHub;
use hcp_hub::{AccountRole, AuditCheck, Hub, Operator};

use crate::{CliError, runtime};

/// Where the hub's database is.
#[derive(Debug, Args)]
pub struct PgArg {
    /// PostgreSQL 连接串（URL 或 key=value 形式）；含密码时请改用环境变量 HCP_HUB_PG 或 --pg-file（命令行参数在进程列表中可见）
    #[arg(long, env = "HCP_HUB_PG", hide_env_values = true)]
    pg: Option<String>,
    /// 存放 PostgreSQL 连接串的文件（第一行；优先于 --pg 与 HCP_HUB_PG）
    #[arg(long)]
    pg_file: Option<PathBuf>,
    /// 以 TLS 连接数据库：数据库服务器的证书或其 CA（PEM）；也可用环境变量 HCP_HUB_PG_CA
    #[arg(long, env = "HCP_HUB_PG_CA")]
    pg_ca_file: Option<PathBuf>,
}

impl PgArg {
    /// Pool size default, TLS as asked.
    fn db_options(&self) -> hcp_hub::DbOptions {
        hcp_hub::DbOptions {
            ca_file: self.pg_ca_file.clone(),
            ..Default::default()
        }
    }

    /// The connection string, from the environment, the file or the argument.
    fn url(&self) -> Result<String, CliError> {
        match (&self.pg, &self.pg_file) {
            (_, Some(f)) => read_secret(f, "数据库连接串"),
            (Some(u), None) => Ok(u.clone()),
            (None, None) => Err(CliError::Msg(
                "请用环境变量 HCP_HUB_PG、--pg-file 或 --pg 指定团队服务器的 PostgreSQL 数据库"
                    .into(),
            )),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum HubCmd {
    /// 创建或升级团队服务器的数据库结构（可重复运行）
    Init {
        #[command(flatten)]
        pg: PgArg,
    },
    /// 运行团队服务器；开始监听后输出一行 HCP_HUB_URL=…
    Serve {
        #[command(flatten)]
        pg: PgArg,
        /// 监听地址
        #[arg(long, default_value = "127.0.0.1:8740")]
        addr: std::net::SocketAddr,
        /// 每隔多少秒同步一次全部大厅（0 表示不定时同步）
        #[arg(long, default_value_t = 300)]
        sync_every: u64,
        /// 最多同时使用的 PostgreSQL 连接数（请求、同步与送达合计；其余排队等候）
        #[arg(long, default_value_t = hcp_hub::DEFAULT_POOL_SIZE)]
        max_db_connections: usize,
        /// TLS 证书链文件（PEM）；与 --tls-key 一起使用时以 https 提供服务
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// TLS 私钥文件（PEM）
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// 立即同步团队服务器登记的大厅（另一进程正在同步的大厅会跳过）
    Sync {
        #[command(flatten)]
        pg: PgArg,
        /// 只同步这些大厅（可重复）
        #[arg(long = "hall")]
        halls: Vec<String>,
    },
    /// 团队服务器运行概况：数据库、各大厅最近同步与错误、待发送的决定、被锁定的账号、审计日志头
    Health {
        #[command(flatten)]
        pg: PgArg,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 账号管理
    User {
        #[command(subcommand)]
        cmd: HubUserCmd,
    },
    /// 团队服务器同步的大厅（令牌只保存在团队服务器上）
    Hall {
        #[command(subcommand)]
        cmd: HubHallCmd,
    },
    /// 审计日志
    Audit {
        #[command(subcommand)]
        cmd: HubAuditCmd,
    },
    /// 发文机关（全办公室统一，各桌面同步时取回）：通报公文的版头、发文字号、主送、抄送、印发机关与公示网址；不带选项时显示当前设置
    Office {
        #[command(flatten)]
        pg: PgArg,
        #[command(flatten)]
        args: crate::report::OfficeArgs,
    },
    /// 办理时限（全办公室统一；可按大厅设置）：修改后重算所有未办结工单的时限
    Policy {
        #[command(subcommand)]
        cmd: HubPolicyCmd,
    },
    /// 节假日数据：导入某一年的 holiday-cn JSON（覆盖内置或此前导入的该年）
    Calendar {
        #[command(subcommand)]
        cmd: HubCalendarCmd,
    },
    /// 把本机数据目录连接到团队服务器（成为其副本）：登录，姓名与身份取自团队服务器账号
    Connect {
        /// 团队服务器地址（hcp hub serve 输出的 HCP_HUB_URL）
        url: String,
        /// 登录名
        #[arg(long)]
        user: String,
        /// 存放密码的文件（第一行）；也可用环境变量 HCP_HUB_PASSWORD
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// 额外信任的 CA 证书（PEM），用于内网 CA 或自签名证书的团队服务器（复制到本机数据目录保存）
        #[arg(long)]
        ca_file: Option<PathBuf>,
    },
    /// 显示团队服务器证书的指纹（SHA-256，与窗口中核对的相同）；--save 保存该证书供 --ca-file 使用
    Fingerprint {
        /// 团队服务器地址（https://…）
        url: String,
        /// 把证书（PEM）保存到此文件
        #[arg(long)]
        save: Option<PathBuf>,
    },
    /// 显示团队服务器连接、账号与待发送的操作
    Status {
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 团队服务器恢复了备份或更换了数据库后：从团队服务器现有数据重建本机副本（原数据文件保留在旁；未被受理的操作带入新副本待复核）
    Rebuild {
        /// 存放密码的文件（第一行）；也可用环境变量 HCP_HUB_PASSWORD
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// 按工单的最新情况重新办理一项未受理的操作（编号见 hcp hub status）
    Redo {
        /// 操作编号
        id: String,
    },
    /// 放弃一项未受理的操作（保留记录，不再提示）
    Drop {
        /// 操作编号
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum HubUserCmd {
    /// 添加账号
    Add {
        #[command(flatten)]
        pg: PgArg,
        /// 登录名（即审计日志与决定中的姓名）
        name: String,
        /// 身份：officer | director | shopper | admin
        #[arg(long)]
        role: String,
        /// 大厅负责人所在大厅的编码
        #[arg(long)]
        hall: Option<String>,
        /// 存放初始密码的文件（第一行）；密码不出现在命令行与进程列表中
        #[arg(long)]
        password_file: PathBuf,
    },
    /// 列出账号
    List {
        #[command(flatten)]
        pg: PgArg,
    },
    /// 停用账号（同时使其全部登录失效）
    Disable {
        #[command(flatten)]
        pg: PgArg,
        /// 登录名
        name: String,
    },
    /// 启用账号（停用后恢复，并解除因密码错误过多造成的锁定）；账号不删除：其姓名签在审计日志与决定中
    Enable {
        #[command(flatten)]
        pg: PgArg,
        /// 登录名
        name: String,
    },
    /// 删除误建的账号（从未办理任何事项）；已有办理记录的账号不能删除，请停用
    Remove {
        #[command(flatten)]
        pg: PgArg,
        /// 登录名
        name: String,
    },
    /// 解除暗访员账号绑定的全部签名密钥（电脑转交他人或密钥丢失时；下次交件的账号重新绑定）
    UnbindKeys {
        #[command(flatten)]
        pg: PgArg,
        /// 登录名
        name: String,
    },
    /// 重设密码（同时使其全部登录失效）
    ResetPassword {
        #[command(flatten)]
        pg: PgArg,
        /// 登录名
        name: String,
        /// 存放新密码的文件（第一行）
        #[arg(long)]
        password_file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum HubHallCmd {
    /// 添加（或更新）大厅：团队服务器先用令牌向大厅确认其身份
    Add {
        #[command(flatten)]
        pg: PgArg,
        /// 大厅服务地址
        url: String,
        /// 存放大厅令牌的文件（第一行）
        #[arg(long)]
        token_file: PathBuf,
        /// 额外信任的 CA 证书（PEM）
        #[arg(long)]
        ca_file: Option<PathBuf>,
    },
    /// 列出大厅（不显示令牌）
    List {
        #[command(flatten)]
        pg: PgArg,
    },
    /// 移除大厅：不再同步、删除其令牌；已有的评价、工单与暗访记录保留（历史数据），未送达的决定不再发送，该大厅负责人账号停用。不加 --yes 时只列出影响
    Remove {
        #[command(flatten)]
        pg: PgArg,
        /// 大厅编码
        hall_id: String,
        /// 确认移除
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum HubPolicyCmd {
    /// 设置默认时限，或 --hall 指定大厅的时限（工作日）
    Set {
        #[command(flatten)]
        pg: PgArg,
        /// 只对该大厅
        #[arg(long)]
        hall: Option<String>,
        /// 核实/回访时限（只改给出的各项，其余保持不变）
        #[arg(long)]
        verify: Option<u32>,
        /// 整改反馈时限
        #[arg(long)]
        rectify: Option<u32>,
        /// 申诉提出时限
        #[arg(long)]
        appeal_filing: Option<u32>,
        /// 申诉复核时限
        #[arg(long)]
        appeal_review: Option<u32>,
        /// 即将超期提醒提前量
        #[arg(long)]
        warn_before: Option<u32>,
    },
    /// 列出时限设置与已导入的节假日年份
    List {
        #[command(flatten)]
        pg: PgArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum HubCalendarCmd {
    /// 导入一年的节假日数据（holiday-cn 格式 JSON 文件）
    Import {
        #[command(flatten)]
        pg: PgArg,
        /// JSON 文件
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum HubAuditCmd {
    /// 校验审计日志的哈希链，并输出日志头 HEAD=序号:哈希（请另行保存，下次用 --expect-head 核对，可发现末尾被删除的记录）
    Verify {
        #[command(flatten)]
        pg: PgArg,
        /// 此前记下的日志头（序号:哈希）：日志须仍包含该条且哈希相同
        #[arg(long)]
        expect_head: Option<String>,
    },
}

fn err(e: hcp_hub::HubError) -> CliError {
    CliError::Msg(e.to_string())
}

/// The first line of a secret file (a password, a token), capped: such a file is
/// small. `what` names it in messages.
fn read_secret(path: &Path, what: &str) -> Result<String, CliError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| CliError::Msg(format!("无法读取{what}文件 {}：{e}", path.display())))?;
    if meta.len() > 4096 {
        return Err(CliError::Msg(format!("{what}文件 {} 过大", path.display())));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Msg(format!("无法读取{what}文件 {}：{e}", path.display())))?;
    Ok(text
        .lines()
        .next()
        .unwrap_or("")
        .trim_end_matches('\r')
        .to_owned())
}

/// A password: the first line as it is (spaces may belong to it).
fn read_password(path: &Path) -> Result<String, CliError> {
    read_secret(path, "密码")
}

async fn hall(cmd: HubHallCmd, by: Operator<'_>) -> Result<(), CliError> {
    match cmd {
        HubHallCmd::Add {
            pg,
            url,
            token_file,
            ca_file,
        } => {
            let token = read_secret(&token_file, "令牌")?.trim().to_owned();
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            let (h, new) = hub
                .add_hall(&url, &token, ca_file.as_deref(), by)
                .await
                .map_err(err)?;
            let verb = if new {
                "已添加大厅"
            } else {
                "已更新大厅"
            };
            println!("{verb} {}（{}）", h.name, h.hall_id);
            // The same warning a desk shows for a hall served in clear text.
            if let Some(w) = hcp_sync::transport_warning(&url) {
                eprintln!("注意：{w}");
            }
            if !new {
                println!("该大厅已登记：地址与令牌已按本次给出的更新（更换令牌即用此命令）");
            }
        }
        HubHallCmd::List { pg } => {
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            println!("大厅编码\t名称\t地址");
            for h in hub.halls().await.map_err(err)? {
                if h.removed {
                    println!(
                        "{}\t{}\t（已移除：不再同步，历史数据保留）",
                        h.hall_id, h.name
                    );
                } else {
                    println!("{}\t{}\t{}", h.hall_id, h.name, h.base_url);
                }
            }
        }
        HubHallCmd::Remove { pg, hall_id, yes } => {
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            let r = hub
                .remove_hall(hall_id.trim(), yes, by)
                .await
                .map_err(err)?;
            print_removal(&r);
        }
    }
    Ok(())
}

/// What removing a hall does (before `--yes`) or did.
fn print_removal(r: &hcp_hub::HallRemoval) {
    let who = format!("大厅 {}（{}）", r.hall_id, r.name);
    if r.deleted {
        if r.done {
            println!("已删除{who}：团队服务器上没有它的任何数据");
        } else {
            println!("{who}在团队服务器上没有任何数据：移除即删除其登记。");
        }
    } else {
        println!(
            "{who}：评价等记录 {} 条，未办结工单 {} 张，已办结工单 {} 张，暗访记录 {} 份，未送达的决定 {} 条。",
            r.records, r.open_cases, r.closed_cases, r.visits, r.undelivered
        );
        let head = if r.done { "已移除" } else { "移除后" };
        println!(
            "{head}：不再同步该大厅，其令牌已删除；上述记录与工单作为历史数据保留（已签发的通报、各桌面副本仍可查阅），未办结的工单保持现状，未送达的决定不再发送。"
        );
    }
    if !r.directors.is_empty() {
        let verb = if r.done { "已停用" } else { "将停用" };
        println!("{verb}该大厅负责人账号：{}", r.directors.join("、"));
    }
    if r.done {
        println!(
            "要恢复同步：重新 hcp hub hall add 该大厅地址（停用的账号用 hcp hub user enable 启用）。"
        );
    } else {
        println!("确认移除请加 --yes 重新运行。");
    }
}

/// Who runs the hub's administration, as the audit log names them: `HCP_ADMIN`
/// when set (a named administrator), else the person behind `sudo` (`SUDO_USER`:
/// `sudo -u hcp hcp hub …` is the documented way, and every admin would otherwise
/// be `hcp` or `root`), else the operating-system account.
fn operator_name() -> String {
    ["HCP_ADMIN", "SUDO_USER", "USERNAME", "USER"]
        .iter()
        .find_map(|k| {
            std::env::var(k)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty() && v.len() <= 64 && !v.chars().any(char::is_control))
        })
        .unwrap_or_else(|| "hub-admin".to_owned())
}

/// The account's password for the desk: from a file, else `HCP_HUB_PASSWORD`.
fn desk_password(file: Option<PathBuf>) -> Result<String, CliError> {
    match file {
        Some(f) => read_password(&f),
        None => std::env::var("HCP_HUB_PASSWORD").map_err(|_| {
            CliError::Msg(
                "请用 --password-file 指定存放密码的文件（或设置环境变量 HCP_HUB_PASSWORD）".into(),
            )
        }),
    }
}

/// The desk's side: connect this cache to a hub, show the link's state.
fn desk(cmd: HubCmd, db: Option<PathBuf>) -> Result<ExitCode, CliError> {
    let db = crate::db_path(db, "hcp.db")?;
    let app = hcp_app::App::open(&db).map_err(|e| CliError::Msg(e.message))?;
    let rt = runtime()?;
    let status = match cmd {
        HubCmd::Connect {
            url,
            user,
            password_file,
            ca_file,
        } => {
            let password = desk_password(password_file)?;
            let unpinned = ca_file.is_none();
            let connected = rt.block_on(app.hub_connect(hcp_app::HubConnectArgs {
                url: url.clone(),
                name: user,
                password,
                ca_file:
                    ca_file.map(|p| std::path::absolute(&p).unwrap_or(p).display().to_string()),
                pinned_certificate: None,
            }));
            let s = match connected {
                Ok(s) => s,
                Err(e) => {
                    // A certificate the system does not trust (self-signed, an
                    // intranet CA): say so with its fingerprint to compare, and how
                    // to trust it — not the TLS library's words.
                    let untrusted = unpinned
                        && url.trim().starts_with("https://")
                        && (e.message.contains("UnknownIssuer")
                            || e.message.contains("certificate")
                            || e.message.contains("证书")
                            || matches!(e.code, hcp_app::ErrorCode::HallUnreachable));
                    if untrusted
                        && let Ok(c) = rt.block_on(
                            app.hub_peek_certificate(hcp_app::HubPeekArgs { url: url.clone() }),
                        )
                    {
                        return Err(CliError::Msg(format!(
                            "团队服务器 {} 的证书不受本机信任（自签名或内网 CA 签发）。\n证书指纹（SHA-256）：{}\n请向团队服务器管理员核对指纹（管理员在服务器上运行 openssl x509 -in 证书 -noout -fingerprint -sha256）；\n一致时保存证书：hcp hub fingerprint {} --save hub.crt，再用 --ca-file hub.crt 连接。",
                            c.address,
                            c.sha256,
                            url.trim()
                        )));
                    }
                    return Err(CliError::Msg(e.message));
                }
            };
            println!("已连接团队服务器；运行 hcp sync 取得大厅数据与工单。");
            s
        }
        HubCmd::Fingerprint { url, save } => {
            let c = rt
                .block_on(app.hub_peek_certificate(hcp_app::HubPeekArgs { url }))
                .map_err(|e| CliError::Msg(e.message))?;
            println!("地址：{}", c.address);
            println!("证书指纹（SHA-256）：{}", c.sha256);
            if let Some(path) = save {
                std::fs::write(&path, &c.pem)
                    .map_err(|e| CliError::Msg(format!("无法写入 {}：{e}", path.display())))?;
                println!(
                    "证书已保存到 {}；核对指纹无误后用 hcp hub connect … --ca-file {} 连接",
                    path.display(),
                    path.display()
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        HubCmd::Status { json } => {
            let s = rt
                .block_on(app.hub_status())
                .map_err(|e| CliError::Msg(e.message))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&s).map_err(|e| CliError::Msg(e.to_string()))?
                );
                return Ok(ExitCode::SUCCESS);
            }
            s
        }
        HubCmd::Redo { id } => {
            let q = rt
                .block_on(app.hub_redo_action(hcp_app::HubActionArgs { id }))
                .map_err(|e| CliError::Msg(e.message))?;
            println!(
                "已按最新情况重新记入待发送：工单 {}：{}",
                q.case_id, q.summary
            );
            rt.block_on(app.hub_status())
                .map_err(|e| CliError::Msg(e.message))?
        }
        HubCmd::Rebuild { password_file } => {
            let password = desk_password(password_file)?;
            let r = rt
                .block_on(app.hub_rebuild(hcp_app::HubRebuildArgs { password }))
                .map_err(|e| CliError::Msg(e.message))?;
            match &r.previous_file {
                Some(f) => println!("已从团队服务器重建本机副本；原数据文件保留为 {f}"),
                None => println!(
                    "已按团队服务器现有数据重新连接；{} 份已提交的暗访记录将重新交件",
                    r.visits_resent
                ),
            }
            if !r.held.is_empty() {
                println!(
                    "重建前未被团队服务器受理的操作 {} 项已带入，待复核（见下方“未受理”）",
                    r.held.len()
                );
            }
            r.status
        }
        HubCmd::Drop { id } => {
            rt.block_on(app.hub_drop_action(hcp_app::HubActionArgs { id }))
                .map_err(|e| CliError::Msg(e.message))?;
            println!("已放弃该操作。");
            rt.block_on(app.hub_status())
                .map_err(|e| CliError::Msg(e.message))?
        }
        _ => unreachable!("only desk commands come here"),
    };
    print_status(&status);
    Ok(ExitCode::SUCCESS)
}

fn print_status(s: &hcp_app::HubStatus) {
    let Some(link) = &s.link else {
        println!("单机使用：本机未连接团队服务器。");
        return;
    };
    let state = match s.state.as_str() {
        "connected" => "已连接".to_string(),
        "expired" => "登录已过期".to_string(),
        "epoch" => "服务器数据已更换，已停止同步".to_string(),
        _ => "离线".to_string(),
    };
    let role = AccountRole::parse(&link.role)
        .map(|r| r.label_zh())
        .unwrap_or("未知身份");
    println!("团队服务器：{}（{state}）", link.url);
    println!(
        "账号：{}（{role}{}）",
        link.account,
        link.hall_id
            .as_deref()
            .map(|h| format!("，{h}"))
            .unwrap_or_default()
    );
    if let Some(m) = &s.message {
        println!("说明：{m}");
    }
    if let Some(w) = &s.warning {
        println!("注意：{w}");
    }
    println!("待发送：{} 项", s.pending.len());
    for q in s.pending.iter().rev() {
        println!("  工单 {}：{}（{}）", q.case_id, q.summary, q.actor);
    }
    if !s.rejected.is_empty() {
        println!(
            "未受理：{} 项（hcp hub redo 编号：按最新情况重新办理；hcp hub drop 编号：放弃）",
            s.rejected.len()
        );
        for q in &s.rejected {
            println!(
                "  工单 {}：{} —— {}（编号 {}）",
                q.case_id,
                q.summary,
                q.message.as_deref().unwrap_or(""),
                q.id
            );
        }
    }
    let (waiting, refused): (Vec<_>, Vec<_>) = s.visits.iter().partition(|v| v.state == "pending");
    if !waiting.is_empty() {
        println!("待交件：{} 份", waiting.len());
        for v in &waiting {
            println!("  暗访 {}（{}，第 {} 版）", v.visit_id, v.hall_id, v.rev);
        }
    }
    if !refused.is_empty() {
        println!("未受理的交件：{} 份", refused.len());
        for v in &refused {
            println!(
                "  暗访 {}（{}，第 {} 版）—— {}",
                v.visit_id,
                v.hall_id,
                v.rev,
                v.message.as_deref().unwrap_or("")
            );
        }
    }
}

pub fn run(cmd: HubCmd, db: Option<PathBuf>) -> Result<ExitCode, CliError> {
    if matches!(
        cmd,
        HubCmd::Connect { .. }
            | HubCmd::Fingerprint { .. }
            | HubCmd::Status { .. }
            | HubCmd::Rebuild { .. }
            | HubCmd::Redo { .. }
            | HubCmd::Drop { .. }
    ) {
        return desk(cmd, db);
    }
    let rt = runtime()?;
    let me = operator_name();
    let by = Operator {
        name: &me,
        role: "admin",
    };
    rt.block_on(async {
        match cmd {
            HubCmd::Init { pg } => {
                let before = Hub::init_with(&pg.url()?, &pg.db_options()).await.map_err(err)?;
                if before == hcp_hub::SCHEMA_VERSION {
                    println!("团队服务器数据库已是最新（版本 {before}）");
                } else {
                    println!(
                        "团队服务器数据库已从版本 {before} 升级到 {}",
                        hcp_hub::SCHEMA_VERSION
                    );
                }
            }
            HubCmd::Serve {
                pg,
                addr,
                sync_every,
                max_db_connections,
                tls_cert,
                tls_key,
            } => {
                let options = hcp_hub::DbOptions {
                    pool_size: max_db_connections,
                    ..pg.db_options()
                };
                let hub = Hub::open_with(&pg.url()?, &options).await.map_err(err)?;
                let listen_err = |e: std::io::Error| CliError::Msg(format!("无法监听 {addr}：{e}"));
                let srv = match (tls_cert, tls_key) {
                    (Some(cert), Some(key)) => {
                        let acceptor = hcp_hub::tls_acceptor(&cert, &key).map_err(err)?;
                        RunningHub::start_tls(hub.clone(), addr, acceptor)
                            .await
                            .map_err(listen_err)?
                    }
                    _ => {
                        if !addr.ip().is_loopback() {
                            eprintln!(
                                "注意：团队服务器以未加密的 http 提供服务，密码与评价数据将以明文在网络上传输；请用 --tls-cert/--tls-key 启用 https"
                            );
                        }
                        RunningHub::start(hub.clone(), addr)
                            .await
                            .map_err(listen_err)?
                    }
                };
                if addr.ip().is_unspecified() {
                    // 0.0.0.0 is where it listens, not an address a desk can use.
                    let shown = reachable_url(&srv.url(), addr);
                    eprintln!(
                        "正在监听本机所有网卡（{addr}）。桌面端请使用本机在内网中的地址（下行为自动判断的地址）；启用 https 时，该地址须与证书中的主机名或 IP 一致"
                    );
                    println!("HCP_HUB_URL={shown}");
                } else {
                    println!("HCP_HUB_URL={}", srv.url());
                }
                let delivery_hub = hub.clone();
                let delivery = async move {
                    delivery_hub
                        .deliver_on_notice(&hcp_sync::SyncOptions::default())
                        .await
                };
                let schedule = async move {
                    if sync_every == 0 {
                        return std::future::pending().await;
                    }
                    hub.sync_on_schedule(
                        std::time::Duration::from_secs(sync_every),
                        &hcp_sync::SyncOptions::default(),
                    )
                    .await
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    () = srv.wait() => {}
                    () = schedule => {}
                    () = delivery => {}
                }
            }
            HubCmd::Health { pg, json } => {
                let hub = Hub::open_with(&pg.url()?, &pg.db_options()).await.map_err(err)?;
                let o = hub.overview().await.map_err(err)?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&o).map_err(|e| CliError::Msg(e.to_string()))?
                    );
                } else {
                    println!("数据库：可用");
                    println!("大厅编码\t名称\t最近成功同步\t最近错误\t待发送决定\t被拒收决定");
                    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                        t.map(|t| crate::export::local_time(&t.to_rfc3339()))
                            .unwrap_or_else(|| "—".into())
                    };
                    for h in &o.halls {
                        let error = match (&h.last_error, h.last_error_at) {
                            (Some(e), at) => format!("{}（{}）", e, when(at)),
                            _ => "—".into(),
                        };
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{}",
                            h.hall_id,
                            h.name,
                            when(h.last_success_at),
                            error,
                            h.pending_decisions,
                            h.rejected_decisions
                        );
                    }
                    if o.locked.is_empty() {
                        println!("被锁定的账号：无");
                    } else {
                        for (name, until) in &o.locked {
                            println!("被锁定的账号：{name}（至 {}）", when(Some(*until)));
                        }
                    }
                    match &o.audit_head {
                        Some(h) => println!("审计日志头：HEAD={h}"),
                        None => println!("审计日志头：（空）"),
                    }
                }
                // A hall whose last sync failed is worth a non-zero exit for monitors.
                if o.halls.iter().any(|h| h.last_error.is_some()) {
                    return Ok(ExitCode::from(1));
                }
            }
            HubCmd::Sync { pg, halls } => {
                let hub = Hub::open_with(&pg.url()?, &pg.db_options()).await.map_err(err)?;
                let reports = hub
                    .sync_halls(
                        &halls,
                        &hcp_sync::SyncOptions::default(),
                        hcp_hub::no_progress(),
                    )
                    .await
                    .map_err(err)?;
                let mut synced = vec![];
                let mut skipped = 0usize;
                for r in reports {
                    match r {
                        hcp_hub::HubSyncReport::Synced { sync, push, .. } => {
                            if push.accepted + push.duplicate + push.rejected + push.pending > 0 {
                                println!(
                                    "{}\t决定：送达 {}，大厅拒收 {}，待发送 {}{}",
                                    push.hall_id,
                                    push.accepted + push.duplicate,
                                    push.rejected,
                                    push.pending,
                                    push.error.map(|e| format!("（{e}）")).unwrap_or_default()
                                );
                            }
                            synced.push(sync)
                        }
                        hcp_hub::HubSyncReport::Busy { hall_id } => {
                            skipped += 1;
                            println!("{hall_id}\t另一团队服务器进程正在同步该大厅，本次跳过")
                        }
                    }
                }
                if synced.is_empty() && skipped > 0 {
                    // Nothing was synced: not a success to report (exit 3).
                    println!(
                        "未同步任何大厅：{skipped} 个大厅均由另一团队服务器进程（如正在运行的 hcp hub serve）同步中，本次已跳过"
                    );
                    return Ok(ExitCode::from(3));
                }
                crate::print_summary(&synced);
                if skipped > 0 {
                    println!("另有 {skipped} 个大厅由另一团队服务器进程同步中，本次已跳过");
                }
                if synced.iter().any(|r| r.error.is_some()) {
                    return Ok(ExitCode::from(2));
                }
            }
            HubCmd::Connect { .. }
            | HubCmd::Fingerprint { .. }
            | HubCmd::Status { .. }
            | HubCmd::Rebuild { .. }
            | HubCmd::Redo { .. }
            | HubCmd::Drop { .. } => unreachable!("handled above"),
            HubCmd::User { cmd } => user(cmd, by).await?,
            HubCmd::Policy { cmd } => policy(cmd, by).await?,
            HubCmd::Office { pg, args } => {
                let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                    .await
                    .map_err(err)?;
                let mut o = hub.office().await.map_err(err)?.unwrap_or_default();
                if args.changes() {
                    args.apply(&mut o);
                    o = hub.set_office(o, by).await.map_err(err)?;
                    println!("已保存发文机关设置；各桌面下次同步时取回");
                }
                crate::report::print_office(&o);
            }
            HubCmd::Calendar {
                cmd: HubCalendarCmd::Import { pg, file },
            } => {
                let meta = std::fs::metadata(&file).map_err(|e| {
                    CliError::Msg(format!("无法读取节假日文件 {}：{e}", file.display()))
                })?;
                if meta.len() > 1024 * 1024 {
                    return Err(CliError::Msg(format!(
                        "节假日文件 {} 超过 1 MiB，不像 holiday-cn 数据",
                        file.display()
                    )));
                }
                let json = std::fs::read_to_string(&file).map_err(|e| {
                    CliError::Msg(format!("无法读取节假日文件 {}：{e}", file.display()))
                })?;
                let hub = Hub::open_with(&pg.url()?, &pg.db_options()).await.map_err(err)?;
                let (year, moved) = hub.import_calendar(&json, by).await.map_err(err)?;
                println!("已导入 {year} 年节假日数据；{moved} 张未办结工单的时限已重算");
            }
            HubCmd::Hall { cmd } => hall(cmd, by).await?,
            HubCmd::Audit {
                cmd: HubAuditCmd::Verify { pg, expect_head },
            } => {
                let expect = expect_head
                    .map(|h| h.parse::<hcp_hub::AuditHead>())
                    .transpose()
                    .map_err(err)?;
                let hub = Hub::open_with(&pg.url()?, &pg.db_options()).await.map_err(err)?;
                match hcp_hub::verify_audit(&hub, expect.as_ref())
                    .await
                    .map_err(err)?
                {
                    AuditCheck::Intact { rows, head } => {
                        println!("审计日志完整：共 {rows} 条，哈希链无断点");
                        if let Some(h) = head {
                            println!("HEAD={h}");
                        }
                    }
                    AuditCheck::Broken { seq, reason } => {
                        println!("审计日志在第 {seq} 条处断开：{reason}");
                        return Ok(ExitCode::from(1));
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn policy(cmd: HubPolicyCmd, by: Operator<'_>) -> Result<(), CliError> {
    match cmd {
        HubPolicyCmd::Set {
            pg,
            hall,
            verify,
            rectify,
            appeal_filing,
            appeal_review,
            warn_before,
        } => {
            let change = hcp_hub::PolicyChange {
                verify,
                rectify,
                appeal_filing,
                appeal_review,
                warn_before,
            };
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            let (p, moved) = hub
                .change_policy(hall.as_deref(), &change, by)
                .await
                .map_err(err)?;
            println!(
                "已设置{}的办理时限：核实 {}、整改 {}、申诉提出 {}、申诉复核 {}、提前 {} 个工作日提醒；{moved} 张未办结工单的时限已重算",
                hall.as_deref()
                    .map(|h| format!("大厅 {h} "))
                    .unwrap_or_else(|| "默认".into()),
                p.verify,
                p.rectify,
                p.appeal_filing,
                p.appeal_review,
                p.warn_before
            );
        }
        HubPolicyCmd::List { pg } => {
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            let (rows, years) = hub.policies().await.map_err(err)?;
            println!("范围\t核实\t整改\t申诉提出\t申诉复核\t提醒提前\t修改人\t修改时间");
            for r in rows {
                let p = r.policy;
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.hall_id.as_deref().unwrap_or("默认"),
                    p.verify,
                    p.rectify,
                    p.appeal_filing,
                    p.appeal_review,
                    p.warn_before,
                    r.updated_by.as_deref().unwrap_or("（内置）"),
                    r.updated_at
                        .map(|t| crate::export::local_time(&t.to_rfc3339()))
                        .unwrap_or_else(|| "—".into())
                );
            }
            if !years.is_empty() {
                println!(
                    "已导入的节假日年份：{}",
                    years
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("、")
                );
            }
        }
    }
    Ok(())
}

async fn user(cmd: HubUserCmd, by: Operator<'_>) -> Result<(), CliError> {
    match cmd {
        HubUserCmd::Add {
            pg,
            name,
            role,
            hall,
            password_file,
        } => {
            let role = AccountRole::parse(&role).map_err(err)?;
            let password = read_password(&password_file)?;
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            let a = hub
                .add_user(&name, role, hall.as_deref(), &password, by)
                .await
                .map_err(err)?;
            println!(
                "已添加账号 {}（{}{}）",
                a.name,
                role.label_zh(),
                a.hall_id.map(|h| format!("，{h}")).unwrap_or_default()
            );
        }
        HubUserCmd::List { pg } => {
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            println!("登录名\t身份\t大厅\t状态");
            for a in hub.users().await.map_err(err)? {
                let role = AccountRole::parse(a.role).map_err(err)?;
                println!(
                    "{}\t{}\t{}\t{}",
                    a.name,
                    role.label_zh(),
                    a.hall_id.as_deref().unwrap_or("—"),
                    if a.disabled { "已停用" } else { "正常" }
                );
            }
        }
        HubUserCmd::Disable { pg, name } => {
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            hub.disable_user(&name, by).await.map_err(err)?;
            println!("已停用账号 {name}，其登录已全部失效");
        }
        HubUserCmd::Enable { pg, name } => {
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            hub.enable_user(&name, by).await.map_err(err)?;
            println!("已启用账号 {name}（如因密码错误被锁定，已解除）");
        }
        HubUserCmd::Remove { pg, name } => {
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            hub.remove_user(&name, by).await.map_err(err)?;
            println!("已删除账号 {name}");
        }
        HubUserCmd::UnbindKeys { pg, name } => {
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            let n = hub.unbind_keys(&name, by).await.map_err(err)?;
            println!("已解除账号 {name} 绑定的 {n} 把签名密钥");
        }
        HubUserCmd::ResetPassword {
            pg,
            name,
            password_file,
        } => {
            let password = read_password(&password_file)?;
            let hub = Hub::open_with(&pg.url()?, &pg.db_options())
                .await
                .map_err(err)?;
            hub.reset_password(&name, &password, by)
                .await
                .map_err(err)?;
            println!("已重设账号 {name} 的密码，其登录已全部失效");
        }
    }
    Ok(())
}

/// The URL a desk on the network can use for a hub bound to every interface:
/// this machine's address on the route out (no packet is sent), else its name.
fn reachable_url(bound: &str, addr: std::net::SocketAddr) -> String {
    let probe = if addr.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let target = if addr.is_ipv4() {
        "192.0.2.1:9"
    } else {
        "[2001:db8::1]:9"
    };
    let local = std::net::UdpSocket::bind(probe)
        .and_then(|s| s.connect(target).and_then(|()| s.local_addr()))
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified() && !ip.is_loopback());
    let host = match local {
        Some(std::net::IpAddr::V6(v6)) => format!("[{v6}]"),
        Some(ip) => ip.to_string(),
        None => std::env::var("HOSTNAME").unwrap_or_else(|_| "本机地址".into()),
    };
    let scheme = bound.split("://").next().unwrap_or("http");
    format!("{scheme}://{host}:{}/", addr.port())
}
