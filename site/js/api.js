// The only module that talks to the clinic's HTTP API. Tokens live in sessionStorage:
// they go when the tab closes, and no other site can read them (no cookies, so no CSRF).
const BASE = `${(window.CLINIC_API || "").replace(/\/$/, "")}/api/v1`;
const TOKENS = "clinic.tokens";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `The clinic's server answered ${status}.`);
    this.status = status;
    this.code = (body && body.code) || (status ? `http_${status}` : "network");
    this.fields = (body && body.fields) || {};
  }
}

// Signing in or out is announced with a "clinic-auth" event, so the menu can follow.
const changed = () => window.dispatchEvent(new Event("clinic-auth"));
export const tokens = {
  get: () => JSON.parse(sessionStorage.getItem(TOKENS) || "null"),
  set: (value) => {
    sessionStorage.setItem(TOKENS, JSON.stringify(value));
    changed();
  },
  clear: () => {
    sessionStorage.removeItem(TOKENS);
    changed();
  },
};

export const signedIn = () => Boolean(tokens.get());

async function send(path, { method = "GET", body, headers = {}, auth = true, raw = false }) {
  const access = auth && tokens.get()?.access;
  let response;
  try {
    response = await fetch(`${BASE}${path}`, {
      method,
      headers: {
        Accept: raw ? "*/*" : "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(access ? { Authorization: `Bearer ${access}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { code: "network", detail: "The clinic's server cannot be reached. Check your connection and try again." });
  }
  return response;
}

async function refreshed() {
  const refresh = tokens.get()?.refresh;
  if (!refresh) return false;
  const response = await send("/auth/token/refresh/", { method: "POST", body: { refresh }, auth: false });
  if (!response.ok) {
    tokens.clear();
    return false;
  }
  const { access } = await response.json();
  tokens.set({ ...tokens.get(), access });
  return true;
}

// One request; an expired access token is refreshed once and the request sent again.
// `raw` returns the Response (for files), otherwise the parsed JSON (null for 204).
export async function api(path, options = {}) {
  let response = await send(path, options);
  if (response.status === 401 && options.auth !== false && (await refreshed())) {
    response = await send(path, options);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    if (response.status === 401) tokens.clear();
    throw new ApiError(response.status, body);
  }
  if (options.raw) return response;
  return response.status === 204 ? null : response.json();
}

export async function signIn(email, password) {
  tokens.set(await api("/auth/token/", { method: "POST", body: { email, password }, auth: false }));
}

// Catalogue lists are small (a clinic's locations, services, practitioners): one big page.
export async function all(path) {
  const page = await api(`${path}?page_size=100`, { auth: false });
  return page.results;
}

// A file the API serves to the signed-in patient, handed to the browser as a download.
export async function download(path, filename) {
  const response = await api(path, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
