// Desktop smoke test: the built Tauri binary in a real window (run under Xvfb),
// driven through tauri-driver + WebKitWebDriver over plain W3C WebDriver HTTP.
// The window opens on an empty cache, the first-run card loads the demo, and the
// dashboard must show non-zero figures. Screenshot: artifacts/desktop/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { binDir, repoDir } from "../harness.mjs";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const port = 4444 + Math.floor(Math.random() * 2000);
const nativePort = port + 1;
const base = `http://127.0.0.1:${port}`;
const artifacts = path.join(repoDir, "artifacts", "desktop");
mkdirSync(artifacts, { recursive: true });
const app = process.env.HCP_DESKTOP_BIN ?? path.join(binDir, "hcp-desktop");
const driverBin = process.env.TAURI_DRIVER ?? path.join(process.env.HOME ?? "", ".cargo", "bin", "tauri-driver");
let driver;
let session;

async function wd(method, route, body) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

const s = (route) => `/session/${session}${route}`;

async function find(css) {
  const v = await wd("POST", s("/element"), { using: "css selector", value: css });
  return v[ELEMENT];
}

async function waitFor(what, fn, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

const textOf = async (css) => wd("GET", s(`/element/${await find(css)}/text`));

before(async () => {
  assert.ok(existsSync(app), `desktop binary missing: ${app}`);
  assert.ok(existsSync(driverBin), `tauri-driver missing: ${driverBin}`);
  const dir = mkdtempSync(path.join(tmpdir(), "hcp-desktop-"));
  // Its own process group (WebKitWebDriver and the app join it), so the teardown
  // can end all three; and pipes we own rather than our stdout, so nothing left
  // behind can hold the test runner's output open (CI once waited 90 minutes on
  // an app that outlived its session).
  driver = spawn(driverBin, ["--port", String(port), "--native-port", String(nativePort)], {
    env: { ...process.env, HCP_DB: path.join(dir, "hcp.db"), HCP_TOKEN_STORE: "file" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  driver.stdout.on("data", (b) => process.stdout.write(b));
  driver.stderr.on("data", (b) => process.stderr.write(b));
  await waitFor("tauri-driver", async () => (await fetch(`${base}/status`)).ok, 30_000);
  const created = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application: app } } },
  });
  session = created.sessionId;
});

/** Signals the driver's whole process group; false once nothing is left in it. */
function signalGroup(sig) {
  try {
    process.kill(-driver.pid, sig);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

after(async () => {
  if (session) await wd("DELETE", s("")).catch(() => undefined);
  if (!driver) return;
  signalGroup("SIGTERM");
  const until = Date.now() + 5_000;
  while (Date.now() < until && signalGroup(0)) await new Promise((r) => setTimeout(r, 100));
  if (signalGroup("SIGKILL")) console.error("desktop smoke: SIGKILL to what was left of the driver's processes");
  driver.stdout.destroy();
  driver.stderr.destroy();
});

test("the window opens with its title and the first-run card", async () => {
  assert.equal(await wd("GET", s("/title")), "好差评督查台");
  await waitFor("first-run card", async () => (await textOf('[data-testid="first-run"]')).includes("载入演示数据"));
});

test("loading the demo fills the dashboard with non-zero figures", async () => {
  await wd("POST", s(`/element/${await find('[data-testid="load-demo"]')}/click`), {});
  const month = await waitFor("month figure", async () => {
    const n = Number((await textOf('[data-testid="stat-month"]')).replace(/,/g, ""));
    return n > 0 ? n : null;
  });
  // The demo runs up to today, so on the 1st of a month 本月 holds one day (~90 ratings).
  assert.ok(month > 10, `month count ${month}`);
  assert.match(await textOf('[data-testid="stat-good-rate"]'), /^\d+\.\d\d%$/);
  // The to-do list is the officer's first view: the lived-in demo always has cases waiting.
  // The dashboard refreshes after each of the demo's syncs; last month's report is
  // issued at the very end of the load.
  const issued = await waitFor("latest report", async () => {
    const t = await textOf('[data-testid="latest-report"]');
    return /第\d+期/.test(t) ? t : null;
  });
  assert.match(issued, /〔\d{4}〕第\d+期/);
  const todo = Number((await textOf('[data-testid="todo-verify"]')).replace(/\D/g, ""));
  assert.ok(todo > 0, `待核实 ${todo}`);
  const halls = await textOf('[data-testid="hall-status-table"]');
  assert.match(halls, /政务服务中心/);
  // A screenshot taken right after a DOM change can show the previous paint.
  await new Promise((r) => setTimeout(r, 1000));
  const png = await wd("GET", s("/screenshot"));
  writeFileSync(path.join(artifacts, "dashboard.png"), Buffer.from(png, "base64"));
  try {
    execFileSync("import", ["-window", "root", path.join(artifacts, "screen.png")]);
  } catch {
    /* the WebDriver screenshot above is the artifact that matters */
  }
});
