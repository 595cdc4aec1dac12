// The channels screens: the channels with messages or members, and one
// channel's members and messages, live, with a form that publishes into
// it as the system (as backend.publish does).
import { api } from "./api.js";
import { h, replace, when, json, table } from "./dom.js";

const enc = encodeURIComponent;
const POLL_MS = 1500;

// act runs one action of the user's: an error or notice left by the one
// before goes, and this one's error, if any, is shown.
function act(ui, f) {
  ui.clear();
  return ui.guard(f);
}

function ruleSummary(r) {
  return `join ${r.join} · send ${r.send} · history ${r.history ?? 0}${r.presence === false ? " · no presence" : ""}`;
}

export async function channelsScreen(main, ui) {
  const listBox = h("div", {});
  async function load() {
    const { channels } = await api.get("/api/admin/channels");
    replace(listBox, table("Channels", ["Channel", "Members", "Messages", "Rule"], channels.map((c) => [
      h("a", { href: `#/channels/${enc(c.name)}`, class: "channel-open" }, c.name),
      h("span", { "data-members": c.name }, String(c.members.length)),
      c.offset ? `${c.offset} sent` : "none", h("small", {}, ruleSummary(c.rule)),
    ]), "No channels yet: a channel appears once it has a message or a member."));
  }
  const openForm = h("form", { class: "row", onsubmit: (ev) => {
    ev.preventDefault();
    const n = ev.target.elements.namedItem("channel-name").value.trim();
    if (n) location.hash = `#/channels/${enc(n)}`;
  } }, h("label", { for: "channel-name" }, "Open"), h("input", { id: "channel-name", name: "channel-name", placeholder: "room:42", required: true }),
  h("button", { type: "submit", class: "secondary" }, "Open"));
  replace(main, h("div", { class: "title-row" }, h("h1", {}, "Channels"),
    h("button", { type: "button", class: "secondary", id: "channels-refresh", onclick: () => act(ui, load) }, "Refresh")),
  h("p", { class: "hint" }, "Realtime channels of /api/ws with their members now, on every server process."),
  listBox, openForm);
  await load();
}

// channelScreen shows one channel: members and messages refreshed every
// 1.5 s, new messages added at the bottom as they arrive.
export async function channelScreen(main, ui, name) {
  let stopped = false, timer = null, failed = false;
  const shown = new Map(); // offset → its list item
  const membersBox = h("div", { id: "channel-members", "aria-live": "polite" });
  const log = h("ol", { id: "channel-messages", class: "messages", "aria-live": "polite", tabindex: "0", "aria-label": `Messages of ${name}` });
  const dataIn = h("textarea", { id: "channel-data", rows: 3, spellcheck: "false" }, '{"text": "hello"}');

  function showMembers(members) {
    replace(membersBox, h("h2", {}, `Members (${members.length})`),
      members.length ? h("ul", { class: "members" }, members.map((m) => h("li", {}, m.name ? `${m.name} ` : "", h("code", {}, m.id))))
        : h("p", { class: "empty" }, "Nobody is here now."));
  }
  // addMessages shows the messages not shown yet in offset order: a
  // message may be stored after one with a higher offset (two processes
  // publishing at once), so each goes to its place rather than the end.
  function addMessages(messages) {
    const fresh = messages.filter((m) => !shown.has(m.offset));
    if (!fresh.length) {
      if (!shown.size) replace(log, h("li", { class: "empty" }, "No messages stored."));
      return;
    }
    if (!shown.size) log.replaceChildren();
    for (const m of fresh) {
      const li = h("li", { "data-offset": m.offset },
        h("span", { class: "meta" }, `#${m.offset} · ${when(m.at)} · `, m.user ? `${m.user.name || m.user.id}` : h("em", {}, "system")),
        h("pre", {}, json(m.data)));
      const after = [...shown.keys()].filter((o) => o > m.offset).sort((a, b) => a - b)[0];
      log.insertBefore(li, after === undefined ? null : shown.get(after));
      shown.set(m.offset, li);
    }
    while (shown.size > 200) {
      const oldest = Math.min(...shown.keys());
      shown.get(oldest).remove();
      shown.delete(oldest);
    }
  }
  async function poll() {
    try {
      const [mem, msg] = await Promise.all([
        api.get(`/api/admin/channels/${enc(name)}/members`),
        api.get(`/api/admin/channels/${enc(name)}/messages?limit=100`),
      ]);
      if (stopped) return;
      showMembers(mem.members);
      addMessages(msg.messages);
      failed = false;
    } catch (e) {
      if (stopped) return;
      // Said once, not every 1.5 s; the next good answer clears it.
      if (!failed) ui.error(e);
      failed = true;
      if (e.code === "invalid_channel") return;
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }
  const form = h("form", { class: "card", id: "channel-publish", onsubmit: async (ev) => {
    ev.preventDefault();
    let data;
    try { data = JSON.parse(dataIn.value); } catch (e) { ui.error({ code: "invalid_input", message: `data is not JSON: ${e.message}` }); dataIn.focus(); return; }
    await act(ui, async () => {
      const r = await api.post(`/api/admin/channels/${enc(name)}/messages`, { data });
      ui.notice(`Published message #${r.offset} to ${name}.`);
    });
  } }, h("h2", {}, "Publish as the system"),
  h("p", { class: "hint" }, "Sent to every member as backend.publish sends it: no user, no chan_in event."),
  h("label", { for: "channel-data" }, "Data (JSON)"), dataIn, h("button", { type: "submit" }, "Publish"));

  replace(main, h("div", { class: "title-row" }, h("h1", {}, name), h("a", { href: "#/channels" }, "All channels")),
    h("div", { class: "split" },
      h("section", { "aria-label": "Messages" }, h("h2", {}, "Messages"),
        h("p", { class: "hint" }, "Live: the latest stored messages, new ones added as they arrive."), log),
      h("div", {}, membersBox, form)));
  await poll();
  return () => { stopped = true; clearTimeout(timer); };
}
