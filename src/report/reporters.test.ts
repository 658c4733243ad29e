import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixtures } from "./fixtures/index.js";
import { githubAnnotations, MAX_ANNOTATIONS, reportToGithub } from "./github.js";
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

  it("a 10-minute run stays under 1 MB", () => {
    const size = Buffer.byteLength(renderHtml(fixtures.large()));
    expect(size).toBeLessThan(1024 * 1024);
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

