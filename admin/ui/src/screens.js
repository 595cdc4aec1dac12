// The screens of the rest of the backend: jobs, schedules, events, the
// outbox, secrets, collections and users. Every list pages on the server
// (documents and users by skip, the others by cursor), and every
// destructive action asks once.
import { api, qs } from "./api.js";
import { h, replace, when, json, table, badge, confirmOnce } from "./dom.js";
import { stackedBars, legend } from "./charts.js";

const enc = encodeURIComponent;
const PAGE = 50;

// pager shows "Previous / Next" for a list read skip..skip+PAGE; total is
// optional (the next page then exists when this one was full).
function pager(skip, count, total, go) {
  const more = total !== undefined ? skip + count < total : count === PAGE;
  return h("nav", { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", class: "secondary", disabled: skip === 0, onclick: () => go(Math.max(0, skip - PAGE)) }, "Previous"),
    h("span", {}, count ? `${skip + 1}–${skip + count}${total !== undefined ? ` of ${total}` : ""}` : "none"),
    h("button", { type: "button", class: "secondary", disabled: !more, onclick: () => go(skip + PAGE) }, "Next"));
}

// cursorPages pages a list the API pages with a cursor (?before= or
// ?after=, answering next): it keeps the cursor of every page read so
// far, so Previous goes back one. load reads the page at cursor().
export function cursorPages(load) {
  const stack = [""];
  return {
    cursor: () => stack[stack.length - 1],
    reset: () => { stack.length = 1; },
    nav(count, next) {
      return h("nav", { class: "pager", "aria-label": "Pages" },
        h("button", { type: "button", class: "secondary", disabled: stack.length === 1, onclick: () => { stack.pop(); load(); } }, "Previous"),
        h("span", {}, count ? `page ${stack.length}` : "none"),
        h("button", { type: "button", class: "secondary", disabled: !next, onclick: () => { stack.push(next); load(); } }, "Next"));
    },
  };
}

export async function jobsScreen(main, ui) {
  let status = "dead";
  const pages = cursorPages(() => ui.guard(load));
  const chartBox = h("div", {}), listBox = h("div", {});
  const tabs = ["pending", "running", "dead", "done", ""].map((s) =>
    h("button", { type: "button", role: "tab", "data-status": s, onclick: () => { status = s; pages.reset(); ui.guard(load); } }, s || "all"));
  async function load() {
    for (const b of tabs) b.setAttribute("aria-selected", String(b.dataset.status === status));
    const { jobs, next } = await api.get(`/api/admin/jobs${qs({ status, limit: PAGE, after: pages.cursor() })}`);
    replace(listBox,
      status === "dead" && jobs.length ? h("button", { type: "button", id: "replay-all", onclick: replayAll }, "Replay all dead jobs") : null,
      table("Jobs", ["Job", "Kind", "Status", "Attempts", "Due", "Last error", ""], jobs.map((j) => [
        h("details", {}, h("summary", {}, j.id.slice(-8)), h("pre", {}, json(j))),
        j.kind === "function" ? `function ${j.payload.function}` : j.kind,
        badge(j.status), `${j.attempt}/${j.max_attempts}`, when(j.run_at), j.last_error || "",
        j.status === "dead" || j.status === "done" ? h("button", { type: "button", class: "secondary replay", "data-job": j.id, onclick: () => replay(j) }, "Replay") : "",
      ]), "No jobs here."),
      pages.nav(jobs.length, next));
  }
  async function replay(j) {
    if (!confirmOnce(`Replay job ${j.id}? It runs again from its first attempt.`)) return;
    await ui.guard(async () => { await api.post(`/api/admin/jobs/${enc(j.id)}/replay`); ui.notice(`Job ${j.id} is pending again.`); await load(); await chart(); });
  }
  async function replayAll() {
    if (!confirmOnce("Replay every dead job?")) return;
    await ui.guard(async () => { const r = await api.post("/api/admin/jobs/replay-dead"); ui.notice(`${r.replayed} jobs replayed.`); await load(); await chart(); });
  }
  async function chart() {
    const s = await api.get("/api/admin/jobs/stats?window=1h");
    const series = [{ key: "done", label: "done", cls: "s-ok" }, { key: "dead", label: "dead", cls: "s-bad" }];
    replace(chartBox,
      h("p", {}, `Now: ${s.now.pending} pending, ${s.now.running} running, ${s.now.dead} dead, ${s.now.done} done (kept until swept). `,
        `Last hour: ${s.buckets.reduce((a, b) => a + b.created, 0)} queued.`),
      stackedBars("Jobs finished per minute, last hour", s.buckets, series), legend(series));
  }
  replace(main, h("h1", {}, "Jobs"), chartBox, h("div", { role: "tablist", class: "tabs", "aria-label": "Job status" }, tabs), listBox);
  await Promise.all([load(), chart()]);
}

export async function schedulesScreen(main, ui) {
  const pages = cursorPages(() => ui.guard(load));
  async function load() {
    const { schedules, next } = await api.get(`/api/admin/schedules${qs({ limit: PAGE, after: pages.cursor() })}`);
    replace(main, h("h1", {}, "Schedules"),
      table("Schedules", ["Function", "When", "Next runs", "Last run", "State", ""], schedules.map((s) => [
        h("a", { href: `#/functions/${enc(s.function)}` }, s.function),
        h("span", {}, s.expression, h("br"), h("small", {}, `${s.normalized || ""} · ${s.timezone}`)),
        s.error ? h("span", { class: "bad" }, s.error) : h("ol", { class: "preview" }, s.next.map((n) => h("li", {}, when(n)))),
        when(s.last_run_at), s.paused ? badge("paused") : badge("active"),
        h("span", { class: "actions" },
          h("button", { type: "button", class: "secondary", onclick: () => act(s, s.paused ? "resume" : "pause") }, s.paused ? "Resume" : "Pause"),
          h("button", { type: "button", class: "secondary", onclick: () => act(s, "run") }, "Run now")),
      ]), "No schedules. Give a function a schedule trigger."),
      pages.nav(schedules.length, next));
  }
  async function act(s, what) {
    await ui.guard(async () => {
      await api.post(`/api/admin/schedules/${enc(s.function)}/${what}`);
      ui.notice(what === "run" ? `A run of ${s.function} is queued.` : `${s.function}: ${what}d.`);
      await load();
    });
  }
  await load();
}

export async function eventsScreen(main, ui) {
  let name = "";
  const listBox = h("div", {});
  const pages = cursorPages(() => ui.guard(load));
  const filter = h("input", { id: "event-filter", placeholder: "any name", onchange: (e) => { name = e.target.value.trim(); pages.reset(); ui.guard(load); } });
  const pubName = h("input", { id: "pub-name", required: true, placeholder: "order_shipped" });
  const pubData = h("textarea", { id: "pub-data", rows: 4, spellcheck: "false" }, "{}");
  async function load() {
    const { events, next } = await api.get(`/api/admin/events${qs({ name, limit: PAGE, before: pages.cursor() })}`);
    replace(listBox, table("Events", ["At", "Name", "Data"], events.map((e) => [when(e.at), e.name, h("details", {}, h("summary", {}, "data"), h("pre", {}, json(e.data)))]), "No events recorded."),
      pages.nav(events.length, next));
  }
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    let data;
    try { data = JSON.parse(pubData.value || "{}"); } catch (e) { ui.error({ code: "invalid_input", message: `data is not JSON: ${e.message}` }); return; }
    await ui.guard(async () => { const r = await api.post("/api/admin/events", { name: pubName.value, data }); ui.notice(`Published ${pubName.value} (${r.id}).`); pages.reset(); await load(); });
  } }, h("h2", {}, "Publish a custom event"),
  h("div", { class: "row" }, h("label", { for: "pub-name" }, "Name"), pubName),
  h("label", { for: "pub-data" }, "Data (JSON object)"), pubData, h("button", { type: "submit" }, "Publish"));
  replace(main, h("h1", {}, "Events"), h("div", { class: "row" }, h("label", { for: "event-filter" }, "Name"), filter), listBox, form);
  await load();
}

