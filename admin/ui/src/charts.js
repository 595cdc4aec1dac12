// Charts drawn as inline SVG from the stats the admin API serves: bars for
// counts per bucket, lines for durations.
const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.append(c);
  return el;
}

const W = 600, H = 140, PAD = 28;

function frame(title, max, unit) {
  const root = svg("svg", { viewBox: `0 0 ${W} ${H + 20}`, role: "img", class: "chart" });
  root.append(svg("title", {}, document.createTextNode(title)));
  root.append(svg("line", { x1: PAD, y1: H, x2: W, y2: H, class: "axis" }));
  root.append(svg("text", { x: 0, y: 12, class: "tick" }, document.createTextNode(`${fmt(max)}${unit}`)));
  root.append(svg("text", { x: 0, y: H, class: "tick" }, document.createTextNode("0")));
  return root;
}

function fmt(n) {
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  if (n >= 10 || Number.isInteger(n)) return String(Math.round(n));
  return n.toFixed(1);
}

function timeLabel(t) {
  return new Date(t).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function xLabels(root, buckets) {
  if (!buckets.length) return;
  const first = buckets[0].at, last = buckets[buckets.length - 1].at;
  root.append(svg("text", { x: PAD, y: H + 16, class: "tick" }, document.createTextNode(timeLabel(first))));
  root.append(svg("text", { x: W - 2, y: H + 16, "text-anchor": "end", class: "tick" }, document.createTextNode(timeLabel(last))));
}

// stackedBars draws one bar per bucket with a segment per series:
// series = [{key, label, cls}].
export function stackedBars(title, buckets, series) {
  const max = Math.max(1, ...buckets.map((b) => series.reduce((s, x) => s + (b[x.key] || 0), 0)));
  const root = frame(title, max, "");
  const bw = (W - PAD) / Math.max(buckets.length, 1);
  buckets.forEach((b, i) => {
    let y = H;
    for (const s of series) {
      const v = b[s.key] || 0;
      if (!v) continue;
      const hgt = (v / max) * (H - 10);
      y -= hgt;
      const r = svg("rect", { x: PAD + i * bw + 1, y, width: Math.max(bw - 2, 1), height: hgt, class: s.cls });
      r.append(svg("title", {}, document.createTextNode(`${timeLabel(b.at)} ${s.label}: ${v}`)));
      root.append(r);
    }
  });
  xLabels(root, buckets);
  return root;
}

// lines draws one line per series over the buckets (0 values are gaps).
export function lines(title, buckets, series, unit) {
  const max = Math.max(1, ...buckets.flatMap((b) => series.map((s) => b[s.key] || 0)));
  const root = frame(title, max, unit);
  const bw = (W - PAD) / Math.max(buckets.length, 1);
  for (const s of series) {
    let d = "";
    buckets.forEach((b, i) => {
      const v = b[s.key];
      if (!v) return;
      const x = PAD + i * bw + bw / 2, y = H - (v / max) * (H - 10);
      d += `${d ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)} `;
    });
    if (d) root.append(svg("path", { d, class: `line ${s.cls}` }));
  }
  xLabels(root, buckets);
  return root;
}

// legend names the series of a chart.
export function legend(series) {
  const el = document.createElement("p");
  el.className = "legend";
  for (const s of series) {
    const i = document.createElement("span");
    i.className = `key ${s.cls}`;
    i.textContent = s.label;
    el.append(i);
  }
  return el;
}
