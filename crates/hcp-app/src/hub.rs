//! Hub mode: this desk as a replica of the office hub. `hub_connect` signs in and
//! links the cache; from then on a sync brings the halls' records through the hub
//! (the hall sync, with the hub as every hall's server and the session as the
//! token), sends the actions waiting in the queue, in order, and takes the office's
//! cases from the hub's case feed. Role and name come from the hub account.

use hcp_core::Role;
use hcp_store::{HubLink, TokenVault, Who};
use hcp_sync::{HallEndpoint, HubClient, Token};

use crate::{
    App, AppError, AppResult, ErrorCode, HubActionArgs, HubConnectArgs, HubExchange, HubPeekArgs,
    HubRebuildArgs, HubRebuildResult, HubStatus, SyncArgs, UserProfile,
};

/// Where the session token is kept in the token vault (not a hall code).
pub(crate) const HUB_VAULT_KEY: &str = "@hub";

fn profile_of(link: &HubLink) -> AppResult<UserProfile> {
    let role: Role = link.role.parse().map_err(|_| {
        AppError::invalid("管理员账号只用于团队服务器的管理（账号、大厅），不能用于督查台办理业务")
    })?;
    Ok(UserProfile {
        name: link.account.clone(),
        role,
        hall_id: link.hall_id.clone(),
    })
}

impl App {
    /// The hub this desk replicates, if any.
    pub async fn hub_link(&self) -> AppResult<Option<HubLink>> {
        self.with_store(|s| Ok(s.hub_link()?)).await
    }

    /// Whether the hub answers and still takes this desk's session, asked once
    /// with a short retry: a desk whose hub is away says so at once instead of
    /// waiting out the long retries meant for a slow hall.
    pub async fn hub_probe(&self, link: &HubLink) -> Result<(), (String, String)> {
        let mut quick = self.options.clone();
        quick.retry.max_attempts = 2;
        quick.retry.base = std::time::Duration::from_millis(200);
        quick.timeouts.connect = std::time::Duration::from_secs(5);
        quick.timeouts.request = std::time::Duration::from_secs(15);
        let client = self
            .hub_client_with(link, &quick)
            .map_err(|e| ("expired".to_string(), e.message))?;
        match client.me().await {
            Ok(me) => match (&link.epoch, me.epoch) {
                (Some(had), Some(now)) if *had != now => {
                    Err(("epoch".into(), self.epoch_changed(link).await.message))
                }
                // A link made before hubs named their database: it learns it now.
                (None, Some(now)) => {
                    let mut l = link.clone();
                    l.epoch = Some(now);
                    let _ = self.with_store(move |s| Ok(s.set_hub_link(&l)?)).await;
                    Ok(())
                }
                _ => Ok(()),
            },
            Err(e @ hcp_sync::SyncError::HubSessionEnded) => {
                // The session may be unknown because the hub is another database
                // (a backup from before it): that, not "sign in again", is the news.
                if let Some(had) = &link.epoch
                    && let Ok(Some(now)) = client.epoch().await
                    && *had != now
                {
                    return Err(("epoch".into(), self.epoch_changed(link).await.message));
                }
                Err(("expired".into(), e.to_string()))
            }
            Err(e) => Err(("offline".into(), e.to_string())),
        }
    }

    /// The hub now serves another database than the one this cache replicates
    /// (a backup restored, a new database): what it means and what to do, with
    /// how many of this desk's steps wait unsent (kept here for review).
    pub(crate) async fn epoch_changed(&self, link: &HubLink) -> AppError {
        let waiting = self
            .with_store(|s| Ok(s.unsettled_hub_actions()?.len()))
            .await
            .unwrap_or(0);
        AppError::new(
            ErrorCode::Refused,
            format!(
                "团队服务器 {} 的数据已不是本机上次同步的那一份（可能恢复了备份或更换了数据库），本机副本已停止同步，以免与团队服务器不一致。\
                 请重建副本（窗口中点击顶部的团队服务器状态，或命令行 hcp hub rebuild）：按团队服务器现有数据建立新的数据文件，原文件保留在旁；\
                 本机 {waiting} 项未被受理的操作带入新副本待复核，按工单现状重新办理或放弃。",
                link.url
            ),
        )
    }

    pub(crate) fn hub_client(&self, link: &HubLink) -> AppResult<HubClient> {
        self.hub_client_with(link, &self.options)
    }

