// The Moonbase admin dashboard: a page of its own that signs in with the
// admin token and then calls the JSON admin API.
import { api, signIn, signOut, resume, whenSignedOut } from "./api.js";
import { h, replace } from "./dom.js";
import { functionsScreen, functionScreen } from "./functions.js";
import {
  jobsScreen, schedulesScreen, outboxScreen, eventsScreen, secretsScreen,
  collectionsScreen, collectionScreen, usersScreen,
} from "./screens.js";
import { channelsScreen, channelScreen } from "./channels.js";
import { webhooksScreen, endpointScreen, inboundScreen } from "./webhooks.js";

const nav = [
  ["functions", "Functions"], ["jobs", "Jobs"], ["schedules", "Schedules"], ["events", "Events"],
  ["outbox", "Outbox"], ["secrets", "Secrets"], ["collections", "Collections"], ["users", "Users"],
  ["channels", "Channels"], ["webhooks", "Webhooks"], ["inbound", "Inbound"],
];

const routes = [
  [/^functions\/new$/, (m, ui) => functionScreen(m, ui, null)],
  [/^functions\/([^/]+)$/, (m, ui, p) => functionScreen(m, ui, decodeURIComponent(p[1]))],
  [/^functions$/, functionsScreen],
  [/^jobs$/, jobsScreen],
  [/^schedules$/, schedulesScreen],
  [/^events$/, eventsScreen],
  [/^outbox$/, outboxScreen],
  [/^secrets$/, secretsScreen],
  [/^collections\/([^/]+)$/, (m, ui, p) => collectionScreen(m, ui, decodeURIComponent(p[1]))],
  [/^collections$/, collectionsScreen],
  [/^users$/, usersScreen],
  [/^channels\/([^/]+)$/, (m, ui, p) => channelScreen(m, ui, decodeURIComponent(p[1]))],
  [/^channels$/, channelsScreen],
  [/^webhooks\/([^/]+)$/, (m, ui, p) => endpointScreen(m, ui, decodeURIComponent(p[1]))],
  [/^webhooks$/, webhooksScreen],
  [/^inbound$/, inboundScreen],
];

const app = document.getElementById("app");
let cleanup = null;
let routeSeq = 0;

// ui is what every screen gets to talk to the user: errors shown with
// their code and message, never swallowed, and short notices.
const ui = {
  error(e) {
    const box = document.getElementById("alerts");
    if (!box) return;
    const text = e && e.code ? `${e.code}: ${e.message}` : String(e && e.message ? e.message : e);
    replace(box, h("div", { class: "alert error", role: "alert" },
      h("span", {}, text),
      h("button", { type: "button", class: "link", onclick: () => box.replaceChildren(), "aria-label": "Dismiss" }, "×")));
  },
  notice(text) {
    const box = document.getElementById("notices");
    if (box) replace(box, h("div", { class: "alert ok" }, text));
  },
  clear() {
    document.getElementById("alerts")?.replaceChildren();
    document.getElementById("notices")?.replaceChildren();
  },
  // guard runs f and shows its error, if any.
  async guard(f) {
    try {
      return await f();
    } catch (e) {
      ui.error(e);
      return undefined;
    }
  },
};

function signInScreen(message) {
  if (cleanup) cleanup();
  cleanup = null;
  const err = h("p", { class: "alert error", role: "alert", hidden: !message }, message || "");
  const input = h("input", { id: "token", type: "password", name: "token", autocomplete: "current-password", required: true });
  const form = h("form", {
    class: "signin", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await signIn(input.value);
        input.value = "";
        shell();
      } catch (e) {
        err.hidden = false;
        err.textContent = `${e.code}: ${e.message}`;
        input.select();
      }
    },
  },
  h("h1", {}, "Moonbase admin"),
  h("label", { for: "token" }, "Admin token"),
  input,
  h("p", { class: "hint" }, "The token moonbase printed on its first start, or MOONBASE_ADMIN_TOKEN. It is exchanged for a session cookie and not kept by the page."),
  h("button", { type: "submit" }, "Sign in"),
  err);
  replace(app, h("main", { id: "main" }, form));
  input.focus();
}

function shell() {
  replace(app,
    h("header", { class: "top" },
      h("a", { class: "brand", href: "#/functions" }, "Moonbase"),
      h("button", { type: "button", class: "menu", "aria-controls": "nav", "aria-expanded": "false", onclick: (e) => {
        const n = document.getElementById("nav");
        const open = n.classList.toggle("open");
        e.currentTarget.setAttribute("aria-expanded", String(open));
      } }, "Menu"),
      h("nav", { id: "nav", "aria-label": "Sections" },
        h("ul", {}, nav.map(([k, label]) => h("li", {}, h("a", { href: `#/${k}`, "data-section": k }, label))))),
      h("button", { type: "button", id: "signout", class: "secondary", onclick: async () => {
        await ui.guard(async () => {
          await signOut();
          location.hash = "";
          signInScreen("Signed out.");
        });
      } }, "Sign out")),
    h("div", { id: "alerts" }),
    h("div", { id: "notices", role: "status", "aria-live": "polite" }),
    h("main", { id: "main", tabindex: "-1" }));
  route();
}

async function route() {
  const main = document.getElementById("main");
  if (!main) return;
  if (cleanup) cleanup();
  cleanup = null;
  ui.clear();
  const path = location.hash.replace(/^#\/?/, "") || "functions";
  const section = path.split("/")[0];
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.section === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.getElementById("nav")?.classList.remove("open");
  // Each screen draws into a view of its own: one still loading when the
  // user moves on draws into a view no longer shown, and is stopped.
  const mine = ++routeSeq;
  for (const [re, screen] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    const view = h("div", { class: "view" }, h("p", { class: "loading" }, "Loading…"));
    replace(main, view);
    try {
      const stop = (await screen(view, ui, m)) || null;
      if (mine === routeSeq) cleanup = stop;
      else if (stop) stop();
    } catch (e) {
      if (mine !== routeSeq) return;
      replace(view);
      ui.error(e);
    }
    return;
  }
  replace(main, h("h1", {}, "Not found"), h("p", {}, "No such screen. ", h("a", { href: "#/functions" }, "Functions")));
}

window.addEventListener("hashchange", route);
whenSignedOut(() => signInScreen("Your session has ended; sign in again."));

(async () => {
  try {
    if (await resume()) shell();
    else signInScreen();
  } catch (e) {
    signInScreen(`${e.code}: ${e.message}`);
  }
})();

export { api };
