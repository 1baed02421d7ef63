// Browser E2E: the real UI in Debian's Chromium against `hcp serve-ui` and the real
// reference hall. Screenshots go to artifacts/e2e/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { appendToHall, artifacts, bridge, field, launchBrowser, pick, startHall, startUi, stopAll } from "../harness.mjs";

const HOSTILE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">跑了三趟';
const CASE_EVAL = "ECASE0001";
let hall, url, browser, page;

before(async () => {
  hall = await startHall();
  // A bad rating whose comment tries to run script: it must show as text.
  await appendToHall(hall.halls[0].id, hall.admin, hall.base, {
    kind: "evaluation",
    data: {
      id: "EXSS0001", rev: 1, hall_id: hall.halls[0].id, channel: "qr_code", level: 1,
      reasons: ["attitude"], comment: HOSTILE, evaluated_at: "2026-10-20T10:00:00+08:00", status: "valid",
    },
  });
  // The bad rating the case flow walks from inbox to closed.
  await appendToHall(hall.halls[0].id, hall.admin, hall.base, {
    kind: "evaluation",
    data: {
      id: CASE_EVAL, rev: 1, hall_id: hall.halls[0].id, channel: "window_device", level: 2, window_no: "A01",
      reasons: ["repeat_visits"], comment: "材料一次没说清楚，跑了三趟（工单流程测试）", evaluated_at: "2026-10-02T09:31:05+08:00",
      status: "valid", evaluator: { real_name: true, name_masked: "李*", phone_masked: "138****5521", id_hash: "e2e-hash" },
    },
  });
  url = await startUi();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(15_000);
  page.on("dialog", (d) => {
    throw new Error(`unexpected dialog: ${d.message()}`);
  });
  await page.goto(url);
});

after(async () => {
  await browser?.close();
  stopAll();
});

const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

test("first run offers the demo and a way to add a hall", async () => {
  await page.getByTestId("first-run").waitFor();
  assert.match(await page.getByTestId("first-run").innerText(), /载入演示数据/);
  // Who is signed in arrives with the app's info, a moment after the first page.
  await page.waitForFunction(() => /效能督查员/.test(document.querySelector('[data-testid="current-user"]')?.textContent ?? ""), null, { timeout: 15_000 }).catch(() => undefined);
  assert.match(await page.getByTestId("current-user").innerText(), /效能督查员/);
  // The bridge token left the address bar as soon as the page read it.
  assert.doesNotMatch(page.url(), /token=/);
  await shot("01-first-run");
});

test("a wrong token gets a clear zh-CN error and adds nothing", async () => {
  await page.getByTestId("menu-halls").click();
  await page.getByTestId("open-add-hall").click();
  await field(page, "hall-url").fill(hall.halls[0].url);
  await field(page, "hall-token").fill("not-the-token");
  await page.getByTestId("add-hall-submit").click();
  const err = page.getByTestId("add-hall-error");
  await err.waitFor();
  const text = await err.innerText();
  assert.match(text, /令牌/);
  assert.match(text, /401/);
  assert.doesNotMatch(text, /not-the-token/);
  await shot("02-wrong-token");
  await field(page, "hall-token").fill("");
});

test("adding both halls and syncing fills the counts", async () => {
  for (const [i, h] of hall.halls.entries()) {
    if (i > 0) await page.getByTestId("open-add-hall").click();
    await field(page, "hall-url").fill(h.url);
    await field(page, "hall-token").fill(hall.tokens[h.id]);
    await page.getByTestId("add-hall-submit").click();
    await page.getByTestId("add-hall-dialog").waitFor({ state: "hidden" });
  }
  await page.getByTestId("sync-all").click();
  await page.locator(".el-message--success", { hasText: "同步完成" }).waitFor({ timeout: 60_000 });
  const counts = await page.getByTestId("hall-evaluations").allInnerTexts();
  assert.equal(counts.length, 2);
  for (const c of counts) assert.ok(Number(c.replace(/,/g, "")) > 1000, `count ${c}`);
  const states = await page.getByTestId("hall-sync-state").allInnerTexts();
  assert.deepEqual(states, ["完成", "完成"]);
  await shot("03-halls-synced");
});