    fn hub_client_with(
        &self,
        link: &HubLink,
        options: &hcp_sync::SyncOptions,
    ) -> AppResult<HubClient> {
        let token = self.hub_token()?;
        let ca = link.ca_file.as_deref().map(std::path::Path::new);
        Ok(HubClient::new(&link.url, &token, ca, options)?)
    }

    /// The session token kept for the hub.
    fn hub_token(&self) -> AppResult<String> {
        TokenVault::for_database(&self.db)
            .get(HUB_VAULT_KEY)?
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::Unauthorized,
                    "本机没有团队服务器的登录：请重新连接（hcp hub connect）",
                )
            })
    }

    /// 查看团队服务器的证书: the certificate an `https://` hub presents, for the
    /// user to compare its fingerprint before trusting it.
    pub async fn hub_peek_certificate(
        &self,
        a: HubPeekArgs,
    ) -> AppResult<hcp_sync::PeekedCertificate> {
        Ok(hcp_sync::peek_certificate(&a.url, std::time::Duration::from_secs(10)).await?)
    }

    /// Keeps an accepted hub certificate beside the cache (`<cache>.hub-ca.pem`)
    /// and returns the file to trust. Only one certificate, re-encoded from its
    /// bytes, ever reaches the file.
    fn pin_certificate(&self, pem: &str) -> AppResult<String> {
        use base64::Engine;
        let bad = || AppError::invalid("证书格式错误：应为服务器出示的一张 PEM 证书");
        if pem.len() > 2 * hcp_sync::MAX_CERTIFICATE_BYTES {
            return Err(bad());
        }
        let body = pem
            .trim()
            .strip_prefix("-----BEGIN CERTIFICATE-----")
            .and_then(|r| r.strip_suffix("-----END CERTIFICATE-----"))
            .ok_or_else(bad)?;
        let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| bad())?;
        // DER of an X.509 certificate starts with a SEQUENCE.
        if der.is_empty() || der[0] != 0x30 || der.len() > hcp_sync::MAX_CERTIFICATE_BYTES {
            return Err(bad());
        }
        let path = self.hub_ca_path();
        let tmp = path.with_extension("pem.tmp");
        // Readable by this user only, like the cache beside it.
        let write = || -> std::io::Result<()> {
            hcp_store::write_private(&tmp, hcp_sync::to_pem(&der).as_bytes())?;
            std::fs::rename(&tmp, &path)
        };
        write()
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("无法保存服务器证书：{e}")))?;
        tracing::info!(fingerprint = %hcp_sync::fingerprint(&der), "hub certificate pinned");
        Ok(path.display().to_string())
    }

    /// Where the hub's trusted certificate(s) live: `<data file>.hub-ca.pem`.
    fn hub_ca_path(&self) -> std::path::PathBuf {
        let name = self
            .db
            .file_name()
            .map_or_else(|| "hcp.db".into(), |n| n.to_string_lossy().into_owned());
        self.db.with_file_name(format!("{name}.hub-ca.pem"))
    }

    /// Copies a CA file (the intranet CA, or the hub's own certificate) beside
    /// the cache as `<db>.hub-ca.pem`, readable by this user only; returns its path.
    fn keep_ca_file(&self, given: &std::path::Path) -> AppResult<String> {
        const MAX: u64 = 256 * 1024;
        let bad = |why: String| AppError::invalid(format!("证书文件 {}：{why}", given.display()));
        let meta = std::fs::metadata(given).map_err(|e| bad(format!("无法读取（{e}）")))?;
        if meta.len() > MAX {
            return Err(bad("超过 256 KB，不像证书文件".into()));
        }
        let text = std::fs::read_to_string(given).map_err(|e| bad(format!("无法读取（{e}）")))?;
        if !text.contains("-----BEGIN CERTIFICATE-----") {
            return Err(bad("不含 PEM 格式的证书".into()));
        }
        let path = self.hub_ca_path();
        if std::path::absolute(given).ok() == std::path::absolute(&path).ok() {
            return Ok(path.display().to_string());
        }
        let tmp = path.with_extension("pem.tmp");
        hcp_store::write_private(&tmp, text.as_bytes())
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("无法保存证书文件：{e}")))?;
        Ok(path.display().to_string())
    }

    /// 连接团队服务器：登录并把本机数据目录变为团队服务器的副本。
    pub async fn hub_connect(&self, a: HubConnectArgs) -> AppResult<HubStatus> {
        let url = a.url.trim().to_owned();
        let url = if url.ends_with('/') {
            url
        } else {
            format!("{url}/")
        };
        let mut a = a;
        if let Some(pem) = a.pinned_certificate.take() {
            a.ca_file = Some(self.pin_certificate(&pem)?);
        } else if let Some(given) = a.ca_file.take() {
            // Kept beside the cache (owner-only): a moved or deleted file must not
            // stop the desk from syncing, nor someone else swap it.
            a.ca_file = Some(self.keep_ca_file(std::path::Path::new(&given))?);
        }
        // Signing in again ends the previous session first, so reconnects leave
        // no live sessions behind (best effort: one the hub cannot be told of
        // ends at its idle limit).
        let previous = self.hub_link().await.ok().flatten();
        if let Some(old) = &previous
            && let Ok(client) = self.hub_client(old)
        {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), client.logout()).await;
        }
        let ca = a.ca_file.as_deref().map(std::path::Path::new);
        let session = HubClient::login(&url, a.name.trim(), &a.password, ca, &self.options).await?;
        // Signing in again to a hub whose database is not the one this cache
        // replicates (a restored backup): refused, never merged.
        if let Some(old) = &previous
            && let (Some(had), Some(now)) = (&old.epoch, &session.epoch)
            && had != now
        {
            return Err(self.epoch_changed(old).await);
        }
        let link = HubLink {
            url: url.clone(),
            account: session.account.name.clone(),
            role: session.account.role.clone(),
            hall_id: session.account.hall_id.clone(),
            ca_file: a.ca_file.clone(),
            epoch: session.epoch.clone(),
        };
        let profile = profile_of(&link)?;
        let l2 = link.clone();
        self.with_store(move |s| Ok(s.set_hub_link(&l2)?)).await?;
        let vault = TokenVault::for_database(&self.db);
        vault.set(HUB_VAULT_KEY, &session.token)?;
        let json = serde_json::to_string(&profile)
            .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
        self.with_store(move |s| {
            s.set_setting_audited(
                crate::PROFILE_SETTING,
                Some(&json),
                &hcp_store::AuditEntry {
                    actor: &profile.name,
                    role: profile.role.as_str(),
                    subject: "user",
                    action: "profile_from_hub",
                    detail: &json,
                },
            )?;
            Ok(())
        })
        .await?;
        self.hub_refresh_halls(&link, &session.token).await?;
        self.hub_status().await
    }

    /// 重建副本: the hub now serves another database (a restored backup), so this
    /// desk's copies are not the office's any more. An officer's or director's
    /// replica is built anew in a new file from the hub as it is now and swapped in;
    /// the old file is kept beside it, untouched, and the steps the hub had not
    /// taken come along held for review (redo on the case as it is now, or drop).
    /// A shopper's desk holds no copies: it keeps its file and hands in every
    /// submitted visit again. Nothing is changed until the new replica is complete.
    pub async fn hub_rebuild(&self, a: HubRebuildArgs) -> AppResult<HubRebuildResult> {
        let Some(link) = self.hub_link().await? else {
            return Err(AppError::invalid(
                "本机没有连接团队服务器，没有副本需要重建",
            ));
        };
        if a.password.is_empty() {
            return Err(AppError::invalid("请输入密码"));
        }
        let Ok(_sync) = self.sync_lock.try_lock() else {
            return Err(AppError::new(ErrorCode::Busy, "正在同步，请稍候再重建副本"));
        };
        let who_role = profile_of(&link).map(|p| p.role.actor()).ok();
        if !link.reads_records() {
            return self.rebuild_in_place(link, &a.password).await;
        }
        let name = self
            .db
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "hcp.db".into());
        let tmp = self.db.with_file_name(format!("{name}.rebuilding"));
        remove_db_files(&tmp);
        let built = self.build_replica(&tmp, &link, &a.password).await;
        let fresh = match built {
            Ok(fresh) => fresh,
            Err(e) => {
                remove_db_files(&tmp);
                return Err(e);
            }
        };
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let previous = self
            .db
            .with_file_name(format!("{name}.before-rebuild-{stamp}"));
        let carried = self.with_store(|s| Ok(s.unsettled_hub_actions()?)).await?;
        let held_ids: Vec<String> = carried.iter().map(|c| c.id().to_owned()).collect();
        let who_name = link.account.clone();
        let prev_name = previous
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let actor = who_role.unwrap_or(hcp_core::case::Actor::Officer);
        let kept = fresh
            .with_store(move |s| {
                s.hold_carried_actions(
                    &carried,
                    &prev_name,
                    Who {
                        name: &who_name,
                        actor,
                    },
                )?;
                Ok(())
            })
            .await;
        let token = TokenVault::for_database(&tmp).get(HUB_VAULT_KEY);
        drop(fresh);
        let token = match (kept, token) {
            (Ok(()), Ok(Some(t))) => t,
            (Err(e), _) => {
                remove_db_files(&tmp);
                return Err(e);
            }
            (_, Err(e)) => {
                remove_db_files(&tmp);
                return Err(e.into());
            }
            (_, Ok(None)) => {
                remove_db_files(&tmp);
                return Err(AppError::new(ErrorCode::Internal, "新副本没有登录凭据"));
            }
        };
        // The swap, with no connection open on either file.
        {
            let _alone = self.gate.write().await;
            self.stores
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
            swap_db_files(&self.db, &tmp, &previous)?;
        }
        remove_db_files(&tmp);
        // The new file signs in with the new session and trusts what the old did.
        let vault = TokenVault::for_database(&self.db);
        vault.set(HUB_VAULT_KEY, &token)?;
        let mut relinked = self
            .hub_link()
            .await?
            .ok_or_else(|| AppError::new(ErrorCode::Internal, "新副本没有团队服务器连接设置"))?;
        relinked.ca_file = link.ca_file.clone();
        let halls = self
            .with_store(move |s| {
                s.set_hub_link(&relinked)?;
                Ok(s.halls()?)
            })
            .await?;
        for h in halls {
            vault.set(&h.hall_id, &token)?;
        }
        let held = self
            .with_store(move |s| {
                let all = s.hub_queue(None, false)?;
                Ok(all
                    .into_iter()
                    .filter(|q| held_ids.contains(&q.id))
                    .collect::<Vec<_>>())
            })
            .await?;
        tracing::info!(previous = %previous.display(), held = held.len(), "replica rebuilt");
        Ok(HubRebuildResult {
            previous_file: Some(previous.display().to_string()),
            held,
            visits_resent: 0,
            status: self.hub_status().await?,
        })
    }

    /// A new replica of the hub as it is now, in `file`, complete (its first
    /// sync done); the progress shows in this window.
    async fn build_replica(
        &self,
        file: &std::path::Path,
        link: &HubLink,
        password: &str,
    ) -> AppResult<App> {
        let fresh = App::open(file)?.with_sync_options(self.options.clone());
        let mut events = fresh.subscribe();
        let forward = self.events.clone();
        let relay = tokio::spawn(async move {
            while let Ok(e) = events.recv().await {
                let _ = forward.send(e);
            }
        });
        let done = async {
            fresh
                .hub_connect(HubConnectArgs {
                    url: link.url.clone(),
                    name: link.account.clone(),
                    password: password.to_owned(),
                    ca_file: link.ca_file.clone(),
                    pinned_certificate: None,
                })
                .await?;
            let synced = fresh.sync_now(SyncArgs::default()).await?;
            if let Some(why) = synced.hub.and_then(|h| h.error) {
                return Err(AppError::new(
                    ErrorCode::HallUnreachable,
                    format!(
                        "新副本未能从团队服务器取得全部工单：{why}；原数据文件未改动，请稍后重试"
                    ),
                ));
            }
            Ok(())
        }
        .await;
        relay.abort();
        done.map(|()| fresh)
    }

    /// A shopper's (or administrator's) desk after the hub was restored: signs in
    /// to the hub as it is now, takes its epoch and hands every submitted visit in
    /// again (the hub keeps those it has and takes back those it lost).
    async fn rebuild_in_place(&self, link: HubLink, password: &str) -> AppResult<HubRebuildResult> {
        let ca = link.ca_file.as_deref().map(std::path::Path::new);
        let session =
            HubClient::login(&link.url, &link.account, password, ca, &self.options).await?;
        let epoch = session.epoch.clone().unwrap_or_default();
        let relinked = HubLink {
            epoch: session.epoch.clone(),
            ..link.clone()
        };
        let actor = profile_of(&link)
            .map(|p| p.role.actor())
            .unwrap_or(hcp_core::case::Actor::Shopper);
        let name = link.account.clone();
        let (resent, halls) = self
            .with_store(move |s| {
                let n = s.forget_hub_answers(&epoch, Who { name: &name, actor })?;
                s.set_hub_link(&relinked)?;
                Ok((n, s.halls()?))
            })
            .await?;
        let vault = TokenVault::for_database(&self.db);
        vault.set(HUB_VAULT_KEY, &session.token)?;
        for h in halls {
            vault.set(&h.hall_id, &session.token)?;
        }
        // Handed in now when the hub answers; else on the next sync.
        let _ = self.hub_exchange(&link).await;
        Ok(HubRebuildResult {
            previous_file: None,
            held: vec![],
            visits_resent: resent,
            status: self.hub_status().await?,
        })
    }

    /// Registers the halls the account may see, each synced through the hub with
    /// the session token.
    async fn hub_refresh_halls(&self, link: &HubLink, token: &str) -> AppResult<()> {
        let ca = link.ca_file.as_deref().map(std::path::Path::new);
        let client = HubClient::new(&link.url, token, ca, &self.options)?;
        let vault = TokenVault::for_database(&self.db);
        let who_name = link.account.clone();
        for h in client.halls().await? {
            if hcp_core::ident::check_hall_id(&h.hall_id).is_err() {
                continue;
            }
            let ep = HallEndpoint {
                hall_id: h.hall_id.clone(),
                base_url: HubClient::hall_base_url(&link.url, &h.hall_id),
                token: Token::new(token.to_owned()),
                ca_file: link.ca_file.as_ref().map(Into::into),
            };
            // A shopper sees the list, not the ratings: the hall is known by name.
            let profile = match hcp_sync::fetch_profile(&ep, &self.options).await {
                Ok(p) if p.hall_id == h.hall_id => p,
                _ => continue,
            };
            vault.set(&h.hall_id, token)?;
            let name = who_name.clone();
            let ca_text = link.ca_file.clone();
            self.with_store(move |s| {
                s.upsert_hall(
                    &profile,
                    &ep.base_url,
                    ca_text.as_deref(),
                    Who {
                        name: &name,
                        actor: hcp_core::case::Actor::Officer,
                    },
                )?;
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// 团队服务器连接状态、账号与待发送的操作。
    pub async fn hub_status(&self) -> AppResult<HubStatus> {
        let (link, pending, rejected, visits) = self
            .with_store(|s| {
                let link = s.hub_link()?;
                let visits = s
                    .hub_visit_uploads()?
                    .into_iter()
                    .filter(|v| v.state != "accepted")
                    .collect();
                let queue = s.hub_queue(None, false)?;
                let pending = queue
                    .iter()
                    .filter(|q| q.state == "pending")
                    .cloned()
                    .collect();
                let rejected = queue
                    .into_iter()
                    .filter(|q| q.state == "rejected" && q.resolution.is_none())
                    .take(50)
                    .collect();
                Ok((link, pending, rejected, visits))
            })
            .await?;
        let Some(link) = link else {
            return Ok(HubStatus {
                link: None,
                state: "standalone".into(),
                message: None,
                warning: None,
                pending,
                rejected,
                visits,
            });
        };
        let warning = hcp_sync::transport_warning(&link.url);
        let (state, message) = match self.hub_probe(&link).await {
            Ok(()) => ("connected".to_string(), None),
            Err((state, message)) => (state, Some(message)),
        };
        Ok(HubStatus {
            link: Some(link),
            state,
            message,
            warning,
            pending,
            rejected,
            visits,
        })
    }

    /// In hub mode: sends the queued actions in order and takes the case feed;
    /// `None` on a single desk.
    pub async fn hub_exchange_now(&self) -> AppResult<Option<HubExchange>> {
        match self.hub_link().await? {
            Some(link) => {
                // Never exchange with another database than the one replicated here.
                if let Err((state, why)) = self.hub_probe(&link).await
                    && state == "epoch"
                {
                    return Ok(Some(HubExchange {
                        error: Some(why),
                        ..HubExchange::default()
                    }));
                }
                Ok(Some(self.hub_exchange(&link).await))
            }
            None => Ok(None),
        }
    }

    /// 与团队服务器交换 (the window's background round): the queued actions and
    /// hand-ins go out in order and the office's cases, visits and reports come
    /// in; the halls' ratings wait for a full sync. One sync at a time; an error
    /// when the hub is away (the queue stays).
    pub async fn hub_sync(&self) -> AppResult<Option<HubExchange>> {
        let Some(link) = self.hub_link().await? else {
            return Ok(None);
        };
        let Ok(_guard) = self.sync_lock.try_lock() else {
            return Err(AppError::new(ErrorCode::Busy, "已有同步正在进行，请稍候"));
        };
        if let Err((state, why)) = self.hub_probe(&link).await {
            if state == "epoch" {
                return Err(AppError::new(ErrorCode::Refused, why));
            }
            let code = if state == "expired" {
                ErrorCode::Unauthorized
            } else {
                ErrorCode::HallUnreachable
            };
            return Err(AppError::new(
                code,
                format!("团队服务器暂时无法连接：{why}；待发送的操作保留在本机"),
            ));
        }
        Ok(Some(self.hub_exchange(&link).await))
    }

    /// 重新办理: a refused action taken again on the case as it is now.
    pub async fn hub_redo_action(&self, a: HubActionArgs) -> AppResult<hcp_store::QueuedAction> {
        self.with_store(move |s| {
            let (p, _) = crate::cases::load_profile(s)?;
            if !p.role.may(hcp_core::Capability::DecideCases) {
                return Err(AppError::new(
                    ErrorCode::Forbidden,
                    "只有效能督查员可以办理工单",
                ));
            }
            let at = chrono::Utc::now()
                .with_timezone(&hcp_core::metrics::beijing())
                .fixed_offset();
            let who = Who {
                name: &p.name,
                actor: p.role.actor(),
            };
            Ok(s.redo_hub_action(a.id.trim(), who, at)?)
        })
        .await
    }

    /// 放弃: a refused action let go (kept, marked dropped).
    pub async fn hub_drop_action(&self, a: HubActionArgs) -> AppResult<bool> {
        self.with_store(move |s| {
            let (p, _) = crate::cases::load_profile(s)?;
            let who = Who {
                name: &p.name,
                actor: p.role.actor(),
            };
            s.drop_hub_action(a.id.trim(), who)?;
            Ok(true)
        })
        .await
    }

    /// In hub mode, whether the hub can be reached now (`Err`: why not, zh-CN).
    pub async fn hub_reachable(&self) -> AppResult<Option<Result<(), String>>> {
        match self.hub_link().await? {
            Some(link) => Ok(Some(self.hub_probe(&link).await.map_err(|(_, m)| m))),
            None => Ok(None),
        }
    }

    /// Sends the queued actions in order and takes the case feed (hub mode only).
    pub(crate) async fn hub_exchange(&self, link: &HubLink) -> HubExchange {
        let mut out = HubExchange::default();
        if let Err(e) = self.hub_exchange_into(link, &mut out).await {
            out.error = Some(e.message);
        }
        out
    }

    async fn hub_exchange_into(&self, link: &HubLink, out: &mut HubExchange) -> AppResult<()> {
        let client = self.hub_client(link)?;
        loop {
            let batch = self
                .with_store(|s| Ok(s.pending_hub_actions(hcp_core::hub::MAX_ACTIONS_PER_REQUEST)?))
                .await?;
            if batch.is_empty() {
                break;
            }
            let results = client.post_actions(&batch).await?;
            out.sent += batch.len() as u64;
            for r in &results {
                match r.status.as_str() {
                    "accepted" | "duplicate" => out.accepted += 1,
                    _ => out.rejected += 1,
                }
            }
            let answered = results.len();
            self.with_store(move |s| Ok(s.settle_hub_actions(&results)?))
                .await?;
            if answered < batch.len() {
                return Err(AppError::new(
                    ErrorCode::HallUnreachable,
                    "团队服务器的回执缺少部分操作的结果，其余操作将在下次同步时发送",
                ));
            }
        }
        // The office's 发文机关, as the hub keeps it (a hub from before it had
        // none to give: the desk keeps what it has).
        if link.reads_records()
            && let Ok(Some(office)) = client.office().await
        {
            let who = link.account.clone();
            self.with_store(move |s| crate::report::take_office_from_hub(s, office, &who))
                .await?;
        }
        if link.role == "shopper" {
            // New halls to visit, then the visits submitted since the last upload.
            self.hub_refresh_halls(link, &self.hub_token()?).await?;
            return self.upload_visits(&client, link, out).await;
        }
        if !link.reads_records() {
            return Ok(());
        }
        out.reports = self.pull_reports(&client).await?;
        if link.role == "officer" {
            out.visits_received = self.pull_visits(&client).await?;
        }
        let mut cursor = self.with_store(|s| Ok(s.hub_case_cursor()?)).await?;
        loop {
            let page = client.case_changes(cursor.as_deref(), 1000).await?;
            let cases: Vec<_> = page.changes.into_iter().map(|c| c.case).collect();
            let next = page.next.clone();
            out.cases += self
                .with_store(move |s| Ok(s.apply_hub_cases(&cases, &next)?))
                .await?;
            cursor = Some(page.next);
            if !page.more {
                return Ok(());
            }
        }
    }

    /// 签发 in hub mode: the hub gives the number (unique in the office), this desk
    /// renders the report with it and uploads it; the hub keeps it only if the
    /// number is still free (otherwise this asks again, a few times). Needs the hub:
    /// a number given out offline could clash with another desk's.
    pub(crate) async fn issue_through_hub(
        &self,
        link: &HubLink,
        a: crate::ReportIssueArgs,
    ) -> AppResult<hcp_store::IssuedReport> {
        let (p, named) = self.with_store(|s| crate::cases::load_profile(s)).await?;
        if !p.role.may(hcp_core::Capability::IssueReports) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "只有效能督查员可以签发通报",
            ));
        }
        crate::report::check_issuable(named, &a)?;
        if let Err((state, why)) = self.hub_probe(link).await {
            if state == "epoch" {
                return Err(AppError::new(ErrorCode::Refused, why));
            }
            return Err(AppError::new(
                ErrorCode::HallUnreachable,
                format!("签发通报需要连接团队服务器（期号由团队服务器统一编排）：{why}"),
            ));
        }
        let client = self.hub_client(link)?;
        let mut last = String::new();
        for _ in 0..3 {
            let n = client.next_issue(&a.month, a.hall_id.as_deref()).await?;
            let next = (n.version, n.year, n.issue_no);
            let (a2, issuer) = (a.clone(), p.name.clone());
            let (json, pdf) = self
                .with_store(move |s| crate::report::render_issue(s, &a2, next, &issuer))
                .await?;
            let up = hcp_core::hub::ReportUpload {
                month: a.month.clone(),
                hall_id: a.hall_id.clone(),
                next: n,
                model_json: json.clone(),
                document_base64: base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    &pdf,
                ),
                correction: a.correction.clone(),
            };
            match client.upload_report(&up).await? {
                Ok(_) => {
                    let (a2, issuer) = (a.clone(), p.name.clone());
                    return self
                        .with_store(move |s| {
                            crate::report::store_issue(s, &a2, next, &json, &pdf, &issuer)
                        })
                        .await;
                }
                Err(why) => last = why,
            }
        }
        Err(AppError::new(
            ErrorCode::Refused,
            format!("期号一再被其他督查员占用，请稍后重试：{last}"),
        ))
    }

    /// The office's issued reports this desk does not have yet, kept as issued.
    async fn pull_reports(&self, client: &HubClient) -> AppResult<u64> {
        let have: Vec<(String, Option<String>, i64)> = self
            .with_store(|s| {
                Ok(s.issued_reports()?
                    .into_iter()
                    .map(|r| (r.month, r.hall_id, r.version))
                    .collect())
            })
            .await?;
        let mut got = 0;
        for r in client.reports().await? {
            if have.contains(&(r.month.clone(), r.hall_id.clone(), r.version)) {
                continue;
            }
            let full = client.report(r.report_id).await?;
            let pdf = base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                full.document_base64.as_bytes(),
            )
            .map_err(|_| {
                AppError::new(
                    ErrorCode::HallUnreachable,
                    "团队服务器发来的通报文件无法解码",
                )
            })?;
            let r2 = r.clone();
            self.with_store(move |s| {
                s.store_issued_report(
                    &r2.month,
                    r2.hall_id.as_deref(),
                    (r2.version, r2.year, r2.issue_no),
                    &full.model_json,
                    Some(&pdf),
                    r2.correction.as_deref(),
                    Who {
                        name: &r2.issued_by,
                        actor: hcp_core::case::Actor::Officer,
                    },
                )?;
                Ok(())
            })
            .await?;
            got += 1;
        }
        Ok(got)
    }

    /// Uploads the visits submitted here since the last upload, oldest first, and
    /// keeps each answer. A refusal is kept with the hub's reason (not sent again
    /// until the visit is submitted anew); anything else stops the round (sent
    /// again next time).
    async fn upload_visits(
        &self,
        client: &HubClient,
        link: &HubLink,
        out: &mut HubExchange,
    ) -> AppResult<()> {
        let pending = self.with_store(|s| Ok(s.pending_hub_visits()?)).await?;
        for (visit_id, rev) in pending {
            let id = visit_id.clone();
            let bundle = self
                .with_store(move |s| Ok(s.export_visit_bytes(&id)?))
                .await?;
            let answer = client.upload_visit(bundle).await?;
            let (accepted, message) = match &answer {
                Ok(_) => (true, None),
                Err(why) => (false, Some(why.clone())),
            };
            if accepted {
                out.visits_sent += 1;
            } else {
                out.visits_refused += 1;
            }
            let name = link.account.clone();
            self.with_store(move |s| {
                if accepted {
                    s.mark_visit_exported(&visit_id, rev)?;
                }
                Ok(s.settle_hub_visit(
                    &visit_id,
                    rev,
                    accepted,
                    message.as_deref(),
                    Who {
                        name: &name,
                        actor: hcp_core::case::Actor::Shopper,
                    },
                )?)
            })
            .await?;
        }
        Ok(())
    }

    /// Takes the hub's visit feed to its end and imports each new hand-in, as the
    /// hub vouches for it (the shopper is the hub account). A bundle this desk's
    /// rules refuse (e.g. its hall is not here, or the visit was accepted already)
    /// is skipped with a warning, so one bad visit does not stop the others.
    async fn pull_visits(&self, client: &HubClient) -> AppResult<u64> {
        let (profile, _) = self.with_store(|s| crate::cases::load_profile(s)).await?;
        let officer = profile.name;
        let mut cursor = self.with_store(|s| Ok(s.hub_visit_cursor()?)).await?;
        let mut imported = 0;
        loop {
            let page = client.visit_changes(cursor.as_deref(), 200).await?;
            for v in &page.visits {
                let size = u64::try_from(v.size).unwrap_or(u64::MAX);
                if size > hcp_core::hub::MAX_VISIT_BYTES as u64 {
                    tracing::warn!(visit_id = %v.visit_id, size, "visit bundle too large, skipped");
                    continue;
                }
                let bundle = client.visit_bundle(&v.visit_id, size.max(1)).await?;
                let (shopper, officer) = (v.shopper.clone(), officer.clone());
                let r = self
                    .with_store(move |s| {
                        Ok(s.import_visit_from_hub(
                            &bundle,
                            &shopper,
                            Who {
                                name: &officer,
                                actor: hcp_core::case::Actor::Officer,
                            },
                        )?)
                    })
                    .await;
                match r {
                    Ok(o) if o.status != "unchanged" => imported += 1,
                    Ok(_) => {}
                    // This desk's rules refuse it (its hall is not here, the visit
                    // was accepted already…): skipped for good, the others go on.
                    Err(e) if matches!(e.code, ErrorCode::Refused | ErrorCode::NotFound) => {
                        tracing::warn!(visit_id = %v.visit_id, error = %e.message, "visit from the hub not imported");
                    }
                    // Anything else (the disk, the cache) stops here: the page is
                    // taken again next time, and what was imported is unchanged.
                    Err(e) => return Err(e),
                }
            }
            let next = page.next.clone();
            self.with_store(move |s| Ok(s.set_hub_visit_cursor(&next)?))
                .await?;
            cursor = Some(page.next);
            if !page.more {
                return Ok(imported);
            }
        }
    }
}

