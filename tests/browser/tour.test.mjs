// The first ten minutes: a tour of every page on the built-in demo (`hcp serve-ui
// --demo`, the same demo the window loads), in Debian's Chromium. Every page must
// show the demo's data — no empty table or empty state that the demo could have
// filled. Screenshots of each page go to artifacts/tour/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { bridge, launchBrowser, repoDir, startUi, stopAll } from "../harness.mjs";

const shots = path.join(repoDir, "artifacts", "tour");
mkdirSync(shots, { recursive: true });
let url, browser, page;

before(async () => {
  url = await startUi(["--demo"]);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(30_000);
  await page.goto(url);
});

after(async () => {
  await browser?.close();
  stopAll();
});

const shot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
/** A dialog's opening animation ends before its picture is taken. */
const settled = () => page.waitForFunction(() => [...document.querySelectorAll(".el-overlay-dialog")].every((o) => !o.getAnimations({ subtree: true }).some((a) => a.playState === "running")));

/** The test ids of visible empty tables and empty states on the page, except
 * those a user has to ask for first (`allowed`). */
async function empties(allowed = []) {
  return page.evaluate((allowed) => {
    const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
    const out = [];
    for (const el of document.querySelectorAll(".el-table__empty-text, .el-empty")) {
      if (!visible(el)) continue;
      const id = el.closest("[data-testid]")?.getAttribute("data-testid") ?? "(no test id)";
      if (!allowed.includes(id)) out.push(id);
    }
    return out;
  }, allowed);
}

async function visit(menu, ready) {
  await page.getByTestId(`menu-${menu}`).click();
  await page.waitForFunction((m) => location.hash.startsWith(`#/${m}`), menu);
  await ready();
}

const rows = (testid) => page.locator(`[data-testid="${testid}"] .el-table__body tbody tr`);

test("工作台 opens on the officer's to-do list, with the figures, the deadlines and the latest report", async () => {
  await page.getByTestId("todo").waitFor();
  const n = async (key) => Number((await page.getByTestId(`todo-${key}`).locator(".todo-n").innerText()).replace(/,/g, ""));
  for (const key of ["verify", "signoff", "callback", "appeals", "visits"]) assert.ok((await n(key)) > 0, `待办 ${key} is empty`);
  await rows("urgent-cases").first().waitFor();
  assert.match(await page.getByTestId("latest-report").innerText(), /第\d+期/);
  await page.getByTestId("stat-month").waitFor();
  assert.notEqual((await page.getByTestId("stat-month").innerText()).trim(), "0");
  assert.deepEqual(await empties(), []);
  // The demo's desk has no named user yet: the window asks for one.
  assert.match(await page.getByTestId("profile-prompt").innerText(), /姓名/);
  await shot("01-dashboard");
  // A figure opens the inbox filtered to it.
  await page.getByTestId("todo-signoff").click();
  await page.waitForFunction(() => location.hash.includes("tab=awaiting_signoff"));
  await rows("case-table").first().waitFor();
  const states = await page.getByTestId("case-state").allInnerTexts();
  assert.ok(states.length > 0 && states.every((s) => s.trim() === "待验收"), states.join(","));
});

test("评价查询 lists the demo's ratings", async () => {
  await visit("evaluations", () => rows("evaluation-table").first().waitFor());
  assert.deepEqual(await empties(), []);
  await shot("02-evaluations");
  // 上月 in one click: the range is last month's first to last day.
  await page.getByTestId("f-days").locator("input").first().click();
  await page.locator(".el-picker-panel__shortcut:visible", { hasText: "上月" }).click();
  const first = await page.getByTestId("f-days").locator("input").first().inputValue();
  const today = new Date(Date.now() + 8 * 3600_000);
  const last = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 1, 1)).toISOString().slice(0, 10);
  assert.equal(first, last);
});

