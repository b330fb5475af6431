// One way for every page to talk to the application: JSON over the session with Django's CSRF
// token, and live sockets that reconnect and tell the page to re-read over REST, since a channel
// layer delivers at most once and messages sent while the socket was down are lost.

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// An Error carrying the HTTP status and the API's explanation (DRF's "detail" or field errors);
// `fallback` is the message when the answer explains nothing.
async function apiError(response, fallback) {
  const data = await response.json().catch(() => null);
  let detail = fallback;
  if (data && typeof data === "object") {
    detail = data.detail || Object.values(data).flat().join(" ") || detail;
  }
  const error = new Error(detail);
  error.status = response.status;
  error.data = data;
  return error;
}

// The one place a page reaches the server over HTTP: the session's cookies, and the CSRF token on
// every request (Django ignores it on safe methods). `body` is sent as JSON.
function request(url, { method = "GET", body, signal, keepalive = false, headers = {} } = {}) {
  return fetch(url, {
    method, credentials: "same-origin", signal, keepalive,
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken(),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function getJson(url, { signal } = {}) {
  const response = await request(url, { signal });
  if (!response.ok) throw await apiError(response, `${url}: HTTP ${response.status}`);
  return response.json();
}

export async function sendJson(method, url, body) {
  const response = await request(url, { method, body });
  if (!response.ok) throw await apiError(response, `${url}: HTTP ${response.status}`);
  return response.status === 204 ? {} : response.json().catch(() => ({}));
}

// The answer as it came, for pages that word a refusal themselves: { ok, status, data }, data being
// the JSON body (the server's "detail", field errors, a signing guard's problems) or null. Only a
// network failure throws.
export async function requestJson(url, { method = "GET", body, signal, keepalive = false } = {}) {
  const response = await request(url, { method, body, signal, keepalive });
  const data = response.headers.get("Content-Type")?.includes("json") ? await response.json().catch(() => null) : null;
  return { ok: response.ok, status: response.status, data };
}

// A binary answer (the viewer's pixels): { buffer, headers }, or an Error with the status and the
// server's "detail" (else the bare status). `signal` aborts it (AbortController).
export async function getBinary(url, { signal } = {}) {
  const response = await request(url, { signal, headers: { Accept: "*/*" } });
  if (!response.ok) throw await apiError(response, `${response.status}`);
  return { buffer: await response.arrayBuffer(), headers: response.headers };
}

// A page's HTML (the clinician pages' live fragment): the text, or an Error with the status.
export async function getText(url, { headers = {} } = {}) {
  const response = await request(url, { headers: { Accept: "text/html", ...headers } });
  if (!response.ok) throw await apiError(response, `${url}: HTTP ${response.status}`);
  return response.text();
}

// A websocket on `path` (e.g. "/ws/worklist/") that reconnects with backoff. onOpen runs on every
// (re)connect: the page re-reads its data there. onState("connecting" | "live" | "offline") lets it
// show the connection; refused sockets (4401 unauthenticated, 4403 forbidden) are not retried.
export function liveSocket(path, { onMessage = () => {}, onOpen = () => {}, onState = () => {},
  maxDelay = 15000 } = {}) {
  let delay = 1000;
  let socket = null;
  let stopped = false;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${path}`);
    onState("connecting");
    socket.addEventListener("open", () => {
      delay = 1000;
      onState("live");
      onOpen();
    });
    socket.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      if (stopped) return;
      if (event.code === 4401 || event.code === 4403) { onState("refused"); return; }
      onState("offline");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, maxDelay);
    });
  }
  connect();
  return { close() { stopped = true; if (socket) socket.close(); } };
}