/// Removes a SQLite file with its journal files and token vault file (a replica
/// being built that was given up).
fn remove_db_files(file: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-journal", ".tokens"] {
        let mut p = file.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(p));
    }
    let vault = TokenVault::for_database(file);
    let _ = vault.remove(HUB_VAULT_KEY);
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let _ = std::fs::remove_file(file.with_file_name(format!("{name}.hub-ca.pem")));
}

/// `current` becomes `previous` and `fresh` becomes `current`; on failure the old
/// file is put back. No connection may be open on either.
fn swap_db_files(
    current: &std::path::Path,
    fresh: &std::path::Path,
    previous: &std::path::Path,
) -> AppResult<()> {
    let with = |p: &std::path::Path, suffix: &str| {
        let mut s = p.as_os_str().to_owned();
        s.push(suffix);
        std::path::PathBuf::from(s)
    };
    let failed = |e: std::io::Error| {
        AppError::new(
            ErrorCode::Internal,
            format!(
                "无法替换数据文件 {}：{e}；原数据文件未改动",
                current.display()
            ),
        )
    };
    std::fs::rename(current, previous).map_err(failed)?;
    for suffix in ["-wal", "-shm"] {
        if with(current, suffix).exists() {
            let _ = std::fs::rename(with(current, suffix), with(previous, suffix));
        }
    }
    if let Err(e) = std::fs::rename(fresh, current) {
        let _ = std::fs::rename(previous, current);
        for suffix in ["-wal", "-shm"] {
            if with(previous, suffix).exists() {
                let _ = std::fs::rename(with(previous, suffix), with(current, suffix));
            }
        }
        return Err(failed(e));
    }
    Ok(())
}
