// The report's only script besides uPlot: draws the timelines from the embedded JSON (client
// traffic and latency, traffic share per replica, retries per edge), shades fault windows, marks
// ejections, keeps every chart's zoom in step, and highlights a check's window when its link is
// clicked. Plain ES2017 in a string: it runs in the reader's browser, never in Node.
export const CLIENT_JS = String.raw`(function () {
  "use strict";
  var dataEl = document.getElementById("mq-data");
  if (!dataEl) return;
  var data = JSON.parse(dataEl.textContent || "{}");
  var view = data.view;
  var timeline = data.timeline || [];
  var mesh = data.mesh || null;
  var charts = [];
  // Charts waiting for their container to be shown (a collapsed list), by container id.
  var pending = {};
  var state = { highlight: null, zoom: null, syncing: false };
  var api = { charts: charts, state: state, highlight: highlight, clear: clear, pending: pending };
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

  // Fault names, SLO thresholds and the highlighted window over the series. Charts whose areas
  // cover the whole plot (stacked shares) get their fault windows here, as a tint with edges.
  // Names go in the first of labelRows rows where they do not run into another; a name with no
  // room is left out (the legend above the charts names every window by colour).
  function drawOverlay(u, scale, tint, labelRows) {
    var ctx = u.ctx, b = u.bbox, pr = window.devicePixelRatio || 1;
    var rowEnds = [];
    for (var r = 0; r < labelRows; r++) rowEnds.push(-Infinity);
    ctx.save();
    ctx.font = "600 " + Math.round(11 * pr) + "px system-ui, sans-serif";
    ctx.textAlign = "left"; // uPlot leaves the last axis' alignment set
    ctx.textBaseline = "top";
    view.bands.slice().sort(function (a, c) { return a.start - c.start; }).forEach(function (band) {
      var px = bandPx(u, band.start, band.end);
      if (px[1] - px[0] < 0.5) return;
      if (tint) {
        ctx.globalAlpha = 0.6;
        ctx.fillStyle = band.fill;
        ctx.fillRect(px[0], b.top, Math.max(1, px[1] - px[0]), b.height);
        ctx.strokeStyle = band.stroke;
        ctx.lineWidth = pr;
        ctx.setLineDash([4 * pr, 3 * pr]);
        ctx.beginPath();
        ctx.moveTo(Math.round(px[0]) + 0.5, b.top);
        ctx.lineTo(Math.round(px[0]) + 0.5, b.top + b.height);
        ctx.moveTo(Math.round(px[1]) - 0.5, b.top);
        ctx.lineTo(Math.round(px[1]) - 0.5, b.top + b.height);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.globalAlpha = 1;
      }
      ctx.fillStyle = band.stroke;
      ctx.fillRect(px[0], b.top, Math.max(1, px[1] - px[0]), 3 * pr);
      if (px[1] - px[0] < 4 * pr) return;
      var label = band.name + (band.applied ? "" : " (not applied)");
      var x = px[0] + 3 * pr;
      var maxW = Math.max(20 * pr, b.left + b.width - x);
      var tw = Math.min(ctx.measureText(label).width, maxW);
      var row = -1;
      for (var k = 0; k < labelRows && row < 0; k++) if (x >= rowEnds[k] + 8 * pr) row = k;
      if (row < 0) return;
      rowEnds[row] = x + tw;
      var ty = b.top + (5 + row * 13) * pr;
      if (tint) {
        // Over coloured areas the name needs a backing to stay readable.
        ctx.fillStyle = "rgba(255, 255, 255, 0.8)";
        ctx.fillRect(x - 2 * pr, ty - 1 * pr, tw + 4 * pr, 13 * pr);
        ctx.fillStyle = band.stroke;
      }
      ctx.fillText(label, x, ty, maxW);
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

  function xAxis() {
    return { stroke: "#59636e", grid: { stroke: "#eaeef2" }, ticks: { stroke: "#d1d9e0" },
      values: function (u, vals) { return vals.map(function (v) { return v == null ? "" : fmtT(v); }); } };
  }

  // Zooming one chart zooms them all: they share the run's time axis.
  function syncZoom(u, key) {
    if (key !== "x" || state.syncing || charts.indexOf(u) < 0) return;
    var min = u.scales.x.min, max = u.scales.x.max;
    state.zoom = min <= 0 && max >= view.durationS ? null : { min: min, max: max };
    state.syncing = true;
    try {
      charts.forEach(function (o) {
        if (o !== u && (o.scales.x.min !== min || o.scales.x.max !== max)) o.setScale("x", { min: min, max: max });
      });
    } finally {
      state.syncing = false;
    }
  }

  // uPlot ranges x through this on every change: a zoom keeps its bounds; the data's own extent
  // (first draw, double-click) becomes the whole run, so every chart spans the same time.
  function xRange(u, min, max) {
    var xs = u.data && u.data[0];
    var first = xs && xs.length ? xs[0] : 0;
    var last = xs && xs.length ? xs[xs.length - 1] : view.durationS;
    if (min == null || max == null || !(max > min) || (min <= first && max >= last)) return [0, view.durationS];
    return [Math.max(0, min), Math.min(view.durationS, max)];
  }

  function baseOpts(width, height, scale, overlay, labelRows) {
    return {
      width: width,
      height: height,
      scales: { x: { time: false, range: xRange } },
      cursor: { sync: { key: "meshquake" }, drag: { x: true, y: false } },
      legend: { live: true },
      hooks: {
        drawClear: overlay ? [] : [drawBands],
        draw: [overlay ? overlay : function (u) { drawOverlay(u, scale, false, labelRows); }],
        setScale: [syncZoom],
      },
      axes: [xAxis()],
    };
  }

  function widthOf(el) {
    return Math.max(240, el.clientWidth);
  }

  /** Makes a chart now, or when its container is first shown (a collapsed list). */
  function chartIn(el, make) {
    if (!el) return;
    if (el.closest("details:not([open])")) {
      pending[el.id] = make;
      return;
    }
    var u = make(widthOf(el));
    charts.push(u);
    if (state.zoom) u.setScale("x", { min: state.zoom.min, max: state.zoom.max });
  }

  function drawPending(root) {
    Object.keys(pending).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el || !root.contains(el) || el.closest("details:not([open])")) return;
      var make = pending[id];
      delete pending[id];
      chartIn(el, make);
    });
  }

  function columns() {
    var x = [], req = [], errPct = [], p50 = [], p90 = [], p99 = [], intended = [], sent = [], notSent = [];
    var bySecond = {};
    (data.load || []).forEach(function (s) { bySecond[s[0]] = s; });
    timeline.forEach(function (p) {
      x.push(p.t + 0.5);
      req.push(p.requests);
      var g = bySecond[p.t];
      intended.push(g ? g[1] : null);
      sent.push(g ? g[2] : null);
      notSent.push(g ? g[3] : null);
      var ok = p.requests > 0;
      errPct.push(ok ? (100 * p.errors) / p.requests : null);
      p50.push(ok ? p.latencyUs.p50 / 1000 : null);
      p90.push(ok ? p.latencyUs.p90 / 1000 : null);
      p99.push(ok ? p.latencyUs.p99 / 1000 : null);
    });
    return { x: x, req: req, errPct: errPct, p50: p50, p90: p90, p99: p99, intended: intended, sent: sent, notSent: notSent };
  }

  function xValue(u, v) {
    return v == null ? "—" : fmtT(v - 0.5) + "–" + fmtT(v + 0.5);
  }

  function pct(v) {
    if (v == null || !isFinite(v)) return "—";
    var p = v * 100;
    return (p >= 10 || p === 0 ? Math.round(p) : p.toFixed(1)) + "%";
  }

  function secondsX(n) {
    var x = [];
    for (var t = 0; t < n; t++) x.push(t + 0.5);
    return x;
  }

  // Below a share chart, one lane per replica that was ejected: a bar over each ejection.
  var LANE = 0.11;

  function drawEjections(u, s, lanes) {
    if (!lanes.length) return;
    var ctx = u.ctx, b = u.bbox, pr = window.devicePixelRatio || 1;
    ctx.save();
    ctx.font = "600 " + Math.round(11 * pr) + "px system-ui, sans-serif";
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    s.ejections.forEach(function (e) {
      var lane = lanes.indexOf(e.replica);
      var r = s.replicas[e.replica];
      var px = bandPx(u, e.start, e.end);
      if (px[1] - px[0] < 0.5) return;
      var top = u.valToPos(-lane * LANE, "share", true) + 2 * pr;
      var bottom = u.valToPos(-(lane + 1) * LANE, "share", true) - 1 * pr;
      ctx.fillStyle = r.stroke;
      ctx.fillRect(px[0], top, Math.max(2 * pr, px[1] - px[0]), bottom - top);
      var label = "[" + r.index + "] ejected";
      var w = ctx.measureText(label).width;
      var mid = (top + bottom) / 2;
      if (px[1] - px[0] > w + 8 * pr) {
        ctx.fillStyle = "#ffffff";
        ctx.fillText(label, px[0] + 4 * pr, mid);
      } else if (px[1] + w + 6 * pr < b.left + b.width) {
        ctx.fillStyle = r.stroke;
        ctx.fillText(label, px[1] + 4 * pr, mid);
      }
    });
    ctx.restore();
  }

  // Stacked shares: series k holds replicas k..n-1 together, filled opaque down to 0 and drawn
  // in order, so replica 0 is the top band and each band's height is one replica's share.
  function shareChart(s) {
    return function (width) {
      var n = s.requests.length;
      var len = 0;
      s.requests.forEach(function (r) { len = Math.max(len, r.length); });
      var totals = [], stacked = [];
      for (var k = 0; k < n; k++) stacked.push([]);
      for (var t = 0; t < len; t++) {
        var total = 0;
        for (k = 0; k < n; k++) total += s.requests[k][t] || 0;
        totals.push(total);
        var acc = 0;
        for (k = n - 1; k >= 0; k--) {
          acc += s.requests[k][t] || 0;
          stacked[k].push(total > 0 ? acc / total : null);
        }
      }
      var lanes = [];
      s.ejections.forEach(function (e) { if (lanes.indexOf(e.replica) < 0) lanes.push(e.replica); });
      lanes.sort(function (a, b) { return a - b; });
      var opts = baseOpts(width, 190 + lanes.length * 16, "share", function (u) {
        drawEjections(u, s, lanes);
        drawOverlay(u, null, true, 1);
      });
      opts.scales.share = { range: function () { return [-lanes.length * LANE, 1]; } };
      opts.axes.push({ scale: "share", label: "share of requests", labelSize: 20, size: 56, stroke: "#59636e", grid: { stroke: "rgba(255,255,255,0.55)" },
        splits: function () { return [0, 0.25, 0.5, 0.75, 1]; },
        values: function (u, vals) { return vals.map(function (v) { return v == null ? "" : Math.round(v * 100) + "%"; }); } });
      opts.series = [{ label: "second", value: xValue }];
      s.replicas.forEach(function (r, k) {
        opts.series.push({
          label: "[" + r.index + "]",
          scale: "share",
          stroke: r.stroke,
          width: 1,
          fill: r.fill,
          fillTo: 0,
          points: { show: false },
          value: function (u, v, si, idx) {
            if (idx == null || !totals[idx]) return "—";
            var req = s.requests[k][idx] || 0;
            return pct(req / totals[idx]) + " · " + req + "/s";
          },
        });
      });
      var el = document.getElementById(s.id);
      return new uPlot(opts, [secondsX(len)].concat(stacked), el);
    };
  }

  function edgeChart(e) {
    return function (width) {
      var len = e.requests.length;
      var max = 1;
      for (var t = 0; t < len; t++) max = Math.max(max, e.requests[t] || 0, e.retries[t] || 0, e.errors[t] || 0);
      var opts = baseOpts(width, 190, null, null, 1);
      opts.scales.n = { range: function () { return [0, max * 1.12]; } };
      opts.axes.push({ scale: "n", label: "per second", labelSize: 20, size: 56, stroke: "#59636e", grid: { stroke: "#eaeef2" },
        values: function (u, vals) { return vals.map(function (v) { return v == null ? "" : String(v); }); } });
      var of = function (what) {
        return function (u, v, si, idx) {
          if (idx == null || v == null) return "—";
          var req = e.requests[idx] || 0;
          return v + "/s" + (req > 0 ? " (" + (what === "retries" ? (v / req).toFixed(2) + " per request" : pct(v / req)) + ")" : "");
        };
      };
      opts.series = [
        { label: "second", value: xValue },
        { label: "requests", scale: "n", stroke: "#8c959f", width: 1, fill: "rgba(140,149,159,0.16)", points: { show: false },
          value: function (u, v) { return v == null ? "—" : v + "/s"; } },
        { label: "retries", scale: "n", stroke: "#bc4c00", width: 2, points: { show: false }, value: of("retries") },
        { label: "failed", scale: "n", stroke: "#cf222e", width: 1.5, dash: [5, 3], points: { show: false }, value: of("errors") },
      ];
      return new uPlot(opts, [secondsX(len), e.requests, e.retries, e.errors], document.getElementById(e.id));
    };
  }

  function drawCharts() {
    if (typeof uPlot !== "function" || !timeline.length) return;
    var c = columns();
    var trafficEl = document.getElementById("chart-traffic");
    var latencyEl = document.getElementById("chart-latency");
    if (!trafficEl || !latencyEl) return;
    var width = widthOf(trafficEl);

    var maxErr = Math.max.apply(null, [0].concat(c.errPct.filter(function (v) { return v != null; })));
    view.thresholds.forEach(function (th) { if (th.scale === "err") maxErr = Math.max(maxErr, th.value); });
    var t = baseOpts(width, 240, "err", null, 3);
    t.scales.req = { range: function (u, min, max) { return [0, Math.max(1, max * 1.15)]; } };
    t.scales.err = { range: function () { return [0, Math.max(1, maxErr * 1.2)]; } };
    t.axes.push(
      { scale: "req", label: "requests / s", labelSize: 20, size: 56, stroke: "#0969da", grid: { stroke: "#eaeef2" } },
      { scale: "err", side: 1, label: "error rate", labelSize: 20, size: 56, stroke: "#cf222e", grid: { show: false },
        values: function (u, vals) { return vals.map(function (v) { return v == null ? "" : v + "%"; }); } }
    );
    var count = function (u, v) { return v == null ? "—" : String(v); };
    t.series = [{ label: "second", value: xValue }];
    var cols = [c.x];
    if (data.load) {
      // The generator's own account: what the schedule called for, what left, what the in-flight cap held back.
      t.series.push(
        { label: "intended/s", scale: "req", stroke: "#8c959f", width: 1.5, dash: [6, 4], value: count },
        { label: "sent/s", scale: "req", stroke: "#0969da", width: 1.5, fill: "rgba(9,105,218,0.07)", value: count },
        { label: "not sent/s", scale: "req", stroke: "#bc4c00", width: 2, value: count }
      );
      cols.push(c.intended, c.sent, c.notSent);
    } else {
      t.series.push({ label: "requests/s", scale: "req", stroke: "#0969da", width: 1.5, fill: "rgba(9,105,218,0.07)", value: count });
      cols.push(c.req);
    }
    t.series.push({ label: "error rate", scale: "err", stroke: "#cf222e", width: 2, value: function (u, v) { return v == null ? "—" : v.toFixed(2) + "%"; } });
    cols.push(c.errPct);
    chartIn(trafficEl, function () { return new uPlot(t, cols, trafficEl); });

    var lats = c.p50.concat(c.p99).filter(function (v) { return v != null && v > 0; });
    var lo = lats.length ? Math.min.apply(null, lats) : 1;
    var hi = lats.length ? Math.max.apply(null, lats) : 1;
    view.thresholds.forEach(function (th) { if (th.scale === "lat") hi = Math.max(hi, th.value); });
    var log = hi / Math.max(lo, 0.001) > 30;
    var scaleNote = document.getElementById("latency-scale");
    if (scaleNote) scaleNote.textContent = log ? "log scale" : "";
    var l = baseOpts(width, 240, "lat", null, 3);
    l.scales.lat = log
      ? { distr: 3, log: 10, range: function () { return [Math.pow(10, Math.floor(Math.log10(Math.max(lo, 0.01)))), Math.pow(10, Math.ceil(Math.log10(hi * 1.2)))]; } }
      : { range: function () { return [0, hi * 1.15]; } };
    var latValues = function (u, vals) {
      return vals.map(function (v) { return v == null ? "" : v >= 1000 ? v / 1000 + " s" : String(v); });
    };
    // Log axes: ticks at 1, 2 and 5 of each decade only, so labels never collide.
    var latSplits = log ? function (u, axisIdx, min, max) {
      var out = [];
      for (var e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
        [1, 2, 5].forEach(function (m) {
          var v = +(m * Math.pow(10, e)).toPrecision(3);
          if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
        });
      }
      return out;
    } : undefined;
    var latAxis = { scale: "lat", label: "latency (ms)", labelSize: 20, size: 56, stroke: "#59636e", grid: { stroke: "#eaeef2" }, values: latValues };
    if (latSplits) latAxis.splits = latSplits;
    // A mirror axis on the right keeps both charts' plot areas aligned second for second.
    var latMirror = { scale: "lat", side: 1, size: 56, labelSize: 20, label: "", stroke: "#59636e", grid: { show: false }, values: latValues };
    if (latSplits) latMirror.splits = latSplits;
    l.axes.push(latAxis, latMirror);
    var fmt = function (u, v) { return fmtMs(v); };
    l.series = [
      { label: "second", value: xValue },
      { label: "p50", scale: "lat", stroke: "#0969da", width: 1.5, value: fmt },
      { label: "p90", scale: "lat", stroke: "#8250df", width: 1, dash: [4, 3], value: fmt },
      { label: "p99", scale: "lat", stroke: "#cf222e", width: 2, value: fmt },
    ];
    chartIn(latencyEl, function () { return new uPlot(l, [c.x, c.p50, c.p90, c.p99], latencyEl); });

    if (mesh) {
      mesh.shares.forEach(function (s) { chartIn(document.getElementById(s.id), shareChart(s)); });
      mesh.edges.forEach(function (e) { chartIn(document.getElementById(e.id), edgeChart(e)); });
    }
    Array.prototype.forEach.call(document.querySelectorAll("details.more-charts"), function (d) {
      d.addEventListener("toggle", function () { if (d.open) drawPending(d); });
    });

    var resizing = false;
    var ro = new ResizeObserver(function () {
      if (resizing) return;
      resizing = true;
      requestAnimationFrame(function () {
        resizing = false;
        charts.forEach(function (u) {
          var el = u.root.parentElement;
          if (!el || el.clientWidth === 0) return;
          var w = widthOf(el);
          if (Math.abs(u.width - w) > 1) u.setSize({ width: w, height: u.height });
        });
      });
    });
    ro.observe(document.getElementById("timelines") || trafficEl);
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
      var href = link.getAttribute("href") || "";
      var dest = href.charAt(0) === "#" ? document.getElementById(href.slice(1)) : null;
      var folded = dest ? dest.closest("details:not([open])") : null;
      if (folded) folded.open = true;
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