test("the dashboard shows the month's figures", async () => {
  await page.getByTestId("menu-dashboard").click();
  await page.getByTestId("stat-month").waitFor();
  await page.waitForFunction(() => Number((document.querySelector('[data-testid="stat-month"]')?.textContent ?? "").replace(/,/g, "")) > 0);
  assert.match(await page.getByTestId("not-current").innerText(), /2026年10月/);
  assert.match(await page.getByTestId("stat-good-rate").innerText(), /^\d+\.\d\d%$/);
  assert.ok(Number((await page.getByTestId("stat-bad").innerText()).replace(/,/g, "")) > 0);
  assert.ok((await page.getByTestId("daily-chart").locator("rect").count()) >= 31);
  await shot("04-dashboard");
});

test("bad ratings of one window, then a detail", async () => {
  await page.getByTestId("menu-evaluations").click();
  await page.getByTestId("evaluation-table").waitFor();
  await page.locator('[data-testid="f-hall"]').click();
  const hallOption = page.locator(".el-select-dropdown__item:visible").first();
  const hallName = (await hallOption.innerText()).trim();
  assert.ok(hallName.length > 0);
  await hallOption.click();
  // The window list follows the hall.
  await page.waitForTimeout(300);
  await page.getByTestId("f-bad-only").click();
  await pick(page, "f-channel", "窗口评价器");
  await page.getByTestId("search").click();
  const firstRow = page.locator('[data-testid="evaluation-table"] .el-table__body-wrapper tbody tr').first();
  await firstRow.waitFor();
  // A window that has bad ratings: the one of the newest bad rating of this hall.
  const windowNo = (await firstRow.locator("td").nth(5).innerText()).trim();
  assert.ok(windowNo.length > 0);
  await page.locator('[data-testid="f-window"]').click();
  await page.locator(".el-select-dropdown__item:visible", { hasText: new RegExp(`^${windowNo} `) }).first().click();
  await page.getByTestId("total").evaluate((el) => (el.textContent = ""));
  await page.getByTestId("search").click();
  await page.waitForFunction(() => /共 [\d,]+ 条/.test(document.querySelector('[data-testid="total"]')?.textContent ?? ""));
  const rows = page.locator('[data-testid="evaluation-table"] .el-table__body-wrapper tbody tr');
  await rows.first().waitFor();
  const n = await rows.count();
  assert.ok(n > 0);
  for (let i = 0; i < n; i++) {
    const cells = await rows.nth(i).locator("td").allInnerTexts();
    assert.match(cells[2], /不满意/, `row ${i} level ${cells[2]}`);
    assert.equal(cells[5].trim(), windowNo, `row ${i} window`);
    assert.equal(cells[1].trim(), hallName);
  }
  await shot("05-filtered");
  await rows.first().getByTestId("open-detail").click();
  const detail = page.getByTestId("detail");
  await detail.waitFor();
  await page.waitForTimeout(500); // the drawer's slide-in, for the screenshot
  const text = await detail.innerText();
  assert.match(text, new RegExp(windowNo));
  assert.match(text, /非常不满意|不满意/);
  assert.doesNotMatch(text, /id_hash/);
  await shot("06-detail");
  await page.keyboard.press("Escape");
});

