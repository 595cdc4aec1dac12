// The dashboard's only back end is the JSON admin API (/api/admin/*), the
// routes the CLI uses, plus /admin/session to sign in and out. The session
// is an HttpOnly cookie the page cannot read; the CSRF token the server
// gives at sign-in is kept in memory only and sent on every write.

let csrf = "";
let onSignedOut = () => {};

// ApiError carries the API's {error: {code, message}} and the status.
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function whenSignedOut(f) {
  onSignedOut = f;
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "network_error", `the server did not answer (${e.message})`);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(res.status, "bad_answer", `the server answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || `http_${res.status}`, e.message || res.statusText, e.details);
    if (res.status === 401 && !path.startsWith("/admin/session")) onSignedOut();
    throw err;
  }
  return data;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body) => request("POST", path, body ?? {}),
  put: (path, body) => request("PUT", path, body),
  patch: (path, body) => request("PATCH", path, body),
  del: (path) => request("DELETE", path),
};

// qs builds a query string from the set values of o.
export function qs(o) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== "" && v !== null && v !== undefined) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : "";
}

export async function signIn(token) {
  const s = await request("POST", "/admin/session", { token });
  csrf = s.csrf_token;
  return s;
}

// resume picks up the session of an earlier sign-in (the cookie is
// still there after a reload); false when there is none.
export async function resume() {
  try {
    const s = await request("GET", "/admin/session");
    csrf = s.csrf_token;
    return true;
  } catch (e) {
    if (e.status === 401) return false;
    throw e;
  }
}

export async function signOut() {
  await request("DELETE", "/admin/session");
  csrf = "";
}
