// The shopper's loop both ways, in Debian's Chromium against two `hcp serve-ui`
// installations and the real reference hall: the officer's task package brings the
// hall to a shopper's laptop that never registers it; the hand-in goes to the
// office; the officer returns it with a comment on an item; the review goes back;
// the shopper sees the comment, fixes it and hands in revision 2; the officer
// accepts. Screenshots go to artifacts/e2e/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { artifacts, bridge, field, fillVisit, launchBrowser, startHall, startUi, stopAll } from "../harness.mjs";

let hall, officeUrl, shopUrl, browser, office, shop;

before(async () => {
  hall = await startHall();
  officeUrl = await startUi();
  shopUrl = await startUi();
  // The office has the hall; the shopper's laptop has nothing but a profile.
  await bridge(officeUrl, "add_hall", { url: hall.halls[0].url, token: hall.tokens[hall.halls[0].id], ca_file: null });
  await bridge(shopUrl, "set_user", { name: "暗访员乙", role: "shopper", hall_id: null });
  browser = await launchBrowser();
  office = await browser.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  shop = await browser.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  for (const p of [office, shop]) p.setDefaultTimeout(20_000);
});

after(async () => {
  await browser?.close();
  stopAll();
});

/** Clicks `button` and keeps the file the page downloads. */
async function download(page, testid, name) {
  const [d] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testid).click()]);
  const file = path.join(artifacts, name);
  await d.saveAs(file);
  return { file, suggested: d.suggestedFilename() };
}

async function success(page, text) {
  await page.locator(".el-message--success", { hasText: text }).first().waitFor();
}

test("task package out, hand-in back, return with a comment, fix, revision 2 accepted", async () => {
  // The office: its key, a task package for the hall.
  await office.goto(`${officeUrl}#/visits`);
  const officeKey = await field(office, "public-key").inputValue();
  await office.getByTestId("open-plan").click();
  await office.locator('[data-testid="plan-halls"]').click();
  await office.locator(".el-select-dropdown__item:visible").first().click();
  await office.keyboard.press("Escape");
  await office.locator('textarea[data-testid="plan-note"]').fill("本周二上午暗访，重点看一次性告知");
  const pkg = await download(office, "plan-export", "task.hcpt");
  assert.match(pkg.suggested, /\.hcpt$/);

  // The shopper's laptop: trust the office's key, import the package, start the task.
  await shop.goto(`${shopUrl}#/visits`);
  const shopKey = await field(shop, "public-key").inputValue();
  assert.equal((await bridge(shopUrl, "list_halls")).length, 0, "no hall registered by URL");
  await shop.getByTestId("open-trust").click();
  await field(shop, "trust-key").fill(officeKey);
  await field(shop, "trust-name").fill("效能督查室");
  await shop.getByTestId("trust-submit").click();
  await success(shop, "已信任");
  await shop.getByTestId("import-file").setInputFiles(pkg.file);
  await success(shop, "暗访任务");
  // The list reloads after the message: wait for the row, then read the table.
  await shop.getByTestId("task-table").getByText("本周二上午暗访").first().waitFor();
  assert.match(await shop.getByTestId("task-table").innerText(), /本周二上午暗访/);
  await shop.screenshot({ path: path.join(artifacts, "20-shopper-tasks.png") });
  await shop.getByTestId("start-task").click();
  await shop.getByTestId("visit-form").waitFor();
  await fillVisit(shop, ["3.3"]);
  await shop.getByTestId("submit-visit").click();
  await shop.waitForFunction(() => document.querySelector('[data-testid="visit-state-tag"]')?.textContent?.trim() === "已提交");
  const visitId = decodeURIComponent(new URL(shop.url()).hash.split("/").pop());
  const r1 = await download(shop, "export-visit", "loop-r1.hcpv");

  // The office: trust the shopper, import, return with a comment on 3.3.
  await office.getByTestId("open-trust").click();
  await field(office, "trust-key").fill(shopKey);
  await field(office, "trust-name").fill("暗访员乙");
  await office.getByTestId("trust-submit").click();
  await success(office, "已信任");
  await office.getByTestId("import-file").setInputFiles(r1.file);
  await success(office, "已导入暗访记录");
  await office.goto(`${officeUrl}#/visits/${visitId}`);
  await office.getByTestId("review-panel").waitFor();
  await office.getByTestId("section-2").click();
  await field(office, "comment-3.3").fill("请写明是哪个窗口，并补拍照片");
  await office.locator('textarea[data-testid="review-text"]').fill("3.3 证据不足，请补充后重新交件");
  await office.getByTestId("return-visit").click();
  await success(office, "已退回");
  const review = await download(office, "export-review", "loop-review.hcpr");
  assert.match(review.suggested, /\.hcpr$/);

  // The shopper: import the review, see the comment beside the item, fix, hand in rev 2.
  await shop.goto(`${shopUrl}#/visits`);
  await shop.getByTestId("import-file").setInputFiles(review.file);
  await success(shop, "已导入审核意见");
  await shop.goto(`${shopUrl}#/visits/${visitId}`);
  await shop.waitForFunction(() => document.querySelector('[data-testid="visit-state-tag"]')?.textContent?.trim() === "已退回");
  assert.match(await shop.getByTestId("review-note").innerText(), /3\.3 证据不足/);
  await shop.getByTestId("section-2").click();
  assert.match(await shop.getByTestId("review-comment-3.3").innerText(), /请写明是哪个窗口/);
  await shop.screenshot({ path: path.join(artifacts, "21-shopper-sees-the-comment.png"), fullPage: true });
  await shop.locator('textarea[data-testid="note-3.3"]').fill("A01 窗口，工作人员称“不归我管”，照片已补");
  await shop.locator('textarea[data-testid="note-3.3"]').blur();
  await shop.waitForFunction(() => /已自动保存/.test(document.querySelector('[data-testid="saved-indicator"]')?.textContent ?? ""));
  await shop.getByTestId("submit-visit").click();
  await success(shop, "第 2 版");
  const r2 = await download(shop, "export-visit", "loop-r2.hcpv");

  // The office: revision 2 replaces revision 1; accepted.
  await office.goto(`${officeUrl}#/visits`);
  await office.getByTestId("import-file").setInputFiles(r2.file);
  await success(office, "已用第 2 版替换");
  await office.goto(`${officeUrl}#/visits/${visitId}`);
  await office.getByTestId("review-panel").waitFor();
  await office.getByTestId("section-2").click();
  assert.match(await office.locator('textarea[data-testid="note-3.3"]').inputValue(), /A01 窗口/);
  await office.getByTestId("accept-visit").click();
  await success(office, "生成整改任务 1 件");
  await office.waitForFunction(() => document.querySelector('[data-testid="visit-state-tag"]')?.textContent?.trim() === "审核通过");
  await office.screenshot({ path: path.join(artifacts, "22-office-accepted-rev2.png") });
  const detail = await bridge(officeUrl, "visit_detail", { visit_id: visitId });
  assert.equal(detail.visit.rev, 2);
  assert.equal(detail.visit.shopper, "暗访员乙");
});
