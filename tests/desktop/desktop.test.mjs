// Desktop smoke test: the built Tauri binary in a real window (run under Xvfb),
// driven through tauri-driver + WebKitWebDriver over plain W3C WebDriver HTTP.
// The window opens on an empty cache, the first-run card loads the demo, and the
// dashboard must show non-zero figures. Then a second window, on a second empty
// cache, connects to an office hub (real PostgreSQL, the reference hall) from the
// first-run card and shows the office's cases. Screenshots: artifacts/desktop/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { binDir, repoDir, startHall, startHub, startPostgres, stopAll } from "../harness.mjs";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const artifacts = path.join(repoDir, "artifacts", "desktop");
mkdirSync(artifacts, { recursive: true });
const app = process.env.HCP_DESKTOP_BIN ?? path.join(binDir, "hcp-desktop");
const driverBin = process.env.TAURI_DRIVER ?? path.join(process.env.HOME ?? "", ".cargo", "bin", "tauri-driver");
/** The window being driven: its tauri-driver, port and WebDriver session. */
let win = null;

async function wd(method, route, body) {
  const res = await fetch(`${win.base}${route}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

const s = (route) => `/session/${win.session}${route}`;

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
const click = async (css) => wd("POST", s(`/element/${await find(css)}/click`), {});
/** Types into an Element Plus input (its data-testid is on the <input> or around it). */
const type = async (testid, text) =>
  wd("POST", s(`/element/${await find(`input[data-testid="${testid}"], [data-testid="${testid}"] input`)}/value`), { text });

async function screenshot(name) {
  // A screenshot taken right after a DOM change can show the previous paint.
  await new Promise((r) => setTimeout(r, 1000));
  const png = await wd("GET", s("/screenshot"));
  writeFileSync(path.join(artifacts, name), Buffer.from(png, "base64"));
}

/** Opens the app in a window on a fresh cache file. */
async function launch() {
  assert.ok(existsSync(app), `desktop binary missing: ${app}`);
  assert.ok(existsSync(driverBin), `tauri-driver missing: ${driverBin}`);
  const dir = mkdtempSync(path.join(tmpdir(), "hcp-desktop-"));
  const port = 4444 + Math.floor(Math.random() * 2000);
  // Its own process group (WebKitWebDriver and the app join it), so the teardown
  // can end all three; and pipes we own rather than our stdout, so nothing left
  // behind can hold the test runner's output open (CI once waited 90 minutes on
  // an app that outlived its session).
  const driver = spawn(driverBin, ["--port", String(port), "--native-port", String(port + 1)], {
    env: { ...process.env, HCP_DB: path.join(dir, "hcp.db"), HCP_TOKEN_STORE: "file" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  driver.stdout.on("data", (b) => process.stdout.write(b));
  driver.stderr.on("data", (b) => process.stderr.write(b));
  win = { driver, base: `http://127.0.0.1:${port}`, session: null };
  await waitFor("tauri-driver", async () => (await fetch(`${win.base}/status`)).ok, 30_000);
  const created = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application: app } } },
  });
  win.session = created.sessionId;
}

/** Signals the driver's whole process group; false once nothing is left in it. */
function signalGroup(driver, sig) {
  try {
    process.kill(-driver.pid, sig);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

/** Closes the window and ends its driver's processes. */
async function close() {
  if (!win) return;
  const { driver, session } = win;
  if (session) await wd("DELETE", s("")).catch(() => undefined);
  win = null;
  signalGroup(driver, "SIGTERM");
  const until = Date.now() + 5_000;
  while (Date.now() < until && signalGroup(driver, 0)) await new Promise((r) => setTimeout(r, 100));
  if (signalGroup(driver, "SIGKILL")) console.error("desktop smoke: SIGKILL to what was left of the driver's processes");
  driver.stdout.destroy();
  driver.stderr.destroy();
}

before(launch);

after(async () => {
  await close();
  stopAll();
});

test("the window opens with its title and the first-run card", async () => {
  assert.equal(await wd("GET", s("/title")), "好差评督查台");
  await waitFor("first-run card", async () => (await textOf('[data-testid="first-run"]')).includes("载入演示数据"));
});

test("loading the demo fills the dashboard with non-zero figures", async () => {
  await click('[data-testid="load-demo"]');
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
  await screenshot("dashboard.png");
  try {
    execFileSync("import", ["-window", "root", path.join(artifacts, "screen.png")]);
  } catch {
    /* the WebDriver screenshot above is the artifact that matters */
  }
});

test("a second window connects to the office hub and shows the office's cases", async () => {
  await close();
  const password = "correct horse 1";
  const pg = await startPostgres();
  const hall = await startHall();
  const hub = await startHub(pg, hall, [["陈静", "officer"]], password);
  await launch();
  await waitFor("first-run card", async () => (await textOf('[data-testid="first-run"]')).includes("连接团队服务器"));
  await click('[data-testid="connect-hub"]');
  await waitFor("connect dialog", async () => (await textOf('[data-testid="hub-connect-dialog"]')).includes("服务器地址"));
  await type("hub-url", hub.url);
  await type("hub-name", "陈静");
  await type("hub-password", password);
  await click('[data-testid="hub-connect-submit"]');
  await waitFor("connected header", async () => /团队服务器 · 已连接/.test(await textOf('[data-testid="hub-state"]')));
  assert.match(await textOf('[data-testid="current-user"]'), /陈静（效能督查员）/);
  const todo = await waitFor("the office's cases", async () => {
    const n = Number((await textOf('[data-testid="todo-verify"]')).replace(/\D/g, ""));
    return n > 0 ? n : null;
  });
  assert.ok(todo > 0, `待核实 ${todo}`);
  await screenshot("hub-connected.png");
});
