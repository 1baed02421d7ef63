//! Hall tokens, kept out of the cache database.
//!
//! Where the OS has a credential store (Windows Credential Manager, the macOS
//! keychain, the Secret Service of a Linux desktop) a token lives there. Where it
//! has none — a headless Linux box, a locked-down image — the token goes to a JSON
//! file next to the database, created readable by its owner only (0600 on Unix; on
//! Windows the per-user profile directory already restricts it), written to a
//! temporary file and renamed so a crash never leaves half a file.
//!
//! `HCP_TOKEN_STORE=file` keeps tokens in the file even where a keyring exists
//! (`keyring` insists on the keyring, `auto` — the default — prefers it).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Result, StoreError};

/// The keyring "service" our entries are filed under.
const KEYRING_SERVICE: &str = "hcp-supervisor";

/// Why a credential store could not be used. Never carries the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretStoreUnavailable(pub String);

/// A place that keeps secrets by account name: the OS keyring, or a stand-in in
/// tests.
pub trait SecretStore: Send + Sync {
    /// A name for people (zh-CN), e.g. “系统凭据管理器”.
    fn describe(&self) -> &'static str;
    /// The secret of `account`, `None` when there is none.
    fn get(&self, account: &str) -> std::result::Result<Option<String>, SecretStoreUnavailable>;
    /// Stores (or replaces) the secret of `account`.
    fn set(&self, account: &str, secret: &str) -> std::result::Result<(), SecretStoreUnavailable>;
    /// Forgets `account`; forgetting what is not there is fine.
    fn delete(&self, account: &str) -> std::result::Result<(), SecretStoreUnavailable>;
}

/// The operating system's credential store, through the `keyring` crate.
pub struct OsKeyring;

impl OsKeyring {
    fn entry(account: &str) -> std::result::Result<keyring::Entry, SecretStoreUnavailable> {
        keyring::Entry::new(KEYRING_SERVICE, account).map_err(unavailable)
    }
}

fn unavailable(e: keyring::Error) -> SecretStoreUnavailable {
    // keyring's messages describe the platform failure, never the password.
    SecretStoreUnavailable(e.to_string())
}

impl SecretStore for OsKeyring {
    fn describe(&self) -> &'static str {
        if cfg!(windows) {
            "Windows 凭据管理器"
        } else if cfg!(target_os = "macos") {
            "macOS 钥匙串"
        } else {
            "系统密钥环（Secret Service）"
        }
    }

    fn get(&self, account: &str) -> std::result::Result<Option<String>, SecretStoreUnavailable> {
        match Self::entry(account)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn set(&self, account: &str, secret: &str) -> std::result::Result<(), SecretStoreUnavailable> {
        Self::entry(account)?
            .set_password(secret)
            .map_err(unavailable)
    }

    fn delete(&self, account: &str) -> std::result::Result<(), SecretStoreUnavailable> {
        match Self::entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// Where a token ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLocation {
    /// In the OS credential store named.
    Keyring(&'static str),
    /// In the owner-only file at this path.
    File(PathBuf),
}

impl std::fmt::Display for TokenLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenLocation::Keyring(name) => write!(f, "{name}"),
            TokenLocation::File(p) => write!(f, "仅当前用户可读的文件 {}", p.display()),
        }
    }
}

/// Which store `HCP_TOKEN_STORE` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Preference {
    Auto,
    FileOnly,
    KeyringOnly,
}

/// Per-hall bearer tokens of one cache database.
pub struct TokenVault {
    path: PathBuf,
    /// Distinguishes this database's entries in the shared OS keyring.
    scope: String,
    keyring: Option<Box<dyn SecretStore>>,
    keyring_required: bool,
}

impl TokenVault {
    /// The vault belonging to the cache at `db_path`: the OS keyring where there is
    /// one (unless `HCP_TOKEN_STORE=file`), otherwise `<db>.tokens`.
    pub fn for_database(db_path: &Path) -> Self {
        let pref = match std::env::var("HCP_TOKEN_STORE").as_deref() {
            Ok("file") => Preference::FileOnly,
            Ok("keyring") => Preference::KeyringOnly,
            _ => Preference::Auto,
        };
        let keyring: Option<Box<dyn SecretStore>> = match pref {
            Preference::FileOnly => None,
            _ => Some(Box::new(OsKeyring)),
        };
        let mut v = Self::with_secret_store(db_path, keyring);
        v.keyring_required = pref == Preference::KeyringOnly;
        v
    }

