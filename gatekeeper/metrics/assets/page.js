// Charts of the gatekeeper report, drawn by BokehJS's plotting API from the figures embedded
// in the page (the JSON of `gatekeeper report --format json`). Nothing is fetched.
(function () {
  "use strict";
  const fig = JSON.parse(document.getElementById("gatekeeper-figures").textContent);
  Bokeh.set_log_level("warn");  // a healthy page says nothing in the console
  const plt = Bokeh.Plotting;
  const COLORS = {
    "first pass": "#4477aa", "final": "#228833",
    clean: "#228833", budget: "#ccbb44", stuck: "#ee6677", tamper: "#aa3377",
    error: "#777777", interrupted: "#66ccee", open: "#bbbbbb", failed: "#ee6677",
    failed_stage: "#ee6677", new: "#ee6677", existing: "#bbbbbb", unmarked: "#4477aa",
    median: "#4477aa", p90: "#a6c8e8", rate: "#228833",
    "re-check median": "#ee7733", "re-check p90": "#f6c08f",
  };
  const EXTRA = ["#66ccee", "#ccbb44", "#4477aa", "#ee7733", "#009988", "#cc3311"];
  // attempts to clean: fewer is better, from green to red
  const ATTEMPTS = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"];
  const HEIGHT = 300;

  function color(name, i) { return COLORS[name] || EXTRA[i % EXTRA.length]; }

  function empty(id, why) {
    const el = document.getElementById(id);
    el.innerHTML = "";
    const note = document.createElement("div");
    note.className = "empty";
    note.textContent = why;
    el.appendChild(note);
  }

  function base(opts) {
    const p = plt.figure(Object.assign({
      height: HEIGHT, sizing_mode: "stretch_width", tools: "pan,wheel_zoom,reset,save",
      toolbar_location: "right",
    }, opts));
    p.toolbar.logo = null;
    p.min_border_left = 8;
    return p;
  }

  function show(p, id) {
    return plt.show(p, "#" + id);
  }

  // The legend beside the plot, never over the bars; a click on an entry hides its series.
  function legendOutside(p, items) {
    if (!items.length) return;
    const legend = new Bokeh.Legend({
      items: items.map(([label, r]) => new Bokeh.LegendItem({ label: label, renderers: [r] })),
      click_policy: "hide", location: "top_left", border_line_color: null,
    });
    p.add_layout(legend, "right");
  }

  // Grouped horizontal bars: a row per category (top to bottom), a thin bar per series side by
  // side within it; values[s][c].
  function grouped(id, categories, series, values, opts) {
    if (!categories.length) return empty(id, opts.none || "nothing recorded in this window");
    const rows = categories.slice().reverse();
    const p = base({
      y_range: new Bokeh.FactorRange({ factors: rows, range_padding: 0.05 }),
      x_range: new Bokeh.DataRange1d({ start: 0, end: opts.max }),
      height: Math.max(HEIGHT, 60 + 14 * series.length * rows.length),
    });
    const band = 0.8 / series.length;
    const items = series.map((s, si) => {
      const v = values[si];
      const source = new Bokeh.ColumnDataSource({ data: {
        y: categories, value: v, what: categories.map(() => s),
        label: v.map((x) => (opts.format ? opts.format(x) : String(x))),
      } });
      // Series top to bottom within a row: the first series sits highest.
      const offset = 0.4 - band * (si + 0.5);
      const r = p.hbar({ y: { field: "y", transform: new Bokeh.Dodge({ value: offset, range: p.y_range }) },
        right: { field: "value" }, height: band * 0.9, source: source,
        fill_color: color(s, si), line_color: null });
      return [s, r];
    });
    p.add_tools(new Bokeh.HoverTool({ renderers: items.map(([, r]) => r),
      tooltips: [["", "@y"], ["@what", "@label"]] }));
    if (opts.percent) p.xaxis.formatter = new Bokeh.NumeralTickFormatter({ format: "0%" });
    if (series.length > 1) legendOutside(p, items);
    return show(p, id);
  }

  // Horizontal stacked bars: one row per category, stacks[s][c] stacked left to right.
  function stacked(id, categories, stacks, values, opts) {
    if (!categories.length) return empty(id, opts.none || "nothing recorded in this window");
    const rows = categories.slice().reverse();
    const p = base({
      y_range: new Bokeh.FactorRange({ factors: rows }),
      x_range: new Bokeh.DataRange1d({ start: 0 }),
      height: Math.max(HEIGHT, 40 + 26 * rows.length),
    });
    const left = categories.map(() => 0);
    const renderers = [];
    stacks.forEach((s, si) => {
      const v = values[si];
      if (!v.some((x) => x > 0)) return;
      const source = new Bokeh.ColumnDataSource({ data: {
        y: categories, left: left.slice(), right: left.map((l, i) => l + v[i]),
        value: v, what: categories.map(() => s),
      } });
      v.forEach((x, i) => { left[i] += x; });
      renderers.push([s, p.hbar({ y: { field: "y" }, left: { field: "left" },
        right: { field: "right" }, height: 0.7, source: source, fill_color: color(s, si),
        line_color: null })]);
    });
    p.add_tools(new Bokeh.HoverTool({ renderers: renderers.map(([, r]) => r),
      tooltips: [["", "@y"], ["@what", "@value"]] }));
    p.xaxis.ticker = new Bokeh.BasicTicker({ min_interval: 1 });  // counts: no half a loop
    if (stacks.length > 1) legendOutside(p, renderers);
    return show(p, id);
  }

  const pct = (v) => (v === null || v === undefined ? "-" : Math.round(v * 100) + "%");
  const sec = (v) => (v === null || v === undefined ? "-" : v.toFixed(2) + " s");
  const who = (r) => (r.kind === "session" ? "session: " : "") + r.agent;

  function yieldOverTime() {
    const id = "chart-yield-time";
    const days = fig.yield.by_day;
    if (!days.length) return empty(id, "no finished loops or sessions in this window");
    const data = {
      x: days.map((d) => Date.parse(d.day + "T00:00:00Z")), day: days.map((d) => d.day),
      first: days.map((d) => d.first_pass_yield), final: days.map((d) => d.final_yield),
      units: days.map((d) => d.units),
    };
    const source = new Bokeh.ColumnDataSource({ data: data });
    // At least three days wide, so a single day is a point in a week, not a microsecond axis.
    const DAY = 86400000;
    const first = Math.min(...data.x);
    const last = Math.max(...data.x);
    const pad = Math.max(DAY / 2, (3 * DAY - (last - first)) / 2);
    const p = base({
      x_axis_type: "datetime", x_range: new Bokeh.Range1d({ start: first - pad, end: last + pad }),
      y_range: new Bokeh.Range1d({ start: 0, end: 1.05 }),
    });
    p.xaxis.formatter = new Bokeh.DatetimeTickFormatter({ days: "%b %d", months: "%b %Y",
      hours: "%b %d", minutes: "%b %d", seconds: "%b %d", milliseconds: "%b %d",
      microseconds: "%b %d" });
    // A tick per day over two weeks or less (never the same day twice), else Bokeh's choice.
    p.xaxis.ticker = last + pad - (first - pad) <= 15 * DAY
      ? new Bokeh.DaysTicker({ days: Array.from({ length: 31 }, (_, i) => i + 1) })
      : new Bokeh.DatetimeTicker({ desired_num_ticks: 6 });
    const items = [];
    [["first", "first pass"], ["final", "final"]].forEach(([field, name]) => {
      const line = p.line({ x: { field: "x" }, y: { field: field }, source: source,
        line_width: 2, line_color: color(name) });
      const dots = p.scatter({ x: { field: "x" }, y: { field: field }, source: source, size: 7,
        fill_color: color(name), line_color: color(name) });
      items.push([name, dots, line]);
    });
    p.yaxis.formatter = new Bokeh.NumeralTickFormatter({ format: "0%" });
    p.add_tools(new Bokeh.HoverTool({ renderers: items.map(([, dots]) => dots),
      tooltips: [["day", "@day"], ["units", "@units"], ["first pass", "@first{0%}"],
        ["final", "@final{0%}"]] }));
    p.add_layout(new Bokeh.Legend({
      items: items.map(([label, dots, line]) => new Bokeh.LegendItem({ label: label,
        renderers: [dots, line] })),
      click_policy: "hide", location: "top_left", border_line_color: null,
    }), "right");
    return show(p, id);
  }

  function yieldPerAgent() {
    const rows = fig.yield.by_agent;
    return grouped("chart-yield-agent", rows.map(who), ["first pass", "final"],
      [rows.map((r) => r.first_pass_yield || 0), rows.map((r) => r.final_yield || 0)],
      { max: 1.05, what: "yield", format: pct, percent: true });
  }

  function attemptsToClean() {
    const rows = fig.attempts.to_clean.filter((r) => r.clean > 0);
    const counts = [];
    rows.forEach((r) => Object.keys(r.histogram).forEach((k) => {
      if (!counts.includes(k)) counts.push(k);
    }));
    counts.sort((a, b) => Number(a) - Number(b));
    const names = counts.map((k) => k + (k === "1" ? " attempt" : " attempts"));
    names.forEach((n, i) => { COLORS[n] = ATTEMPTS[Math.min(i, ATTEMPTS.length - 1)]; });
    return stacked("chart-attempts", rows.map(who), names,
      counts.map((k) => rows.map((r) => r.histogram[k] || 0)),
      { none: "nothing ended clean in this window" });
  }

  function stopReasons() {
    const rows = fig.attempts.stop_reasons;
    const reasons = [];
    rows.forEach((r) => Object.keys(r).forEach((k) => {
      if (k !== "agent" && k !== "units" && !reasons.includes(k)) reasons.push(k);
    }));
    return stacked("chart-stop-reasons", rows.map((r) => r.agent), reasons,
      reasons.map((k) => rows.map((r) => r[k] || 0)), { none: "no loops in this window" });
  }

  function failingStages() {
    const rows = fig.failures.stages;
    return stacked("chart-stages", rows.map((r) => r.stage), ["failed", "error"],
      [rows.map((r) => r.failed), rows.map((r) => r.error)], { none: "nothing failed" });
  }

  function failingRules() {
    const rows = fig.failures.rules;
    return stacked("chart-rules", rows.map((r) => r.stage + " " + r.rule),
      ["new", "existing", "unmarked"],
      [rows.map((r) => r.new), rows.map((r) => r.existing), rows.map((r) => r.unmarked)],
      { none: "no findings recorded" });
  }

  function tamperKinds() {
    const rows = fig.failures.tamper;
    return stacked("chart-tamper", rows.map((r) => r.rule), ["findings"],
      [rows.map((r) => r.findings)], { none: "no tampering caught" });
  }

  function times(id, rows, key) {
    const timed = rows.filter((r) => r.median_s !== null);
    return grouped(id, timed.map((r) => r[key]), ["median", "p90"],
      [timed.map((r) => r.median_s), timed.map((r) => r.p90_s)],
      { what: "seconds", format: sec, none: "no timings recorded" });
  }

  // The fixer's own time, and the gate's re-check after it where the ledger has it.
  function fixerTimes() {
    const rows = fig.time.fixers.filter((r) => r.median_s !== null);
    const series = ["median", "p90"];
    const values = [rows.map((r) => r.median_s), rows.map((r) => r.p90_s)];
    if (rows.some((r) => r.gate_median_s !== null)) {
      series.push("re-check median", "re-check p90");
      values.push(rows.map((r) => r.gate_median_s || 0), rows.map((r) => r.gate_p90_s || 0));
    }
    return grouped("chart-fixer-time", rows.map((r) => r.fixer), series, values,
      { what: "seconds", format: sec, none: "no fixer ran in this window" });
  }

  function cacheRate() {
    const rows = fig.time.stages.filter((r) => r.cache_hit_rate !== null);
    return grouped("chart-cache", rows.map((r) => r.stage), ["rate"],
      [rows.map((r) => r.cache_hit_rate)],
      { max: 1.05, what: "hit rate", format: pct, percent: true, none: "no stage ran" });
  }

  // A link to a loop's or session's attempts opens them (and a page opened at such a link
  // scrolls there again once the charts above have taken their height).
  function openTarget() {
    const el = location.hash && document.getElementById(location.hash.slice(1));
    if (el && el.tagName === "DETAILS") el.open = true;
    return el;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  const drawn = [
    yieldOverTime, yieldPerAgent, attemptsToClean, stopReasons, failingStages, failingRules,
    tamperKinds, () => times("chart-stage-time", fig.time.stages, "stage"),
    fixerTimes, cacheRate,
  ].map((draw) => Promise.resolve().then(draw));
  // The page's tests (and anyone curious) can wait for every chart to be on screen.
  window.gatekeeperReport = Promise.all(drawn).then(() => {
    const el = openTarget();
    if (el) el.scrollIntoView();
    return "drawn";
  });
})();