test("差评工单 has every state, and a case shows its whole history", async () => {
  await visit("cases", () => rows("case-table").first().waitFor());
  assert.deepEqual(await empties(), []);
  await shot("03-cases");
  // 返回列表 comes back to the tab the case was opened from.
  await page.locator("#tab-rectifying").click();
  await page.waitForFunction(() => location.hash.includes("tab=rectifying"));
  await rows("case-table").first().waitFor();
  await page.getByTestId("open-case").first().click();
  await page.getByTestId("case-back").click();
  await page.waitForFunction(() => location.hash.startsWith("#/cases?") && location.hash.includes("tab=rectifying"));
  assert.equal(await page.locator(".el-tabs__item.is-active").getAttribute("id"), "tab-rectifying");
  // A closed case with a full history: opened, verified, rectified, accepted, called back.
  const closed = await bridge(url, "list_cases", { states: ["closed"], limit: 100 });
  let c = null;
  let events = 0;
  for (const row of closed.rows) {
    const d = await bridge(url, "case_detail", { case_id: row.case_id });
    if (d.timeline.some((e) => e.action === "callback") && d.timeline.length > events) {
      c = row;
      events = d.timeline.length;
    }
  }
  assert.ok(c && events >= 5, `a closed case that went the whole way (${events} steps)`);
  await page.goto(`${url.split("?")[0]}#/cases/${c.case_id}`);
  await page.getByTestId("timeline").waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="timeline-item"]').length === n, events);
  // Oldest first, in the order things happened.
  const times = await page.locator(".el-timeline-item__timestamp").allInnerTexts();
  assert.deepEqual([...times].sort(), times, times.join(" / "));
  assert.deepEqual(await empties(), []);
  await shot("04-case-detail");
});

test("申诉复核 has appeals waiting", async () => {
  await visit("appeals", () => page.waitForFunction(() => document.querySelectorAll('[data-testid="case-state"]').length > 0));
  assert.deepEqual(await empties(), []);
  await shot("05-appeals");
  // 申诉复核 of one: nothing is pre-selected, and 申诉成立 says what it does.
  await page.getByTestId("open-case").first().click();
  await page.getByTestId("act-decideAppeal").click();
  const dialog = page.getByTestId("action-dialog");
  await dialog.waitFor();
  assert.equal(await dialog.locator(".el-radio.is-checked").count(), 0, "no verdict chosen for the officer");
  await page.getByTestId("verdict-upheld").click();
  const means = await page.getByTestId("verdict-consequence").innerText();
  assert.match(means, /不再计入任何统计/);
  assert.match(means, /恶意评价人员/);
  await shot("05b-appeal-upheld-consequences");
  await dialog.getByRole("button", { name: "取消" }).click();
  await dialog.waitFor({ state: "hidden" });
});

test("暗访 has visits in every stage, with photos and trusted keys", async () => {
  await visit("visits", () => rows("visit-table").first().waitFor());
  assert.equal(await rows("visit-table").count(), 5);
  assert.ok((await page.getByTestId("trusted-key").count()) >= 1);
  assert.deepEqual(await empties(), []);
  await shot("06-visits");
  const visits = await bridge(url, "list_visits", {});
  const returned = visits.find((v) => v.state === "returned");
  await page.goto(`${url.split("?")[0]}#/visits/${returned.visit_id}`);
  await page.getByTestId("review-note").waitFor();
  await page.getByTestId("section-3").click();
  await page.getByTestId("photo-thumb").locator("img").first().waitFor();
  await shot("07-visit-returned");
});

test("月度通报 has last month's issue and its 典型案例", async () => {
  await visit("reports", () => rows("r-issued").first().waitFor());
  // The month's 典型案例 load beside the issued list: wait for them, then count.
  await page.getByTestId("r-typical-case").first().waitFor();
  assert.ok((await page.getByTestId("r-typical-case").count()) >= 1, "典型案例 picked");
  // The page preview waits for the user to ask for it (it renders every page).
  assert.deepEqual(await empties(["r-pages"]), []);
  await shot("08-reports");
  // 签发 states the issue, the scope and the signer — and the demo's unnamed
  // user cannot sign.
  await page.getByTestId("r-preview").click();
  await page.getByTestId("r-page").first().waitFor({ timeout: 120_000 });
  await page.getByTestId("r-issue").click();
  await page.getByTestId("r-issue-facts").waitFor();
  assert.match(await page.getByTestId("r-issue-no").innerText(), /^〔\d{4}〕第\d+期$/);
  assert.equal(await page.getByTestId("r-issue-scope").innerText(), "全部大厅");
  assert.match(await page.getByTestId("r-issue-signer").innerText(), /尚未设置/);
  assert.ok(await page.getByTestId("r-issue-submit").isDisabled(), "an unnamed user cannot sign");
  await settled();
  await shot("08b-issue-unnamed");
  await page.getByTestId("r-issue-dialog").getByRole("button", { name: "取消" }).click();
});

