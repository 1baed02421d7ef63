// A file laid out as the national standard writes ratings (GB/T 39046-2020 表9:
// 办件编号, 评价渠道, 评价人, 评价时间 as YYYYMMDDThhmmss, 评价次数, 满意度,
// 满意度代码 per A.8, 文字评价, 行政区划), imported in the window on a fresh
// cache, in Debian's Chromium against `hcp serve-ui`. The officer names the hall,
// imports, finds the 二次评价 in the rating's history, and sees the
// 系统默认评价 counted apart in the report preview.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { artifacts, field, launchBrowser, pick, startUi, stopAll } from "../harness.mjs";

let ui, browser, page, file;
const HALL = "怀宁县政务服务中心";

/** Beijing time `minutes` ago as the standard writes it: 20261207T093105. */
function basicAgo(minutes) {
  return new Date(Date.now() - minutes * 60_000 + 8 * 3600_000).toISOString().slice(0, 19).replace(/[-:]/g, "");
}

/** The current Beijing month, YYYY-MM. */
function beijingMonth() {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 7);
}

before(async () => {
  ui = await startUi();
  const dir = mkdtempSync(path.join(tmpdir(), "hcp-e2e-gbt-"));
  file = path.join(dir, "政务服务绩效评价数据.csv");
  const rows = [
    ["办件编号", "评价渠道", "评价人", "评价时间", "评价次数", "满意度", "满意度代码", "文字评价", "行政区划"],
    ["340822-E2E-001", "移动服务端", "", basicAgo(50), "1", "不满意", "4", "等了一个多小时", "340822"],
    ["340822-E2E-001", "移动服务端", "", basicAgo(20), "2", "满意", "2", "整改后很快办好", "340822"],
    ["340822-E2E-002", "政务大厅平板电脑", "张敏", basicAgo(45), "1", "非常满意", "1", "", "340822"],
    ["340822-E2E-003", "系统默认评价", "", basicAgo(40), "1", "满意", "2", "", "340822"],
    ["340822-E2E-004", "系统默认评价", "", basicAgo(35), "1", "满意", "2", "", "340822"],
    ["340822-E2E-005", "PC端", "", basicAgo(30), "1", "基本满意", "3", "", "340822"],
  ];
  const text = rows.map((r) => r.join(",")).join("\r\n");
  writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")]));
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(20_000);
});

after(async () => {
  await browser?.close();
  stopAll();
});

test("a GB/T 39046 file: its layout recognised, its second rating in the history", async () => {
  await page.goto(`${ui}#/halls`);
  await page.getByTestId("open-import").click();
  await page.locator('[data-testid="import-drop"] input[type="file"]').setInputFiles(file);
  await page.getByTestId("import-preview").waitFor();
  assert.match(await page.getByTestId("import-layout").innerText(), /GB\/T 39046/);
  // The standard's channel words, the A.8 codes read the right way round.
  const channels = await page.getByTestId("preview-channel").allInnerTexts();
  assert.deepEqual(channels, ["移动端/小程序", "移动端/小程序", "窗口评价器", "系统默认评价", "系统默认评价", "网上办事"]);
  // The file names its hall by 行政区划: the officer names the hall.
  await field(page, "map-default-hall").fill(HALL);
  await field(page, "map-default-hall").press("Enter");
  await page.getByTestId("import-new-halls").filter({ hasText: HALL }).waitFor();
  await page.screenshot({ path: path.join(artifacts, "import-gbt-1-preview.png"), fullPage: true });

  await page.getByTestId("import-run").click();
  const summary = await page.getByTestId("import-summary").innerText();
  assert.match(summary, /读取 6 行：新增 5，更新 1，未变 0，隔离 0/);
  assert.match(await page.getByTestId("import-moved").innerText(), /二次评价\/追评 1/);
  await page.screenshot({ path: path.join(artifacts, "import-gbt-2-done.png"), fullPage: true });

  // 评价查询: the rated-again 办件 counts once, as 满意, with both ratings in its history.
  await page.getByTestId("import-see-evaluations").click();
  const rows = page.locator('[data-testid="evaluation-table"] .el-table__body tbody tr');
  await rows.filter({ hasText: HALL }).first().waitFor();
  assert.equal(await rows.filter({ hasText: HALL }).count(), 5);
  const revised = rows.filter({ hasText: "整改后很快办好" });
  assert.match(await revised.innerText(), /满意/);
  await revised.getByTestId("open-detail").click();
  const history = page.getByTestId("evaluation-history");
  await history.waitFor();
  assert.deepEqual(await history.getByTestId("history-how").allInnerTexts(), ["首次评价", "二次评价"]);
  assert.match(await history.innerText(), /等了一个多小时/);
  await page.waitForTimeout(500); // the drawer slides in
  await page.screenshot({ path: path.join(artifacts, "import-gbt-3-history.png"), fullPage: true });
  await page.keyboard.press("Escape");
});

test("系统默认评价 are counted apart in the report preview", async () => {
  await page.getByTestId("menu-reports").click();
  const monthInput = page.locator('[data-testid="r-month"] input, input[data-testid="r-month"]').first();
  await monthInput.click();
  await monthInput.fill(beijingMonth());
  await monthInput.press("Enter");
  await pick(page, "r-hall", HALL);
  await page.getByTestId("r-preview").click();
  await page.getByTestId("r-page").first().waitFor({ timeout: 90_000 });
  const text = (await page.getByTestId("r-page-text").allTextContents()).join("\n").replace(/\s+/g, "");
  // Three ratings by people (the 二次评价 counts once), two filled in by the system.
  assert.ok(text.includes("共收到有效评价3件"), text.slice(0, 400));
  assert.ok(text.includes("系统默认评价2件，占全部评价的40.00%，未计入评价量和好评率（按设置）"), text.slice(0, 600));
  await page.screenshot({ path: path.join(artifacts, "import-gbt-4-report.png"), fullPage: true });
});
