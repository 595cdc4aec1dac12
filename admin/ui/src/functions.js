// The functions screens: the list, and one function's editor, triggers,
// test-run, versions, executions and charts.
import { api, qs } from "./api.js";
import { h, replace, when, ago, json, table, badge, confirmOnce } from "./dom.js";
import { createEditor, createDiff } from "./editor.js";
import { stackedBars, lines, legend } from "./charts.js";
import { cursorPages } from "./screens.js";

const enc = encodeURIComponent;

const systemEvents = [
  "user_registered", "user_login", "user_updated", "user_deleted",
  "doc_created", "doc_updated", "doc_deleted", "chan_in", "channel_join", "job_dead", "webhook_dead",
];
const docEvents = new Set(["doc_created", "doc_updated", "doc_deleted"]);
// channelEvents are the events a trigger may narrow to some channels.
const channelEvents = new Set(["chan_in", "channel_join"]);

const template = `function handle(input, ctx)
  print("called by", ctx.trigger)
  return { greeting = "Hello, " .. (input.name or "world") }
end
`;

export function triggerSummary(t) {
  if (t.invoke) return "invoke";
  if (t.http) return t.methods && t.methods.length ? `http ${t.methods.join(" ")}` : "http";
  if (t.event) return t.collection ? `${t.event} on ${t.collection}` : t.channel ? `${t.event} on ${t.channel}` : t.event;
  if (t.schedule) return `schedule ${t.schedule}${t.timezone ? ` (${t.timezone})` : ""}`;
  return "?";
}

// FUNCTIONS_PAGE is how many functions the list shows at a time; the
// server pages them by name (?limit=&after=) and narrows by ?prefix=.
const FUNCTIONS_PAGE = 50;

export async function functionsScreen(main, ui) {
  let prefix = "";
  const pages = cursorPages(() => ui.guard(load));
  const listBox = h("div", {});
  const prefixIn = h("input", { id: "fn-prefix", placeholder: "send-", spellcheck: "false", pattern: "[A-Za-z][A-Za-z0-9_-]{0,63}" });
  async function load() {
    const { functions, next } = await api.get(`/api/admin/functions${qs({ limit: FUNCTIONS_PAGE, after: pages.cursor(), prefix })}`);
    const rows = functions.map((f) => {
      const last = h("span", {}, "…"), rate = h("span", {}, "…");
      api.get(`/api/admin/functions/${enc(f.name)}/stats?window=1h`).then((s) => {
        replace(last, s.last_run ? [badge(s.last_run.status), " ", h("time", { datetime: s.last_run.started_at, title: when(s.last_run.started_at) }, ago(s.last_run.started_at))] : "never");
        replace(rate, s.runs ? `${(s.error_rate * 100).toFixed(1)}% of ${s.runs}` : "no runs");
      }, (e) => { replace(last, "?"); ui.error(e); });
      return [
        h("a", { href: `#/functions/${enc(f.name)}` }, f.name),
        f.triggers.map(triggerSummary).join(", ") || "none",
        `v${f.version}`, last, rate, when(f.updated_at),
      ];
    });
    replace(listBox,
      table("Functions", ["Name", "Triggers", "Version", "Last run", "Errors (1h)", "Saved"], rows,
        prefix ? `No function's name starts with ${prefix}.` : "No functions yet. Create one, or deploy a folder with `moonbase deploy`."),
      pages.nav(functions.length, next));
  }
  replace(main,
    h("div", { class: "title-row" }, h("h1", {}, "Functions"), h("a", { class: "button", href: "#/functions/new" }, "New function")),
    h("form", { class: "row", role: "search", onsubmit: (ev) => { ev.preventDefault(); prefix = prefixIn.value.trim(); pages.reset(); ui.guard(load); } },
      h("label", { for: "fn-prefix" }, "Name starts with"), prefixIn, h("button", { type: "submit" }, "Filter")),
    listBox);
  await load();
}

