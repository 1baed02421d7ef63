//! The desktop's side of the office hub's API (besides the halls' records, which
//! it syncs from the hub with the hall client as from a hall): sign in, the halls
//! it may see, the office case feed, and the batches of officers' actions. The
//! same transport rules as for halls: timeouts, capped bodies, no redirects,
//! retries with backoff for what is safe to repeat.

use hcp_core::hub::{
    ActionRequest, ActionResult, CasePage, HubReport, HubReportFull, MAX_ACTIONS_PER_REQUEST,
    NextIssueArgs, NextIssueNo, ReportUpload, VisitPage, VisitUploadResult,
};
use serde::{Deserialize, Serialize};

use crate::{HallClient, HallEndpoint, SyncError, SyncOptions, Token};

/// The account a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubAccount {
    /// 登录名.
    pub name: String,
    /// `officer`, `director`, `shopper` or `admin`.
    pub role: String,
    /// A director's hall.
    #[serde(default)]
    pub hall_id: Option<String>,
    /// Which database the hub serves (`/v1/me`; absent from older hubs).
    #[serde(default)]
    pub epoch: Option<String>,
}

/// A signed-in session.
#[derive(Debug, Clone, Deserialize)]
pub struct HubSession {
    /// The bearer token (kept in the token vault, never logged).
    pub token: String,
    /// Who.
    pub account: HubAccount,
    /// Which database the hub serves (absent from older hubs).
    #[serde(default)]
    pub epoch: Option<String>,
}

/// A hall the account may see.
#[derive(Debug, Clone, Deserialize)]
pub struct HubHallInfo {
    /// 大厅编码.
    pub hall_id: String,
    /// 名称.
    pub name: String,
}

#[derive(Deserialize)]
struct HallList {
    halls: Vec<HubHallInfo>,
}

#[derive(Deserialize)]
struct Results {
    results: Vec<ActionResult>,
}

/// The hub's words for what the hall client reports in a hall's.
fn hub_err(e: SyncError) -> SyncError {
    match e {
        SyncError::Unauthorized => SyncError::HubSessionEnded,
        SyncError::Forbidden { detail } if detail.is_empty() => {
            SyncError::Sink("该账号无权进行此操作（403）".into())
        }
        SyncError::Forbidden { detail } => {
            SyncError::Sink(format!("该账号无权进行此操作：{detail}"))
        }
        SyncError::NotFound => {
            SyncError::Sink("该地址不是督查台团队服务器（404）：请检查地址".into())
        }
        // Still "could not reach": callers tell it from the hub's own refusals
        // (a first https connection then shows the certificate, for one).
        SyncError::GaveUp { attempts, last } => SyncError::GaveUp {
            attempts,
            last: last.replace("大厅服务器", "团队服务器"),
        },
        SyncError::Rejected { status, detail } => {
            SyncError::Sink(format!("团队服务器拒绝了请求（{status}）：{detail}"))
        }
        other => other,
    }
}

/// A client of one hub, signed in (or not yet, for [`HubClient::login`]).
pub struct HubClient {
    http: HallClient,
    base: String,
}

impl HubClient {
    /// A client for the hub at `url` with the session `token`; with `ca_file`, it
    /// trusts only that file's certificates (the pinned hub certificate, or an
    /// intranet CA), never the system's roots besides.
    pub fn new(
        url: &str,
        token: &str,
        ca_file: Option<&std::path::Path>,
        options: &SyncOptions,
    ) -> Result<Self, SyncError> {
        let ep = HallEndpoint {
            hall_id: String::new(),
            base_url: url.to_owned(),
            token: Token::new(token.to_owned()),
            ca_file: ca_file.map(std::path::Path::to_path_buf),
        };
        Ok(Self {
            http: HallClient::new(&ep, options)?,
            base: url.to_owned(),
        })
    }

    /// The hub's base URL as given.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The base URL a hall's records are synced from through the hub.
    pub fn hall_base_url(hub_url: &str, hall_id: &str) -> String {
        let base = if hub_url.ends_with('/') {
            hub_url.to_owned()
        } else {
            format!("{hub_url}/")
        };
        format!("{base}v1/halls/{hall_id}/")
    }

    /// Signs in (once: a wrong password is not retried).
    pub async fn login(
        url: &str,
        name: &str,
        password: &str,
        ca_file: Option<&std::path::Path>,
        options: &SyncOptions,
    ) -> Result<HubSession, SyncError> {
        let c = Self::new(url, "", ca_file, options)?;
        let body = serde_json::json!({ "name": name, "password": password });
        c.http
            .post_json::<_, HubSession>("v1/login", &body, "登录结果", false)
            .await
            .map_err(|e| match e {
                SyncError::Unauthorized => SyncError::Sink("用户名或密码错误".into()),
                e => hub_err(e),
            })
    }

    /// Ends the session on the hub (once; a session already gone is fine).
    pub async fn logout(&self) -> Result<(), SyncError> {
        self.http.post_nothing("v1/logout").await
    }

    /// Which database the hub serves, asked without a session (`/v1/health`'s
    /// `x-hcp-epoch` header): a desk whose session the hub does not know — a
    /// restored backup predates it — still learns that the hub is another one.
    pub async fn epoch(&self) -> Result<Option<String>, SyncError> {
        self.http.get_header("v1/health", "x-hcp-epoch").await
    }

    /// Who the session belongs to (checks that it still works).
    pub async fn me(&self) -> Result<HubAccount, SyncError> {
        self.http
            .get_json("v1/me", &[], "账号信息")
            .await
            .map_err(hub_err)
    }

