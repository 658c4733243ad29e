import { expect, test, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { RunReport } from "../../src/model/run-report.js";
import { BROWSER_REPORTS, EXAMPLE_REPORTS, EXAMPLE_SCENARIOS, legacyExample } from "./paths.js";

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

/** Canvases (under `within`) that uPlot drew on: non-zero size and pixels that are not all one colour. */
async function drawnCanvases(page: Page, within = "body"): Promise<number> {
  return page.evaluate((selector) =>
    [...document.querySelectorAll(selector)].flatMap((root) => [...root.querySelectorAll("canvas")]).filter((c) => {
      if (c.width === 0 || c.height === 0) return false;
      const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 4; i < data.length; i += 4 * 97) if (data[i + 3] !== data[3] || data[i] !== data[0]) return true;
      return false;
    }).length, within);
}

/** The mesh charts a report must draw: a share chart per service with more than one replica, a chart per edge that retried or failed. */
function meshCharts(report: RunReport): string[] {
  const mesh = report.meshTimeline;
  if (!mesh) return [];
  const services = [...new Set(mesh.replicas.map((r) => r.service))].filter((s) => mesh.replicas.filter((r) => r.service === s).length > 1);
  const edges = mesh.edges.filter((e) => e.points.some((p) => p.retries > 0 || p.errors > 0));
  return [
    ...services.map((s) => `[data-chart="share"][data-service="${s}"]`),
    ...edges.map((e) => `[data-chart="edge"][data-edge="${e.from} → ${e.to}"]`),
  ];
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
    await expect.poll(() => drawnCanvases(page, "#chart-traffic, #chart-latency")).toBe(2);
    // The real runs record per-second mesh series: checkout's and payments' replicas share the
    // load and checkout retries payments while the fault is on.
    expect(report.meshTimeline).toBeDefined();
    const charts = meshCharts(report);
    expect(charts).toEqual(expect.arrayContaining(['[data-chart="share"][data-service="payments"]', '[data-chart="edge"][data-edge="checkout → payments"]']));
    for (const chart of charts) {
      await expect(page.locator(chart)).toBeVisible();
      await expect.poll(() => drawnCanvases(page, chart), { message: chart }).toBe(1);
    }
    for (const f of report.faults) await expect(page.locator("#fault-legend")).toContainText(f.name);
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    await page.screenshot({ path: info.outputPath(`${example.name}.png`), fullPage: true });
    await page.locator("#mesh-charts").screenshot({ path: info.outputPath(`${example.name}-mesh.png`) });
  });

  test(`example scenario ${example.name} without mesh series (an older report) still renders`, async ({ page }, info) => {
    const { errors, network } = await open(page, legacyExample(example.name));
    await expect(page.locator(".verdict-word")).toHaveText(example.verdict);
    await expect.poll(() => drawnCanvases(page, "#chart-traffic, #chart-latency")).toBe(2);
    await expect(page.locator("#mesh-absent")).toBeVisible();
    expect(await page.locator('[data-chart="share"], [data-chart="edge"]').count()).toBe(0);
    await expect(page.locator("table.replica-table")).toBeVisible();
    await expect(page.locator("table.edge-table")).toBeVisible();
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    await page.locator("#timelines").screenshot({ path: info.outputPath(`${example.name}-without-mesh-series.png`) });
  });
}

test("ejections are marked below the share chart and in the traffic table", async ({ page }, info) => {
  const { errors } = await open(page, join(BROWSER_REPORTS, "passing.html"));
  const chart = page.locator('[data-chart="share"][data-service="payments"]');
  await expect.poll(() => drawnCanvases(page, '[data-chart="share"][data-service="payments"]')).toBe(1);
  // At 35 s payments[0] is ejected and no fault window tints the lane: the bar has the replica's colour.
  const pixel = (second: number) =>
    chart.evaluate((el, t) => {
      const u = (window as unknown as { meshquake: { charts: { root: Element; ctx: CanvasRenderingContext2D; valToPos(v: number, s: string, c: boolean): number }[] } })
        .meshquake.charts.find((c) => el.contains(c.root))!;
      const x = Math.round(u.valToPos(t, "x", true));
      const y = Math.round(u.valToPos(-0.055, "share", true));
      return [...u.ctx.getImageData(x, y, 1, 1).data.slice(0, 3)];
    }, second);
  expect(await pixel(35)).toEqual([0x09, 0x69, 0xda]);
  expect(await pixel(5)).not.toEqual([0x09, 0x69, 0xda]);
  const link = page.locator('tr[data-ejected="payments[0]"] a.win-link').first();
  await expect(link).toHaveText("11.24 s → 21.24 s");
  await link.click();
  await expect(page.locator("body")).toHaveAttribute("data-highlight", "payments[0] ejected");
  await expect(page.locator("#highlight-text")).toContainText("payments[0] ejected");
  expect(errors).toEqual([]);
  await chart.locator("xpath=..").screenshot({ path: info.outputPath("passing-payments-share.png") });
});

