// One way for every page to talk to the application: JSON over the session with Django's CSRF
// token, and live sockets that reconnect and tell the page to re-read over REST, since a channel
// layer delivers at most once and messages sent while the socket was down are lost.

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// An Error carrying the HTTP status and the API's explanation (DRF's "detail" or field errors).
async function apiError(response, url) {
  const data = await response.json().catch(() => null);
  let detail = `${url}: HTTP ${response.status}`;
  if (data && typeof data === "object") {
    detail = data.detail || Object.values(data).flat().join(" ") || detail;
  }
  const error = new Error(detail);
  error.status = response.status;
  error.data = data;
  return error;
}

export async function getJson(url, { signal } = {}) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal });
  if (!response.ok) throw await apiError(response, url);
  return response.json();
}

export async function sendJson(method, url, body) {
  const response = await fetch(url, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await apiError(response, url);
  return response.status === 204 ? {} : response.json().catch(() => ({}));
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
