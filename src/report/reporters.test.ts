import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixtures } from "./fixtures/index.js";
import { githubAnnotations, MAX_ANNOTATIONS, reportToGithub } from "./github.js";
import type { MeshPayload } from "./html/mesh-view.js";
import { renderHtml } from "./html/render-html.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import { reporters, writeArtefacts } from "./reporters.js";

describe("JUnit", () => {
  it("one testsuite per scenario, one testcase per check: failure for a breach, skipped for inconclusive", () => {
    expect(renderJunit(fixtures.failing())).toMatchSnapshot();
    expect(renderJunit(fixtures.inconclusive())).toMatchSnapshot();
  });

  it("a harness error is an errored testcase, so a broken run is never green", () => {
    const xml = renderJunit(fixtures.errored());
    expect(xml).toMatch(/<testcase classname="[^"]+" name="harness"[^>]*>\s*<error /);
  });

  it("escapes everything a scenario controls", () => {
    const xml = renderJunit(fixtures.hostile());
    expect(xml).not.toContain("<script>");
    expect(xml).not.toContain("<svg");
    expect(xml).toContain("&lt;script&gt;alert(&quot;scenario&quot;)&lt;/script&gt;");
  });
});

describe("Markdown and GitHub", () => {
  it("summarises the verdict, checks, breaches and faults", () => {
    expect(renderMarkdown(fixtures.failing())).toMatchSnapshot();
  });

  it("annotates failed checks with the scenario file and line, at most ten, with workflow commands escaped", () => {
    const report = fixtures.failing();
    const annotations = githubAnnotations(report);
    expect(annotations.length).toBe(Math.min(MAX_ANNOTATIONS, report.checks.filter((c) => c.status === "failed").length));
    expect(annotations[0]).toMatch(/^::error file=[^,]+,line=\d+,col=\d+,title=meshquake%3A .+::.+ breached: observed .+, threshold .+$/);
    const hostile = githubAnnotations(fixtures.hostile()).join("\n");
    expect(hostile).not.toMatch(/\n::error::injected/);
    expect(hostile).toContain("file=scenarios/evil%2Cname%3A100%25.yaml");
  });

  it("writes annotations only under GitHub Actions and appends the summary when asked", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mq-gh-"));
    const out: string[] = [];
    const summary = join(dir, "summary.md");
    await reportToGithub(fixtures.failing(), { GITHUB_STEP_SUMMARY: summary }, (s) => out.push(s));
    expect(out).toEqual([]);
    await reportToGithub(fixtures.failing(), { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary }, (s) => out.push(s));
    expect(out.length).toBeGreaterThan(0);
    expect((await readFile(summary, "utf8")).match(/### /g)).toHaveLength(2);
  });
});

describe("HTML", () => {
  it("renders every scenario string as text, never as markup", () => {
    const page = renderHtml(fixtures.hostile());
    for (const bad of ["<script>alert(", "<svg onload", "<img src=x", "<b>not bold</b>", `" onmouseover="`]) {
      expect(page).not.toContain(bad);
    }
    expect(page).toContain("&lt;script&gt;alert(");
  });

  it("a 10-minute run stays under 1 MB, per-second mesh series of a 28-service mesh included", () => {
    const page = renderHtml(fixtures.large());
    expect(page).toContain('data-chart="share"');
    expect(page).toContain('data-chart="edge"');
    expect(Buffer.byteLength(page)).toBeLessThan(1024 * 1024);
  });

  it("groups a service's traffic share by version and names each replica's version", () => {
    const report = fixtures.passing();
    const service = report.replicas[0]!.service;
    let n = 0;
    const replicas = report.replicas.map((r) => (r.service === service ? { ...r, version: n++ === 0 ? "v1" : "v2" } : r));
    const page = renderHtml({ ...report, replicas });
    const rows = replicas.filter((r) => r.service === service);
    const total = rows.reduce((sum, r) => sum + r.requests, 0);
    const v1 = rows[0]!.requests / total;
    expect(page).toContain(`data-versions="${service}">by version: v1 `);
    expect(page).toContain(`[${rows[0]!.index}] <span class="muted">v1</span>`);
    expect(v1).toBeGreaterThan(0);
    expect(renderHtml(report)).not.toContain("by version:");
  });

  it("inlines its chart library and loads nothing from the network", () => {
    const page = renderHtml(fixtures.passing());
    expect(page).toContain("uPlot");
    expect(page).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?(https?:)?\/\//i);
  });
});

describe("writeArtefacts", () => {
  it("isolates reporters: one that throws is recorded and the others still write", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "mq-art-"));
    const original = reporters.junit;
    reporters.junit = async () => {
      throw new Error("disk full");
    };
    try {
      const r = await writeArtefacts(fixtures.passing(), { outDir, reporters: ["junit", "json", "html"], env: {}, stdout: () => {} });
      expect(r.errors).toEqual([{ reporter: "junit", message: "disk full" }]);
      expect(r.written.map((f) => f.slice(outDir.length + 1))).toEqual([
        `${fixtures.passing().scenario.name}/report.json`,
        `${fixtures.passing().scenario.name}/report.html`,
      ]);
    } finally {
      reporters.junit = original;
    }
  });
});


