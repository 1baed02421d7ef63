// 电子监察预警 in the browser: two halls generated with anomalies planted at known
// units (`hcp-hall generate --plant-anomalies`), served by the real reference hall,
// synced by `hcp serve-ui` into a real SQLite file. The 工作台 card shows the open
// alerts by kind; a planted spike opens with its evidence and its daily series, is
// acknowledged with a note, and the note is in the monthly report's preview.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { artifacts, bridge, launchBrowser, startHall, startUi, stopAll } from "../harness.mjs";

const NOTE = "已约谈窗口负责人，差评逐件回访（E2E）";
let hall, url, browser, page;

before(async () => {
  hall = await startHall({ plant: true });
  url = await startUi();
  for (const h of hall.halls) await bridge(url, "add_hall", { url: h.url, token: hall.tokens[h.id], ca_file: null });
  await bridge(url, "set_user", { name: "陈静", role: "officer", hall_id: null });
  await bridge(url, "sync_now", { halls: [] });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(20_000);
  await page.goto(url);
});

after(async () => {
  await browser?.close();
  stopAll();
});

const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
const RULES = ["spike", "repeat_rater", "concentrated", "praise_burst", "malicious_rater"];

test("the 工作台 card counts the open alerts of each kind; every planted kind is there", async () => {
  const listed = await bridge(url, "alerts", { month: "2026-10", rule: null });
  await page.getByTestId("alerts-card").waitFor();
  for (const rule of RULES) {
    const open = listed.alerts.filter((a) => a.rule === rule && a.state === "open").length;
    const planted = hall.answerKey.plants.filter((p) => p.rule === rule).length;
    assert.ok(planted > 0 && open >= planted, `${rule}: ${open} open alerts for ${planted} plants`);
    // The counts arrive after the card (the month's alerts load in the background).
    const count = () => page.getByTestId(`alerts-${rule}`).locator(".todo-n").innerText();
    await page
      .waitForFunction(
        ([id, n]) => Number((document.querySelector(`[data-testid="${id}"] .todo-n`)?.textContent ?? "").replace(/,/g, "")) === n,
        [`alerts-${rule}`, open],
        { timeout: 15_000 },
      )
      .catch(() => undefined);
    const shown = await count();
    assert.equal(Number(shown.replace(/,/g, "")), open, rule);
  }
  await shot("alerts-1-card");
});

test("a planted spike opens with its evidence and series, and is acknowledged with a note", async () => {
  const plant = hall.answerKey.plants.find((p) => p.rule === "spike");
  await page.getByTestId("alerts-spike").click();
  await page.getByTestId("alerts").waitFor();
  // Halls and windows by name, not code.
  const hallName = (await bridge(url, "list_halls", null)).find((h) => h.hall.hall_id === plant.hall_id).hall.name;
  const row = page.getByTestId("alerts-table").locator("tr.el-table__row", { hasText: `${plant.code}窗口` }).filter({ hasText: hallName }).first();
  await row.click();
  const drawer = page.getByTestId("alert-drawer");
  assert.match(await drawer.locator(".el-descriptions").innerText(), new RegExp(hallName));
  const explanation = await drawer.getByTestId("alert-detail-explanation").innerText();
  assert.match(explanation, new RegExp(`^${plant.code}窗口 \\d+月\\d+日差评 \\d+ 条，近\\d周日均 [\\d.]+ 条$`));
  // Every planted rating is in the evidence table (the day may add ordinary ones).
  const evidence = await drawer.getByTestId("alert-evidence").locator("tr.el-table__row td:first-child").allInnerTexts();
  for (const id of plant.evaluations) assert.ok(evidence.includes(id), `${id} in the evidence`);
  // The whole evidence table fits the drawer: its last column (工单) is not cut off.
  const fits = await drawer.evaluate((el) => {
    const body = el.querySelector(".el-drawer__body").getBoundingClientRect();
    const head = [...el.querySelectorAll('[data-testid="alert-evidence"] th')].pop().getBoundingClientRect();
    return head.right <= body.right + 1;
  });
  assert.ok(fits, "工单 column visible");
  // The daily series is drawn (ECharts, loaded with the first chart).
  await drawer.getByTestId("alert-series").locator("canvas").first().waitFor();
  await shot("alerts-2-detail");

  await drawer.getByTestId("alert-ack").click();
  const box = page.locator(".el-message-box");
  await box.locator("textarea").fill(NOTE);
  await box.locator(".el-message-box__btns .el-button--primary").click();
  await drawer.getByTestId("alert-state").filter({ hasText: "已确认" }).waitFor();
  assert.equal(await drawer.getByTestId("alert-note").innerText(), NOTE);
  await shot("alerts-3-acknowledged");

  // 在评价查询中查看: the window and the day, bad ratings only.
  await drawer.getByTestId("alert-to-evaluations").click();
  await page.getByTestId("evaluations").waitFor();
  assert.match(await page.getByTestId("f-window").innerText(), new RegExp(plant.code));
  await page.locator('[data-testid="evaluations"] .el-table__row').first().waitFor();
});

test("the acknowledgement and its note are in the monthly report's preview", async () => {
  await page.getByTestId("menu-reports").click();
  const monthInput = page.locator('[data-testid="r-month"] input, input[data-testid="r-month"]').first();
  await monthInput.click();
  await monthInput.fill("2026-10");
  await monthInput.press("Enter");
  await page.getByTestId("r-preview").click();
  await page.getByTestId("r-page").first().waitFor({ timeout: 90_000 });
  const text = (await page.getByTestId("r-page-text").allTextContents()).join("\n");
  assert.match(text, /预警与处置/);
  assert.match(text, /已确认 1 条/);
  // The note may wrap across lines in the table cell.
  assert.ok(text.replace(/\s+/g, "").includes(`已确认：${NOTE}`.replace(/\s+/g, "")), "the note is printed");
  await shot("alerts-4-report");
});
