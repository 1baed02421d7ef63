// Hub mode in the window, in Debian's Chromium: a real PostgreSQL cluster, the
// reference hall, `hcp hub serve`, and `hcp serve-ui` on a fresh SQLite file. The
// first-run card offers 连接团队服务器; a wrong password is refused with a zh-CN
// message and connects nothing; the right one makes the desk a replica: the header
// shows the account from the hub and 团队服务器 · 已连接, and the dashboard fills
// with the office's cases. An officer's action then waits as 待发送 on its case
// until a sync delivers it; the case moves once the hub has accepted it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { artifacts, bridge, certificateFingerprint, copyDatabase, field, launchBrowser, startHall, startHub, startPostgres, startUi, stopAll } from "../harness.mjs";

const PASSWORD = "correct horse 1";
let hubUrl, uiUrl, browser, page, hall, hub, pg;

before(async () => {
  pg = await startPostgres();
  hall = await startHall();
  hub = await startHub(pg, hall, [["陈静", "officer"]], PASSWORD);
  hubUrl = hub.url;
  uiUrl = await startUi();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(30_000);
});

after(async () => {
  await browser?.close();
  stopAll();
});

async function connect(password) {
  await page.getByTestId("connect-hub").click();
  await field(page, "hub-url").fill(hubUrl);
  await field(page, "hub-name").fill("陈静");
  await field(page, "hub-password").fill(password);
  await page.getByTestId("hub-connect-submit").click();
}

test("first run: connect to the office hub, the header shows who and where", async () => {
  await page.goto(uiUrl);
  await page.getByTestId("first-run").waitFor();

  await connect("wrong password");
  await page.locator(".el-message--error", { hasText: "用户名或密码错误" }).waitFor();
  assert.equal(await page.getByTestId("hub-state").count(), 0, "nothing connected");
  await page.locator('[data-testid="hub-connect-dialog"] button', { hasText: "取消" }).click();

  await connect(PASSWORD);
  await page.locator(".el-message--success", { hasText: "已连接团队服务器" }).waitFor();
  await page.waitForFunction(() => /团队服务器 · 已连接/.test(document.querySelector('[data-testid="hub-state"]')?.textContent ?? ""));
  const user = await page.getByTestId("current-user").textContent();
  assert.match(user, /陈静（效能督查员）/);
  // The office's cases arrive through the hub: the officer's to-do list has work.
  await page.getByTestId("todo").waitFor();
  await page.waitForFunction(() => Number((document.querySelector('[data-testid="todo-verify"] .todo-n')?.textContent ?? "0").replace(/\D/g, "")) > 0);
  await page.screenshot({ path: path.join(artifacts, "hub-connected.png") });
});

