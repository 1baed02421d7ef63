//! Accounts and sessions. Passwords are kept as argon2id hashes; a login returns
//! a random token of which only the SHA-256 is stored; sessions expire and can be
//! revoked; failed logins in a row lock the name for a while and are audited.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use hcp_core::Role;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{Entry, append};
use crate::{Hub, HubError, Result};

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;
/// A session unused this long ends (a desk that is open syncs more often).
pub const SESSION_IDLE_MINUTES: i64 = 120;
/// After this many failed logins in a row a name is locked for
/// [`LOCK_MINUTES`].
pub const LOGIN_LOCK_AFTER: i32 = 5;
/// How long the lock lasts.
pub(crate) const LOCK_MINUTES: i64 = 15;
/// Passwords shorter than this are refused.
const MIN_PASSWORD: usize = 8;
/// Or longer than this (argon2 of a megabyte is a denial of service).
const MAX_PASSWORD: usize = 256;

/// What an account may do on the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    /// A person's role on cases, visits and reports.
    Person(Role),
    /// 管理员: accounts, halls and policies; no case work.
    Admin,
}

impl AccountRole {
    /// The storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountRole::Person(r) => r.as_str(),
            AccountRole::Admin => "admin",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            AccountRole::Person(r) => r.label_zh(),
            AccountRole::Admin => "管理员",
        }
    }

    /// Reads a stored or typed role name.
    pub fn parse(s: &str) -> Result<AccountRole> {
        if s == "admin" {
            return Ok(AccountRole::Admin);
        }
        s.parse::<Role>().map(AccountRole::Person).map_err(|_| {
            HubError::Invalid(format!(
                "身份 “{s}” 无效：应为 officer（效能督查员）、director（大厅负责人）、shopper（暗访员）或 admin（管理员）"
            ))
        })
    }
}

/// An account as others see it (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// 登录名 (also the name in the audit log and in decisions).
    pub name: String,
    /// Its role.
    pub role: &'static str,
    /// A director's hall.
    pub hall_id: Option<String>,
    /// Whether it may sign in.
    pub disabled: bool,
}

/// A signed-in session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// The bearer token: shown once, to the client that logged in.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Who.
    pub account: Account,
    /// Which database answered ([`Hub::epoch`]): a desk keeps it and checks it.
    pub epoch: String,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).expect("the operating system's random generator");
    hex::encode(b)
}

fn check_name(name: &str) -> Result<()> {
    let n = name.chars().count();
    if n == 0 || n > 32 || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(HubError::Invalid(
            "登录名须为 1–32 个字符，不含空格或控制字符".into(),
        ));
    }
    Ok(())
}

fn hash_password(password: &str) -> Result<String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD || password.len() > MAX_PASSWORD {
        return Err(HubError::Invalid(format!(
            "密码须为 {MIN_PASSWORD}–{MAX_PASSWORD} 个字符"
        )));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random generator");
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| HubError::Invalid(format!("无法生成密码盐：{e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HubError::Invalid(format!("无法计算密码摘要：{e}")))
}

/// A hash no password matches in practice, checked for unknown names.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut pw = [0u8; 24];
        getrandom::fill(&mut pw).expect("the operating system's random generator");
        hash_password(&hex::encode(pw)).unwrap_or_default()
    })
}

fn password_matches(password: &str, stored: &str) -> bool {
    password.len() <= MAX_PASSWORD
        && PasswordHash::new(stored).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
}

fn account_of(row: &tokio_postgres::Row) -> Result<Account> {
    let role: String = row.get("role");
    Ok(Account {
        name: row.get("name"),
        role: AccountRole::parse(&role)?.as_str(),
        hall_id: row.get("hall_id"),
        disabled: row.get("disabled"),
    })
}

/// Ends every live session of `name` and audits `action` by `by`, inside `tx`:
/// what disabling an account and resetting its password both do.
pub(crate) async fn end_sessions(
    tx: &tokio_postgres::Transaction<'_>,
    name: &str,
    action: &str,
    by: Operator<'_>,
) -> Result<()> {
    tx.execute(
        "UPDATE hub_sessions SET revoked_at = now() WHERE account = $1 AND revoked_at IS NULL",
        &[&name],
    )
    .await?;
    append(
        tx,
        &Entry {
            actor: by.name,
            role: by.role,
            subject: &format!("account:{name}"),
            action,
            detail: "{}",
        },
    )
    .await?;
    Ok(())
}