test("a comment with <script> and <img onerror> shows as text and runs nothing", async () => {
  await page.getByTestId("reset").click();
  await field(page, "f-text").fill("<script>");
  await page.getByTestId("search").click();
  const cell = page.getByTestId("comment-cell").first();
  await page.waitForFunction(() => (document.querySelector('[data-testid="comment-cell"]')?.textContent ?? "").includes("<script>"));
  assert.equal((await cell.innerText()).trim(), HOSTILE);
  await page.getByTestId("open-detail").first().click();
  const comment = page.getByTestId("detail-comment");
  await comment.waitFor();
  assert.equal((await comment.innerText()).trim(), HOSTILE);
  assert.equal(await comment.locator("img, script").count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.waitForTimeout(500);
  await shot("07-hostile-comment");
});

/** Opens the case of CASE_EVAL from the inbox; returns the case page's state text. */
async function openCaseFromInbox() {
  // The evaluation drawer of an earlier test may still be open.
  if (await page.locator(".el-drawer").isVisible()) {
    await page.keyboard.press("Escape");
    await page.locator(".el-drawer").waitFor({ state: "hidden" });
  }
  await page.getByTestId("menu-cases").click();
  await page.getByTestId("case-table").waitFor();
  await field(page, "c-text").fill(CASE_EVAL);
  await page.getByTestId("c-search").click();
  await page.waitForFunction(() => /共 1 条/.test(document.querySelector('[data-testid="case-total"]')?.textContent ?? ""));
  await page.getByTestId("open-case").first().click();
  await page.getByTestId("detail-state").waitFor();
  return (await page.getByTestId("detail-state").innerText()).trim();
}

/** Opens an action's dialog, fills it and submits; waits for the new state. */
async function act(action, { choose, text, expect } = {}) {
  await page.getByTestId(`act-${action}`).click();
  const dialog = page.getByTestId("action-dialog");
  await dialog.waitFor();
  if (choose) await page.getByTestId(choose).click();
  if (text !== undefined) await page.locator('textarea[data-testid="action-text"], [data-testid="action-text"] textarea').first().fill(text);
  await page.getByTestId("action-submit").click();
  await page.waitForFunction((want) => document.querySelector('[data-testid="detail-state"]')?.textContent?.trim() === want, expect);
  await dialog.waitFor({ state: "hidden" });
}

test("one bad-rating case from the inbox to closed, every decision delivered to the hall", async () => {
  assert.equal(await openCaseFromInbox(), "待核实");
  assert.match(await page.getByTestId("detail-case-comment").innerText(), /跑了三趟/);
  assert.match(await page.getByTestId("deadline").innerText(), /核实时限/);
  // Nothing chosen for the officer, and nothing sent without a conclusion and a
  // note: each missing field says so in zh-CN, and no request leaves.
  await page.getByTestId("act-verify").click();
  assert.equal(await page.getByTestId("action-dialog").locator(".el-radio.is-checked").count(), 0);
  let requests = 0;
  const count = (r) => { if (r.url().includes("/api/case_action")) requests++; };
  page.on("request", count);
  await page.getByTestId("action-submit").click();
  await page.getByTestId("action-dialog").locator(".el-form-item__error").nth(1).waitFor();
  const errors = await page.getByTestId("action-dialog").locator(".el-form-item__error").allInnerTexts();
  assert.deepEqual(errors, ["请先选择", "请填写核实说明"]);
  assert.equal(await page.getByTestId("action-error").count(), 0);
  page.off("request", count);
  assert.equal(requests, 0, "no request without the required fields");
  await page.getByRole("button", { name: "取消" }).click();
  await act("verify", { choose: "outcome-true", text: "调取窗口录像，情况属实", expect: "整改中" });
  await shot("08-case-verified");

  // The hall reports its rectification; the next sync moves the case.
  await appendToHall(hall.halls[0].id, hall.admin, hall.base, {
    kind: "rectification",
    data: {
      id: "RC-E2E-1", rev: 1, hall_id: hall.halls[0].id, evaluation_id: CASE_EVAL, submitted_at: "2026-10-30T16:20:00+08:00",
      responsible: "王敏", measures: "已对窗口人员开展一次性告知培训", attachments: [],
    },
  });
  await page.getByTestId("menu-halls").click();
  await page.getByTestId("sync-all").click();
  await page.locator(".el-message--success", { hasText: "同步完成" }).last().waitFor({ timeout: 60_000 });

  assert.equal(await openCaseFromInbox(), "待验收");
  assert.match(await page.getByTestId("follow-up").last().innerText(), /一次性告知培训/);
  await act("accept", { expect: "待回访" });
  await act("callback", { choose: "result-satisfied", text: "电话回访，评价人表示满意", expect: "已办结" });
  const steps = await page.getByTestId("timeline-item").allInnerTexts();
  assert.equal(steps.length, 5, steps.join("\n"));
  assert.match(steps[1], /核实结论：属实/);
  assert.match(steps[2], /大厅提交整改报告/);
  assert.match(steps[3], /整改验收通过/);
  assert.match(steps[4], /回访结果：满意/);
  assert.equal(await page.getByTestId("case-actions").count(), 0, "a closed case offers no actions");
  // The decisions left by themselves after each step (the opening went out with
  // the sync); the verification is listed beside them, kept on this desk.
  await page.waitForFunction(() => {
    const s = [...document.querySelectorAll('[data-testid="decision-state"]')].map((e) => e.textContent.trim());
    return s.length === 5 && s.slice(0, 4).every((x) => x === "已送达");
  }, null, { timeout: 60_000 });
  const delivery = await page.getByTestId("decision-state").allInnerTexts();
  assert.deepEqual(delivery, ["已送达", "已送达", "已送达", "已送达", "本机记录"], "newest first, the verification last");
  assert.equal(await page.getByTestId("decisions-send").count(), 0, "nothing left to send by hand");
  await shot("09-case-closed");

  // 立即发送 on the inbox stays as a fallback: nothing is sent twice; the hall
  // has each decision once.
  await page.getByTestId("menu-cases").click();
  await page.getByTestId("push-now").click();
  await page.locator(".el-message--info", { hasText: "没有待发送的决定" }).waitFor();
  const res = await fetch(`${hall.base}/admin/h/${hall.halls[0].id}/decisions`, { headers: { authorization: `Bearer ${hall.admin}` } });
  const mine = (await res.json()).decisions.filter((d) => d.evaluation_id === CASE_EVAL);
  assert.deepEqual(
    mine.map((d) => d.kind),
    ["case_opened", "rectification_accepted", "callback", "case_closed"],
  );
  assert.equal(mine[1].ref_id, "RC-E2E-1");
  assert.equal(mine[2].outcome, "satisfied");
  assert.equal(new Set(mine.map((d) => d.id)).size, 4);
});

test("the appeals queue lists only cases under appeal", async () => {
  await page.getByTestId("menu-appeals").click();
  // The inbox the previous test left has the same test ids: wait for the route,
  // then for the appeals page's own rows (the generated halls filed appeals), not
  // for a count that may still be the page's initial "共 0 条".
  await page.waitForFunction(() => location.hash.startsWith("#/appeals"));
  await page.getByTestId("case-table").waitFor();
  await page.waitForFunction(() => {
    const s = [...document.querySelectorAll('[data-testid="case-state"]')].map((e) => e.textContent.trim());
    return s.length > 0 && !s.includes("整改中") && !s.includes("办结");
  });
  const states = await page.getByTestId("case-state").allInnerTexts();
  assert.ok(states.length > 0, "the generated halls filed appeals");
  for (const s of states) assert.equal(s.trim(), "申诉中");
  await shot("10-appeals");
});

test("settings: deadline policies and the calendar", async () => {
  await page.getByTestId("menu-settings").click();
  await page.getByTestId("policy-table").waitFor();
  assert.match(await page.getByTestId("calendar-years").innerText(), /2024、2025、2026/);
  await page.getByTestId("policy-edit-default").click();
  await page.getByTestId("p-rectify").locator("input").fill("10");
  await page.getByTestId("policy-save").click();
  await page.locator(".el-message--success", { hasText: "已保存" }).waitFor();
  assert.match(await page.getByTestId("policy-table").locator("tbody tr").first().innerText(), /\b10\b/);
  await shot("11-settings");
});

// A 64×48 PNG (one colour), as a photo from the field.
const PHOTO = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAEAAAAAwCAIAAAAuKetIAAAAZElEQVR4nO3PUQkAIBTAwBfHOMY2liH8OITBAtzm7PV1wwUNaEEDWtCAFjSgBQ1oQQNa0IAWNKAFDWhBA1rQgBY0oAUNaEEDWtCAFjSgBQ1oQQNa0IAWNKAFDWhBA1rQgBY8dgGMoQDivq/y5gAAAABJRU5ErkJggg==",
  "base64",
);

