import { describe, expect, it } from "vitest";
import { fixtures } from "../fixtures/index.js";
import { mergedEjections, meshView, OPEN_CHARTS } from "./mesh-view.js";

describe("mesh view", () => {
  it("merges overlapping ejections from different callers; one still open lasts to the end of the run", () => {
    expect(
      mergedEjections(
        [
          { at: 22_000, until: null, by: "checkout-1" },
          { at: 1_000, until: 5_000, by: "checkout-0" },
          { at: 4_000, until: 8_000, by: "checkout-1" },
          { at: 12_000, until: 13_000, by: "checkout-0" },
        ],
        30,
      ),
    ).toEqual([
      { start: 1, end: 8 },
      { start: 12, end: 13 },
      { start: 22, end: 30 },
    ]);
  });

  it("is absent for a report without per-second mesh series", () => {
    expect(meshView(fixtures.legacy(), 60)).toBeNull();
  });

  it("leaves single-replica services and quiet edges uncharted", () => {
    const view = meshView(fixtures.passing(), 60)!;
    expect(view.shares.map((s) => s.service)).toEqual(["checkout", "payments"]);
    expect(view.edges.map((e) => `${e.from}>${e.to}`)).toEqual(["checkout>payments", "frontend>checkout"]);
    const report = fixtures.inconclusive();
    for (const e of report.meshTimeline!.edges) if (e.from === "frontend") e.points.forEach((p) => (p.errors = 0));
    const quiet = meshView(report, 60)!;
    expect(quiet.quietEdges.map((e) => `${e.from}>${e.to}`)).toEqual(["frontend>checkout"]);
  });

  it("in a wide mesh opens the ejected and faulted services and the busiest edges first, and folds the rest", () => {
    const report = fixtures.large();
    const view = meshView(report, 600)!;
    const open = view.shares.filter((s) => s.open);
    expect(open).toHaveLength(OPEN_CHARTS);
    const ejected = view.shares.filter((s) => s.ejections.length > 0);
    expect(ejected.length).toBeGreaterThan(0);
    expect(ejected.every((s) => s.open)).toBe(true);
    const edges = view.edges.filter((e) => e.open);
    expect(edges).toHaveLength(OPEN_CHARTS);
    const busiest = Math.min(...edges.map((e) => e.totals.retries + e.totals.errors));
    expect(view.edges.filter((e) => !e.open).every((e) => e.totals.retries + e.totals.errors <= busiest)).toBe(true);
    expect(new Set(view.edges.map((e) => e.id)).size).toBe(view.edges.length);
  });
});
