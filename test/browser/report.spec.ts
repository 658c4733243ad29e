import { expect, test, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { RunReport } from "../../src/report/types.js";
import { BROWSER_REPORTS, EXAMPLE_REPORTS, EXAMPLE_SCENARIOS } from "./paths.js";

/** Opens a report from disk with every non-file request refused, collecting console errors and dialogs. */
async function open(page: Page, file: string): Promise<{ errors: string[]; network: string[]; dialogs: string[] }> {
  const errors: string[] = [];
  const network: string[] = [];
  const dialogs: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:") || url.startsWith("data:")) return route.continue();
    network.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForLoadState("load");
  return { errors, network, dialogs };
}

/** A canvas that uPlot drew on: non-zero size and pixels that are not all one colour. */
async function drawnCanvases(page: Page): Promise<number> {
  return page.evaluate(() =>
    [...document.querySelectorAll("canvas")].filter((c) => {
      if (c.width === 0 || c.height === 0) return false;
      const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 4; i < data.length; i += 4 * 97) if (data[i + 3] !== data[3] || data[i] !== data[0]) return true;
      return false;
    }).length,
  );
}

for (const example of EXAMPLE_SCENARIOS) {
  test(`example scenario ${example.name}: loads offline, verdict, breaches, charts and fault windows`, async ({ page }, info) => {
    const dir = join(EXAMPLE_REPORTS, example.name);
    const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as RunReport;
    const { errors, network } = await open(page, join(dir, "report.html"));
    await expect(page.locator(".verdict-word")).toHaveText(example.verdict);
    for (const c of report.checks.filter((x) => x.status !== "passed")) {
      await expect(page.locator(`tr.breach[data-check="${c.name}"]`)).toBeVisible();
    }
    await expect.poll(() => drawnCanvases(page)).toBeGreaterThanOrEqual(2);
    for (const f of report.faults) await expect(page.locator("#fault-legend")).toContainText(f.name);
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    await page.screenshot({ path: info.outputPath(`${example.name}.png`), fullPage: true });
  });
}

test("a breach link highlights its window on the charts", async ({ page }) => {
  const { errors } = await open(page, join(EXAMPLE_REPORTS, "demo", "report.html"));
  const link = page.locator('tr.breach a.win-link[data-window="fault:payments-abort"]').first();
  await link.click();
  await expect(page.locator("body")).toHaveAttribute("data-highlight", "fault:payments-abort");
  await expect(page.locator("#highlight-caption")).toBeVisible();
  await expect(page.locator("#timelines")).toBeInViewport();
  await expect(page.locator("#chart-error")).toBeHidden();
  expect(errors).toEqual([]);
});

for (const name of ["passing", "failing", "inconclusive", "errored", "large"]) {
  test(`synthetic ${name} report renders without errors`, async ({ page }, info) => {
    const { errors, network } = await open(page, join(BROWSER_REPORTS, `${name}.html`));
    await expect(page.locator(".verdict-word")).toBeVisible();
    // A run that broke before load has no series to chart; every other one draws its charts.
    if (name !== "errored") await expect.poll(() => drawnCanvases(page)).toBeGreaterThanOrEqual(1);
    await expect(page.locator("#chart-error")).toBeHidden();
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true });
  });
}

test("names and descriptions with HTML and script render as text", async ({ page }, info) => {
  const { errors, dialogs } = await open(page, join(BROWSER_REPORTS, "hostile.html"));
  await expect(page.getByText(`<script>alert("scenario")</script>`).first()).toBeVisible();
  expect(await page.locator("svg[onload], img[onerror]").count()).toBe(0);
  expect(dialogs).toEqual([]);
  expect(errors).toEqual([]);
  await page.screenshot({ path: info.outputPath("hostile.png"), fullPage: true });
});