test("an action on a case waits as 待发送, the next sync delivers it and the case moves", async () => {
  // The urgent list on 工作台 holds open (待核实) cases.
  await page.getByTestId("menu-dashboard").click();
  await page.getByTestId("urgent-cases").locator("tbody tr").first().click();
  await page.getByTestId("detail-state").waitFor();
  assert.equal((await page.getByTestId("detail-state").innerText()).trim(), "待核实");
  const caseUrl = page.url();

  await page.getByTestId("act-verify").click();
  await page.getByTestId("action-dialog").waitFor();
  await page.getByTestId("outcome-true").click();
  await page.locator('textarea[data-testid="action-text"], [data-testid="action-text"] textarea').first().fill("调取窗口录像，情况属实");
  await page.getByTestId("action-submit").click();
  await page.locator(".el-message--success", { hasText: "已记入待发送" }).waitFor();
  // Not decided yet: the case keeps its state, the action shows as 待发送.
  assert.equal((await page.getByTestId("detail-state").innerText()).trim(), "待核实");
  assert.equal((await page.getByTestId("hub-queue-state").first().innerText()).trim(), "待发送");

  await page.getByTestId("menu-dashboard").click();
  await page.getByTestId("dashboard-sync").click();
  // The sync runs in the background: wait until the hub has answered the action.
  const until = Date.now() + 30_000;
  while ((await bridge(uiUrl, "hub_status", null)).pending.length > 0) {
    assert.ok(Date.now() < until, "the queued action was not delivered");
    await new Promise((r) => setTimeout(r, 250));
  }
  // …and the case feed brought the hub's decision: the case has moved.
  for (;;) {
    await page.goto(caseUrl);
    await page.getByTestId("hub-queue").waitFor();
    if ((await page.getByTestId("detail-state").innerText()).trim() === "整改中") break;
    assert.ok(Date.now() < until, "the case did not move after the sync");
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal((await page.getByTestId("hub-queue-state").first().innerText()).trim(), "已受理");
  await page.screenshot({ path: path.join(artifacts, "hub-case-accepted.png") });
});

test("the hub is restored from a backup: the desk stops and says so, then rebuilds its replica on request with its unsent step held for review", async () => {
  await hub.stop();
  // One more step while the hub is away: it waits as 待发送.
  await page.getByTestId("menu-dashboard").click();
  await page.getByTestId("urgent-cases").locator("tbody tr").first().click();
  await page.getByTestId("detail-state").waitFor();
  assert.equal((await page.getByTestId("detail-state").innerText()).trim(), "待核实");
  const caseId = Number(/cases\/(\d+)/.exec(page.url())[1]);
  await page.getByTestId("act-verify").click();
  await page.getByTestId("action-dialog").waitFor();
  await page.getByTestId("outcome-true").click();
  await page.locator('textarea[data-testid="action-text"], [data-testid="action-text"] textarea').first().fill("属实");
  await page.getByTestId("action-submit").click();
  await page.locator(".el-message--success", { hasText: "已记入待发送" }).waitFor();

  // The admin serves a restored copy at the same address: another database.
  await hub.start(await copyDatabase(pg, "office_restored"));
  await page.waitForFunction(() => /服务器数据已更换/.test(document.querySelector('[data-testid="hub-state"]')?.textContent ?? ""), null, { timeout: 60_000 });
  await page.screenshot({ path: path.join(artifacts, "hub-epoch.png") });

  await page.getByTestId("hub-state").click();
  await page.getByTestId("hub-rebuild-dialog").waitFor();
  await field(page, "hub-rebuild-password").fill(PASSWORD);
  await page.getByTestId("hub-rebuild-submit").click();
  const box = page.locator(".el-message-box", { hasText: "原数据文件保留为" });
  await box.waitFor({ timeout: 60_000 });
  assert.match(await box.innerText(), /1 项操作已带入/);
  await page.screenshot({ path: path.join(artifacts, "hub-rebuilt.png") });
  await box.locator(".el-message-box__btns button").first().click();
  await page.waitForURL(/\/outbox/);
  const held = page.getByTestId("outbox-rejected");
  await held.waitFor();
  assert.match(await held.innerText(), new RegExp(`#${caseId}[\\s\\S]*重建前未被团队服务器受理`));
  await page.waitForFunction(() => /团队服务器 · 已连接/.test(document.querySelector('[data-testid="hub-state"]')?.textContent ?? ""));
  const status = await bridge(uiUrl, "hub_status", null);
  assert.equal(status.state, "connected");
  assert.equal(status.pending.length, 0, "nothing is sent by itself");
  assert.deepEqual(status.rejected.map((q) => [q.case_id, q.reason]), [[caseId, "epoch"]]);
});

test("a hub over https with a self-signed certificate: its fingerprint is shown before anything is sent, and pinned once trusted", async () => {
  const tlsHub = await startHub(await startPostgres(), hall, [["陈静", "officer"]], PASSWORD, { tls: true });
  assert.match(tlsHub.url, /^https:/);
  const desk = await startUi();
  const p = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  p.setDefaultTimeout(30_000);
  await p.goto(desk);
  await p.getByTestId("connect-hub").click();
  await field(p, "hub-url").fill(tlsHub.url);
  await field(p, "hub-name").fill("陈静");
  await field(p, "hub-password").fill(PASSWORD);
  await p.getByTestId("hub-connect-submit").click();
  // Not trusted by the system: the certificate is shown, nothing is connected.
  await p.getByTestId("hub-cert").waitFor();
  const shown = (await p.getByTestId("hub-cert-fingerprint").innerText()).trim();
  assert.equal(shown, certificateFingerprint(tlsHub.certificate));
  assert.equal((await bridge(desk, "hub_status", null)).state, "standalone");
  await p.screenshot({ path: path.join(artifacts, "hub-certificate.png") });
  await p.getByTestId("hub-cert-trust").click();
  await p.locator(".el-message--success", { hasText: "已连接团队服务器" }).waitFor();
  await p.waitForFunction(() => /团队服务器 · 已连接/.test(document.querySelector('[data-testid="hub-state"]')?.textContent ?? ""));
  // Pinned: the link trusts the kept certificate from now on.
  const status = await bridge(desk, "hub_status", null);
  assert.equal(status.state, "connected");
  assert.match(status.link.ca_file, /\.hub-ca\.pem$/);
  await p.close();
});