test("zooming one chart zooms every chart", async ({ page }) => {
  const { errors } = await open(page, join(BROWSER_REPORTS, "failing.html"));
  await expect.poll(() => drawnCanvases(page)).toBeGreaterThanOrEqual(6);
  type Charts = { meshquake: { charts: { scales: { x: { min: number; max: number } }; setScale(k: string, r: object): void }[] } };
  const ranges = () => page.evaluate(() => [...new Set((window as unknown as Charts).meshquake.charts.map((u) => `${u.scales.x.min}-${u.scales.x.max}`))]);
  expect(await page.evaluate(() => (window as unknown as Charts).meshquake.charts.length)).toBeGreaterThanOrEqual(6);
  // A share chart, as a drag across it would.
  await page.evaluate(() => (window as unknown as Charts).meshquake.charts[3]!.setScale("x", { min: 40, max: 52 }));
  await expect.poll(ranges).toEqual(["40-52"]);
  await page.locator('[data-action="unzoom"]').evaluate((b: HTMLElement) => b.click());
  await expect.poll(ranges).toEqual(["0-60"]);
  expect(errors).toEqual([]);
});

test("a wide mesh folds the quieter charts and draws them when unfolded", async ({ page }) => {
  const { errors } = await open(page, join(BROWSER_REPORTS, "large.html"));
  const folded = page.locator("details.more-charts");
  await expect(folded).toHaveCount(2);
  await expect.poll(() => drawnCanvases(page, "#mesh-charts")).toBe(12);
  for (const d of await folded.all()) await d.locator("summary").click();
  const all = await page.locator('#mesh-charts [data-chart]').count();
  expect(all).toBeGreaterThan(12);
  await expect.poll(() => drawnCanvases(page, "#mesh-charts")).toBe(all);
  await expect(page.locator("#chart-error")).toBeHidden();
  expect(errors).toEqual([]);
});

test("the demo's report says why requests failed, traced to the injected fault", async ({ page }) => {
  const { errors } = await open(page, join(EXAMPLE_REPORTS, "demo", "report.html"));
  await expect(page.locator("#attribution")).toBeVisible();
  await expect(page.locator('table.attribution-table tr[data-cause="retries-exhausted"]')).toContainText("checkout → payments");
  await expect(page.locator("#breaches")).toContainText("injected-fault:payments-abort");
  expect(errors).toEqual([]);
});

test("a breach link highlights its window on the charts", async ({ page }) => {
  const { errors } = await open(page, join(EXAMPLE_REPORTS, "demo", "report.html"));
  const link = page.locator('tr.breach a.win-link[data-window="fault:payments-abort"]').first();
  await link.click();
  await expect(page.locator("body")).toHaveAttribute("data-highlight", "fault:payments-abort");
  await expect(page.locator("#highlight-caption")).toBeVisible();
  await expect(page.locator("#timelines")).toBeInViewport();
  await expect(page.locator("#chart-error")).toBeHidden();
  // Zoom to the window: every chart, the mesh charts included, shows the same stretch around it.
  await page.locator('[data-action="zoom"]').click();
  type Charts = { meshquake: { charts: { scales: { x: { min: number; max: number } } }[] } };
  const ranges = () => page.evaluate(() => [...new Set((window as unknown as Charts).meshquake.charts.map((u) => `${u.scales.x.min}-${u.scales.x.max}`))]);
  await expect.poll(ranges).toHaveLength(1);
  const [min, max] = (await ranges())[0]!.split("-").map(Number);
  expect(min).toBeLessThan(10);
  expect(min).toBeGreaterThan(5);
  expect(max).toBeGreaterThan(20);
  expect(max).toBeLessThan(25);
  expect(await page.evaluate(() => (window as unknown as Charts).meshquake.charts.length)).toBeGreaterThanOrEqual(5);
  expect(errors).toEqual([]);
});

for (const name of ["passing", "failing", "inconclusive", "errored", "large", "legacy"]) {
  test(`synthetic ${name} report renders without errors`, async ({ page }, info) => {
    const { errors, network } = await open(page, join(BROWSER_REPORTS, `${name}.html`));
    await expect(page.locator(".verdict-word")).toBeVisible();
    // A run that broke before load has no series to chart; every other one draws its charts.
    if (name !== "errored") await expect.poll(() => drawnCanvases(page)).toBeGreaterThanOrEqual(1);
    // Every open mesh chart is drawn; a report without mesh series says so instead.
    const unfolded = await page.locator("#mesh-charts .chart-grid:not(details .chart-grid) [data-chart]").count();
    if (name === "errored" || name === "legacy") expect(unfolded).toBe(0);
    else await expect.poll(() => drawnCanvases(page, "#mesh-charts")).toBe(unfolded);
    if (name === "legacy") await expect(page.locator("#mesh-absent")).toBeVisible();
    await expect(page.locator("#chart-error")).toBeHidden();
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true });
    if (name !== "errored") await page.locator("#timelines").screenshot({ path: info.outputPath(`${name}-timelines.png`) });
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