test("通报 as a 公文 and the 公示 page, which opens offline with no console error", async () => {
  // The 公文 layout: 版头 and body, page by page.
  await page.getByTestId("r-layout-official").click();
  await page.getByTestId("r-preview").click();
  await page.getByTestId("r-page").first().waitFor({ timeout: 120_000 });
  const first = await page.getByTestId("r-page").first().getAttribute("alt");
  assert.ok(first !== null);
  await shot("08c-report-official");
  // 生成公示: a folder with the page and the open data.
  await page.getByTestId("r-publish").click();
  await page.getByTestId("r-published").waitFor();
  const folder = (await page.getByTestId("r-publish-folder").innerText()).trim();
  assert.ok(existsSync(path.join(folder, "index.html")), folder);
  for (const f of ["data.json", "halls.csv", "departments.csv", "windows.csv", "cases.csv"]) assert.ok(existsSync(path.join(folder, f)), f);
  await settled();
  await shot("08d-publish-dialog");
  await page.getByTestId("r-published").locator(".el-dialog__footer").getByRole("button", { name: "关闭" }).click();

  // The page, as the public opens it: no network at all, nothing fetched, no error.
  const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 } });
  const errors = [];
  const requests = [];
  await context.route("**/*", (route) => (route.request().url().startsWith("file:") ? route.continue() : route.abort()));
  const pub = await context.newPage();
  pub.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(m.text());
  });
  pub.on("pageerror", (e) => errors.push(String(e)));
  pub.on("request", (r) => {
    if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) requests.push(r.url());
  });
  await pub.goto(pathToFileURL(path.join(folder, "index.html")).href);
  await pub.getByRole("heading", { name: /情况公示/ }).waitFor();
  const text = await pub.locator("main").innerText();
  assert.match(text, /窗口红黑榜/);
  assert.match(text, /差评整改情况/);
  assert.match(text, /扫码查看/);
  assert.ok((await pub.locator("table tbody tr").count()) > 10, "the tables are filled");
  assert.ok(await pub.locator(".qr img").evaluate((img) => img.complete && img.naturalWidth > 0), "the QR code renders");
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, []);
  await pub.screenshot({ path: path.join(shots, "08e-publish-page.png"), fullPage: false });
  await context.close();
  rmSync(folder, { recursive: true, force: true });
});

test("大厅与同步 shows the halls and a quarantined record", async () => {
  await visit("halls", () => rows("hall-table").first().waitFor());
  // Three halls synced from their servers, and 怀宁县 whose ratings came as files
  // (a GB/T 39046 export and a 差评工单 export).
  assert.equal(await rows("hall-table").count(), 4);
  assert.match(await page.getByTestId("hall-table").innerText(), /怀宁县/);
  await rows("quarantine-table").first().waitFor();
  for (const kind of await page.getByTestId("quarantine-kind").allInnerTexts()) assert.match(kind, /^[\u4e00-\u9fa5]+$/, `类型 in Chinese: ${kind}`);
  assert.deepEqual(await empties(), []);
  await shot("09-halls");
});

test("设置 shows policies, the calendar and delivered decisions by hall name", async () => {
  await visit("settings", () => rows("outbox-table").first().waitFor());
  assert.match(await page.getByTestId("outbox-table").innerText(), /政务服务中心/);
  assert.deepEqual(await empties(), []);
  await shot("10-settings");
});

