// Hub mode in the window, in Debian's Chromium: a real PostgreSQL cluster, the
// reference hall, `hcp hub serve`, and `hcp serve-ui` on a fresh SQLite file. The
// first-run card offers 连接团队服务器; a wrong password is refused with a zh-CN
// message and connects nothing; the right one makes the desk a replica: the header
// shows the account from the hub and 团队服务器 · 已连接, and the dashboard fills
// with the office's cases.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { artifacts, field, launchBrowser, startHall, startHub, startPostgres, startUi, stopAll } from "../harness.mjs";

const PASSWORD = "correct horse 1";
let hubUrl, uiUrl, browser, page;

before(async () => {
  const pg = await startPostgres();
  const hall = await startHall();
  hubUrl = await startHub(pg, hall, [["陈静", "officer"]], PASSWORD);
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
