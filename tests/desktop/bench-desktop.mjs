// Desktop benchmark (issue 3): cold start of the release binary to the dashboard
// painted with data, and the idle memory of all the app's processes, on a given
// cache. Prints figures; asserts nothing (speed targets live in benchmarks).
//   xvfb-run -a node tests/desktop/bench-desktop.mjs --db /path/to/1M.db --bin target/release/hcp-desktop
import { spawn, execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const db = arg("--db");
const app = path.resolve(arg("--bin", "../target/release/hcp-desktop"));
const runs = Number(arg("--runs", "3"));
if (!db) throw new Error("--db 必填：一个已同步数据的数据库");
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const port = 6444 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;
const driverBin = process.env.TAURI_DRIVER ?? path.join(os.homedir(), ".cargo", "bin", "tauri-driver");

async function wd(method, route, body) {
  const res = await fetch(`${base}${route}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${route}: ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function children(pid) {
  const out = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(d), ...children(Number(d)));
    } catch {
      /* gone */
    }
  }
  return out;
}
function memOf(pid) {
  const field = (text, name) => Number((new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text) ?? [0, 0])[1]);
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const name = (/^Name:\s+(\S+)/m.exec(status) ?? ["", "?"])[1];
  return { pid, name, rssKiB: field(status, "VmRSS"), pssKiB: field(rollup, "Pss") };
}

const driver = spawn(driverBin, ["--port", String(port), "--native-port", String(port + 1)], {
  env: { ...process.env, HCP_DB: path.resolve(db), HCP_TOKEN_STORE: "file" },
  stdio: "ignore",
});
try {
  for (let i = 0; i < 50; i++) {
    try {
      if ((await fetch(`${base}/status`)).ok) break;
    } catch {
      await sleep(200);
    }
  }
  const starts = [];
  let memory = null;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const { sessionId } = await wd("POST", "/session", { capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application: app } } } });
    const s = (x) => `/session/${sessionId}${x}`;
    for (;;) {
      try {
        const el = await wd("POST", s("/element"), { using: "css selector", value: '[data-testid="stat-month"]' });
        const text = await wd("GET", s(`/element/${el[ELEMENT]}/text`));
        if (Number(text.replace(/,/g, "")) > 0) break;
      } catch {
        /* not there yet */
      }
      await sleep(20);
    }
    starts.push(performance.now() - t0);
    if (r === runs - 1) {
      await sleep(5000); // idle
      const pid = Number(execFileSync("pgrep", ["-n", "-f", app]).toString().trim());
      memory = [pid, ...children(pid)].map(memOf);
    }
    await wd("DELETE", s(""));
    await sleep(500);
  }
  starts.sort((a, b) => a - b);
  console.log(`== 桌面基准（${new Date().toISOString().slice(0, 10)}）==`);
  console.log(`数据库: ${db}`);
  console.log(`冷启动到工作台显示数据（含 WebDriver 建会话开销，${runs} 次）: 中位数 ${(starts[Math.floor(runs / 2)] / 1000).toFixed(2)} s，各次 ${starts.map((x) => (x / 1000).toFixed(2)).join(" / ")} s  目标 ≤ 2 s`);
  const rss = memory.reduce((a, m) => a + m.rssKiB, 0) / 1024;
  const pss = memory.reduce((a, m) => a + m.pssKiB, 0) / 1024;
  for (const m of memory) console.log(`  ${m.name}（pid ${m.pid}）: RSS ${(m.rssKiB / 1024).toFixed(0)} MiB，PSS ${(m.pssKiB / 1024).toFixed(0)} MiB`);
  console.log(`空闲内存（全部进程）: RSS 合计 ${rss.toFixed(0)} MiB（共享库重复计算），PSS 合计 ${pss.toFixed(0)} MiB  目标 ≤ 250 MB`);
} finally {
  driver.kill("SIGTERM");
}
