//! Why a hall could not be synced (zh-CN for people; never a token).

#[cfg(feature = "sqlite")]
use hcp_store::StoreError;

/// Why a hall could not be synced (zh-CN for people; never contains a token).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// 401.
    #[error("大厅拒绝了令牌（401 未授权）：请检查令牌是否正确、是否已过期")]
    Unauthorized,
    /// 403, with the server's own words (a hub's are zh-CN and say why).
    #[error("令牌无权访问该大厅（403 禁止访问）")]
    Forbidden {
        /// The problem's detail, printable; may be empty.
        detail: String,
    },
    /// 404.
    #[error("该地址不是 hall-api v1 接口（404）：请检查大厅地址")]
    NotFound,
    /// Another 4xx.
    #[error("大厅服务器拒绝了请求（{status}）：{detail}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The problem detail.
        detail: String,
    },
    /// `410 Gone` (handled inside the sync; surfaces only from single calls).
    #[error("游标已过期（410）")]
    Gone,
    /// Out of retries.
    #[error("重试 {attempts} 次后仍失败：{last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// Unusable base URL.
    #[error("大厅地址 “{url}” 无效：{detail}")]
    BadUrl {
        /// What was given.
        url: String,
        /// Why it is unusable.
        detail: String,
    },
    /// The CA file could not be used.
    #[error("无法使用 CA 证书文件 {path}：{detail}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
    /// The HTTP client could not be built.
    #[error("无法创建网络客户端：{0}")]
    Client(String),
    /// The server at the address is a different hall.
    #[error("该地址上的大厅编码为 “{found}”，与登记的 “{expected}” 不一致")]
    HallMismatch {
        /// Registered.
        expected: String,
        /// Served.
        found: String,
    },
    /// The feed breaks the protocol in a way retrying cannot fix.
    #[error("大厅返回的数据不符合接口规范：{0}")]
    Protocol(String),
    /// An answer bigger than the cap (counted after decompression).
    #[error(
        "大厅的响应超过 {limit_mib} MiB 上限（按解压后计算），已停止同步该大厅：请联系大厅核查接口；确有需要时可调大上限（hcp sync --max-response-mb）"
    )]
    TooLarge {
        /// The cap, MiB.
        limit_mib: u64,
    },
    /// The hall answered with a redirect, which is not followed.
    #[error(
        "大厅地址返回了重定向（{status} → {location}），督查台不跟随重定向：请把大厅地址改为实际的接口地址后重新添加"
    )]
    Redirected {
        /// HTTP status.
        status: u16,
        /// Where it pointed.
        location: String,
    },
    /// No progress for too long.
    #[error(
        "大厅在 {secs} 秒内没有任何进展（没有送来新数据或回执），已停止本次与该大厅的通信；已保存的数据不受影响，下次同步从中断处继续"
    )]
    Stalled {
        /// The stall limit, seconds.
        secs: u64,
    },
    /// The local cache failed.
    #[cfg(feature = "sqlite")]
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The registered hall code is not a plain code (registered by an older version).
    #[error("{0}：请移除该大厅（hcp hall remove）后重新添加")]
    InvalidHallId(String),
    /// The hall is known from a task package or spreadsheet imports only: it has
    /// no server here.
    #[error("大厅 “{0}” 来自暗访任务包或导入的评价表格，本机没有它的服务器地址，无需同步")]
    NotSynced(String),
    /// No token stored for the hall.
    #[error("没有大厅 “{0}” 的令牌，请重新添加该大厅")]
    NoToken(String),
    /// An internal task died.
    #[error("同步任务异常结束：{0}")]
    Internal(String),
    /// The office hub no longer takes this desk's session.
    #[error(
        "团队服务器不再接受本机的登录（已过期、已退出或账号已停用）：请重新连接（hcp hub connect）"
    )]
    HubSessionEnded,
    /// Another sink (the office hub's database) failed; the text says how, zh-CN.
    #[error("{0}")]
    Sink(String),
}