describe("HTML mesh timelines", () => {
  const payload = (page: string) => {
    const m = /<script type="application\/json" id="mq-data">([\s\S]*?)<\/script>/.exec(page);
    return JSON.parse(m?.[1] ?? "null") as { mesh: MeshPayload | null; timeline: unknown[] };
  };

  it("charts traffic share for every service with more than one replica and retries for every edge that retried or failed", () => {
    const report = fixtures.passing();
    const page = renderHtml(report);
    expect([...page.matchAll(/data-chart="share" data-service="([^"]+)"/g)].map((m) => m[1])).toEqual(["checkout", "payments"]);
    expect(page).toContain('data-chart="edge" data-edge="checkout → payments"');
    const mesh = payload(page).mesh!;
    expect(mesh.shares.map((s) => s.requests.length)).toEqual([2, 3]);
    // Two callers' overlapping ejections of payments[0] become one span on the chart per stretch out of rotation.
    expect(mesh.shares[1]!.ejections).toEqual([
      { replica: 0, start: 11.24, end: 21.61 },
      { replica: 0, start: 22.88, end: 43.15 },
    ]);
    expect(page).not.toContain("the report has no per-second series");
  });

  it("an older report without meshTimeline still renders, with the totals and a note instead of the mesh charts", () => {
    const page = renderHtml(fixtures.legacy());
    expect(page).toContain('id="mesh-absent"');
    expect(page).not.toContain('data-chart="share"');
    expect(page).toMatch(/<table class="replica-table">/);
    expect(page).toMatch(/<table class="edge-table">/);
    expect(payload(page).mesh).toBeNull();
    expect(payload(page).timeline.length).toBe(60);
  });

  it("lists each ejection in the traffic table, linked to its span on the charts", () => {
    const page = renderHtml(fixtures.passing());
    const row = /<tr[^>]*data-ejected="payments\[0\]"[^>]*>[\s\S]*?<\/tr>/.exec(page)?.[0] ?? "";
    const links = [...row.matchAll(/<a class="win-link" href="#chart-share-1" data-window="payments\[0\] ejected" data-start="(\d+)" data-end="(\d+)"/g)];
    expect(links.map((m) => [Number(m[1]), Number(m[2])])).toEqual([[11_240, 21_240], [11_610, 21_610], [22_880, 42_880], [23_150, 43_150]]);
    expect(row).toContain("by checkout-1, ×2 in a row");
  });

  it("shows overflows per edge when a circuit breaker could refuse requests or one did", () => {
    expect(renderHtml(fixtures.passing())).not.toContain(">Overflows</th>");
    const report = fixtures.failing();
    report.edges[1]!.terminations = { ...report.edges[1]!.terminations, overflow: 321 };
    const page = renderHtml(report);
    expect(page).toContain(">Overflows</th>");
    expect(page).toMatch(/<td class="num bad-text">321<br>/);
    expect(page).toMatch(/checkout<span class="edge-arrow">→<\/span>payments<\/h4><span class="muted small">[^<]*<span class="bad-text">321 overflows/);
    // The wide mesh has breakers: every edge gets the column, edges without a count a dash.
    expect(renderHtml(fixtures.large())).toContain(">Overflows</th>");
  });

  it("escapes scenario names in the mesh charts' headings and attributes", () => {
    const page = renderHtml(fixtures.hostile());
    expect(page).toContain('data-service="pay&lt;svg onload=alert(&#39;svc&#39;)&gt;"');
    expect(page).not.toContain("<svg onload");
    // The script's data names no service at all: it only draws series.
    expect(JSON.stringify(payload(page).mesh)).not.toContain("svg");
  });
});

describe("fixtures", () => {
  it("per-second mesh series add up to the totals of every edge and replica", () => {
    for (const [name, make] of Object.entries(fixtures)) {
      const report = make();
      if (!report.meshTimeline) continue;
      for (const e of report.meshTimeline.edges) {
        const totals = report.edges.find((x) => x.from === e.from && x.to === e.to)!;
        const sum = (k: "requests" | "attempts" | "retries") => e.points.reduce((n, p) => n + p[k], 0);
        expect([sum("requests"), sum("attempts"), sum("retries")], `${name} ${e.from}→${e.to}`).toEqual([totals.requests, totals.attempts, totals.retries]);
      }
      for (const r of report.meshTimeline.replicas) {
        const totals = report.replicas.find((x) => x.service === r.service && x.index === r.index)!;
        expect(r.requests.reduce((a, b) => a + b, 0), `${name} ${r.service}[${r.index}]`).toBe(totals.requests);
      }
    }
  });

  it("the 10-minute report carries a per-second series for every replica and edge", () => {
    const report = fixtures.large();
    expect(report.meshTimeline!.replicas).toHaveLength(report.replicas.length);
    expect(report.meshTimeline!.edges).toHaveLength(report.edges.length);
    expect(report.meshTimeline!.edges.every((e) => e.points.length === 600)).toBe(true);
  });
});

describe("failure attribution", () => {
  it("console and Markdown say why requests failed: causes by count, the edge that decided, what the last try hit", async () => {
    const report = fixtures.failing();
    report.attribution = {
      failed: 120,
      examined: 120,
      notKept: 0,
      traced: 118,
      byCause: { "retries-exhausted": 100, "breaker-overflow": 18, unattributed: 2 },
      byEdge: [
        { from: "checkout", to: "payments", failed: 118, byCause: { "retries-exhausted": 100, "breaker-overflow": 18 } },
      ],
      byFault: { "payments-abort": 100 },
      byLastTry: { "injected-fault:payments-abort": 100 },
      examples: [],
      notes: [],
    };
    const { renderConsoleSummary } = await import("./console.js");
    const text = renderConsoleSummary(report, { color: false });
    expect(text).toContain("why requests failed\n120 failed requests, 118 traced through the mesh's logs:\n");
    expect(text).toMatch(/ {5}100 {2}retries-exhausted {2}at checkout → payments 100\n {6}18 {2}breaker-overflow {2}at checkout → payments 18\n {7}2 {2}unattributed\n/);
    expect(text).toContain("last try hit: injected-fault:payments-abort 100");
    expect(renderMarkdown(report)).toContain("**Why requests failed**");
    const page = renderHtml(report);
    expect(page).toContain('<h3 id="attribution">Why requests failed</h3>');
    expect(page.match(/<tr data-cause="/g)).toHaveLength(3);
  });
});

describe("text reporters and terminal escapes", () => {
  const ESC = "\u001b";
  /** A failing run whose names, reasons and errors carry terminal escapes and workflow commands. */
  function escapingReport() {
    const report = fixtures.failing();
    report.scenario.description = `desc ${ESC}]0;title\u0007 \u202eevil`;
    report.checks[0]!.name = `${ESC}[2J::error::cleared`;
    report.checks[0]!.reason = "why\n::add-mask::secret";
    report.errors = [{ stage: "runtime", message: `app said ${ESC}[31mred${ESC}[0m\n::stop-commands::token` }];
    report.warnings = [`\r${ESC}[1Aoverwrite`];
    return report;
  }
  const noRawEscape = (text: string) => {
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(text).not.toMatch(/^\s*::(?!error file=)/m);
  };

  it("console, Markdown and annotations show user text escaped, and no line of theirs is a workflow command", async () => {
    const report = escapingReport();
    noRawEscape(renderMarkdown(report));
    noRawEscape(githubAnnotations(report).join("\n"));
    const { renderConsoleSummary } = await import("./console.js");
    const plain = renderConsoleSummary(report, { color: false });
    noRawEscape(plain);
    expect(plain).toContain("\\x1b[31mred\\x1b[0m");
    expect(plain).toContain("\\x3a:stop-commands::token");
    // With colour on, the only escapes are the reporter's own SGR codes.
    const coloured = renderConsoleSummary(report, { color: true });
    expect(coloured.replace(/\u001b\[\d+m/g, "")).not.toContain(ESC);
  });
});