test("a shopper fills a visit with a photo, submits and exports; an officer imports and accepts it", async () => {
  // The shopper's own installation: another cache, another signing key.
  const shopUrl = await startUi();
  await bridge(shopUrl, "add_hall", { url: hall.halls[0].url, token: hall.tokens[hall.halls[0].id], ca_file: null });
  await bridge(shopUrl, "set_user", { name: "暗访员甲", role: "shopper", hall_id: null });
  const shop = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  shop.setDefaultTimeout(15_000);
  await shop.goto(`${shopUrl}#/visits`);
  await shop.getByTestId("new-visit").click();
  await shop.locator('[data-testid="new-visit-hall"]').click();
  await shop.locator(".el-select-dropdown__item:visible").first().click();
  await shop.getByTestId("new-visit-submit").click();
  await shop.getByTestId("visit-form").waitFor();
  await shop.getByTestId("section-0").waitFor();

  for (let i = 0; i < 9; i++) {
    await shop.getByTestId(`section-${i}`).click();
    const passes = shop.locator('[data-testid^="pass-"]');
    await passes.first().waitFor();
    const n = await passes.count();
    for (let k = 0; k < n; k++) {
      const id = (await passes.nth(k).getAttribute("data-testid")).slice(5);
      if (id === "3.3") await shop.getByTestId("deduct-3.3").click();
      else await passes.nth(k).click();
    }
    if (i === 2) {
      // A deduction without grounds says it needs a note or a photo.
      await shop.getByTestId("grounds-3.3").waitFor();
      // A wrong photo goes back off; the right one can be looked at closely.
      const wrong = path.join(artifacts, "e2e-wrong-photo.png");
      writeFileSync(wrong, Buffer.concat([PHOTO, Buffer.from("wrong")]));
      await shop.getByTestId("photo-3.3").setInputFiles(wrong);
      await shop.getByTestId("photo-thumb").locator("img").waitFor();
      await shop.getByTestId("photo-remove").click();
      await shop.locator(".el-message-box .el-button--primary").click();
      await shop.waitForFunction(() => document.querySelectorAll('[data-testid="photo-thumb"]').length === 0);
      await shop.locator('textarea[data-testid="note-3.3"]').fill("窗口人员说“不归我管”");
      const photo = path.join(artifacts, "e2e-photo.png");
      writeFileSync(photo, PHOTO);
      await shop.getByTestId("photo-3.3").setInputFiles(photo);
      await shop.getByTestId("photo-thumb").locator("img").waitFor();
      assert.equal(await shop.getByTestId("grounds-3.3").count(), 0);
      await shop.getByTestId("photo-enlarge").click();
      await shop.getByTestId("photo-big").waitFor();
      assert.ok(await shop.getByTestId("photo-big").evaluate((img) => img.complete && img.naturalWidth > 0), "the photo shows");
      await shop.getByTestId("photo-dialog").locator(".el-dialog__headerbtn").click();
    }
  }
  // Times are typed as people type them, in the format the field shows.
  await shop.getByTestId("section-info").click();
  await shop.getByTestId("visit-start").fill("1005");
  await shop.getByTestId("visit-start").press("Tab");
  await shop.getByTestId("visit-end").fill("9:30");
  await shop.getByTestId("visit-end").press("Tab");
  await shop.getByText("结束时间早于开始时间").waitFor();
  await shop.getByTestId("visit-end").fill("10点50");
  await shop.getByTestId("visit-end").press("Tab");
  await shop.waitForFunction(() => document.querySelector('[data-testid="visit-end"]')?.value === "10:50");
  assert.equal(await shop.getByTestId("visit-start").inputValue(), "10:05");
  await shop.waitForFunction(() => /已自动保存/.test(document.querySelector('[data-testid="saved-indicator"]')?.textContent ?? ""));
  assert.match(await shop.getByTestId("visit-progress").innerText(), /41\/41/);
  assert.equal((await shop.getByTestId("running-score").innerText()).trim(), "99.0"); // (101 - 1) / 101
  await shop.screenshot({ path: path.join(artifacts, "12-visit-filled.png"), fullPage: false });

  // A reload shows everything entered: nothing is held in the page only.
  await shop.reload();
  await shop.getByTestId("section-2").click();
  assert.equal(await shop.locator('textarea[data-testid="note-3.3"]').inputValue(), "窗口人员说“不归我管”");
  await shop.getByTestId("section-info").click();
  assert.equal(await shop.getByTestId("visit-start").inputValue(), "10:05");
  assert.equal(await shop.getByTestId("visit-end").inputValue(), "10:50");
  await shop.getByTestId("section-2").click();

  await shop.getByTestId("submit-visit").click();
  await shop.waitForFunction(() => document.querySelector('[data-testid="visit-state-tag"]')?.textContent?.trim() === "已提交");
  // Submitted, not yet handed in: 待发送 lists it.
  const form = shop.url();
  await shop.getByTestId("menu-outbox").click();
  await shop.getByTestId("outbox-local-visits").locator(".el-table__body tbody tr").first().waitFor();
  assert.equal(await shop.getByTestId("outbox-export-visit").count(), 1);
  await shop.goto(form);
  await shop.getByTestId("export-visit").waitFor();
  const [download] = await Promise.all([shop.waitForEvent("download"), shop.getByTestId("export-visit").click()]);
  const bundle = path.join(artifacts, "visit.hcpv");
  await download.saveAs(bundle);
  assert.match(download.suggestedFilename(), /\.hcpv$/);
  // Exported: marked in the list, and nothing waits in 待发送.
  await shop.goto(`${shopUrl}#/visits`);
  await shop.getByTestId("visit-exported").first().waitFor();
  await shop.getByTestId("menu-outbox").click();
  await shop.getByTestId("outbox-local-visits").locator(".el-table__empty-text").waitFor();
  await shop.getByTestId("menu-visits").click();
  const publicKey = await field(shop, "public-key").inputValue();
  assert.match(publicKey, /^[0-9a-f]{64}$/);
  await shop.close();

  // The officer (the main page's installation) trusts the key, imports, accepts.
  await page.getByTestId("menu-visits").click();
  await page.getByTestId("open-trust").click();
  await field(page, "trust-key").fill(publicKey);
  await field(page, "trust-name").fill("暗访员甲");
  await page.getByTestId("trust-submit").click();
  await page.locator(".el-message--success", { hasText: "已信任" }).waitFor();
  await page.getByTestId("import-file").setInputFiles(bundle);
  await page.locator(".el-message--success", { hasText: "已导入暗访记录" }).waitFor();
  await page.getByTestId("open-visit").first().click();
  await page.getByTestId("review-panel").waitFor();
  assert.match(await page.getByTestId("review-panel").innerText(), /99\.0/);
  await page.getByTestId("section-2").click();
  await page.getByTestId("photo-thumb").locator("img").waitFor();
  await page.screenshot({ path: path.join(artifacts, "13-visit-review.png") });
  await page.getByTestId("accept-visit").click();
  await page.locator(".el-message--success", { hasText: "生成整改任务 1 件" }).waitFor();

  // The finding is a task in the inbox, under its own filter.
  await page.getByTestId("menu-cases").click();
  await pick(page, "c-kind", "暗访发现问题");
  await field(page, "c-text").fill("");
  await page.getByTestId("c-search").click();
  await page.waitForFunction(() => /共 1 条/.test(document.querySelector('[data-testid="case-total"]')?.textContent ?? ""));
  assert.equal(await page.getByTestId("kind-finding").count(), 1);
  assert.equal((await page.getByTestId("case-state").first().innerText()).trim(), "整改中");

  // Revoking the shopper's key: its bundles are refused from then on.
  await page.getByTestId("menu-visits").click();
  await page.getByTestId("revoke-key").click();
  await page.locator(".el-message-box__btns .el-button--primary").click();
  await page.locator(".el-message--success", { hasText: "已撤销对 暗访员甲" }).waitFor();
  await page.getByTestId("trusted-key").filter({ hasText: "已撤销" }).waitFor();
  await page.getByTestId("import-file").setInputFiles(bundle);
  await page.getByText(/被撤销信任/).first().waitFor();
});

