//! Hall tokens, kept out of the cache database.
//!
//! A JSON file next to the database, created readable by its owner only (0600 on
//! Unix; on Windows the per-user profile directory already restricts it). Written
//! to a temporary file and renamed, so a crash never leaves half a file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Result, StoreError};

/// Per-hall bearer tokens.
pub struct TokenVault {
    path: PathBuf,
}

impl TokenVault {
    /// The vault belonging to the cache at `db_path` (`<db>.tokens`).
    pub fn for_database(db_path: &Path) -> Self {
        let mut p = db_path.as_os_str().to_owned();
        p.push(".tokens");
        Self {
            path: PathBuf::from(p),
        }
    }

    /// Where the vault lives.
    pub fn path(&self) -> &Path {
        &self.path
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

    /// The token of a hall.
    pub fn get(&self, hall_id: &str) -> Result<Option<String>> {
        Ok(self.load()?.remove(hall_id))
    }

    /// Stores (or replaces) the token of a hall.
    pub fn set(&self, hall_id: &str, token: &str) -> Result<()> {
        let mut map = self.load()?;
        map.insert(hall_id.to_owned(), token.to_owned());
        self.save(&map)
    }

    /// Forgets the token of a hall.
    pub fn remove(&self, hall_id: &str) -> Result<()> {
        let mut map = self.load()?;
        if map.remove(hall_id).is_some() {
            self.save(&map)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_in_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let vault = TokenVault::for_database(&dir.path().join("hcp.db"));
        assert_eq!(vault.get("H1").unwrap(), None);
        vault.set("H1", "secret-1").unwrap();
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
}