    /// The halls the account may see.
    pub async fn halls(&self) -> Result<Vec<HubHallInfo>, SyncError> {
        let l: HallList = self
            .http
            .get_json("v1/halls", &[], "大厅列表")
            .await
            .map_err(hub_err)?;
        Ok(l.halls)
    }

    /// The office's 发文机关 as the hub keeps it (`None`: not set).
    pub async fn office(&self) -> Result<Option<hcp_core::office::Office>, SyncError> {
        #[derive(serde::Deserialize)]
        struct Answer {
            office: Option<hcp_core::office::Office>,
        }
        let a: Answer = self
            .http
            .get_json("v1/office", &[], "发文机关设置")
            .await
            .map_err(hub_err)?;
        Ok(a.office)
    }

    /// One page of the office case feed.
    pub async fn case_changes(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<CasePage, SyncError> {
        let limit = limit.to_string();
        let mut q = vec![("limit", limit.as_str())];
        if let Some(a) = after {
            q.push(("after", a));
        }
        self.http
            .get_json("v1/cases/changes", &q, "工单数据")
            .await
            .map_err(hub_err)
    }

    /// Sends a batch of actions (retried: the ids make a repeat harmless). The
    /// answer has one result per action, matched by id.
    pub async fn post_actions(
        &self,
        batch: &[ActionRequest],
    ) -> Result<Vec<ActionResult>, SyncError> {
        if batch.len() > MAX_ACTIONS_PER_REQUEST {
            return Err(SyncError::Internal(
                "too many actions in one request".into(),
            ));
        }
        let r: Results = self
            .http
            .post_json(
                "v1/actions",
                &serde_json::json!({ "actions": batch }),
                "操作回执",
                true,
            )
            .await
            .map_err(hub_err)?;
        Ok(r.results)
    }

    /// The number the next issue of a month and scope gets.
    pub async fn next_issue(
        &self,
        month: &str,
        hall_id: Option<&str>,
    ) -> Result<NextIssueNo, SyncError> {
        let body = NextIssueArgs {
            month: month.to_owned(),
            hall_id: hall_id.map(str::to_owned),
        };
        self.http
            .post_json("v1/reports/next", &body, "通报编号", true)
            .await
            .map_err(hub_err)
    }

    /// Uploads a report issued under `up.next`. `Ok(Err(why))`: the number was
    /// taken meanwhile (409) — ask for the next one and issue again.
    pub async fn upload_report(
        &self,
        up: &ReportUpload,
    ) -> Result<Result<HubReport, String>, SyncError> {
        match self
            .http
            .post_json::<_, HubReport>("v1/reports", up, "签发结果", false)
            .await
        {
            Ok(r) => Ok(Ok(r)),
            Err(SyncError::Rejected {
                status: 409,
                detail,
            }) => Ok(Err(detail)),
            Err(e) => Err(hub_err(e)),
        }
    }

    /// The issued reports the account may see.
    pub async fn reports(&self) -> Result<Vec<HubReport>, SyncError> {
        #[derive(Deserialize)]
        struct List {
            reports: Vec<HubReport>,
        }
        let l: List = self
            .http
            .get_json("v1/reports", &[], "通报列表")
            .await
            .map_err(hub_err)?;
        Ok(l.reports)
    }

    /// One issued report with its model and PDF.
    pub async fn report(&self, report_id: i64) -> Result<HubReportFull, SyncError> {
        self.http
            .get_json(&format!("v1/reports/{report_id}"), &[], "通报")
            .await
            .map_err(hub_err)
    }

    /// Hands a visit in (the signed bundle). `Ok(Err(why))`: the hub refused it
    /// for good (403 or 400: not this account's or key's visit, or a bad file) —
    /// keep the reason, do not send it again. Retried otherwise: the same bundle
    /// twice is harmless.
    pub async fn upload_visit(
        &self,
        bundle: Vec<u8>,
    ) -> Result<Result<VisitUploadResult, String>, SyncError> {
        match self
            .http
            .post_bytes::<VisitUploadResult>("v1/visits", bundle, "交件回执")
            .await
        {
            Ok(r) => Ok(Ok(r)),
            Err(SyncError::Forbidden { detail }) if detail.is_empty() => {
                Ok(Err("该账号无权交此暗访记录（403）".into()))
            }
            Err(
                SyncError::Forbidden { detail }
                | SyncError::Rejected {
                    status: 400,
                    detail,
                },
            ) => Ok(Err(detail)),
            Err(e) => Err(hub_err(e)),
        }
    }

    /// One page of the visit feed.
    pub async fn visit_changes(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<VisitPage, SyncError> {
        let limit = limit.to_string();
        let mut q = vec![("limit", limit.as_str())];
        if let Some(a) = after {
            q.push(("after", a));
        }
        self.http
            .get_json("v1/visits/changes", &q, "暗访交件列表")
            .await
            .map_err(hub_err)
    }

    /// A handed-in visit's bundle, at most `cap` bytes.
    pub async fn visit_bundle(&self, visit_id: &str, cap: u64) -> Result<Vec<u8>, SyncError> {
        hcp_core::ident::check_visit_id(visit_id)
            .map_err(|e| SyncError::Sink(format!("团队服务器发来的暗访编号无效：{e}")))?;
        self.http
            .get_bytes(&format!("v1/visits/{visit_id}"), cap)
            .await
            .map(|b| b.to_vec())
            .map_err(hub_err)
    }
}