test("the monthly report: preview of the exact pages, then PDF and Excel exports", async () => {
  await page.getByTestId("menu-reports").click();
  const monthInput = page.locator('[data-testid="r-month"] input, input[data-testid="r-month"]').first();
  await monthInput.click();
  await monthInput.fill("2026-10");
  await monthInput.press("Enter");
  await page.getByTestId("r-preview").click();
  await page.getByTestId("r-page").first().waitFor({ timeout: 60_000 });
  assert.ok((await page.getByTestId("r-page").count()) >= 2, "several pages");
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(artifacts, "14-report-preview.png") });

  const [pdf] = await Promise.all([page.waitForEvent("download"), page.getByTestId("r-export-pdf").click()]);
  const pdfPath = path.join(artifacts, "report.pdf");
  await pdf.saveAs(pdfPath);
  assert.match(pdf.suggestedFilename(), /^2026-10好差评情况通报（数据简报）\.pdf$/);
  assert.equal(readFileSync(pdfPath).subarray(0, 5).toString(), "%PDF-");

  const [xlsx] = await Promise.all([page.waitForEvent("download"), page.getByTestId("r-export-xlsx").click()]);
  const xlsxPath = path.join(artifacts, "report.xlsx");
  await xlsx.saveAs(xlsxPath);
  assert.equal(readFileSync(xlsxPath).subarray(0, 2).toString(), "PK");
});

