//! A throwaway PostgreSQL cluster for the hub's tests: Debian's `postgresql`
//! package (scripts/deps.sh installs it), initdb in a temp dir, a free port on
//! 127.0.0.1, stopped and removed when dropped. As root (CI), the server programs
//! run as the `postgres` system user, since initdb refuses root.
#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

fn bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run scripts/deps.sh (Debian package postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
        .expect("no initdb under /usr/lib/postgresql/*/bin: run scripts/deps.sh")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a server program, as `postgres` when we are root.
fn run(bin: &Path, prog: &str, args: &[&str]) {
    let exe = bin.join(prog);
    let out = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&exe)
            .args(args)
            .output()
    } else {
        Command::new(&exe).args(args).output()
    }
    .unwrap_or_else(|e| panic!("{prog}: {e}"));
    assert!(
        out.status.success(),
        "{prog} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PgCluster {
    pub fn start() -> PgCluster {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown postgres");
        }
        let data = dir.path().join("data");
        run(
            &bin,
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "hcp",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
        );
        let cluster = PgCluster {
            dir,
            bin,
            port: free_port(),
        };
        cluster.resume();
        cluster
    }

    /// Stops the server (a PostgreSQL outage); [`PgCluster::resume`] brings it back
    /// on the same port with the same data.
    pub fn stop(&self) {
        let data = self.dir.path().join("data");
        run(
            &self.bin,
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }

    /// Starts the server (again).
    pub fn resume(&self) {
        let data = self.dir.path().join("data");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        run(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                self.dir.path().join("log").to_str().unwrap(),
                "-w",
                "-o",
                &opts,
                "start",
            ],
        );
    }

    /// A connection string for a fresh database `name` on this cluster.
    pub async fn database(&self, name: &str) -> String {
        let admin = self.url("postgres");
        let (c, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        // A test's own name: never user input.
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        self.url(name)
    }

    /// A client program of this PostgreSQL (`pg_dump`, `pg_restore`, …).
    #[allow(dead_code)]
    pub fn tool(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    pub fn url(&self, db: &str) -> String {
        format!("host=127.0.0.1 port={} user=hcp dbname={db}", self.port)
    }

    /// The same database over the cluster's Unix socket (never TLS).
    pub fn socket_url(&self, db: &str) -> String {
        format!(
            "host={} port={} user=hcp dbname={db}",
            self.dir.path().display(),
            self.port
        )
    }

    /// Turns TLS on with this certificate and key and accepts TCP connections
    /// only over TLS from then on (`hostssl`); the Unix socket stays open for the
    /// test's own checks.
    pub async fn require_tls(&self, cert_pem: &str, key_pem: &str) {
        let data = self.dir.path().join("data");
        for (name, text) in [("server.crt", cert_pem), ("server.key", key_pem)] {
            let path = data.join(name);
            std::fs::write(&path, text).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            if is_root() {
                let ok = Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(&path)
                    .status()
                    .unwrap()
                    .success();
                assert!(ok, "chown postgres");
            }
        }
        let hba = data.join("pg_hba.conf");
        std::fs::write(
            &hba,
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        let c = client(&self.socket_url("postgres")).await;
        c.batch_execute("ALTER SYSTEM SET ssl = on").await.unwrap();
        c.batch_execute("SELECT pg_reload_conf()").await.unwrap();
        // The reload is asynchronous: wait until the server says TLS is on.
        for _ in 0..100 {
            let on: String = c.query_one("SHOW ssl", &[]).await.unwrap().get(0);
            if on == "on" {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("TLS did not come on");
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let exe = self.bin.join("pg_ctl");
        let args = ["-D", data.to_str().unwrap(), "-m", "immediate", "stop"];
        let _ = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&exe)
                .args(args)
                .output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}

/// A client of the database at `url` (its connection runs on the test's runtime).
pub async fn client(url: &str) -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    c
}

/// Registers a hall row on a hub database directly (no hall server): for tests of
/// accounts and reports that only need the hall to exist.
#[allow(dead_code)]
pub async fn hub_hall_row(url: &str, hall_id: &str) {
    client(url)
        .await
        .execute(
            "INSERT INTO hub_halls (hall_id, name, base_url, token, profile_json, added_by)
             VALUES ($1, $1, 'http://127.0.0.1:9/', 'test-token', '{}', 'test')
             ON CONFLICT (hall_id) DO NOTHING",
            &[&hall_id],
        )
        .await
        .unwrap();
}
