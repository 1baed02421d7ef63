// Real parts for the browser suite: the reference hall server (hcp-hall), the
// browser bridge (hcp serve-ui) on a fresh SQLite file, and Debian's Chromium
// driven by playwright-core. Everything listens on 127.0.0.1 and is stopped after.
import { spawn, execFileSync } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, mkdirSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoDir = path.resolve(here, "..");
export const uiDir = path.join(repoDir, "ui");
// playwright-core is the UI's dev dependency: one npm install (in ui/) serves both.
const { chromium } = createRequire(path.join(uiDir, "package.json"))("playwright-core");
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(repoDir, "target");
export const binDir = process.env.HCP_BIN_DIR ?? path.join(targetDir, "debug");
export const artifacts = path.join(repoDir, "artifacts", "e2e");
mkdirSync(artifacts, { recursive: true });

const children = [];
// Every process's stderr goes to a file of its own under artifacts/e2e/logs, so a
// failed run can be read afterwards (HCP_LOG sets the level, e.g. hcp_sync=debug).
const logs = path.join(artifacts, "logs");
mkdirSync(logs, { recursive: true });
let spawned = 0;

/** Starts a process and resolves with the first stdout match of `pattern`. */
function startAndWait(cmd, args, pattern, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    const log = createWriteStream(path.join(logs, `${String(++spawned).padStart(3, "0")}-${path.basename(cmd)}-${child.pid}.log`));
    log.write(`${new Date().toISOString()} ${path.basename(cmd)} ${args.join(" ")}\n`);
    child.stderr.pipe(log);
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`${path.basename(cmd)} did not start in time:\n${out}\n${err}`)), 60_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, output: () => out });
      }
    });
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(cmd)} exited with ${code}:\n${out}\n${err}`));
    });
  });
}

/** The reference hall with generated October 2026 data; returns its halls and tokens. */
export async function startHall({ plant = false } = {}) {
  const dir = tempDir("hcp-e2e-hall-");
  const tokensFile = path.join(dir, "tokens.json");
  const gen = ["--seed", "5", "--halls", "2", "--evaluations", "4000", "--month", "2026-10"];
  let source = gen;
  if (plant) {
    // The same halls with anomalies planted at known units (answer-key.json beside).
    const data = path.join(dir, "data");
    execFileSync(path.join(binDir, "hcp-hall"), ["generate", ...gen, "--plant-anomalies", "--out", data]);
    source = ["--data", data];
  }
  const { output } = await startAndWait(
    path.join(binDir, "hcp-hall"),
    ["serve", ...source, "--addr", "127.0.0.1:0", "--tokens-out", tokensFile],
    /hall \S+ http\S+\n[\s\S]*hall \S+ http\S+\n/,
  );
  const halls = [...output().matchAll(/hall (\S+) (http\S+)/g)].map((m) => ({ id: m[1], url: m[2] }));
  const base = /listening (http:\/\/\S+)/.exec(output())[1];
  const tokens = JSON.parse(readFileSync(tokensFile, "utf8"));
  const answerKey = plant ? JSON.parse(readFileSync(path.join(dir, "data", "answer-key.json"), "utf8")) : null;
  return { base, halls, tokens, admin: tokens.admin, answerKey };
}

/** `hcp serve-ui` on a fresh database; returns the URL with its token. */
export async function startUi(extraArgs = []) {
  const dir = tempDir("hcp-e2e-ui-");
  const { match } = await startAndWait(
    path.join(binDir, "hcp"),
    ["--db", path.join(dir, "hcp.db"), "serve-ui", "--dist", path.join(uiDir, "dist"), "--addr", "127.0.0.1:0", ...extraArgs],
    /HCP_UI_URL=(\S+)/,
    { HCP_TOKEN_STORE: "file" },
  );
  return match[1];
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.HCP_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"],
  });
}

/** Appends records to a hall through the reference server's admin endpoint. */
export async function appendToHall(hall, adminToken, base, changes) {
  const res = await fetch(`${base}/admin/h/${hall}/changes`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(changes),
  });
  if (!res.ok) throw new Error(`admin append failed: ${res.status} ${await res.text()}`);
}

const clusters = [];

/** A copy of the database of `pgUrl` under `name` (as a restored backup is: the
 * same data, another database), on the same cluster; returns its connection
 * string. Nothing may be connected to the source. */
export async function copyDatabase(pgUrl, name) {
  const root = "/usr/lib/postgresql";
  const version = readdirSync(root).filter((v) => existsSync(path.join(root, v, "bin", "psql"))).sort((a, b) => Number(a) - Number(b)).pop();
  const psql = path.join(root, version, "bin", "psql");
  const source = /dbname=(\S+)/.exec(pgUrl)[1];
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      execFileSync(psql, [pgUrl, "-v", "ON_ERROR_STOP=1", "-c", `CREATE DATABASE "${name}" TEMPLATE "${source}"`], { stdio: "pipe" });
      break;
    } catch (e) {
      // A killed hub's sessions take a moment to leave the source database.
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return pgUrl.replace(/dbname=\S+/, `dbname=${name}`);
}

/** The suite's temporary folders (databases, clusters, tokens): removed when the
 * run ends well, kept for a look when it failed (or with HCP_KEEP_E2E=1). */
const tempDirs = [];
function tempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
process.on("exit", (code) => {
  if (code !== 0 || process.env.HCP_KEEP_E2E) return;
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* a process still writing there: the OS cleans /tmp */
    }
  }
});

export function stopAll() {
  for (const c of children) c.kill("SIGTERM");
  for (const stop of clusters.splice(0)) stop();
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A throwaway PostgreSQL cluster (Debian's package; as root, its programs run as
 * `postgres`, since initdb refuses root); returns a connection string. */
export async function startPostgres() {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, "bin", "initdb"))) : [];
  if (versions.length === 0) throw new Error("PostgreSQL is not installed: run scripts/deps.sh");
  const bin = path.join(root, versions.sort((a, b) => Number(a) - Number(b)).pop(), "bin");
  const asRoot = process.getuid?.() === 0;
  const run = (prog, args) =>
    asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", path.join(bin, prog), ...args], { stdio: "pipe" })
      : execFileSync(path.join(bin, prog), args, { stdio: "pipe" });
  const dir = tempDir("hcp-e2e-pg-");
  if (asRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  const data = path.join(dir, "data");
  run("initdb", ["-D", data, "-A", "trust", "-U", "hcp", "--encoding=UTF8", "--locale=C.UTF-8"]);
  const port = await freePort();
  run("pg_ctl", ["-D", data, "-l", path.join(dir, "log"), "-w", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]);
  clusters.push(() => {
    try {
      run("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
    } catch {
      /* already gone */
    }
  });
  const url = `host=127.0.0.1 port=${port} user=hcp dbname=postgres`;
  return url;
}

/** An office hub on `pgUrl` with the reference hall's halls registered and synced
 * (the first, or every one with `{ allHalls: true }`), and `accounts` ([name, role,
 * hall?]) with `password`. Returns its URL, and `stop()` / `start()` to take the
 * hub away and bring it back on the same address (the office's state is in
 * PostgreSQL, so nothing is lost in between). */
export async function startHub(pgUrl, hall, accounts, password, { allHalls = false, tls = false } = {}) {
  const dir = tempDir("hcp-e2e-hub-");
  const env = { ...process.env, HCP_HUB_PG: pgUrl };
  const hcp = path.join(binDir, "hcp");
  const admin = (args) => execFileSync(hcp, ["hub", ...args], { env, stdio: "pipe" });
  admin(["init"]);
  const pw = path.join(dir, "pw.txt");
  writeFileSync(pw, `${password}\n`);
  // Halls first: a director's account names a hall the hub knows.
  for (const h of allHalls ? hall.halls : hall.halls.slice(0, 1)) {
    const tokenFile = path.join(dir, `token-${h.id}.txt`);
    writeFileSync(tokenFile, hall.tokens[h.id]);
    admin(["hall", "add", h.url, "--token-file", tokenFile]);
  }
  for (const [name, role, hallId] of accounts) {
    admin(["user", "add", name, "--role", role, ...(hallId ? ["--hall", hallId] : []), "--password-file", pw]);
  }
  admin(["sync"]);
  let child = null;
  const tlsArgs = tls ? selfSignedCertificate(dir) : [];
  const serve = async (addr, pg = pgUrl) => {
    const started = await startAndWait(hcp, ["hub", "serve", "--addr", addr, "--sync-every", "0", ...tlsArgs], /HCP_HUB_URL=(\S+)/, { HCP_HUB_PG: pg });
    child = started.child;
    return started.match[1];
  };
  const url = await serve("127.0.0.1:0");
  const addr = new URL(url).host;
  return {
    url,
    /** Its certificate file (with `{ tls: true }`). */
    certificate: tls ? tlsArgs[1] : null,
    /** Stops the hub process (as a crash or a power cut would: SIGKILL). */
    async stop() {
      if (!child || child.exitCode !== null) return;
      child.removeAllListeners("exit");
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await gone;
    },
    /** Starts it again on the same address (on another database, e.g. a
     * restored backup, when `pg` is given). */
    async start(pg) {
      await serve(addr, pg);
    },
    /** One round of the hub's hall sync (records in, decisions out). */
    sync() {
      admin(["sync"]);
    },
  };
}

/** A self-signed server certificate for 127.0.0.1 (openssl), as an intranet hub
 * would have one; returns the `--tls-cert/--tls-key` arguments. */
function selfSignedCertificate(dir) {
  const conf = path.join(dir, "cert.cnf");
  writeFileSync(
    conf,
    [
      "[req]",
      "distinguished_name = dn",
      "x509_extensions = ee",
      "prompt = no",
      "[dn]",
      "CN = hcp-hub.test",
      "[ee]",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature",
      "extendedKeyUsage = serverAuth",
      "subjectAltName = IP:127.0.0.1",
      "",
    ].join("\n"),
  );
  const crt = path.join(dir, "hub.crt");
  const key = path.join(dir, "hub.key");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt, "-days", "30", "-config", conf], { stdio: "pipe" });
  return ["--tls-cert", crt, "--tls-key", key];
}

/** The SHA-256 fingerprint of a PEM certificate, as `AB:CD:…`. */
export function certificateFingerprint(crtFile) {
  const out = execFileSync("openssl", ["x509", "-in", crtFile, "-noout", "-fingerprint", "-sha256"]).toString();
  return out.trim().split("=").pop();
}

/** Picks an option of an Element Plus select by its visible text. */
export async function pick(page, testid, text) {
  await page.locator(`[data-testid="${testid}"]`).click();
  await page.locator(".el-select-dropdown__item:visible", { hasText: text }).first().click();
}

/** The <input> of an Element Plus input (its data-testid lands on the input itself). */
export function field(page, testid) {
  return page.locator(`input[data-testid="${testid}"], [data-testid="${testid}"] input`).first();
}

/** Calls a command of a `hcp serve-ui` directly (set-up only; the flows click). */
export async function bridge(uiUrl, command, args) {
  const u = new URL(uiUrl);
  const res = await fetch(`${u.origin}/api/${command}`, {
    method: "POST",
    headers: { "x-hcp-token": u.searchParams.get("token"), "content-type": "application/json" },
    body: JSON.stringify(args ?? {}),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${command}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Answers every checklist item of the open visit form: pass, except the given
 * items deducted (1 point). */
export async function fillVisit(page, deduct = []) {
  for (let i = 0; i < 9; i++) {
    await page.getByTestId(`section-${i}`).click();
    const passes = page.locator('[data-testid^="pass-"]');
    await passes.first().waitFor();
    const n = await passes.count();
    for (let k = 0; k < n; k++) {
      const id = (await passes.nth(k).getAttribute("data-testid")).slice(5);
      if (deduct.includes(id)) {
        // A deduction needs its grounds (a note or a photo) to be handed in.
        await page.getByTestId(`deduct-${id}`).click();
        await page.locator(`textarea[data-testid="note-${id}"]`).fill(`${id} 现场所见`);
        await page.locator(`textarea[data-testid="note-${id}"]`).blur();
      } else await passes.nth(k).click();
    }
  }
  await page.waitForFunction(() => /已自动保存/.test(document.querySelector('[data-testid="saved-indicator"]')?.textContent ?? ""));
}
