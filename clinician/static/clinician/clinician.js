// Live part of the clinician pages: on any notice from /ws/clinician/, re-fetch the page's live
// fragment over HTTP (where authorisation is decided again) and swap it in. The socket only says
// "something changed"; on (re)connect the page re-reads, since messages may have been missed.
const live = document.getElementById("live");
const connection = document.getElementById("connection");
let refreshing = null;

function setState(state, text) {
  if (!connection) return;
  connection.dataset.state = state;
  connection.textContent = text;
}

async function refresh() {
  if (refreshing) return refreshing;
  const url = new URL(window.location.href);
  url.searchParams.set("fragment", "1");
  refreshing = fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
    .then((response) => (response.ok ? response.text() : null))
    .then((html) => { if (html !== null && live) live.innerHTML = html; })
    .catch(() => {})
    .finally(() => { refreshing = null; });
  return refreshing;
}

function connect(delay = 1000) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/ws/clinician/`);
  socket.addEventListener("open", () => setState("live", "live"));
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (["hello", "study.changed", "critical.acknowledged", "critical.escalated"].includes(message.type)) refresh();
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4401 || event.code === 4403) { setState("offline", "offline"); return; }
    setState("connecting", "reconnecting…");
    setTimeout(() => connect(Math.min(delay * 2, 30000)), delay);
  });
}

if (live) connect();
