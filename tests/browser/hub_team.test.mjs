// The office as a team, in Debian's Chromium: one hub on a real PostgreSQL cluster
// with both halls of the reference hall server, and one `hcp serve-ui` desk (its
// own SQLite file) per person, each in its own browser context.
// - Two officers act on the same case: the second is refused as a conflict, sees
//   who moved the case and what they did, drops his step and takes the next one;
//   the hall hears each decision once.
// - A director sees only his hall and is offered no case actions; a shopper's
//   window opens on 暗访 and hands a visit in by upload; the officer reviews it.
// - The hub goes away while an officer works: the header says 离线, two steps
//   wait as 待发送, and when the hub is back both go out, in order, without a
//   reload.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { artifacts, bridge, field, fillVisit, launchBrowser, startHall, startHub, startPostgres, startUi, stopAll } from "../harness.mjs";

const PASSWORD = "correct horse 1";
let hall, hub, browser;

before(async () => {
  const pg = await startPostgres();
  hall = await startHall();
  hub = await startHub(
    pg,
    hall,
    [
      ["陈静", "officer"],
      ["王磊", "officer"],
      ["刘洋", "officer"],
      ["张主任", "director", hall.halls[0].id],
      ["赵敏", "shopper"],
    ],
    PASSWORD,
    { allHalls: true },
  );
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  stopAll();
});

/** A desk for `name`: its own cache and browser context, connected to the hub
 * through the first-run card. */
