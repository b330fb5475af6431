// Live part of the clinician pages: on any notice from /ws/clinician/, re-fetch the page's live
// fragment over HTTP (where authorisation is decided again) and swap it in. The socket only says
// "something changed"; on (re)connect the page re-reads, since messages may have been missed.
import { getText, liveSocket } from "../frontend/api.js";

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
  // A refused or failed read leaves the fragment as it was; the next notice tries again.
  refreshing = getText(url, { headers: { "X-Requested-With": "fetch" } })
    .then((html) => { if (live) live.innerHTML = html; })
    .catch(() => {})
    .finally(() => { refreshing = null; });
  return refreshing;
}

function connect() {
  liveSocket("/ws/clinician/", {
    maxDelay: 30000,
    // The server's "hello" on every (re)connect re-reads the fragment (messages may have been missed).
    onMessage: (message) => {
      if (["hello", "study.changed", "critical.acknowledged", "critical.escalated"].includes(message.type)) refresh();
    },
    onState: (state) => {
      if (state === "live") setState("live", "live");
      else if (state === "refused") setState("offline", "offline");
      else if (state === "offline") setState("connecting", "reconnecting…");
    },
  });
}

if (live) connect();
