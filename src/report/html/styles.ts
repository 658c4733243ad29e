// The report's stylesheet: plain CSS, light theme, readable when printed.
export const REPORT_CSS = String.raw`
:root {
  --fg: #1f2328; --muted: #59636e; --border: #d1d9e0; --bg: #f6f8fa; --card: #ffffff;
  --passed: #1a7f37; --failed: #cf222e; --inconclusive: #9a6700; --error: #8250df;
  --passed-bg: #dafbe1; --failed-bg: #ffebe9; --inconclusive-bg: #fff8c5; --error-bg: #fbefff;
  --link: #0969da; --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
a { color: var(--link); }
code, pre, .mono { font-family: var(--mono); font-size: 13px; }
code { background: #eff2f5; border-radius: 4px; padding: 1px 5px; overflow-wrap: anywhere; }
h1, h2, h3 { line-height: 1.25; margin: 0; }
h2 { font-size: 20px; margin-bottom: 12px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.wrap { max-width: 1200px; margin: 0 auto; padding: 0 20px; }
.muted { color: var(--muted); }
.small { font-size: 13px; }

/* Verdict */
.verdict { color: #fff; padding: 26px 0 22px; }
.verdict-passed { background: linear-gradient(135deg, #1a7f37, #116329); }
.verdict-failed { background: linear-gradient(135deg, #cf222e, #a40e26); }
.verdict-inconclusive { background: linear-gradient(135deg, #bf8700, #9a6700); }
.verdict-error { background: linear-gradient(135deg, #8250df, #6639ba); }
.verdict-top { display: flex; align-items: baseline; gap: 18px; flex-wrap: wrap; }
.verdict-word { font-size: 52px; font-weight: 800; letter-spacing: 0.04em; line-height: 1; }
.verdict-summary { font-size: 20px; font-weight: 600; opacity: 0.95; }
.verdict h1 { font-size: 22px; font-weight: 600; margin-top: 14px; overflow-wrap: anywhere; }
.verdict .description { margin: 6px 0 0; opacity: 0.92; max-width: 900px; overflow-wrap: anywhere; white-space: pre-line; }
.facts { display: flex; flex-wrap: wrap; gap: 8px; margin: 16px 0 0; padding: 0; }
.facts div { background: rgba(255,255,255,0.16); border-radius: 6px; padding: 5px 10px; }
.facts dt { font-size: 11px; text-transform: uppercase; letter-spacing: 0.06em; opacity: 0.85; }
.facts dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.alert { background: var(--card); color: var(--fg); border-radius: 6px; padding: 10px 14px; margin-top: 14px; border-left: 5px solid var(--error); }
.alert.warn { border-left-color: var(--inconclusive); }
.alert ul { margin: 4px 0 0; padding-left: 20px; }
.alert li { white-space: pre-wrap; overflow-wrap: anywhere; }

/* Navigation */
nav.toc { position: sticky; top: 0; z-index: 10; background: rgba(255,255,255,0.96); border-bottom: 1px solid var(--border); backdrop-filter: blur(4px); }
nav.toc .wrap { display: flex; gap: 4px 18px; flex-wrap: wrap; align-items: center; padding-top: 8px; padding-bottom: 8px; font-size: 14px; }
nav.toc a { text-decoration: none; color: var(--muted); }
nav.toc a:hover { color: var(--link); }
nav.toc .chip { margin-right: 6px; }

main section { background: var(--card); border: 1px solid var(--border); border-radius: 8px; padding: 18px 20px; margin: 18px 0; scroll-margin-top: 52px; }
.note { margin: 0 0 10px; }

/* Tables */
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 7px 10px; border-bottom: 1px solid var(--border); }
th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); background: var(--bg); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.table-scroll { overflow-x: auto; }
tr.breach td:first-child { border-left: 4px solid transparent; }
tr.breach.status-failed td:first-child { border-left-color: var(--failed); }
tr.breach.status-error td:first-child { border-left-color: var(--error); }
tr.breach.status-inconclusive td:first-child { border-left-color: var(--inconclusive); }
tr.selected td { background: #fff8c5; }
.chip { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 12px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em; white-space: nowrap; }
.chip-passed { background: var(--passed-bg); color: var(--passed); }
.chip-failed { background: var(--failed-bg); color: var(--failed); }
.chip-inconclusive { background: var(--inconclusive-bg); color: var(--inconclusive); }
.chip-error { background: var(--error-bg); color: var(--error); }
.observed { font-weight: 700; }
.status-failed .observed { color: var(--failed); }
.check-name { overflow-wrap: anywhere; }
.reason { margin-top: 4px; color: var(--fg); white-space: pre-wrap; overflow-wrap: anywhere; }
.evidence { margin: 0; padding: 0; list-style: none; font-size: 13px; }
.evidence li { overflow-wrap: anywhere; }
.evidence .k { color: var(--muted); }
a.win-link { font-weight: 600; overflow-wrap: anywhere; }
.all-clear { background: var(--passed-bg); color: var(--passed); border-radius: 6px; padding: 10px 14px; font-weight: 600; }
details > summary { cursor: pointer; color: var(--muted); margin-top: 14px; }

/* Charts */
.chart-block { margin-bottom: 8px; }
.chart { min-height: 40px; }
.chart-title { display: flex; justify-content: space-between; align-items: baseline; gap: 10px; flex-wrap: wrap; }
.legend { font-size: 13px; color: var(--muted); margin: 6px 0 0; }
.legend-item { display: inline-flex; align-items: center; gap: 5px; margin-right: 14px; white-space: nowrap; color: var(--fg); }
.swatch { display: inline-block; width: 14px; height: 12px; border-radius: 2px; border: 1px solid rgba(0,0,0,0.15); vertical-align: -1px; }
.legend-line { display: inline-block; width: 22px; border-top: 3px solid; }
.legend-none { border-top-style: dashed; }
.highlight-caption { position: sticky; top: 44px; z-index: 5; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 6px 12px; margin-bottom: 10px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.highlight-caption[hidden] { display: none; }
.highlight-caption button { font: inherit; font-size: 13px; border: 1px solid var(--border); background: #fff; border-radius: 6px; padding: 2px 10px; cursor: pointer; }
#timelines.flash { animation: flash 1.2s ease-out; }
@keyframes flash { from { box-shadow: 0 0 0 4px #d4a72c; } to { box-shadow: 0 0 0 0 transparent; } }
.empty { color: var(--muted); font-style: italic; }
.chart-group { margin-top: 22px; border-top: 1px solid var(--border); padding-top: 4px; }
.chart-group > h3 { font-size: 16px; margin-top: 14px; }
.chart-group > .legend { margin: 0 0 8px; }
.chart-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 480px), 1fr)); gap: 6px 24px; }
.chart-grid > .chart-block { min-width: 0; }
.chart-grid .chart-title { margin-top: 10px; }
.chart-grid .chart-title h4 { font-size: 14px; margin: 0; overflow-wrap: anywhere; }
details.more-charts { margin-top: 6px; }
details.more-charts > summary { margin-top: 6px; font-weight: 600; }
.nowrap { white-space: nowrap; }
ul.ejections { margin: 0; padding: 0; list-style: none; }
ul.ejections li { white-space: nowrap; }
td.ejected a.win-link { color: var(--inconclusive); }
.u-legend { font-size: 13px; }
.u-legend .u-marker { border-radius: 2px; }

/* Bars */
.bar { display: inline-block; width: 140px; height: 10px; background: #eff2f5; border-radius: 5px; overflow: hidden; vertical-align: middle; margin-right: 8px; }
.bar > span { display: block; height: 100%; background: #54aeff; }
.bar.bar-warn > span { background: #d4a72c; }
.bar.bar-bad > span { background: #cf222e; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; vertical-align: 0; margin-right: 6px; }
tr.group-start td { border-top: 2px solid var(--border); }
.edge-arrow { color: var(--muted); padding: 0 4px; }
.warn-text { color: var(--inconclusive); font-weight: 600; }
.bad-text { color: var(--failed); font-weight: 600; }

/* Topology */
.topology-scroll { overflow-x: auto; }
svg.topology { display: block; font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
svg.topology .node rect { fill: #ffffff; stroke: #818b98; stroke-width: 1.5; }
svg.topology .node-ingress rect { stroke: var(--link); stroke-width: 2.5; }
svg.topology .node-client rect { fill: #ddf4ff; stroke: #54aeff; }
svg.topology .node-name { font-size: 13px; font-weight: 700; fill: var(--fg); }
svg.topology .node-sub { font-size: 12px; fill: var(--muted); }
svg.topology .node-ejected { fill: var(--inconclusive); font-weight: 600; }
svg.topology .replica-dots circle { fill: #54aeff; }
svg.topology .edge-label { font-size: 12px; font-weight: 700; paint-order: stroke; stroke: #ffffff; stroke-width: 4px; stroke-linejoin: round; }

/* Source */
pre.source { margin: 0; padding: 10px 0; background: #f6f8fa; border: 1px solid var(--border); border-radius: 6px; overflow-x: auto; line-height: 1.55; }
pre.source .line { display: block; padding: 0 12px 0 0; white-space: pre; min-height: 1.55em; }
pre.source .line::before { content: attr(data-n); display: inline-block; width: 3.2em; padding-right: 1em; text-align: right; color: #8c959f; user-select: none; }
pre.source .line:target { outline: 2px solid #d4a72c; }
pre.source .line.hl-failed { background: var(--failed-bg); box-shadow: inset 4px 0 var(--failed); }
pre.source .line.hl-error { background: var(--error-bg); box-shadow: inset 4px 0 var(--error); }
pre.source .line.hl-inconclusive { background: var(--inconclusive-bg); box-shadow: inset 4px 0 var(--inconclusive); }
pre.source .y-key { color: #0550ae; }
pre.source .y-comment { color: #6e7781; font-style: italic; }
pre.source .annotation { margin-left: 2em; font-family: system-ui, sans-serif; font-size: 12px; font-weight: 600; white-space: pre; }
.hl-failed .annotation { color: var(--failed); }
.hl-error .annotation { color: var(--error); }
.hl-inconclusive .annotation { color: var(--inconclusive); }

/* Environment */
.two-col { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 8px 28px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; font-size: 14px; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
footer { color: var(--muted); font-size: 13px; padding: 8px 0 30px; }

@media print {
  nav.toc { display: none; }
  main section { break-inside: avoid; border: none; }
}
`;