test("the quarterly report: the period picker, the months' trend and its export", async () => {
  await page.getByTestId("r-kind-quarterly").click();
  const yearInput = page.locator('[data-testid="r-year"] input').first();
  await yearInput.click();
  await yearInput.fill("2026");
  await yearInput.press("Enter");
  await page.getByTestId("r-quarter").click();
  await page.locator(".el-select-dropdown__item", { hasText: "第四季度" }).click();
  await page.getByTestId("r-typical").getByText("2026年第四季度").waitFor();
  await page.getByTestId("r-preview").click();
  await page.getByTestId("r-page").first().waitFor({ timeout: 60_000 });
  const text = (await page.getByTestId("r-page-text").allTextContents()).join("\n");
  assert.match(text, /2026年第四季度政务服务/);
  assert.match(text, /各月趋势/);
  assert.match(text, /本季度/);
  assert.match(text, /10月/);
  const [xlsx] = await Promise.all([page.waitForEvent("download"), page.getByTestId("r-export-xlsx").click()]);
  assert.match(xlsx.suggestedFilename(), /^2026-Q4好差评情况通报\.xlsx$/);
  // Back to the monthly report for what follows.
  await page.getByTestId("r-kind-monthly").click();
  await page.locator('[data-testid="r-month"] input').first().waitFor();
});
