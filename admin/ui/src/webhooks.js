// The webhooks screens: outbound endpoints (create with the secret shown
// once, rotate, disable, enable, delete), their deliveries and each
// delivery's attempts with replay; and the log of inbound requests to
// http triggers, each opened with its headers and raw body and replayed
// to the function's current version. Lists page with the API's cursor
// (next → before/after); every destructive action asks once.
import { api, qs } from "./api.js";
import { h, replace, when, json, table, badge, confirmOnce } from "./dom.js";

const enc = encodeURIComponent;
const PAGE = 50;

// act runs one action of the user's: an error or notice left by the one
// before goes, and this one's error, if any, is shown.
function act(ui, f) {
  ui.clear();
  return ui.guard(f);
}

// cursorPager pages a list whose answer carries next: current is the
// cursor this page was read with, and pages remembers those of the pages
// before, so Previous goes back without a count.
function cursorPager(pages, current, count, next, go) {
  return h("nav", { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", class: "secondary", disabled: pages.length === 0, onclick: () => go(pages.pop()) }, "Previous"),
    h("span", {}, count ? `page ${pages.length + 1}` : "none"),
    h("button", { type: "button", class: "secondary", disabled: !next, onclick: () => { pages.push(current); go(next); } }, "Next"));
}

// statusBadge shows an HTTP status with its class's colour.
function statusBadge(code) {
  if (!code) return h("span", { class: "badge" }, "—");
  return h("span", { class: `badge badge-${String(code)[0]}xx` }, String(code));
}

function secretBox(title, ep) {
  return h("div", { class: "card secret", id: "new-secret", role: "status" },
    h("h2", {}, title),
    h("p", {}, "The signing secret of ", h("code", {}, ep.url), ". Copy it now: it is not shown again."),
    h("code", { class: "secret-value", tabindex: "0" }, ep.secret));
}

function splitList(s) {
  return s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
}

function optionalInt(input) {
  const v = input.value.trim();
  if (v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw { code: "invalid_input", message: `${input.name} must be a whole number` };
  return n;
}

// endpointFields builds an endpoint's form fields, with ids starting
// with prefix, filled from ep when editing one. body reads them: on an
// edit (all true) every field is sent, an empty number meaning the
// default, so a cleared field is cleared on the server too.
function endpointFields(prefix, ep) {
  const id = (k) => `${prefix}-${k}`;
  const urlIn = h("input", { id: id("url"), name: "url", type: "url", required: true, placeholder: "https://example.com/hooks/moonbase", autocomplete: "off", value: ep ? ep.url : "" });
  const eventsIn = h("input", { id: id("events"), name: "events", required: true, value: ep ? ep.events.join(", ") : "*", placeholder: "order.created, invoice.*" });
  const descIn = h("input", { id: id("description"), name: "description", autocomplete: "off", value: ep ? ep.description || "" : "" });
  const versionIn = h("input", { id: id("version"), name: "version", type: "number", min: "1", placeholder: "1", value: ep ? String(ep.version) : "" });
  const rateIn = h("input", { id: id("rate"), name: "rate_limit", type: "number", min: "0", placeholder: "none", value: ep && ep.rate_limit ? String(ep.rate_limit) : "" });
  const attemptsIn = h("input", { id: id("attempts"), name: "max_attempts", type: "number", min: "1", placeholder: "webhooks.max_attempts", value: ep && ep.max_attempts ? String(ep.max_attempts) : "" });
  return {
    rows: [
      h("div", { class: "row" }, h("label", { for: id("url") }, "URL"), urlIn),
      h("div", { class: "row" }, h("label", { for: id("events") }, "Events"), eventsIn),
      h("p", { class: "hint" }, "Event types, prefixes such as order.* or * for all, separated by commas."),
      h("div", { class: "row" }, h("label", { for: id("description") }, "Description"), descIn),
      h("div", { class: "row" }, h("label", { for: id("version") }, "Version"), versionIn,
        h("label", { for: id("rate") }, "Per second"), rateIn,
        h("label", { for: id("attempts") }, "Attempts"), attemptsIn),
    ],
    body(all) {
      const body = { url: urlIn.value.trim(), events: splitList(eventsIn.value) };
      if (all || descIn.value.trim()) body.description = descIn.value.trim();
      for (const [k, input, none] of [["version", versionIn, undefined], ["rate_limit", rateIn, 0], ["max_attempts", attemptsIn, 0]]) {
        const n = optionalInt(input);
        if (n !== undefined) body[k] = n;
        else if (all && none !== undefined) body[k] = none;
      }
      return body;
    },
    reset() {
      for (const i of [urlIn, descIn, versionIn, rateIn, attemptsIn]) i.value = "";
    },
  };
}

export async function webhooksScreen(main, ui) {
  let after = "";
  const pages = [];
  const listBox = h("div", {}), secretSlot = h("div", {});
  async function load() {
    const r = await api.get(`/api/admin/webhooks/endpoints${qs({ after, limit: PAGE })}`);
    replace(listBox,
      table("Endpoints", ["URL", "Events", "State", "Version", "Created"], r.endpoints.map((ep) => [
        h("a", { href: `#/webhooks/${enc(ep.id)}`, class: "endpoint-open", "data-endpoint": ep.id }, ep.url),
        ep.events.join(", "),
        h("span", {}, ep.disabled ? badge("disabled") : badge("enabled"), ep.failing_since ? h("small", { class: "bad" }, ` failing since ${when(ep.failing_since)}`) : null),
        `v${ep.version}`, when(ep.created_at),
      ]), "No endpoints yet."),
      cursorPager(pages, after, r.endpoints.length, r.next, (cursor) => { after = cursor || ""; act(ui, load); }));
  }
  const fields = endpointFields("ep", null);
  const form = h("form", { class: "card", id: "endpoint-form", onsubmit: async (ev) => {
    ev.preventDefault();
    await act(ui, async () => {
      const { endpoint } = await api.post("/api/admin/webhooks/endpoints", fields.body(false));
      replace(secretSlot, secretBox("Endpoint created", endpoint));
      fields.reset();
      after = ""; pages.length = 0;
      await load();
      secretSlot.querySelector(".secret-value").focus();
    });
  } }, h("h2", {}, "Add an endpoint"), fields.rows, h("button", { type: "submit", id: "ep-create" }, "Add endpoint"));
  const typeIn = h("input", { id: "emit-type", required: true, placeholder: "order.created", autocomplete: "off" });
  const payloadIn = h("textarea", { id: "emit-payload", rows: 3, spellcheck: "false" }, "{}");
  const emitForm = h("form", { class: "card", id: "emit-form", onsubmit: async (ev) => {
    ev.preventDefault();
    let payload;
    try { payload = JSON.parse(payloadIn.value); } catch (e) { ui.clear(); ui.error({ code: "invalid_input", message: `payload is not JSON: ${e.message}` }); payloadIn.focus(); return; }
    await act(ui, async () => {
      const { message } = await api.post("/api/admin/webhooks/emit", { type: typeIn.value.trim(), payload });
      ui.notice(`Message ${message.id} (${message.type}) queued for ${message.deliveries} endpoint${message.deliveries === 1 ? "" : "s"}.`);
    });
  } }, h("h2", {}, "Send a message"),
  h("p", { class: "hint" }, "Emits a message as backend.webhooks.emit does: every enabled endpoint subscribed to its type gets a delivery. Real, not a dry run."),
  h("div", { class: "row" }, h("label", { for: "emit-type" }, "Type"), typeIn),
  h("label", { for: "emit-payload" }, "Payload (JSON)"), payloadIn, h("button", { type: "submit" }, "Send"));
  replace(main, h("div", { class: "title-row" }, h("h1", {}, "Webhook endpoints"), h("a", { href: "#/inbound" }, "Inbound requests")),
    h("p", { class: "hint" }, "Where Moonbase sends your app's webhooks, signed with each endpoint's secret (Standard Webhooks)."),
    secretSlot, listBox, form, emitForm);
  await load();
}

export async function endpointScreen(main, ui, id) {
  let ep, status = "", before = "", opened = null;
  const pages = [];
  const head = h("div", {}), secretSlot = h("div", {}), listBox = h("div", {}), attemptsBox = h("div", { id: "attempts" });
  const sinceIn = h("input", { id: "replay-since", type: "datetime-local", required: true, value: localInput(new Date(Date.now() - 24 * 3600e3)) });

  async function loadEndpoint() {
    ({ endpoint: ep } = await api.get(`/api/admin/webhooks/endpoints/${enc(id)}`));
    replace(head,
      h("div", { class: "title-row" }, h("h1", {}, ep.description || "Endpoint"), h("a", { href: "#/webhooks" }, "All endpoints")),
      h("dl", { class: "facts" },
        h("dt", {}, "URL"), h("dd", {}, h("code", {}, ep.url)),
        h("dt", {}, "Events"), h("dd", {}, ep.events.join(", ")),
        h("dt", {}, "State"), h("dd", { id: "endpoint-state" }, ep.disabled ? badge("disabled") : badge("enabled"),
          ep.disabled_reason ? ` ${ep.disabled_reason}` : "", ep.failing_since ? h("span", { class: "bad" }, ` failing since ${when(ep.failing_since)}`) : ""),
        h("dt", {}, "Payload version"), h("dd", {}, `v${ep.version}`),
        h("dt", {}, "Limits"), h("dd", {}, `${ep.rate_limit ? `${ep.rate_limit}/s` : "no rate limit"} · ${ep.max_attempts ? `${ep.max_attempts} attempts` : "default attempts"}`),
        h("dt", {}, "Secret"), h("dd", {}, ep.previous_secret_until ? `rotated; the previous one also signs until ${when(ep.previous_secret_until)}` : "set (shown only when created or rotated)"),
        h("dt", {}, "Id"), h("dd", {}, h("code", {}, ep.id))),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", id: "ep-rotate", onclick: rotate }, "Rotate secret"),
        ep.disabled ? h("button", { type: "button", class: "secondary", id: "ep-enable", onclick: () => toggle("enable") }, "Enable")
          : h("button", { type: "button", class: "secondary", id: "ep-disable", onclick: () => toggle("disable") }, "Disable"),
        h("button", { type: "button", class: "danger", id: "ep-delete", onclick: del }, "Delete")),
      editForm());
  }
  function editForm() {
    const fields = endpointFields("edit", ep);
    return h("details", { class: "card", id: "endpoint-edit" }, h("summary", {}, "Edit"),
      h("form", { onsubmit: async (ev) => {
        ev.preventDefault();
        await act(ui, async () => {
          await api.patch(`/api/admin/webhooks/endpoints/${enc(id)}`, fields.body(true));
          ui.notice("Endpoint saved.");
          await loadEndpoint();
        });
      } }, fields.rows, h("button", { type: "submit", id: "edit-save" }, "Save")));
  }
  async function rotate() {
    if (!confirmOnce("Rotate this endpoint's secret? The old one keeps signing beside the new one for a while (webhooks.rotation_overlap).")) return;
    await act(ui, async () => {
      const { endpoint } = await api.post(`/api/admin/webhooks/endpoints/${enc(id)}/rotate`);
      await loadEndpoint();
      replace(secretSlot, secretBox("New secret", endpoint));
      secretSlot.querySelector(".secret-value").focus();
    });
  }
  async function toggle(what) {
    if (what === "disable" && !confirmOnce("Disable this endpoint? Nothing is sent to it until it is enabled again.")) return;
    await act(ui, async () => {
      await api.post(`/api/admin/webhooks/endpoints/${enc(id)}/${what}`);
      ui.notice(`Endpoint ${what}d.`);
      await loadEndpoint();
    });
  }
  async function del() {
    if (!confirmOnce(`Delete the endpoint ${ep.url}? Its pending deliveries die at their next attempt.`)) return;
    await act(ui, async () => {
      await api.del(`/api/admin/webhooks/endpoints/${enc(id)}`);
      location.hash = "#/webhooks";
    });
  }

  const tabs = ["", "pending", "delivered", "dead"].map((s) =>
    h("button", { type: "button", role: "tab", "data-status": s, onclick: () => { status = s; before = ""; pages.length = 0; act(ui, loadDeliveries); } }, s || "all"));
  async function loadDeliveries() {
    for (const b of tabs) b.setAttribute("aria-selected", String(b.dataset.status === status));
    const r = await api.get(`/api/admin/webhooks/deliveries${qs({ endpoint: id, status, before, limit: PAGE })}`);
    replace(listBox,
      table("Deliveries", ["Delivery", "Type", "Status", "Attempts", "Last answer", "Created"], r.deliveries.map((d) => [
        h("button", { type: "button", class: "link delivery-open", "data-delivery": d.id, onclick: () => act(ui, () => openDelivery(d.id)) }, d.id.slice(-10)),
        d.type || "—", badge(d.status), `${d.attempts}/${d.max_attempts}${d.replays ? ` · ${d.replays} replays` : ""}`,
        h("span", {}, statusBadge(d.last_status), d.last_error ? h("small", { class: "bad" }, ` ${d.last_error}`) : null),
        when(d.created_at),
      ]), "No deliveries here."),
      cursorPager(pages, before, r.deliveries.length, r.next, (cursor) => { before = cursor || ""; act(ui, loadDeliveries); }));
  }
  async function openDelivery(did) {
    opened = did;
    const [{ delivery: d }, { attempts }] = await Promise.all([
      api.get(`/api/admin/webhooks/deliveries/${enc(did)}`),
      api.get(`/api/admin/webhooks/deliveries/${enc(did)}/attempts`),
    ]);
    if (opened !== did) return;
    replace(attemptsBox,
      h("h2", { tabindex: "-1" }, `Delivery ${d.id}`),
      h("p", {}, badge(d.status), ` ${d.type || ""} · ${d.version === "0" ? "the emitted payload" : `payload v${d.version}`} · ${d.attempts}/${d.max_attempts} attempts`,
        d.delivered_at ? ` · delivered ${when(d.delivered_at)}` : "", d.next_attempt_at && d.status === "pending" ? ` · next attempt ${when(d.next_attempt_at)}` : ""),
      h("p", { class: "hint" }, `Message ${d.message_id} · ${d.url || ep.url}`),
      h("button", { type: "button", id: "delivery-replay", disabled: d.status === "pending", onclick: () => replay(d) }, "Replay"),
      attempts.length ? h("ol", { class: "attempts" }, attempts.map((a) => h("li", { class: "attempt" },
        h("p", {}, `Attempt ${a.n} · ${when(a.at)} · `, statusBadge(a.status), ` · ${a.duration_ms} ms`, a.retry_at ? ` · retry ${when(a.retry_at)}` : ""),
        a.error ? h("pre", { class: "error" }, a.error) : null,
        a.response_headers && Object.keys(a.response_headers).length ? h("details", { open: true }, h("summary", {}, "Response headers"),
          h("pre", {}, Object.entries(a.response_headers).map(([k, v]) => `${k}: ${v}`).join("\n"))) : null,
        a.response_body ? h("details", { open: true }, h("summary", {}, "Response body (first KiB)"), h("pre", { class: "response-body" }, a.response_body)) : null)))
        : h("p", { class: "empty" }, "No attempts yet."));
    attemptsBox.querySelector("h2").focus();
  }
  async function replay(d) {
    if (!confirmOnce(`Replay delivery ${d.id}? It is sent again with the same webhook-id.`)) return;
    await act(ui, async () => {
      await api.post(`/api/admin/webhooks/deliveries/${enc(d.id)}/replay`);
      ui.notice(`Delivery ${d.id} is pending again.`);
      await loadDeliveries();
      await openDelivery(d.id);
    });
  }
  const replayForm = h("form", { class: "row", id: "replay-failed", onsubmit: async (ev) => {
    ev.preventDefault();
    const since = new Date(sinceIn.value);
    if (isNaN(since)) { ui.error({ code: "invalid_input", message: "give a date and time" }); return; }
    if (!confirmOnce(`Send again every dead delivery of this endpoint created since ${since.toLocaleString()}?`)) return;
    await act(ui, async () => {
      const r = await api.post(`/api/admin/webhooks/endpoints/${enc(id)}/replay`, { since: since.toISOString() });
      ui.notice(`${r.replayed} failed deliveries replayed.`);
      await loadDeliveries();
    });
  } }, h("label", { for: "replay-since" }, "Replay failed since"), sinceIn, h("button", { type: "submit", class: "secondary" }, "Replay failed"));

  replace(main, head, secretSlot,
    h("h2", {}, "Deliveries"), replayForm,
    h("div", { role: "tablist", class: "tabs", "aria-label": "Delivery status" }, tabs),
    h("div", { class: "split" }, listBox, attemptsBox));
  await loadEndpoint();
  await loadDeliveries();
}

// localInput formats d for a datetime-local input, in the page's zone.
function localInput(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export async function inboundScreen(main, ui) {
  let fn = "", status = "", before = "", opened = null;
  const pages = [];
  const listBox = h("div", {}), reqBox = h("div", { id: "inbound-view" });
  const fnIn = h("input", { id: "inbound-function", placeholder: "any function", autocomplete: "off" });
  const statusIn = h("input", { id: "inbound-status", placeholder: "500 or 5xx", size: "8", autocomplete: "off" });
  async function load() {
    const r = await api.get(`/api/admin/inbound${qs({ function: fn, status, before, limit: PAGE })}`);
    replace(listBox,
      table("Inbound requests", ["Received", "Function", "Request", "Status", "Duration"], r.requests.map((q) => [
        h("button", { type: "button", class: "link inbound-open", "data-request": q.id, onclick: () => act(ui, () => open(q.id)) }, when(q.received_at)),
        h("a", { href: `#/functions/${enc(q.function)}` }, q.function),
        h("span", {}, h("code", {}, `${q.method} ${q.path}${q.query ? `?${q.query}` : ""}`), q.replay_of ? h("small", {}, " replay") : null),
        statusBadge(q.status), `${q.duration_ms} ms`,
      ]), "No inbound requests match."),
      cursorPager(pages, before, r.requests.length, r.next, (cursor) => { before = cursor || ""; act(ui, load); }));
  }
  async function open(rid) {
    opened = rid;
    const { request: q } = await api.get(`/api/admin/inbound/${enc(rid)}`);
    if (opened !== rid) return;
    replace(reqBox,
      h("h2", { tabindex: "-1" }, `${q.method} ${q.path}`),
      h("p", {}, statusBadge(q.status), ` ${when(q.received_at)} · ${q.duration_ms} ms · `, h("a", { href: `#/functions/${enc(q.function)}` }, q.function),
        q.execution_id ? ` · execution ${q.execution_id}` : "", q.replay_of ? ` · replay of ${q.replay_of}` : ""),
      h("p", {}, h("code", { class: "url" }, q.url)),
      q.error ? h("pre", { class: "error" }, q.error) : null,
      h("h3", {}, "Headers"),
      table("Headers", ["Name", "Value"], Object.entries(q.headers || {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [h("code", {}, k), v]), "No headers."),
      h("h3", {}, "Body"), q.body ? h("pre", { id: "inbound-body", tabindex: "0" }, q.body) : h("p", { class: "empty" }, "Empty body."),
      q.answer ? [h("h3", {}, "Answer (first 4 KiB)"), h("pre", { id: "inbound-answer" }, q.answer)] : null,
      h("button", { type: "button", id: "inbound-replay", onclick: () => replay(q) }, "Replay to the current version"));
    reqBox.querySelector("h2").focus();
  }
  async function replay(q) {
    if (!confirmOnce(`Run ${q.method} ${q.path} again against ${q.function}'s current version? Its data calls are real.`)) return;
    await act(ui, async () => {
      const { request: r } = await api.post(`/api/admin/inbound/${enc(q.id)}/replay`);
      ui.notice(`Replayed: ${q.function} answered ${r.status}.`);
      before = ""; pages.length = 0;
      await load();
      await open(r.id);
    });
  }
  replace(main, h("div", { class: "title-row" }, h("h1", {}, "Inbound requests"), h("a", { href: "#/webhooks" }, "Webhook endpoints")),
    h("p", { class: "hint" }, "Every request to an http trigger, as received (redacted headers read [redacted]), kept webhooks.inbound_retention."),
    h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); fn = fnIn.value.trim(); status = statusIn.value.trim(); before = ""; pages.length = 0; act(ui, load); } },
      h("label", { for: "inbound-function" }, "Function"), fnIn, h("label", { for: "inbound-status" }, "Status"), statusIn,
      h("button", { type: "submit" }, "Filter")),
    h("div", { class: "split" }, listBox, reqBox));
  await load();
}