test("a director's 工作台: his hall's figures, his open cases and his hall's report", async () => {
  await bridge(url, "set_user", { name: "周主任", role: "director", hall_id: "340825-ZWFW" });
  await page.goto(`${url.split("?")[0]}#/dashboard`);
  await page.reload();
  await page.getByTestId("todo").waitFor();
  assert.match(await page.getByTestId("todo").innerText(), /本大厅待办情况/);
  await rows("urgent-cases").first().waitFor();
  const halls = await page.getByTestId("urgent-cases").locator("tbody tr td:nth-child(2)").allInnerTexts();
  assert.ok(halls.every((h) => h.includes("太湖县")), halls.join(","));
  assert.match(await page.getByTestId("latest-report").innerText(), /太湖县/);
  // His tiles are his hall's work; the hall table and every figure are his hall's.
  for (const key of ["rectifying", "overdue", "appeal-window", "appeals", "signoff"]) await page.getByTestId(`todo-${key}`).waitFor();
  assert.equal(await page.getByTestId("todo-verify").count(), 0);
  assert.equal(await rows("hall-status-table").count(), 1);
  assert.match(await page.getByTestId("hall-status-table").innerText(), /太湖县/);
  assert.equal(await page.getByTestId("dashboard-sync").count(), 0);
  assert.equal(await page.getByTestId("profile-prompt").count(), 0);
  assert.deepEqual(await empties(), []);
  await shot("11-director-dashboard");
  // His menu has no 暗访; 大厅与同步 shows his hall only, with nothing to add,
  // sync or remove (the commands refuse those too).
  const menu = await page.locator('[data-testid^="menu-"]').evaluateAll((els) => els.map((e) => e.dataset.testid));
  assert.deepEqual(menu, ["menu-dashboard", "menu-evaluations", "menu-cases", "menu-appeals", "menu-alerts", "menu-reports", "menu-halls", "menu-settings"]);
  await visit("halls", () => rows("hall-table").first().waitFor());
  assert.equal(await rows("hall-table").count(), 1);
  for (const id of ["open-add-hall", "sync-all", "open-import"]) assert.equal(await page.getByTestId(id).count(), 0, id);
  await shot("12-director-halls");
  // 评价查询: the hall filter is his hall, locked; every row is his hall's; the
  // count arrives.
  await visit("evaluations", () => rows("evaluation-table").first().waitFor());
  assert.ok(await page.getByTestId("f-hall").locator("input").isDisabled(), "hall filter locked");
  assert.match(await page.getByTestId("f-hall").innerText(), /太湖县/);
  const evHalls = await page.getByTestId("evaluation-table").locator("tbody tr td:nth-child(2)").allInnerTexts();
  assert.ok(evHalls.length > 0 && evHalls.every((h) => h.includes("太湖县")), evHalls.join(","));
  await page.waitForFunction(() => /共/.test(document.querySelector('[data-testid="total"]')?.textContent ?? ""));
  await shot("12b-director-evaluations");
  // 通报: the scope is his hall, fixed.
  await visit("reports", () => page.getByTestId("r-hall").waitFor());
  assert.ok(await page.getByTestId("r-hall").locator("input").isDisabled(), "scope fixed");
  assert.match(await page.getByTestId("r-hall").innerText(), /太湖县/);
  assert.equal(await page.getByTestId("r-issue").count(), 0);
  // No shopper's name reaches him, and no other hall's visit.
  const seen = await bridge(url, "list_visits", {});
  assert.ok(seen.length > 0 && seen.every((v) => v.shopper === null && v.hall_id === "340825-ZWFW"), JSON.stringify(seen.map((v) => [v.hall_id, v.shopper])));

  // A shopper's window: 暗访 and 设置 only, opening on 暗访.
  await bridge(url, "set_user", { name: "李明", role: "shopper", hall_id: null });
  await page.goto(`${url.split("?")[0]}#/dashboard`);
  await page.reload();
  await page.waitForFunction(() => location.hash.startsWith("#/visits"));
  const shopperMenu = await page.locator('[data-testid^="menu-"]').evaluateAll((els) => els.map((e) => e.dataset.testid));
  assert.deepEqual(shopperMenu, ["menu-visits", "menu-outbox", "menu-settings"]);
  await shot("13-shopper-visits");
  // 待发送 on his own laptop: the submitted visits not yet handed in.
  await visit("outbox", () => page.getByTestId("outbox-local-visits").waitFor());
  await shot("13b-shopper-outbox");

  // A named officer: 签发 shows the issue, the scope and his name.
  await bridge(url, "set_user", { name: "陈静", role: "officer", hall_id: null });
  await page.goto(`${url.split("?")[0]}#/reports`);
  await page.reload();
  await page.getByTestId("r-preview").click();
  await page.getByTestId("r-page").first().waitFor({ timeout: 120_000 });
  await page.getByTestId("r-issue").click();
  await page.getByTestId("r-issue-facts").waitFor();
  assert.equal(await page.getByTestId("r-issue-signer").innerText(), "陈静");
  assert.equal(await page.getByTestId("r-issue-scope").innerText(), "全部大厅");
  assert.match(await page.getByTestId("r-issue-no").innerText(), /^〔\d{4}〕第\d+期$/);
  assert.ok(!(await page.getByTestId("r-issue-submit").isDisabled()));
  await settled();
  await shot("14-issue-dialog");
  await page.getByTestId("r-issue-dialog").getByRole("button", { name: "取消" }).click();
});