// functionScreen edits one function; name null makes a new one.
export async function functionScreen(main, ui, name) {
  let fn = { name: name || "", source: template, handler: "handle", triggers: [{ invoke: true }], version: 0 };
  if (name) fn = (await api.get(`/api/admin/functions/${enc(name)}`)).function;
  const timers = [];
  let diff = null;

  const status = h("p", { id: "compile-status", class: "compile", role: "status", "aria-live": "polite" }, "Checking…");
  const nameInput = h("input", { id: "fn-name", value: fn.name, required: true, pattern: "[A-Za-z][A-Za-z0-9_-]{0,63}", readonly: !!name, "aria-describedby": "fn-name-hint" });
  const handlerInput = h("input", { id: "fn-handler", value: fn.handler || "handle" });
  const timeoutInput = h("input", { id: "fn-timeout", value: fn.timeout || "", placeholder: "default" });
  const retriesInput = h("input", { id: "fn-retries", type: "number", min: 0, max: 99, value: fn.retries ?? "", placeholder: "default" });
  const editorBox = h("div", { class: "editor", id: "editor" });
  const editor = createEditor(editorBox, {
    doc: fn.source,
    handler: () => handlerInput.value || "handle",
    name: () => (/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(nameInput.value) ? nameInput.value : ""),
    onStatus(ok, msg, line) {
      status.className = `compile ${ok ? "ok" : "bad"}`;
      replace(status, ok ? msg : [line ? `Line ${line}: ` : "", msg]);
    },
    onSave: () => save(),
    onRun: () => runTest(),
  });
  handlerInput.addEventListener("change", () => editor.setText(editor.text()));

  // Triggers, edited as a form.
  let triggers = fn.triggers.map((t) => ({ ...t }));
  const triggerList = h("div", { class: "triggers" });
  const renderTriggers = () => replace(triggerList, triggers.map((t, i) => triggerRow(t, i)),
    h("div", { class: "row" },
      h("label", { for: "add-trigger" }, "Add a trigger"),
      h("select", { id: "add-trigger", onchange: (e) => {
        const kind = e.target.value;
        e.target.value = "";
        if (!kind) return;
        triggers.push(kind === "invoke" ? { invoke: true } : kind === "http" ? { http: true } : kind === "event" ? { event: "user_registered" } : { schedule: "daily at 09:00", timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" });
        renderTriggers();
      } }, h("option", { value: "" }, "choose…"), ["invoke", "http", "event", "schedule"].map((k) => h("option", { value: k }, k)))));

  function triggerRow(t, i) {
    const id = `trigger-${i}`;
    const remove = h("button", { type: "button", class: "secondary", onclick: () => { triggers.splice(i, 1); renderTriggers(); } }, "Remove");
    if (t.invoke) return h("fieldset", { class: "trigger" }, h("legend", {}, "Invoke"), h("p", {}, "Clients may call it with executeFunction (POST /api/functions/", fn.name || "name", ")."), remove);
    if (t.http) return httpTriggerRow(t, id, fn.name, remove);
    if (t.event !== undefined) {
      const col = h("input", { id: `${id}-col`, value: t.collection || "", placeholder: "any collection", oninput: (e) => { t.collection = e.target.value || undefined; } });
      const colRow = h("div", { class: "row", hidden: !docEvents.has(t.event) }, h("label", { for: `${id}-col` }, "Collection"), col);
      const chan = h("input", { id: `${id}-chan`, value: t.channel || "", placeholder: "any channel (or room:*)", oninput: (e) => { t.channel = e.target.value || undefined; } });
      const chanRow = h("div", { class: "row", hidden: !channelEvents.has(t.event) }, h("label", { for: `${id}-chan` }, "Channel"), chan);
      return h("fieldset", { class: "trigger" }, h("legend", {}, "Event"),
        h("div", { class: "row" }, h("label", { for: `${id}-ev` }, "Event name"),
          h("input", { id: `${id}-ev`, list: "event-names", value: t.event, oninput: (e) => {
            t.event = e.target.value;
            colRow.hidden = !docEvents.has(t.event);
            if (colRow.hidden) delete t.collection;
            chanRow.hidden = !channelEvents.has(t.event);
            if (chanRow.hidden) delete t.channel;
          } })),
        colRow, chanRow, remove);
    }
    const preview = h("ol", { class: "preview", id: `${id}-next`, "aria-live": "polite" });
    const explain = h("p", { class: "hint" });
    let seq = 0;
    const refresh = debounce(async () => {
      const mine = ++seq;
      try {
        const p = await api.get(`/api/admin/schedules/preview${qs({ expression: t.schedule, timezone: t.timezone })}`);
        if (mine !== seq) return;
        explain.className = "hint";
        replace(explain, `Reads as ${p.normalized} in ${p.timezone}. Next ${p.next.length}:`);
        replace(preview, p.next.map((n) => h("li", {}, h("time", { datetime: n }, formatInZone(n, p.timezone)))));
      } catch (e) {
        if (mine !== seq) return;
        explain.className = "hint bad";
        replace(explain, `${e.code}: ${e.message}`);
        replace(preview);
      }
    }, 250);
    timers.push(() => { seq++; });
    const row = h("fieldset", { class: "trigger" }, h("legend", {}, "Schedule"),
      h("div", { class: "row" }, h("label", { for: `${id}-expr` }, "When"),
        h("input", { id: `${id}-expr`, value: t.schedule, placeholder: "daily at 09:00 · 0 9 * * * · FREQ=WEEKLY;BYDAY=MO", oninput: (e) => { t.schedule = e.target.value; refresh(); } })),
      h("div", { class: "row" }, h("label", { for: `${id}-tz` }, "Time zone"),
        h("input", { id: `${id}-tz`, list: "zones", value: t.timezone || "", placeholder: "UTC", oninput: (e) => { t.timezone = e.target.value || undefined; refresh(); } })),
      explain, preview, remove);
    refresh();
    return row;
  }
  renderTriggers();

  async function save() {
    const n = nameInput.value.trim();
    if (!n) { ui.error({ code: "invalid_input", message: "give the function a name" }); nameInput.focus(); return; }
    const def = { source: editor.text(), handler: handlerInput.value || "handle", triggers: clean(triggers) };
    if (timeoutInput.value) def.timeout = timeoutInput.value;
    if (retriesInput.value !== "") def.retries = Number(retriesInput.value);
    await ui.guard(async () => {
      const res = await api.put(`/api/admin/functions/${enc(n)}`, def);
      ui.notice(`Saved ${n} as version ${res.function.version}.`);
      if (!name) location.hash = `#/functions/${enc(n)}`;
      else { fn = res.function; versionLabel.textContent = `v${fn.version}`; }
    });
  }

  async function remove() {
    if (!confirmOnce(`Delete function ${name} with its versions and schedules?`)) return;
    await ui.guard(async () => {
      await api.del(`/api/admin/functions/${enc(name)}`);
      ui.notice(`Deleted ${name}.`);
      location.hash = "#/functions";
    });
  }

  // Test-run of the editor's text, not yet saved.
  const ctxSelect = h("select", { id: "test-context" },
    h("option", { value: "invoke" }, "Invoke: input is the client's data"),
    h("option", { value: "http" }, "HTTP request"),
    h("option", { value: "user_registered" }, "Event: user_registered"),
    h("option", { value: "doc_created" }, "Event: doc_created"),
    h("option", { value: "chan_in" }, "Event: chan_in"),
    h("option", { value: "custom" }, "Event: a custom one"),
    h("option", { value: "schedule" }, "Schedule tick"),
    h("option", { value: "recorded" }, "A recorded event…"),
    h("option", { value: "inbound" }, "A logged HTTP request…"),
    h("option", { value: "dead" }, "A dead job's input…"));
  const pick = h("select", { id: "test-pick", hidden: true, "aria-label": "Recorded item" });
  const input = h("textarea", { id: "test-input", rows: 8, spellcheck: "false" }, '{\n  "name": "Ada"\n}');
  const result = h("div", { id: "test-result", class: "result", "aria-live": "polite" });
  const eventInput = h("input", { id: "test-event", list: "event-names" });
  const eventRow = h("div", { class: "row", hidden: true }, h("label", { for: "test-event" }, "Event"), eventInput);
  const userInput = h("input", { id: "test-user", placeholder: "nobody", autocomplete: "off" });
  const userRow = h("div", { class: "row" }, h("label", { for: "test-user" }, "User id"), userInput);
  let runTrigger = "invoke";
  // setContext says which trigger the run pretends to come from: ctx.trigger,
  // ctx.event and, for invoke and http, ctx.user.
  function setContext(trigger, event) {
    runTrigger = trigger || "test";
    eventRow.hidden = runTrigger !== "event";
    eventInput.value = event || "";
    userRow.hidden = runTrigger !== "invoke" && runTrigger !== "http";
  }
  ctxSelect.addEventListener("change", () => ui.guard(async () => {
    pick.hidden = true;
    const v = ctxSelect.value;
    if (v === "recorded") {
      const { events } = await api.get("/api/admin/events?limit=50");
      fillPick(events.map((e) => [e.data, `${e.name} · ${when(e.at)}`, "event", e.name]), "No events recorded yet.");
    } else if (v === "inbound") {
      const { requests } = await api.get(`/api/admin/inbound${qs({ function: name, limit: 50 })}`);
      fillPick(requests.map((r) => [inboundInput(r), `${r.method} ${r.status} · ${when(r.received_at)}`, "http", ""]),
        "No requests to this function logged yet.");
    } else if (v === "dead") {
      const { jobs } = await api.get("/api/admin/jobs?status=dead&limit=50");
      const fnJobs = jobs.filter((j) => j.kind === "function");
      fillPick(fnJobs.map((j) => [j.payload.input || {}, `${j.payload.function} · ${j.last_error || ""}`.slice(0, 90),
        j.payload.trigger || "event", j.payload.event_name]), "No dead function jobs.");
    } else {
      const [trigger, event] = v === "invoke" || v === "http" || v === "schedule" ? [v, ""] : ["event", v === "custom" ? "order_shipped" : v];
      setContext(trigger, event);
      input.value = json(syntheticInput(v));
    }
  }));
  function fillPick(items, none) {
    pick.hidden = false;
    replace(pick, items.length ? items.map(([, label], i) => h("option", { value: i }, label)) : h("option", { value: "" }, none));
    const choose = (it) => { input.value = json(it[0]); setContext(it[2], it[3]); };
    pick.onchange = () => { if (items[pick.value]) choose(items[pick.value]); };
    if (items.length) choose(items[0]);
  }
  async function runTest() {
    let data;
    try {
      data = input.value.trim() ? JSON.parse(input.value) : {};
    } catch (e) {
      ui.error({ code: "invalid_input", message: `the input is not JSON: ${e.message}` });
      input.focus();
      return;
    }
    replace(result, h("p", { class: "loading" }, "Running…"));
    await ui.guard(async () => {
      const body = { name: nameInput.value || "test", source: editor.text(), handler: handlerInput.value || "handle", input: data, trigger: runTrigger };
      if (runTrigger === "event") body.event = eventInput.value;
      if ((runTrigger === "invoke" || runTrigger === "http") && userInput.value.trim()) body.user = userInput.value.trim();
      if (timeoutInput.value) body.timeout = timeoutInput.value;
      const r = await api.post("/api/admin/functions/test", body);
      replace(result,
        h("p", {}, badge(r.error ? "error" : "ok"), ` HTTP ${r.status} · ${r.duration_ms.toFixed(1)} ms`),
        r.error ? h("div", { class: "alert error", id: "test-error" }, r.error,
          r.line ? [" ", h("button", { type: "button", class: "link", onclick: () => editor.goToLine(r.line) }, `Go to line ${r.line}`)] : null) : null,
        h("h3", {}, "Returned"), h("pre", { id: "test-return" }, json(r.result)),
        h("h3", {}, "Printed and logged"),
        r.output.length ? h("ol", { class: "log", id: "test-output" }, r.output.map((l) => h("li", { class: `log-${l.level}` }, h("span", { class: "level" }, l.level), " ", l.message))) : h("p", { class: "empty" }, "Nothing."));
    });
    if (result.querySelector(".loading")) replace(result);
  }

  const versionLabel = h("span", { class: "version" }, fn.version ? `v${fn.version}` : "");
  const panels = {};
  const tabs = [["code", "Code & test"], ["triggers", "Triggers"], ["versions", "Versions"], ["executions", "Executions"], ["stats", "Charts"]]
    .filter(([k]) => name || k === "code" || k === "triggers");
  const tabButtons = tabs.map(([k, label]) => h("button", { type: "button", role: "tab", id: `tab-${k}`, "aria-controls": `panel-${k}`, onclick: () => show(k) }, label));
  let stopTail = null;
  function show(k) {
    for (const b of tabButtons) b.setAttribute("aria-selected", String(b.id === `tab-${k}`));
    for (const [pk, p] of Object.entries(panels)) p.hidden = pk !== k;
    if (stopTail) { stopTail(); stopTail = null; }
    if (k === "versions") ui.guard(() => loadVersions());
    if (k === "executions") stopTail = tail(panels.executions, ui, name);
    if (k === "stats") ui.guard(() => loadStats("1h"));
  }

  panels.code = h("section", { id: "panel-code", role: "tabpanel", "aria-labelledby": "tab-code", class: "code-panel" },
    h("div", { class: "code-main" },
      editorBox, status,
      h("details", { class: "settings" }, h("summary", {}, "Handler, timeout, retries"),
        h("div", { class: "row" }, h("label", { for: "fn-handler" }, "Handler"), handlerInput),
        h("div", { class: "row" }, h("label", { for: "fn-timeout" }, "Timeout"), timeoutInput),
        h("div", { class: "row" }, h("label", { for: "fn-retries" }, "Retries"), retriesInput)),
      h("div", { class: "actions" },
        h("button", { type: "button", id: "save", onclick: save }, "Save"),
        name ? h("button", { type: "button", class: "danger", onclick: remove }, "Delete") : null,
        h("span", { class: "hint" }, "Ctrl/⌘-S saves, Ctrl/⌘-Enter runs the test, Ctrl/⌘-F searches, Esc then Tab leaves the editor."))),
    h("aside", { class: "test", "aria-labelledby": "test-title" },
      h("h2", { id: "test-title" }, "Test-run"),
      h("p", { class: "hint" }, "Runs the text in the editor, unsaved, as if the chosen trigger fired. Its data calls, emails and events are real: test against a development server."),
      h("div", { class: "row" }, h("label", { for: "test-context" }, "As"), ctxSelect),
      pick, eventRow, userRow,
      h("label", { for: "test-input" }, "Input (JSON)"), input,
      h("button", { type: "button", id: "run-test", onclick: runTest }, "Run"),
      result));
  panels.triggers = h("section", { id: "panel-triggers", role: "tabpanel", "aria-labelledby": "tab-triggers", hidden: true },
    h("p", { class: "hint" }, "Triggers are saved with the function (Save on the code tab)."), triggerList,
    h("button", { type: "button", id: "save-triggers", onclick: save }, "Save"));
  const versionsBox = h("div", {});
  panels.versions = h("section", { id: "panel-versions", role: "tabpanel", "aria-labelledby": "tab-versions", hidden: true }, versionsBox);
  panels.executions = h("section", { id: "panel-executions", role: "tabpanel", "aria-labelledby": "tab-executions", hidden: true });
  const statsBox = h("div", {});
  panels.stats = h("section", { id: "panel-stats", role: "tabpanel", "aria-labelledby": "tab-stats", hidden: true }, statsBox);

  async function loadVersions() {
    const { versions } = await api.get(`/api/admin/functions/${enc(name)}/versions`);
    const opts = (sel) => versions.map((v) => h("option", { value: v.version, selected: v.version === sel }, `v${v.version} · ${when(v.created_at)}`));
    const a = h("select", { id: "diff-a" }, opts(versions[1] ? versions[1].version : versions[0].version));
    const b = h("select", { id: "diff-b" }, opts(versions[0].version));
    const diffBox = h("div", { class: "diff", id: "diff" });
    const drawDiff = () => {
      if (diff) diff.destroy();
      const va = versions.find((v) => v.version === Number(a.value)), vb = versions.find((v) => v.version === Number(b.value));
      diff = createDiff(diffBox, va.source, vb.source);
    };
    a.onchange = drawDiff; b.onchange = drawDiff;
    replace(versionsBox,
      table("Versions", ["Version", "Saved", "Handler", "Triggers", ""], versions.map((v, i) => [
        `v${v.version}`, when(v.created_at), v.handler, v.triggers.map(triggerSummary).join(", ") || "none",
        i === 0 ? "current" : h("button", { type: "button", class: "secondary", "data-version": v.version, onclick: () => rollback(v.version) }, `Roll back to v${v.version}`),
      ])),
      h("h2", {}, "Compare"),
      h("div", { class: "row" }, h("label", { for: "diff-a" }, "Left"), a, h("label", { for: "diff-b" }, "Right"), b),
      diffBox);
    drawDiff();
  }
  async function rollback(v) {
    if (!confirmOnce(`Roll ${name} back to version ${v}? It is saved as a new version.`)) return;
    await ui.guard(async () => {
      const res = await api.post(`/api/admin/functions/${enc(name)}/rollback`, { version: v });
      fn = res.function;
      editor.setText(fn.source);
      triggers = fn.triggers.map((t) => ({ ...t }));
      renderTriggers();
      versionLabel.textContent = `v${fn.version}`;
      ui.notice(`Rolled back: version ${v} is now version ${fn.version}.`);
      await loadVersions();
    });
  }
  async function loadStats(window) {
    const s = await api.get(`/api/admin/functions/${enc(name)}/stats?window=${window}`);
    const sel = h("select", { id: "stats-window", onchange: (e) => ui.guard(() => loadStats(e.target.value)) },
      ["15m", "1h", "6h", "24h"].map((w) => h("option", { value: w, selected: w === window }, `last ${w}`)));
    const runSeries = [{ key: "ok", label: "ok", cls: "s-ok" }, { key: "errors", label: "errors", cls: "s-bad" }];
    const durSeries = [{ key: "p50_ms", label: "p50", cls: "s-p50" }, { key: "p99_ms", label: "p99", cls: "s-p99" }];
    const buckets = s.buckets.map((b) => ({ ...b, ok: b.runs - b.errors }));
    replace(statsBox,
      h("div", { class: "row" }, h("label", { for: "stats-window" }, "Window"), sel),
      h("p", {}, `${s.runs} runs, ${s.errors} errors (${(s.error_rate * 100).toFixed(1)}%), p50 ${s.p50_ms.toFixed(1)} ms, p99 ${s.p99_ms.toFixed(1)} ms; one bar per ${s.bucket_seconds / 60} min.`),
      h("h2", {}, "Runs and errors"), stackedBars("Runs and errors", buckets, runSeries), legend(runSeries),
      h("h2", {}, "Duration"), lines("Duration", s.buckets, durSeries, " ms"), legend(durSeries));
  }

  replace(main,
    h("div", { class: "title-row" },
      h("h1", {}, name ? name : "New function", " ", versionLabel),
      h("a", { href: "#/functions" }, "All functions")),
    name ? null : h("div", { class: "row" }, h("label", { for: "fn-name" }, "Name"), nameInput,
      h("span", { id: "fn-name-hint", class: "hint" }, "1-64 letters, digits, _ or -, starting with a letter")),
    h("div", { role: "tablist", class: "tabs", "aria-label": "Function" }, tabButtons),
    Object.values(panels),
    h("datalist", { id: "event-names" }, systemEvents.map((e) => h("option", { value: e }))),
    h("datalist", { id: "zones" }, zones().map((z) => h("option", { value: z }))));
  show("code");
  return () => {
    timers.forEach((f) => f());
    if (stopTail) stopTail();
    if (diff) diff.destroy();
    editor.destroy();
  };
}

// tail lists a function's runs and keeps adding new ones as they come,
// with filters by status and trigger; it returns the function that stops
// it.
function tail(panel, ui, name) {
  let runs = [], stopped = false, timer = null, older = "";
  const statusSel = h("select", { id: "exec-status" }, ["", "ok", "error", "timeout"].map((s) => h("option", { value: s }, s || "any status")));
  const triggerSel = h("select", { id: "exec-trigger" }, ["", "invoke", "http", "event", "schedule", "test", "function"].map((s) => h("option", { value: s }, s || "any trigger")));
  const list = h("div", { id: "exec-list" });
  const live = h("span", { class: "hint" }, "Live: new runs appear as they finish.");
  const render = () => {
    olderBtn.hidden = !older;
    replace(list, runs.length ? runs.map((r) => h("details", { class: "exec" },
      h("summary", {}, badge(r.status), ` ${when(r.started_at)} · ${r.trigger}${r.event ? ` ${r.event}` : ""} · v${r.version} · ${r.duration_ms.toFixed(1)} ms`),
      r.error ? h("pre", { class: "error" }, r.error + (r.traceback ? `\n${r.traceback}` : "")) : null,
      r.output.length ? h("ol", { class: "log" }, r.output.map((l) => h("li", { class: `log-${l.level}` }, h("span", { class: "level" }, l.level), " ", l.message))) : h("p", { class: "empty" }, "Printed nothing."),
      h("p", { class: "hint" }, `Execution ${r.id}${r.user ? ` · user ${r.user}` : ""}${r.attempt ? ` · attempt ${r.attempt}` : ""}${r.event_id ? ` · event ${r.event_id}` : ""}`),
      inputOf(r),
      rerunRow(r))) : h("p", { class: "empty" }, "No runs match."));
  };
  // rerunRow offers to run the current version again with the run's
  // input and trigger context, or says why it cannot.
  const rerunRow = (r) => {
    const why = r.version === 0 ? "A test-run of unsaved text: run it again from the editor."
      : r.input_cut ? `Its input (${r.input_bytes} bytes) was over 64 KiB and was not kept whole.`
      : r.input === undefined ? "Recorded without its input." : "";
    const btn = h("button", { type: "button", class: "rerun", "data-exec": r.id, disabled: !!why, "aria-describedby": why ? `why-${r.id}` : null,
      onclick: async () => {
        if (!confirmOnce(`Run ${name} again with this run's input, as ${r.trigger}${r.user ? ` by user ${r.user}` : ""}? Its data calls, mail and events are real.`)) return;
        btn.disabled = true;
        try {
          const res = await api.post(`/api/admin/functions/${enc(name)}/executions/${enc(r.id)}/rerun`);
          // A notice, not beside the button: the list is redrawn as the
          // new run arrives.
          ui.notice(`Ran ${r.id} again as run ${res.execution_id}: ${res.error ? `error: ${res.error}` : `status ${res.status}`}`);
        } catch (e) {
          ui.error(e);
        } finally {
          btn.disabled = false;
        }
      } }, "Re-run with this input");
    return h("div", { class: "row" }, btn, why ? h("span", { id: `why-${r.id}`, class: "hint" }, why) : null);
  };
  // Older runs come a page at a time from the server (?before=, the next
  // of the page before), added below the ones shown.
  const olderBtn = h("button", { type: "button", class: "secondary", id: "exec-older", hidden: true, onclick: () => ui.guard(async () => {
    const mine = gen;
    const q = qs({ limit: 200, before: older, status: statusSel.value, trigger: triggerSel.value });
    const page = await api.get(`/api/admin/functions/${enc(name)}/executions${q}`);
    if (stopped || mine !== gen) return;
    const seen = new Set(runs.map((r) => r.id));
    runs = runs.concat(page.executions.filter((r) => !seen.has(r.id)));
    older = page.next;
    render();
  }) }, "Older runs");
  // The server filters; a new filter starts the list afresh.
  let gen = 0;
  const refilter = () => { gen++; runs = []; older = ""; clearTimeout(timer); replace(list, h("p", { class: "loading" }, "Loading…")); poll(); };
  statusSel.onchange = refilter; triggerSel.onchange = refilter;
  replace(panel, h("div", { class: "row" }, h("label", { for: "exec-status" }, "Status"), statusSel, h("label", { for: "exec-trigger" }, "Trigger"), triggerSel, live), list, olderBtn);
  const poll = async () => {
    const mine = gen;
    try {
      const q = qs({ limit: runs.length ? 1000 : 200, after: runs.length ? runs[0].id : "", status: statusSel.value, trigger: triggerSel.value });
      const first = !runs.length;
      const { executions, next } = await api.get(`/api/admin/functions/${enc(name)}/executions${q}`);
      if (stopped || mine !== gen) return;
      if (first) older = next;
      if (executions.length || !runs.length) {
        runs = executions.concat(runs);
        // A long tail keeps the newest 2,000; the rest come back with
        // "Older runs".
        if (runs.length > 2000) {
          runs = runs.slice(0, 2000);
          older = runs[runs.length - 1].id;
        }
        render();
      }
    } catch (e) {
      ui.error(e);
    }
    if (!stopped && mine === gen) timer = setTimeout(poll, 2000);
  };
  poll();
  return () => { stopped = true; clearTimeout(timer); };
}

// inputOf shows what a run was given: the whole input, or, when it was
// over what a record keeps, the start of it.
function inputOf(r) {
  if (r.input_cut) {
    return h("details", { class: "input" }, h("summary", {}, `Input: ${r.input_bytes} bytes, cut to its first 64 KiB`), h("pre", {}, r.input_preview || ""));
  }
  if (r.input === undefined) return null;
  return h("details", { class: "input" }, h("summary", {}, "Input"), h("pre", { class: "exec-input" }, json(r.input)));
}

// syntheticInput is the input a function gets from each kind of trigger,
// with made-up values to edit.
// inboundInput is the http input a logged request gave its function:
// method, path, url, headers, query, the raw body and, when the body is
// JSON, json. (Redacted headers stay redacted.)
function inboundInput(r) {
  const query = {};
  new URLSearchParams(r.query || "").forEach((value, key) => { query[key] = value; });
  const input = { method: r.method, path: r.path, url: r.url, headers: r.headers || {}, query, body: r.body || "" };
  try {
    input.json = JSON.parse(input.body);
  } catch {
    // Not JSON: the handler reads body.
  }
  return input;
}

function syntheticInput(kind) {
  const now = new Date().toISOString();
  const user = { id: "65a000000000000000000001", email: "ada@example.com", name: "Ada", created_at: now };
  switch (kind) {
    case "http": return { method: "POST", path: "/functions/name", headers: { "content-type": "application/json" }, query: {}, body: '{"hello":"world"}', json: { hello: "world" } };
    case "user_registered": return { user };
    case "doc_created": return { collection: "orders", id: "65a0000000000000000000aa", doc: { _id: "65a0000000000000000000aa", total: 42 }, user };
    case "chan_in": return { channel: "room:lobby", user: user.id, message: { text: "hello" }, offset: 1, at: now };
    case "custom": return { order: "A-1" };
    case "schedule": return { scheduled_at: now };
    default: return { name: "Ada" };
  }
}

// httpMethods are the methods an http trigger may keep to.
const httpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

// httpTriggerRow edits an http trigger: no method ticked answers every
// method; ticking some answers only those (others get 405 with Allow).
function httpTriggerRow(t, id, name, remove) {
  const note = h("p", { class: "hint", id: `${id}-methods-note` });
  const say = () => replace(note, t.methods && t.methods.length
    ? `Answers ${t.methods.join(", ")}; any other method gets 405 before the function runs.`
    : "No method ticked: answers every method; the handler reads input.method.");
  const inputs = httpMethods.map((m) => h("input", { type: "checkbox", id: `${id}-method-${m}`, value: m, checked: (t.methods || []).includes(m), onchange: () => {
    t.methods = inputs.filter((i) => i.checked).map((i) => i.value);
    if (!t.methods.length) delete t.methods;
    say();
  } }));
  const boxes = inputs.map((i) => h("label", { for: i.id }, i, ` ${i.value}`));
  say();
  return h("fieldset", { class: "trigger" }, h("legend", {}, "HTTP"),
    h("p", {}, "A public endpoint at /functions/", name || "name", "."),
    h("fieldset", { class: "methods", "aria-describedby": `${id}-methods-note` }, h("legend", {}, "Methods"), boxes),
    note, remove);
}

function clean(triggers) {
  return triggers.map((t) => {
    const o = {};
    for (const [k, v] of Object.entries(t)) if (v !== undefined && v !== "") o[k] = v;
    return o;
  });
}

function zones() {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
}

function formatInZone(t, zone) {
  try {
    return new Date(t).toLocaleString(undefined, { timeZone: zone, weekday: "short", year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  } catch {
    return t;
  }
}

function debounce(f, ms) {
  let t = null;
  return (...a) => { clearTimeout(t); t = setTimeout(() => f(...a), ms); };
}