    /// The vault of `db_path` with a given credential store (`None`: file only).
    pub fn with_secret_store(db_path: &Path, keyring: Option<Box<dyn SecretStore>>) -> Self {
        let mut p = db_path.as_os_str().to_owned();
        p.push(".tokens");
        // The database's absolute path keeps the entries of two databases (the demo
        // and the real one, or two test runs) apart in the one OS keyring.
        let abs = std::path::absolute(db_path).unwrap_or_else(|_| db_path.to_path_buf());
        Self {
            path: PathBuf::from(p),
            scope: abs.display().to_string(),
            keyring,
            keyring_required: false,
        }
    }

    /// The fallback file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn account(&self, hall_id: &str) -> String {
        format!("{hall_id}@{}", self.scope)
    }

    fn load(&self) -> Result<BTreeMap<String, String>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|_| {
                StoreError::Corrupt(format!("令牌文件 {} 无法解析", self.path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(source) => Err(self.io(source)),
        }
    }

    fn io(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn save(&self, map: &BTreeMap<String, String>) -> Result<()> {
        let tmp = self.path.with_extension("tokens.tmp");
        let bytes =
            serde_json::to_vec_pretty(map).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| self.io(e))?;
        f.write_all(&bytes).map_err(|e| self.io(e))?;
        f.sync_all().map_err(|e| self.io(e))?;
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(|e| self.io(e))
    }

    fn keyring_failed(&self, e: SecretStoreUnavailable) -> Result<()> {
        if self.keyring_required {
            return Err(StoreError::Keyring(e.0));
        }
        tracing::debug!(reason = %e.0, "OS credential store unavailable, using the token file");
        Ok(())
    }

    /// The token of a hall: the keyring first, then the file.
    pub fn get(&self, hall_id: &str) -> Result<Option<String>> {
        if let Some(k) = &self.keyring {
            match k.get(&self.account(hall_id)) {
                Ok(Some(t)) => return Ok(Some(t)),
                Ok(None) => {}
                Err(e) => self.keyring_failed(e)?,
            }
        }
        Ok(self.load()?.remove(hall_id))
    }

    /// Stores (or replaces) the token of a hall and says where it went. A token
    /// that made it into the keyring is taken out of the file, so no plain copy is
    /// left behind.
    pub fn set(&self, hall_id: &str, token: &str) -> Result<TokenLocation> {
        if let Some(k) = &self.keyring {
            let account = self.account(hall_id);
            // Read back: some stores accept a write they cannot return later.
            let stored = k
                .set(&account, token)
                .and_then(|()| k.get(&account))
                .and_then(|back| match back {
                    Some(b) if b == token => Ok(()),
                    _ => Err(SecretStoreUnavailable("写入后无法读回".into())),
                });
            match stored {
                Ok(()) => {
                    self.remove_from_file(hall_id)?;
                    return Ok(TokenLocation::Keyring(k.describe()));
                }
                Err(e) => self.keyring_failed(e)?,
            }
        }
        let mut map = self.load()?;
        map.insert(hall_id.to_owned(), token.to_owned());
        self.save(&map)?;
        Ok(TokenLocation::File(self.path.clone()))
    }

    fn remove_from_file(&self, hall_id: &str) -> Result<()> {
        let mut map = self.load()?;
        if map.remove(hall_id).is_some() {
            self.save(&map)?;
        }
        Ok(())
    }

    /// Forgets the token of a hall, wherever it is.
    pub fn remove(&self, hall_id: &str) -> Result<()> {
        if let Some(k) = &self.keyring
            && let Err(e) = k.delete(&self.account(hall_id))
        {
            self.keyring_failed(e)?;
        }
        self.remove_from_file(hall_id)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A credential store in memory (the OS keyring's stand-in): `broken: true`
    /// answers like a Linux box without a Secret Service.
    #[derive(Clone, Default)]
    struct MemoryKeyring {
        entries: Arc<Mutex<HashMap<String, String>>>,
        broken: bool,
    }

    impl SecretStore for MemoryKeyring {
        fn describe(&self) -> &'static str {
            "测试密钥环"
        }
        fn get(&self, a: &str) -> std::result::Result<Option<String>, SecretStoreUnavailable> {
            if self.broken {
                return Err(SecretStoreUnavailable("no secret service".into()));
            }
            Ok(self.entries.lock().unwrap().get(a).cloned())
        }
        fn set(&self, a: &str, s: &str) -> std::result::Result<(), SecretStoreUnavailable> {
            if self.broken {
                return Err(SecretStoreUnavailable("no secret service".into()));
            }
            self.entries.lock().unwrap().insert(a.into(), s.into());
            Ok(())
        }
        fn delete(&self, a: &str) -> std::result::Result<(), SecretStoreUnavailable> {
            if self.broken {
                return Err(SecretStoreUnavailable("no secret service".into()));
            }
            self.entries.lock().unwrap().remove(a);
            Ok(())
        }
    }

    fn file_text(v: &TokenVault) -> String {
        std::fs::read_to_string(v.path()).unwrap_or_default()
    }

    #[test]
    fn tokens_round_trip_in_a_private_file_without_a_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let vault = TokenVault::with_secret_store(&dir.path().join("hcp.db"), None);
        assert_eq!(vault.get("H1").unwrap(), None);
        assert_eq!(
            vault.set("H1", "secret-1").unwrap(),
            TokenLocation::File(vault.path().to_path_buf())
        );
        vault.set("H2", "secret-2").unwrap();
        vault.remove("H2").unwrap();
        assert_eq!(vault.get("H1").unwrap().as_deref(), Some("secret-1"));
        assert_eq!(vault.get("H2").unwrap(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(vault.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_working_keyring_holds_the_token_and_the_file_keeps_no_copy() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hcp.db");
        let ring = MemoryKeyring::default();
        // A token filed before the keyring was there…
        TokenVault::with_secret_store(&db, None)
            .set("H1", "old-secret")
            .unwrap();
        let vault = TokenVault::with_secret_store(&db, Some(Box::new(ring.clone())));
        // …is replaced by the keyring copy on the next set, and leaves the file.
        assert_eq!(
            vault.set("H1", "new-secret").unwrap(),
            TokenLocation::Keyring("测试密钥环")
        );
        assert_eq!(vault.get("H1").unwrap().as_deref(), Some("new-secret"));
        assert!(
            !file_text(&vault).contains("secret"),
            "{}",
            file_text(&vault)
        );
        // Entries are per database: another cache file does not see this token.
        let other = TokenVault::with_secret_store(
            &dir.path().join("demo.db"),
            Some(Box::new(ring.clone())),
        );
        assert_eq!(other.get("H1").unwrap(), None);
        vault.remove("H1").unwrap();
        assert_eq!(vault.get("H1").unwrap(), None);
        assert!(ring.entries.lock().unwrap().is_empty());
    }

    #[test]
    fn an_unavailable_keyring_falls_back_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let ring = MemoryKeyring {
            broken: true,
            ..MemoryKeyring::default()
        };
        let vault = TokenVault::with_secret_store(&dir.path().join("hcp.db"), Some(Box::new(ring)));
        assert!(matches!(
            vault.set("H1", "secret-1").unwrap(),
            TokenLocation::File(_)
        ));
        assert_eq!(vault.get("H1").unwrap().as_deref(), Some("secret-1"));
        vault.remove("H1").unwrap();
        assert_eq!(vault.get("H1").unwrap(), None);
    }

    #[test]
    fn a_required_keyring_that_is_missing_is_an_error_not_a_silent_file() {
        let dir = tempfile::tempdir().unwrap();
        let ring = MemoryKeyring {
            broken: true,
            ..MemoryKeyring::default()
        };
        let mut vault =
            TokenVault::with_secret_store(&dir.path().join("hcp.db"), Some(Box::new(ring)));
        vault.keyring_required = true;
        let err = vault.set("H1", "secret-1").unwrap_err().to_string();
        assert!(err.contains("系统凭据存储不可用"), "{err}");
        assert!(!err.contains("secret-1"));
        assert!(!vault.path().exists());
    }
}