export async function outboxScreen(main, ui) {
  const pages = cursorPages(() => ui.guard(load));
  async function load() {
    const { messages, next } = await api.get(`/api/admin/outbox${qs({ limit: PAGE, before: pages.cursor() })}`);
    replace(main, h("h1", {}, "Outbox"),
      h("p", { class: "hint" }, "Mail stored instead of sent while no smtp.host is configured, newest first."),
      table("Outbox", ["Created", "To", "Subject", "Body"], messages.map((m) => [
        when(m.created_at), m.to.join(", "), m.subject,
        h("details", {}, h("summary", {}, "show"), m.text ? h("pre", {}, m.text) : null, m.html ? h("pre", {}, m.html) : null),
      ]), "The outbox is empty."),
      pages.nav(messages.length, next));
  }
  await load();
}

export async function secretsScreen(main, ui) {
  const listBox = h("div", {});
  const nameIn = h("input", { id: "secret-name", required: true, autocomplete: "off" });
  const valueIn = h("input", { id: "secret-value", type: "password", required: true, autocomplete: "new-password" });
  const pages = cursorPages(() => ui.guard(load));
  async function load() {
    const { secrets, next } = await api.get(`/api/admin/secrets${qs({ limit: PAGE, after: pages.cursor() })}`);
    replace(listBox, table("Secrets", ["Name", ""], secrets.map((n) => [h("code", {}, n),
      h("button", { type: "button", class: "danger", onclick: () => del(n) }, "Delete")]), "No secrets."),
      pages.nav(secrets.length, next));
  }
  async function del(n) {
    if (!confirmOnce(`Delete secret ${n}? Functions reading it get nil.`)) return;
    await ui.guard(async () => { await api.del(`/api/admin/secrets/${enc(n)}`); ui.notice(`Deleted ${n}.`); await load(); });
  }
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    await ui.guard(async () => {
      // Replacing a value loses the old one for good: ask once.
      let exists = true;
      try {
        await api.get(`/api/admin/secrets/${enc(nameIn.value)}`);
      } catch (e) {
        if (e.status !== 404) throw e;
        exists = false;
      }
      if (exists && !confirmOnce(`Replace the value of secret ${nameIn.value}? The old value cannot be read back.`)) return;
      await api.put(`/api/admin/secrets/${enc(nameIn.value)}`, { value: valueIn.value });
      ui.notice(`Set ${nameIn.value}.`);
      nameIn.value = ""; valueIn.value = "";
      await load();
    });
  } }, h("h2", {}, "Set a secret"),
  h("div", { class: "row" }, h("label", { for: "secret-name" }, "Name"), nameIn),
  h("div", { class: "row" }, h("label", { for: "secret-value" }, "Value"), valueIn),
  h("button", { type: "submit" }, "Set"));
  replace(main, h("h1", {}, "Secrets"), h("p", { class: "hint" }, "Names only: values are never shown again. Functions read them with backend.env(name)."), listBox, form);
  await load();
}

