// Small DOM helpers: h builds elements, nothing here touches the network.

// h("button", {class: "x", onclick: f}, "Save") builds an element. Attributes
// starting with "on" are listeners; false/null attributes are left out;
// children may be strings, nodes, arrays or null.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace empties el and fills it with children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// instant reads a time as the API writes it: an RFC 3339 string, or a stored
// date in Extended JSON ({"$date": …}), as account and document dates are.
function instant(t) {
  return t && typeof t === "object" && "$date" in t ? t.$date : t;
}

// when formats a time for a table cell: local date and time, to the second.
export function when(t) {
  t = instant(t);
  if (!t) return "—";
  const d = new Date(t);
  if (isNaN(d)) return String(t);
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// ago says how long ago t was, shortly.
export function ago(t) {
  t = instant(t);
  if (!t) return "never";
  const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
  if (s < 60) return `${Math.max(s, 0)}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function json(v) {
  return JSON.stringify(v, null, 2);
}

// table builds an accessible table from column titles and rows of cells.
export function table(caption, columns, rows, empty = "Nothing here yet.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("div", { class: "table-wrap" },
    h("table", {},
      h("caption", { class: "sr-only" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))))));
}

// badge shows a status word with its colour.
export function badge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}

// confirmOnce asks once before a destructive action.
export function confirmOnce(question) {
  return window.confirm(question);
}
