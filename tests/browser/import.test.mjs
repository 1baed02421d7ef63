// 导入评价表格 in Debian's Chromium against `hcp serve-ui` on a fresh cache: an
// export as the provincial system writes it (title rows, 导出时间, a 合计 row,
// UTF-8 with a BOM) whose channel column has a header nobody recognises. The
// officer corrects that one column in the preview, imports, and finds the new
// hall's ratings in 评价查询 and its bad ones in 差评工单.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { artifacts, field, launchBrowser, pick, startUi, stopAll } from "../harness.mjs";

let ui, browser, page, file;
const HALL = "桐城市政务服务中心";

/** Beijing wall-clock time `minutes` ago, as exports write it. */
function beijingAgo(minutes) {
  return new Date(Date.now() - minutes * 60_000 + 8 * 3600_000).toISOString().slice(0, 19).replace("T", " ");
}

before(async () => {
  ui = await startUi();
  const dir = mkdtempSync(path.join(tmpdir(), "hcp-e2e-import-"));
  file = path.join(dir, "评价明细导出.csv");
  const rows = [
    ["评价时间", "评价等级", "服务中心", "窗口号", "工作人员", "评价终端", "评价内容"],
    [beijingAgo(300), "非常满意", HALL, "5", "周敏", "扫码评价", ""],
    [beijingAgo(240), "不满意", HALL, "5", "周敏", "扫码评价", "材料要求前后说法不一"],
    [beijingAgo(180), "满意", HALL, "6", "吴刚", "窗口评价器", ""],
    [beijingAgo(120), "非常不满意", HALL, "6", "吴刚", "12345热线", "电话一直没人接"],
    [beijingAgo(60), "很好", HALL, "6", "吴刚", "窗口评价器", ""],
  ];
  const text = ["桐城市政务服务好差评评价明细", `导出时间：${beijingAgo(10)}`, ...rows.map((r) => r.join(",")), "合计,5条,,,,,"].join("\r\n");
  writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")]));
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(20_000);
});

after(async () => {
  await browser?.close();
  stopAll();
});

test("import a spreadsheet, correct a column in the preview, find its ratings and cases", async () => {
  await page.goto(`${ui}#/halls`);
  await page.getByTestId("open-import").click();
  await page.locator('[data-testid="import-drop"] input[type="file"]').setInputFiles(file);

  // The preview: header under the title rows, a new layout, the new hall, the bad row.
  await page.getByTestId("import-preview").waitFor();
  const info = await page.getByTestId("import-file-info").innerText();
  assert.match(info, /表头在第 3 行/);
  assert.match(info, /新的表格格式/);
  assert.match(await page.getByTestId("import-new-halls").innerText(), new RegExp(HALL));
  assert.match(await page.getByTestId("preview-error").first().innerText(), /第 8 行「评价等级」.*很好/);
  // 「评价终端」 is not a header the console knows: the channel is unmapped.
  assert.deepEqual(await page.getByTestId("preview-channel").allInnerTexts(), ["其他", "其他", "其他", "其他", ""]);
  await page.screenshot({ path: path.join(artifacts, "import-1-preview.png"), fullPage: true });

  // The officer maps it; the preview follows.
  await pick(page, "map-channel", "评价终端");
  await page.getByTestId("preview-channel").first().filter({ hasText: "扫码评价" }).waitFor();
  const channels = await page.getByTestId("preview-channel").allInnerTexts();
  assert.deepEqual(channels.slice(0, 4), ["扫码评价", "扫码评价", "窗口评价器", "12345/电话"]);
  await field(page, "import-profile-name").fill("桐城导出（测试）");
  await page.screenshot({ path: path.join(artifacts, "import-2-mapped.png"), fullPage: true });

  await page.getByTestId("import-run").click();
  const summary = await page.getByTestId("import-summary").innerText();
  assert.match(summary, /读取 5 行：新增 4，更新 0，未变 0，隔离 1/);
  assert.match(summary, new RegExp(`新建大厅：${HALL}`));
  await page.screenshot({ path: path.join(artifacts, "import-3-done.png"), fullPage: true });

  // 评价查询 lists the new hall's four ratings with their channels.
  await page.getByTestId("import-see-evaluations").click();
  const evalRows = page.locator('[data-testid="evaluation-table"] .el-table__body tbody tr');
  await evalRows.filter({ hasText: HALL }).first().waitFor();
  assert.equal(await evalRows.filter({ hasText: HALL }).count(), 4);
  const table = await page.getByTestId("evaluation-table").innerText();
  assert.match(table, /12345\/电话/);
  assert.match(table, /材料要求前后说法不一/);

  // 差评工单 has the two bad ratings as cases waiting for verification.
  await page.getByTestId("menu-cases").click();
  const caseRows = page.locator('[data-testid="case-table"] .el-table__body tbody tr');
  await caseRows.filter({ hasText: HALL }).first().waitFor();
  assert.equal(await caseRows.filter({ hasText: HALL }).count(), 2);
  await page.screenshot({ path: path.join(artifacts, "import-4-cases.png"), fullPage: true });

  // 大厅与同步: the hall is marked as coming from files; the bad row is in quarantine.
  await page.getByTestId("menu-halls").click();
  await page.getByTestId("hall-from-file").first().waitFor();
  assert.match(await page.getByTestId("quarantine-table").innerText(), /第 8 行「评价等级」/);
});
