//! The command line's shape: every command and option (clap), in zh-CN as `hcp --help` shows them.

use super::*;

#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// 大厅管理：添加、列出、移除
    Hall {
        #[command(subcommand)]
        cmd: HallCmd,
    },
    /// 从各大厅同步评价数据，随后把待发送的决定发给大厅
    Sync {
        /// 只同步这些大厅（可重复）；默认全部
        #[arg(long = "hall")]
        halls: Vec<String>,
        /// 以 JSON 输出结果
        #[arg(long)]
        json: bool,
        /// 每页请求的记录数（1–5000）
        #[arg(long, default_value_t = 5000)]
        page_limit: u32,
        /// 同时同步的大厅数
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// 只同步，不发送待发送的决定
        #[arg(long)]
        no_push: bool,
        /// 单个响应的大小上限（MiB，按解压后计算）；超过的大厅停止同步并报错
        #[arg(long, default_value_t = 64)]
        max_response_mb: u64,
    },
    /// 评价数据
    Evaluations {
        #[command(subcommand)]
        cmd: EvaluationsCmd,
    },
    /// 导入省级好差评系统导出的评价明细表格（.xlsx / .xls / .csv，UTF-8 或 GBK）
    Import(import::ImportArgs),
    /// 电子监察预警：差评突增、疑似刷好评、疑似恶意差评
    Alerts {
        #[command(subcommand)]
        cmd: alerts::AlertsCmd,
    },
    /// 隔离区：校验未通过的记录
    Quarantine {
        #[command(subcommand)]
        cmd: QuarantineCmd,
    },
    /// 演示：启动内置参考大厅、登记、同步并打印汇总（零配置）
    Demo {
        /// 同步后继续提供演示大厅服务并持续产生新评价，直到按 Ctrl-C
        #[arg(long)]
        serve: bool,
    },
    /// 性能基准：通报（默认一个月 100 万条评价、20 个大厅的月度通报）：模型/JSON、PDF、XLSX 用时
    BenchReport {
        /// 评价数
        #[arg(long, default_value_t = 1_000_000)]
        evaluations: usize,
        /// 大厅数
        #[arg(long, default_value_t = 20)]
        halls: usize,
        /// 工作目录（保留数据，再次运行时直接复用）
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// 通报期间：月 2026-10、季度 2026-Q3 或年度 2026
        #[arg(long, default_value = "2026-10")]
        period: String,
        /// 直接对已有的数据库出通报（如 hcp bench --work-dir 留下的 bench.db），不生成数据
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// 性能基准：在已有数据的数据库上测工作台、评价列表首页/深页、计数的响应时间
    BenchQueries {
        /// 每项重复次数（取中位数）
        #[arg(long, default_value_t = 15)]
        runs: usize,
    },
    /// 团队服务器（PostgreSQL）：初始化、运行、账号、审计
    Hub {
        #[command(subcommand)]
        cmd: hub::HubCmd,
    },
    /// 本机用户与身份
    User {
        #[command(subcommand)]
        cmd: cases::UserCmd,
    },
    /// 差评工单列表
    Cases {
        #[command(subcommand)]
        cmd: CasesCmd,
    },
    /// 差评工单办理：查看、核实、验收、退回、申诉复核、回访、转办、办结
    Case {
        #[command(subcommand)]
        cmd: cases::CaseCmd,
    },
    /// 把待发送的决定发给各大厅（按顺序，失败自动重试）
    Push {
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 暗访记录：新建、填写、照片、提交、导出/导入交件、审核
    Visit {
        #[command(subcommand)]
        cmd: visits::VisitCmd,
    },
    /// 暗访交件签名密钥：本机公钥、信任暗访员公钥
    Keys {
        #[command(subcommand)]
        cmd: visits::KeysCmd,
    },
    /// 月度通报：生成（PDF/Excel/JSON）、签发、列表、导出已签发版本
    Report {
        #[command(subcommand)]
        cmd: report::ReportCmd,
    },
    /// 审计日志（全过程留痕）
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// 法定工作日日历
    Calendar {
        #[command(subcommand)]
        cmd: CalendarCmd,
    },
    /// 在浏览器中使用界面：在 127.0.0.1 提供界面与命令接口（测试与开发用）
    ServeUi {
        /// 监听地址（只允许本机回环地址）
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: std::net::SocketAddr,
        /// 已构建的界面目录
        #[arg(long, default_value = "ui/dist")]
        dist: PathBuf,
        /// 尚未添加任何大厅时，启动时载入演示数据（演示数据载入过的缓存总会恢复演示大厅）
        #[arg(long)]
        demo: bool,
    },
    /// 性能基准：评价表格导入（生成 N 行 20 个大厅的导出文件，导入空数据库，报告行/秒与峰值内存）
    BenchImport {
        /// 行数
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// 文件格式：csv 或 xlsx
        #[arg(long, default_value = "csv", value_parser = ["csv", "xlsx"])]
        format: String,
        /// 工作目录（保留生成的文件，再次运行时直接复用）
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
    /// 性能基准：百万评价端到端同步、对比 sqlite3 导入、十个大厅空同步
    Bench {
        /// 评价数
        #[arg(long, default_value_t = 1_000_000)]
        evaluations: usize,
        /// 大厅数（多于 1 个时评价分布在 2026 年全年）
        #[arg(long, default_value_t = 1)]
        halls: usize,
        /// 工作目录（默认临时目录；保留时再次运行复用生成的数据）
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// 最坏情形：全年整月数据（不论今天）、大厅约一半差评有整改、无人办理工单；
        /// 默认贴近实际（评价截至昨天，大厅按时整改大部分差评，模拟督查室办理至今）
        #[arg(long)]
        worst_case: bool,
    },
    /// 性能基准：团队服务器入库、新副本就绪、多客户端并发办理（需要一个空的 PostgreSQL 数据库）
    BenchHub {
        /// PostgreSQL 连接串（空库），也可用环境变量 HCP_HUB_PG
        #[arg(long, env = "HCP_HUB_PG", hide_env_values = true)]
        pg: String,
        /// 评价数
        #[arg(long, default_value_t = 1_000_000)]
        evaluations: usize,
        /// 大厅数（多于 1 个时为 hcp bench 的贴近实际全年数据，与之共用 --work-dir 中的数据）
        #[arg(long, default_value_t = 1)]
        halls: usize,
        /// 模拟客户端数
        #[arg(long, default_value_t = 20)]
        clients: usize,
        /// 每个客户端的操作数
        #[arg(long, default_value_t = 2000)]
        actions: usize,
        /// 工作目录（默认临时目录）
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub(crate) enum HallCmd {
    /// 添加大厅：读取其资料并保存令牌
    Add {
        /// 大厅接口地址，如 https://10.1.2.3:8443/hcp/
        url: String,
        /// 令牌文件（文件内容即令牌）
        #[arg(long)]
        token_file: PathBuf,
        /// 额外信任的 CA 证书文件（PEM），用于政务内网私有 CA
        #[arg(long)]
        ca_file: Option<PathBuf>,
    },
    /// 列出大厅
    List {
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 移除大厅及其本地缓存数据
    Remove {
        /// 大厅编码
        id: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum CasesCmd {
    /// 列出工单（按时限由近到远）
    List(cases::CasesListArgs),
}

#[derive(Subcommand)]
pub(crate) enum AuditCmd {
    /// 校验审计日志的哈希链：任何一条被修改或删除都会指出第一条出问题的记录
    Verify,
    /// 列出最近的审计记录
    List {
        /// 条数
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand)]
pub(crate) enum CalendarCmd {
    /// 计算期限：从某日起 N 个工作日（起始日不计），截止到最后一日 23:59:59（北京时间）
    Due {
        /// 起始日期（北京时间），如 2026-09-28
        #[arg(long)]
        from: chrono::NaiveDate,
        /// 工作日数
        #[arg(long)]
        days: u32,
    },
    /// 导入新一年的法定节假日与调休数据（holiday-cn 格式 JSON），并重新计算时限
    Import {
        /// JSON 文件
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum EvaluationsCmd {
    /// 导出每条评价的最新版本
    Export {
        /// 只导出该大厅
        #[arg(long)]
        hall: Option<String>,
        /// 格式
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// 输出文件（默认标准输出）
        #[arg(long)]
        out: Option<PathBuf>,
        /// JSONL 中保留评价人身份证号哈希（evaluator.id_hash）；默认不导出
        #[arg(long)]
        with_id_hash: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum QuarantineCmd {
    /// 列出被隔离的记录及原因
    List {
        /// 只列该大厅
        #[arg(long)]
        hall: Option<String>,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// JSON Lines，字段名与 hall-api 完全一致
    Jsonl,
    /// CSV（UTF-8 BOM、中文表头，Excel/WPS 可直接打开）
    Csv,
}