export async function collectionsScreen(main, ui) {
  const pages = cursorPages(() => ui.guard(load));
  const listBox = h("div", {});
  async function load() {
    const { collections, next } = await api.get(`/api/admin/collections${qs({ limit: PAGE, after: pages.cursor() })}`);
    replace(listBox,
      table("Collections", ["Name", "Read", "Write", "Indexes", ""], collections.map((c) => [
        h("a", { href: `#/collections/${enc(c.name)}` }, c.name), c.read, c.write,
        c.indexes.map((i) => `${i.fields.join(", ")}${i.unique ? " (unique)" : ""}`).join("; ") || "—",
        c.configured ? "" : "not in config.yaml",
      ]), "No collections yet."),
      pages.nav(collections.length, next));
  }
  replace(main, h("h1", {}, "Collections"), listBox);
  await load();
}

export async function collectionScreen(main, ui, name) {
  let skip = 0, filter = "";
  const listBox = h("div", {}), docBox = h("div", { id: "doc-view" });
  const filterIn = h("input", { id: "doc-filter", placeholder: '{"status": "paid"}', spellcheck: "false" });
  async function load() {
    const r = await api.get(`/api/admin/collections/${enc(name)}/documents${qs({ filter, limit: PAGE, skip })}`);
    replace(listBox,
      table(`Documents of ${name}`, ["_id", "Fields"], r.items.map((d) => [
        h("button", { type: "button", class: "link doc-open", onclick: () => open(d._id) }, String(d._id)),
        Object.keys(d).filter((k) => k !== "_id").slice(0, 6).join(", "),
      ]), "No documents match."),
      pager(skip, r.items.length, r.total, (s) => { skip = s; ui.guard(load); }));
  }
  async function open(id) {
    const { document } = await api.get(`/api/admin/collections/${enc(name)}/documents/${enc(id)}`);
    replace(docBox, h("h2", {}, `Document ${id}`), h("pre", { id: "doc-json", tabindex: "0" }, json(document)));
    docBox.querySelector("pre").focus();
  }
  replace(main, h("div", { class: "title-row" }, h("h1", {}, name), h("a", { href: "#/collections" }, "All collections")),
    h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); filter = filterIn.value.trim(); skip = 0; ui.guard(load); } },
      h("label", { for: "doc-filter" }, "Filter"), filterIn, h("button", { type: "submit" }, "Apply")),
    h("div", { class: "split" }, listBox, docBox));
  await load();
}

export async function usersScreen(main, ui) {
  let skip = 0, email = "";
  const listBox = h("div", {});
  const search = h("input", { id: "user-search", type: "search", placeholder: "part of an email" });
  async function load() {
    const r = await api.get(`/api/admin/users${qs({ email, limit: PAGE, skip })}`);
    replace(listBox, table("Users", ["Email", "Name", "Id", "Signed up"], r.users.map((u) => [u.email, u.name || "", h("code", {}, u.id), when(u.created_at)]), "No users match."),
      pager(skip, r.users.length, r.total, (s) => { skip = s; ui.guard(load); }));
  }
  replace(main, h("h1", {}, "Users"),
    h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); email = search.value.trim(); skip = 0; ui.guard(load); } },
      h("label", { for: "user-search" }, "Email"), search, h("button", { type: "submit" }, "Search")),
    listBox);
  await load();
}
