// Every number a reporter prints is formatted here. The report stores raw units (fractions, µs,
// ms); readers get %, µs, ms and s in one of two voices:
// - text (the console, Markdown, JUnit, GitHub annotations, --repeat): terse, unit glued on
//   ("812.3ms", "850µs"), so a terminal's columns stay narrow;
// - page (the HTML report): the unit after a space and thousands grouped ("912 ms", "12,345").
// A value reads the same in every reporter of one voice; the JUnit `time` attribute, a machine
// format, is here too.

/** Fixed decimals with trailing zeros removed: trimNumber(1.50, 2) === "1.5". */
export function trimNumber(value: number, decimals: number): string {
  const fixed = value.toFixed(decimals);
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}

/** Thousands separators without depending on the machine's locale: 12345 → "12,345". */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const [int = "0", frac] = trimNumber(Math.abs(value), Number.isInteger(value) ? 0 : 2).split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (value < 0 ? "-" : "") + grouped + (frac ? `.${frac}` : "");
}

// ---- text ----

/** A value in the unit a check declares: "fraction" → 0.42%, "us" → 812.3ms, "ms" → 3.20s, "ratio" → 1.25. */
export function formatValue(value: number, unit: string): string {
  switch (unit) {
    case "fraction":
      return formatPercent(value);
    case "us":
      return formatLatencyUs(value);
    case "ms":
      return formatMs(value);
    case "ratio":
      return value.toFixed(2);
    default:
      return unit === "" ? String(value) : `${value} ${unit}`;
  }
}

/** A threshold: a round number the user wrote reads as written, "800ms", not "800.0ms". */
export function formatThreshold(value: number, unit: string): string {
  return formatValue(value, unit).replace(/\.0+(?=[a-zµ]+$)/, "");
}

/** 0.0042 → "0.42%", 0.5 → "50%", 0.00001 → "0.001%". */
export function formatPercent(fraction: number): string {
  const pct = fraction * 100;
  if (pct !== 0 && Math.abs(pct) < 0.01) return `${Number(pct.toPrecision(2))}%`;
  return `${Number(pct.toFixed(2))}%`;
}

/** 850 → "850µs", 812_300 → "812.3ms", 1_250_000 → "1.25s". */
export function formatLatencyUs(us: number): string {
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(1)}ms`;
  return `${Number((us / 1_000_000).toFixed(2))}s`;
}

/** 850 → "850ms", 10_020 → "10.02s". */
export function formatMs(ms: number): string {
  if (Math.abs(ms) < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

/** Milliseconds as bare seconds with fixed decimals, for machine formats: (12_345, 3) → "12.345". */
export function formatSeconds(ms: number, decimals: number): string {
  return (ms / 1000).toFixed(decimals);
}

// ---- page ----

/** A check's observed value or threshold in the unit it declares, "—" when there is none. */
export function pageValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  switch (unit) {
    case "fraction":
      return pagePercent(value);
    case "us":
      return pageLatencyUs(value);
    case "ms":
      return pageDurationMs(value);
    case "ratio":
      return pageRatio(value);
    case "count":
    case "":
      return formatCount(value);
    default:
      return `${trimNumber(value, 3)} ${unit}`;
  }
}

/** A fraction as a percentage: 0.0123 → "1.23%", 0.000001 → "<0.001%". */
export function pagePercent(fraction: number): string {
  const pct = fraction * 100;
  if (pct === 0) return "0%";
  const abs = Math.abs(pct);
  if (abs < 0.001) return pct < 0 ? ">-0.001%" : "<0.001%";
  if (abs >= 1) return `${trimNumber(pct, 2)}%`;
  return `${trimNumber(Number(pct.toPrecision(3)), 6)}%`;
}

/** Microseconds as milliseconds: 912400 → "912 ms", 450 → "0.45 ms". */
export function pageLatencyUs(us: number): string {
  const ms = us / 1000;
  const abs = Math.abs(ms);
  if (abs >= 100) return `${formatCount(Math.round(ms))} ms`;
  if (abs >= 10) return `${trimNumber(ms, 1)} ms`;
  if (abs >= 1) return `${trimNumber(ms, 2)} ms`;
  return `${trimNumber(ms, 3)} ms`;
}

/** A duration: 850 → "850 ms", 2300 → "2.3 s", 90000 → "1m 30s". */
export function pageDurationMs(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${trimNumber(ms, abs < 10 ? 2 : 0)} ms`;
  if (abs < 60_000) return `${trimNumber(ms / 1000, 2)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = (ms - minutes * 60_000) / 1000;
  return seconds === 0 ? `${minutes}m` : `${minutes}m ${trimNumber(seconds, 1)}s`;
}

/** A time since the start of load: 10250 → "10.25 s", 95000 → "1m 35s". */
export function pageOffsetMs(ms: number): string {
  if (Math.abs(ms) < 60_000) return `${trimNumber(ms / 1000, 2)} s`;
  return pageDurationMs(ms);
}

/** 1.5 → "1.5×". */
export function pageRatio(value: number): string {
  return `${trimNumber(value, 2)}×`;
}

/** A fraction as a CSS length, one decimal: 0.4567 → "45.7%" (a bar's width). */
export function cssPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Evidence values: numbers get units from the key's suffix (…Us, …Ms); objects become compact JSON. */
export function pageEvidenceValue(key: string, value: unknown): string {
  if (typeof value === "number") {
    if (/Us$/.test(key)) return pageLatencyUs(value);
    if (/(Ms|At)$/.test(key)) return pageDurationMs(value);
    if (/(Rate|Share|Fraction|Percent)$/i.test(key) && value >= 0 && value <= 1) return pagePercent(value);
    return Number.isInteger(value) ? formatCount(value) : trimNumber(value, 4);
  }
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "—";
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 300 ? `${json.slice(0, 299)}…` : json;
}
