// The report's only script besides uPlot: draws the timelines from the embedded JSON, shades
// fault windows, and highlights a check's window when its breach link is clicked. Plain
// ES2017 in a string: it runs in the reader's browser, never in Node.
export const CLIENT_JS = String.raw`(function () {
  "use strict";
  var dataEl = document.getElementById("mq-data");
  if (!dataEl) return;
  var data = JSON.parse(dataEl.textContent || "{}");
  var report = data.report;
  var view = data.view;
  var timeline = (report && report.client && report.client.timeline) || [];
  var charts = [];
  var state = { highlight: null };
  var api = { charts: charts, state: state, highlight: highlight, clear: clear };
  window.meshquake = api;

  var caption = document.getElementById("highlight-caption");
  var captionText = document.getElementById("highlight-text");

  function fmtT(v) {
    if (v == null) return "";
    var s = Math.round(v * 10) / 10;
    if (view.durationS < 120) return s + " s";
    var m = Math.floor(s / 60);
    var r = Math.round(s - m * 60);
    return m + ":" + (r < 10 ? "0" : "") + r;
  }
  function fmtMs(v) {
    if (v == null) return "—";
    if (v >= 100) return Math.round(v) + " ms";
    if (v >= 10) return v.toFixed(1) + " ms";
    return v.toFixed(2) + " ms";
  }

  function bandPx(u, start, end) {
    var l = u.bbox.left, r = u.bbox.left + u.bbox.width;
    var x0 = Math.max(l, Math.min(r, u.valToPos(start, "x", true)));
    var x1 = Math.max(l, Math.min(r, u.valToPos(end, "x", true)));
    return [x0, x1];
  }

  // Fault windows under the grid and the series.
  function drawBands(u) {
    var ctx = u.ctx, b = u.bbox;
    ctx.save();
    view.bands.forEach(function (band) {
      var px = bandPx(u, band.start, band.end);
      if (px[1] - px[0] < 0.5) return;
      ctx.fillStyle = band.fill;
      ctx.fillRect(px[0], b.top, Math.max(1, px[1] - px[0]), b.height);
    });
    ctx.restore();
  }

  // Fault names, SLO thresholds and the highlighted window over the series.
  function drawOverlay(u, scale) {
    var ctx = u.ctx, b = u.bbox, pr = window.devicePixelRatio || 1;
    ctx.save();
    ctx.font = "600 " + Math.round(11 * pr) + "px system-ui, sans-serif";
    ctx.textBaseline = "top";
    view.bands.forEach(function (band, i) {
      var px = bandPx(u, band.start, band.end);
      if (px[1] - px[0] < 0.5) return;
      ctx.fillStyle = band.stroke;
      ctx.fillRect(px[0], b.top, Math.max(1, px[1] - px[0]), 3 * pr);
      var label = band.name + (band.applied ? "" : " (not applied)");
      ctx.fillText(label, px[0] + 3 * pr, b.top + (5 + (i % 3) * 13) * pr, Math.max(20 * pr, px[1] - px[0] + 40 * pr));
    });
    if (scale) {
      view.thresholds.forEach(function (th) {
        if (th.scale !== scale) return;
        var px = bandPx(u, th.start, th.end);
        var y = u.valToPos(th.value, scale, true);
        if (!isFinite(y) || y < b.top || y > b.top + b.height) return;
        ctx.strokeStyle = th.color;
        ctx.lineWidth = 1.5 * pr;
        ctx.setLineDash([6 * pr, 4 * pr]);
        ctx.beginPath();
        ctx.moveTo(px[0], y);
        ctx.lineTo(px[1], y);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = th.color;
        ctx.textBaseline = "bottom";
        ctx.fillText(th.label, px[0] + 4 * pr, y - 2 * pr);
        ctx.textBaseline = "top";
      });
    }
    var h = state.highlight;
    if (h) {
      var px = bandPx(u, h.start, h.end);
      ctx.fillStyle = "rgba(212, 167, 44, 0.22)";
      ctx.fillRect(px[0], b.top, Math.max(2, px[1] - px[0]), b.height);
      ctx.strokeStyle = "#9a6700";
      ctx.lineWidth = 2 * pr;
      ctx.strokeRect(px[0], b.top + pr, Math.max(2, px[1] - px[0]), b.height - 2 * pr);
    }
    ctx.restore();
  }

  function baseOpts(title, width, scale) {
    return {
      width: width,
      height: 240,
      title: undefined,
      scales: { x: { time: false, range: function () { return [0, view.durationS]; } } },
      cursor: { sync: { key: "meshquake" }, drag: { x: true, y: false } },
      legend: { live: true },
      hooks: {
        drawClear: [drawBands],
        draw: [function (u) { drawOverlay(u, scale); }],
      },
      axes: [
        { stroke: "#59636e", grid: { stroke: "#eaeef2" }, ticks: { stroke: "#d1d9e0" }, values: function (u, vals) { return vals.map(fmtT); } },
      ],
    };
  }

  function columns() {
    var x = [], req = [], errPct = [], p50 = [], p90 = [], p99 = [];
    timeline.forEach(function (p) {
      x.push(p.t + 0.5);
      req.push(p.requests);
      var ok = p.requests > 0;
      errPct.push(ok ? (100 * p.errors) / p.requests : null);
      p50.push(ok ? p.latencyUs.p50 / 1000 : null);
      p90.push(ok ? p.latencyUs.p90 / 1000 : null);
      p99.push(ok ? p.latencyUs.p99 / 1000 : null);
    });
    return { x: x, req: req, errPct: errPct, p50: p50, p90: p90, p99: p99 };
  }

  function xValue(u, v) {
    return v == null ? "—" : fmtT(v - 0.5) + "–" + fmtT(v + 0.5);
  }

  function drawCharts() {
    if (typeof uPlot !== "function" || !timeline.length) return;
    var c = columns();
    var trafficEl = document.getElementById("chart-traffic");
    var latencyEl = document.getElementById("chart-latency");
    if (!trafficEl || !latencyEl) return;
    var width = Math.max(320, trafficEl.clientWidth);

    var maxErr = Math.max.apply(null, [0].concat(c.errPct.filter(function (v) { return v != null; })));
    view.thresholds.forEach(function (th) { if (th.scale === "err") maxErr = Math.max(maxErr, th.value); });
    var t = baseOpts("traffic", width, "err");
    t.scales.req = { range: function (u, min, max) { return [0, Math.max(1, max * 1.15)]; } };
    t.scales.err = { range: function () { return [0, Math.max(1, maxErr * 1.2)]; } };
    t.axes.push(
      { scale: "req", label: "requests / s", labelSize: 20, size: 56, stroke: "#0969da", grid: { stroke: "#eaeef2" } },
      { scale: "err", side: 1, label: "error rate", labelSize: 20, size: 56, stroke: "#cf222e", grid: { show: false },
        values: function (u, vals) { return vals.map(function (v) { return v + "%"; }); } }
    );
    t.series = [
      { label: "second", value: xValue },
      { label: "requests/s", scale: "req", stroke: "#0969da", width: 1.5, fill: "rgba(9,105,218,0.07)", value: function (u, v) { return v == null ? "—" : String(v); } },
      { label: "error rate", scale: "err", stroke: "#cf222e", width: 2, value: function (u, v) { return v == null ? "—" : v.toFixed(2) + "%"; } },
    ];
    charts.push(new uPlot(t, [c.x, c.req, c.errPct], trafficEl));

    var lats = c.p50.concat(c.p99).filter(function (v) { return v != null && v > 0; });
    var lo = lats.length ? Math.min.apply(null, lats) : 1;
    var hi = lats.length ? Math.max.apply(null, lats) : 1;
    view.thresholds.forEach(function (th) { if (th.scale === "lat") hi = Math.max(hi, th.value); });
    var log = hi / Math.max(lo, 0.001) > 30;
    var scaleNote = document.getElementById("latency-scale");
    if (scaleNote) scaleNote.textContent = log ? "log scale" : "";
    var l = baseOpts("latency", width, "lat");
    l.scales.lat = log
      ? { distr: 3, log: 10, range: function () { return [Math.pow(10, Math.floor(Math.log10(Math.max(lo, 0.01)))), Math.pow(10, Math.ceil(Math.log10(hi * 1.2)))]; } }
      : { range: function () { return [0, hi * 1.15]; } };
    l.axes.push({ scale: "lat", label: "latency (ms)", labelSize: 20, size: 56, stroke: "#59636e", grid: { stroke: "#eaeef2" },
      values: function (u, vals) { return vals.map(function (v) { return v >= 1000 ? v / 1000 + " s" : v + ""; }); } });
    var fmt = function (u, v) { return fmtMs(v); };
    l.series = [
      { label: "second", value: xValue },
      { label: "p50", scale: "lat", stroke: "#0969da", width: 1.5, value: fmt },
      { label: "p90", scale: "lat", stroke: "#8250df", width: 1, dash: [4, 3], value: fmt },
      { label: "p99", scale: "lat", stroke: "#cf222e", width: 2, value: fmt },
    ];
    charts.push(new uPlot(l, [c.x, c.p50, c.p90, c.p99], latencyEl));

    var pending = false;
    var ro = new ResizeObserver(function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        var w = Math.max(320, trafficEl.clientWidth);
        charts.forEach(function (u) { if (Math.abs(u.width - w) > 1) u.setSize({ width: w, height: u.height }); });
      });
    });
    ro.observe(trafficEl);
  }

  function redraw() { charts.forEach(function (u) { u.redraw(false, false); }); }

  function setZoom(min, max) {
    charts.forEach(function (u) { u.setScale("x", { min: min, max: max }); });
  }

  function highlight(w) {
    state.highlight = w;
    redraw();
    if (caption && captionText) {
      captionText.textContent = "Window " + w.name + ": " + fmtT(w.start) + " – " + fmtT(w.end);
      caption.hidden = false;
    }
    document.body.setAttribute("data-highlight", w.name);
    var section = document.getElementById("timelines");
    if (section) {
      section.classList.remove("flash");
      void section.offsetWidth;
      section.classList.add("flash");
    }
  }

  function clear() {
    state.highlight = null;
    redraw();
    if (caption) caption.hidden = true;
    document.body.removeAttribute("data-highlight");
    Array.prototype.forEach.call(document.querySelectorAll("tr.selected"), function (tr) { tr.classList.remove("selected"); });
  }

  document.addEventListener("click", function (ev) {
    var target = ev.target;
    if (!(target instanceof Element)) return;
    var link = target.closest("a.win-link");
    if (link) {
      Array.prototype.forEach.call(document.querySelectorAll("tr.selected"), function (tr) { tr.classList.remove("selected"); });
      var row = link.closest("tr");
      if (row) row.classList.add("selected");
      highlight({
        name: link.getAttribute("data-window") || "",
        start: Number(link.getAttribute("data-start")) / 1000,
        end: Number(link.getAttribute("data-end")) / 1000,
      });
      return;
    }
    var action = target.closest("[data-action]");
    if (!action) return;
    var what = action.getAttribute("data-action");
    if (what === "zoom" && state.highlight) {
      var h = state.highlight, pad = Math.max(1, (h.end - h.start) * 0.25);
      setZoom(Math.max(0, h.start - pad), Math.min(view.durationS, h.end + pad));
    } else if (what === "unzoom") {
      setZoom(0, view.durationS);
    } else if (what === "clear") {
      setZoom(0, view.durationS);
      clear();
    }
  });

  try {
    drawCharts();
    document.body.setAttribute("data-charts", charts.length ? "ready" : "none");
  } catch (e) {
    document.body.setAttribute("data-charts", "failed");
    var box = document.getElementById("chart-error");
    if (box) { box.hidden = false; box.textContent = "The charts could not be drawn: " + (e && e.message ? e.message : String(e)); }
  }
})();
`;