async function desk(name) {
  const url = await startUi();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(url);
  await page.getByTestId("connect-hub").click();
  await field(page, "hub-url").fill(hub.url);
  await field(page, "hub-name").fill(name);
  await field(page, "hub-password").fill(PASSWORD);
  await page.getByTestId("hub-connect-submit").click();
  await page.locator(".el-message--success", { hasText: "已连接团队服务器" }).waitFor();
  await page.waitForFunction(() => /已连接/.test(document.querySelector('[data-testid="hub-state"]')?.textContent ?? ""));
  if (name !== "赵敏") {
    // The first sync after connecting brings the office's cases.
    const until = Date.now() + 60_000;
    while ((await bridge(url, "list_cases", { limit: 1 })).rows.length === 0) {
      assert.ok(Date.now() < until, `${name}'s desk received no cases`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { url, page };
}

/** Opens case `id` in the page (a hash route of its own desk). */
async function openCase(page, id) {
  await page.evaluate((h) => (location.hash = h), `#/cases/${id}`);
  await page.waitForFunction((i) => document.querySelector('[data-testid="case-detail"] .card-header')?.textContent?.includes(`${i}`), id);
  await page.getByTestId("detail-state").waitFor();
}

async function state(page) {
  return (await page.getByTestId("detail-state").innerText()).trim();
}

/** Takes a step on the open case through the action dialog. */
async function act(page, action, choose, text) {
  await page.getByTestId(`act-${action}`).click();
  await page.getByTestId("action-dialog").waitFor();
  await page.getByTestId(choose).click();
  await page.locator('textarea[data-testid="action-text"], [data-testid="action-text"] textarea').first().fill(text);
  await page.getByTestId("action-submit").click();
  await page.locator(".el-message--success", { hasText: "已记入待发送" }).last().waitFor();
  await page.getByTestId("action-dialog").waitFor({ state: "hidden" });
}

/** Waits until the page shows `expected` as the case's state, without reloading. */
async function until(page, expected) {
  await page.waitForFunction((s) => document.querySelector('[data-testid="detail-state"]')?.textContent?.trim() === s, expected, { timeout: 40_000 });
}

/** The first open (待核实) case the desk has. */
async function openCaseId(uiUrl) {
  const page = await bridge(uiUrl, "list_cases", { states: ["open"], limit: 1 });
  assert.ok(page.rows.length > 0, "the office has open cases");
  return page.rows[0].case_id;
}

test("two officers on one case: the second is refused as a conflict, sees why, and takes the next step", async () => {
  const a = await desk("陈静");
  const b = await desk("王磊");
  const id = await openCaseId(a.url);
  await openCase(a.page, id);
  await openCase(b.page, id);
  assert.equal(await state(a.page), "待核实");
  assert.equal(await state(b.page), "待核实");

  // A verifies first: 无法律依据 → 解释说明. Her window sends it on its own.
  await act(a.page, "verify", "outcome-no_legal_basis", "诉求无法律依据，已向评价人解释");
  await until(a.page, "解释说明");
  assert.equal((await a.page.getByTestId("hub-queue-state").first().innerText()).trim(), "已受理");

  // B, still looking at 待核实, verifies too: refused as a conflict.
  assert.equal(await state(b.page), "待核实");
  await act(b.page, "verify", "outcome-true", "调取录像，情况属实");
  await b.page.getByTestId("hub-conflict").waitFor({ timeout: 40_000 });
  // …and his page now shows A's step: the new state, who did it, what she did.
  await until(b.page, "解释说明");
  assert.match(await b.page.getByTestId("case-updated-by").innerText(), /已被陈静更新/);
  const conflict = await b.page.getByTestId("hub-conflict").innerText();
  assert.match(conflict, /您的操作「.*」未被团队服务器受理/);
  assert.match(conflict, /工单已被他人更新/);
  assert.match(await b.page.getByTestId("hub-conflict-rival").first().innerText(), /陈静：/);
  await b.page.screenshot({ path: path.join(artifacts, "hub-conflict.png") });

  // Redoing the verify on the current state is refused at once (the case is past
  // it); he drops it and records the callback the case now waits for.
  await b.page.getByTestId("hub-redo").click();
  await b.page.locator(".el-message--error", { hasText: "不能进行此操作" }).waitFor();
  await b.page.getByTestId("hub-drop").click();
  await b.page.getByTestId("hub-conflict").waitFor({ state: "detached" });
  assert.equal((await b.page.getByTestId("hub-resolution").first().innerText()).trim(), "已放弃");
  await act(b.page, "callback", "result-satisfied", "电话回访，评价人表示理解");
  await until(b.page, "已办结");
  assert.equal((await b.page.getByTestId("hub-queue-state").first().innerText()).trim(), "已受理");

  // The hall hears each decision once, however often the hub syncs.
  hub.sync();
  hub.sync();
  const detail = await bridge(a.url, "case_detail", { case_id: id });
  const h = detail.case.hall_id;
  const res = await fetch(`${hall.base}/admin/h/${h}/decisions`, { headers: { authorization: `Bearer ${hall.admin}` } });
  const { decisions } = await res.json();
  const kinds = decisions.filter((d) => d.evaluation_id === detail.case.evaluation_id).map((d) => d.kind);
  assert.deepEqual(kinds, ["case_opened", "callback", "case_closed"]);
  assert.equal(new Set(decisions.map((d) => d.id)).size, decisions.length, "no decision delivered twice");
  await a.page.context().close();
  await b.page.context().close();
});

test("a director sees only his hall and no case actions; a shopper hands a visit in by upload and the officer reviews it", async () => {
  const [mine, other] = hall.halls;
  const d = await desk("张主任");
  assert.match(await d.page.getByTestId("current-user").innerText(), /张主任（大厅负责人）/);
  // His menu: no 暗访; his halls: one.
  assert.equal(await d.page.getByTestId("menu-visits").count(), 0);
  const halls = await bridge(d.url, "list_halls");
  assert.deepEqual(halls.map((x) => x.hall.hall_id), [mine.id]);
  await d.page.getByTestId("menu-halls").click();
  await d.page.getByText(mine.id).first().waitFor();
  assert.equal(await d.page.getByText(other.id).count(), 0, "the other hall is not shown");
  // A case of his hall: read-only.
  const id = await openCaseId(d.url);
  await openCase(d.page, id);
  assert.equal(await d.page.getByTestId("case-actions").count(), 0, "no case actions for a director");
  assert.match(await d.page.locator(".el-alert", { hasText: "只能查看工单" }).first().innerText(), /大厅负责人/);
  await d.page.screenshot({ path: path.join(artifacts, "hub-director.png") });
  await d.page.context().close();

  // The shopper: the window opens on 暗访; a visit is filled, submitted, uploaded.
  const s = await desk("赵敏");
  await s.page.waitForFunction(() => location.hash.startsWith("#/visits"));
  assert.equal(await s.page.getByTestId("menu-cases").count(), 0);
  await s.page.getByTestId("new-visit").click();
  await s.page.locator('[data-testid="new-visit-hall"]').click();
  await s.page.locator(".el-select-dropdown__item:visible").first().click();
  await s.page.getByTestId("new-visit-submit").click();
  await s.page.getByTestId("visit-form").waitFor();
  await fillVisit(s.page, ["3.3"]);
  await s.page.getByTestId("submit-visit").click();
  await s.page.waitForFunction(() => document.querySelector('[data-testid="visit-state-tag"]')?.textContent?.trim() === "已提交");
  const visitId = decodeURIComponent(new URL(s.page.url()).hash.split("/").pop());
  await s.page.getByTestId("upload-visit").click();
  await s.page.locator(".el-message--success", { hasText: "交件已上传到团队服务器" }).waitFor();
  await s.page.waitForFunction(() => document.querySelector('[data-testid="visit-upload-state"]')?.textContent?.trim() === "已交件到团队服务器");
  await s.page.screenshot({ path: path.join(artifacts, "hub-shopper-uploaded.png") });
  await s.page.context().close();

  // The officer: the next sync brings the visit; it opens for review.
  const o = await desk("刘洋");
  await o.page.getByTestId("menu-dashboard").click();
  await o.page.getByTestId("dashboard-sync").click();
  await o.page.getByTestId("menu-visits").click();
  await o.page.getByTestId("visit-table").getByText("赵敏").first().waitFor({ timeout: 40_000 });
  await o.page.evaluate((h) => (location.hash = h), `#/visits/${encodeURIComponent(visitId)}`);
  await o.page.getByTestId("review-panel").waitFor();
  await o.page.screenshot({ path: path.join(artifacts, "hub-officer-review.png") });
  await o.page.context().close();
});

test("the hub goes away while an officer works: 离线, two steps wait as 待发送, then go out in order without a reload", async () => {
  const o = await desk("陈静");
  const id = await openCaseId(o.url);
  await openCase(o.page, id);

  await hub.stop();
  await o.page.waitForFunction(() => /离线/.test(document.querySelector('[data-testid="hub-state"]')?.textContent ?? ""), null, { timeout: 30_000 });
  // Two steps in a row; the second is taken on the first's outcome.
  await act(o.page, "verify", "outcome-no_legal_basis", "诉求无法律依据，已向评价人解释");
  await act(o.page, "callback", "result-satisfied", "电话回访，评价人表示理解");
  const queue = o.page.getByTestId("hub-queue-state");
  assert.deepEqual((await queue.allInnerTexts()).map((x) => x.trim()), ["待发送", "待发送"]);
  assert.equal(await state(o.page), "待核实", "nothing decided while the hub is away");
  await o.page.waitForFunction(() => /离线（2 项待发送）/.test(document.querySelector('[data-testid="hub-state"]')?.textContent ?? ""));
  await o.page.getByTestId("menu-outbox").click();
  const rows = o.page.getByTestId("outbox-actions").locator("tbody tr");
  await rows.nth(1).waitFor();
  assert.equal(await rows.count(), 2);
  assert.match(await rows.nth(0).innerText(), /核实/);
  assert.match(await rows.nth(1).innerText(), /回访/);
  await o.page.screenshot({ path: path.join(artifacts, "hub-offline.png") });
  await openCase(o.page, id);

  // The hub is back: the window notices, sends both in order, and the page moves.
  await hub.start();
  await until(o.page, "已办结");
  assert.deepEqual((await queue.allInnerTexts()).map((x) => x.trim()), ["已受理", "已受理"]);
  await o.page.waitForFunction(() => /已连接/.test(document.querySelector('[data-testid="hub-state"]')?.textContent ?? ""));
  const timeline = await bridge(o.url, "case_detail", { case_id: id });
  const steps = timeline.timeline.filter((e) => e.hub_version != null).map((e) => e.action);
  assert.deepEqual(steps.slice(-2), ["verify", "callback"]);
  await o.page.context().close();
});