/// Who performs an administrative change (the CLI on the hub's machine acts as
/// the operating-system user).
#[derive(Debug, Clone, Copy)]
pub struct Operator<'a> {
    /// Their name in the audit log.
    pub name: &'a str,
    /// Their role in the audit log.
    pub role: &'a str,
}

impl Hub {
    /// Adds an account (audited).
    pub async fn add_user(
        &self,
        name: &str,
        role: AccountRole,
        hall_id: Option<&str>,
        password: &str,
        by: Operator<'_>,
    ) -> Result<Account> {
        check_name(name)?;
        let hall_id = match (role, hall_id.map(str::trim).filter(|h| !h.is_empty())) {
            (AccountRole::Person(Role::Director), None) => {
                return Err(HubError::Invalid(
                    "大厅负责人账号须指定所在大厅（--hall）".into(),
                ));
            }
            (AccountRole::Person(Role::Director), Some(h)) => {
                hcp_core::ident::check_hall_id(h).map_err(|e| HubError::Invalid(e.to_string()))?;
                Some(h.to_owned())
            }
            _ => None,
        };
        let hash = hash_password(password)?;
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        if let Some(h) = &hall_id {
            let known: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM hub_halls WHERE hall_id = $1 AND removed_at IS NULL)",
                    &[h],
                )
                .await?
                .get(0);
            if !known {
                return Err(HubError::Invalid(format!(
                    "团队服务器上没有编码为 “{h}” 的大厅（或该大厅已移除）：请先用 hcp hub hall add 登记该大厅（hcp hub hall list 可查看已登记的大厅），再创建其大厅负责人账号"
                )));
            }
        }
        let inserted = tx
            .execute(
                "INSERT INTO hub_accounts (name, role, hall_id, password_hash)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
                &[&name, &role.as_str(), &hall_id, &hash],
            )
            .await?;
        if inserted == 0 {
            return Err(HubError::Invalid(format!("账号 “{name}” 已存在")));
        }
        let detail = serde_json::json!({ "role": role.as_str(), "hall_id": hall_id }).to_string();
        append(
            &tx,
            &Entry {
                actor: by.name,
                role: by.role,
                subject: &format!("account:{name}"),
                action: "account_added",
                detail: &detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Account {
            name: name.to_owned(),
            role: role.as_str(),
            hall_id,
            disabled: false,
        })
    }

    /// Every account, by name.
    pub async fn users(&self) -> Result<Vec<Account>> {
        let c = self.conn().await?;
        c.query(
            "SELECT name, role, hall_id, disabled FROM hub_accounts ORDER BY name",
            &[],
        )
        .await?
        .iter()
        .map(account_of)
        .collect()
    }

    /// Disables an account and revokes its sessions (audited).
    pub async fn disable_user(&self, name: &str, by: Operator<'_>) -> Result<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let n = tx
            .execute(
                "UPDATE hub_accounts SET disabled = TRUE WHERE name = $1",
                &[&name],
            )
            .await?;
        if n == 0 {
            return Err(HubError::UnknownAccount(name.to_owned()));
        }
        end_sessions(&tx, name, "account_disabled", by).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enables a disabled account and lifts a lockout of its name (too many wrong
    /// passwords), audited. An account that acted is never deleted (its name signs
    /// the audit log and the decisions sent to halls); see [`Hub::remove_user`].
    pub async fn enable_user(&self, name: &str, by: Operator<'_>) -> Result<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let n = tx
            .execute(
                "UPDATE hub_accounts SET disabled = FALSE WHERE name = $1",
                &[&name],
            )
            .await?;
        if n == 0 {
            return Err(HubError::UnknownAccount(name.to_owned()));
        }
        tx.execute(
            "DELETE FROM hub_login_failures WHERE account = $1",
            &[&name],
        )
        .await?;
        append(
            &tx,
            &Entry {
                actor: by.name,
                role: by.role,
                subject: &format!("account:{name}"),
                action: "account_enabled",
                detail: "{}",
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes an account that never did anything (created by mistake: a typo in
    /// the name, the wrong role), audited. An account whose name is in the audit
    /// log as an actor, on a step sent by a desk or on a visit stays: disable it.
    pub async fn remove_user(&self, name: &str, by: Operator<'_>) -> Result<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT role, hall_id FROM hub_accounts WHERE name = $1 FOR UPDATE",
                &[&name],
            )
            .await?
        else {
            return Err(HubError::UnknownAccount(name.to_owned()));
        };
        let acted: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM hub_audit WHERE actor = $1 AND action <> 'login_failed')
                     OR EXISTS (SELECT 1 FROM hub_actions WHERE account = $1)
                     OR EXISTS (SELECT 1 FROM hub_visits WHERE account = $1)",
                &[&name],
            )
            .await?
            .get(0);
        if acted {
            return Err(HubError::Invalid(format!(
                "账号 “{name}” 已有办理记录（其姓名签在审计日志、决定或暗访记录中），不能删除：请用 hcp hub user disable 停用"
            )));
        }
        for sql in [
            "DELETE FROM hub_sessions WHERE account = $1",
            "DELETE FROM hub_signer_keys WHERE account = $1",
            "DELETE FROM hub_login_failures WHERE account = $1",
            "DELETE FROM hub_accounts WHERE name = $1",
        ] {
            tx.execute(sql, &[&name]).await?;
        }
        let role: String = row.get(0);
        let hall_id: Option<String> = row.get(1);
        append(
            &tx,
            &Entry {
                actor: by.name,
                role: by.role,
                subject: &format!("account:{name}"),
                action: "account_removed",
                detail: &serde_json::json!({ "role": role, "hall_id": hall_id }).to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password, re-enables nothing, revokes the sessions (audited).
    pub async fn reset_password(&self, name: &str, password: &str, by: Operator<'_>) -> Result<()> {
        let hash = hash_password(password)?;
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let n = tx
            .execute(
                "UPDATE hub_accounts SET password_hash = $2 WHERE name = $1",
                &[&name, &hash],
            )
            .await?;
        if n == 0 {
            return Err(HubError::UnknownAccount(name.to_owned()));
        }
        tx.execute(
            "DELETE FROM hub_login_failures WHERE account = $1",
            &[&name],
        )
        .await?;
        end_sessions(&tx, name, "password_reset", by).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Signs in: a new session, or [`HubError::BadLogin`] (the same answer for an
    /// unknown name, a wrong password and a disabled account). After
    /// [`LOGIN_LOCK_AFTER`] failures in a row the name is locked for a while;
    /// every failure is audited (never the password).
    pub async fn login(&self, name: &str, password: &str) -> Result<Session> {
        self.login_from(name, password, None).await
    }

    /// [`Hub::login`] from the client at `client`: an address with too many failed
    /// logins lately is refused before anything is read, hashed or written.
    pub async fn login_from(
        &self,
        name: &str,
        password: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<Session> {
        if let Some(left) = client.and_then(|ip| self.work.client_locked(ip)) {
            return Err(HubError::TooManyAttempts(left));
        }
        // A name no account can have, or a password no account can have: refused
        // before anything is hashed or written (a 2.5 KB name grows no log).
        let outcome = if check_name(name).is_err() || password.len() > MAX_PASSWORD {
            Err(HubError::BadLogin)
        } else {
            self.try_login(name, password).await
        };
        if matches!(outcome, Err(HubError::BadLogin)) {
            if let Some(ip) = client {
                self.work.client_failed(ip);
            }
            // A failed guess costs the guesser time, not the hub's CPU nor a
            // database connection (it was handed back already).
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        outcome
    }

    async fn try_login(&self, name: &str, password: &str) -> Result<Session> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        // The name's row first, then its lock: logins for one name take turns, so
        // parallel guesses each see the count the previous one left.
        tx.execute(
            "INSERT INTO hub_login_failures (account, failures, last_at) VALUES ($1, 0, now())
             ON CONFLICT (account) DO NOTHING",
            &[&name],
        )
        .await?;
        let r = tx
            .query_one(
                "SELECT failures, last_at FROM hub_login_failures WHERE account = $1 FOR UPDATE",
                &[&name],
            )
            .await?;
        let (failures, last): (i32, DateTime<Utc>) = (r.get(0), r.get(1));
        let now = Utc::now();
        let window = Duration::minutes(LOCK_MINUTES);
        if failures >= LOGIN_LOCK_AFTER && now - last < window {
            let left = (window - (now - last)).num_minutes() + 1;
            return Err(HubError::TooManyAttempts(left));
        }
        let row = tx
            .query_opt(
                "SELECT name, role, hall_id, disabled, password_hash FROM hub_accounts WHERE name = $1",
                &[&name],
            )
            .await?;
        // An unknown name costs the same hash as a known one: no timing tells them apart.
        let stored = row
            .as_ref()
            .map(|r| r.get::<_, String>("password_hash"))
            .unwrap_or_else(|| dummy_hash().to_owned());
        let matches = self.password_matches(password, stored).await;
        let ok = matches && row.as_ref().is_some_and(|r| !r.get::<_, bool>("disabled"));
        let Some(row) = row.filter(|_| ok) else {
            // A failure after the window has passed starts a new count.
            tx.execute(
                "UPDATE hub_login_failures SET last_at = now(),
                    failures = CASE WHEN now() - last_at >= make_interval(mins => $2)
                                    THEN 1 ELSE failures + 1 END
                 WHERE account = $1",
                &[&name, &(LOCK_MINUTES as i32)],
            )
            .await?;
            append(
                &tx,
                &Entry {
                    actor: name,
                    role: "unknown",
                    subject: &format!("account:{name}"),
                    action: "login_failed",
                    detail: "{}",
                },
            )
            .await?;
            tx.commit().await?;
            return Err(HubError::BadLogin);
        };
        let account = account_of(&row)?;
        let token = random_hex(32);
        let expires_at = now + Duration::hours(SESSION_HOURS);
        tx.execute(
            "INSERT INTO hub_sessions (token_hash, account, expires_at) VALUES ($1, $2, $3)",
            &[&token_hash(&token), &account.name, &expires_at],
        )
        .await?;
        // The failures are not forgiven by a success in between: a guesser who
        // also knows one right password gets no fresh five.
        append(
            &tx,
            &Entry {
                actor: &account.name,
                role: account.role,
                subject: &format!("account:{}", account.name),
                action: "login",
                detail: "{}",
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Session {
            token,
            expires_at,
            account,
            epoch: self.epoch().to_owned(),
        })
    }

    /// Checks a password on a blocking thread, [`crate::limits::ARGON2_AT_ONCE`]
    /// at a time.
    async fn password_matches(&self, password: &str, stored: String) -> bool {
        let Ok(_permit) = self.work.argon2.acquire().await else {
            return false;
        };
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || password_matches(&password, &stored))
            .await
            .unwrap_or(false)
    }

    /// The account of a live session, or [`HubError::NoSession`].
    pub async fn session(&self, token: &str) -> Result<Account> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HubError::NoSession);
        }
        let c = self.conn().await?;
        let hash = token_hash(token);
        let row = c
            .query_opt(
                "SELECT a.name, a.role, a.hall_id, a.disabled,
                        s.last_seen_at < now() - interval '1 minute' AS stale
                 FROM hub_sessions s
                 JOIN hub_accounts a ON a.name = s.account
                 WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
                   AND s.last_seen_at > now() - make_interval(mins => $2)
                   AND NOT a.disabled",
                &[&hash, &(SESSION_IDLE_MINUTES as i32)],
            )
            .await?;
        let Some(r) = row else {
            return Err(HubError::NoSession);
        };
        // At most one write a minute per session.
        if r.get::<_, bool>("stale") {
            c.execute(
                "UPDATE hub_sessions SET last_seen_at = now() WHERE token_hash = $1",
                &[&hash],
            )
            .await?;
        }
        account_of(&r)
    }

    /// Ends a session (audited). Ending one that is gone is not an error.
    pub async fn logout(&self, token: &str) -> Result<()> {
        let account = match self.session(token).await {
            Ok(a) => a,
            Err(HubError::NoSession) => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        tx.execute(
            "UPDATE hub_sessions SET revoked_at = now() WHERE token_hash = $1",
            &[&token_hash(token)],
        )
        .await?;
        append(
            &tx,
            &Entry {
                actor: &account.name,
                role: account.role,
                subject: &format!("account:{}", account.name),
                action: "logout",
                detail: "{}",
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
