// The live worklist: rows come from the REST API; the websocket says what changed.
// On every (re)connect the whole list is re-read, so missed messages cost nothing.

const body = document.getElementById("worklist-body");
const connection = document.getElementById("connection");
const count = document.getElementById("count");
const studies = new Map();

function text(value) { return value === null || value === undefined ? "" : String(value); }

function dueIn(dueAt) {
  if (!dueAt) return "";
  const minutes = Math.round((new Date(dueAt) - Date.now()) / 60000);
  const sign = minutes < 0 ? "-" : "";
  const abs = Math.abs(minutes);
  const shown = abs >= 1440 ? `${Math.floor(abs / 1440)} d ${Math.floor((abs % 1440) / 60)} h`
    : abs >= 60 ? `${Math.floor(abs / 60)} h ${abs % 60} min` : `${abs} min`;
  return sign + shown;
}

// DICOM person names are Family^Given^Middle^Prefix^Suffix; people read "Family, Given Middle".
function personName(value) {
  const [family = "", given = "", middle = ""] = text(value).split("=")[0].split("^");
  const first = [given, middle].filter(Boolean).join(" ");
  return first ? `${family}, ${first}` : family;
}

function isOpen(study) { return study.reading_state !== "reported"; }

function order(a, b) {
  const due = (s) => (s.due_at ? Date.parse(s.due_at) : Infinity);
  if (due(a) !== due(b)) return due(a) - due(b);
  const susp = (s) => (s.ai_suspicion === null ? -1 : s.ai_suspicion);
  if (susp(a) !== susp(b)) return susp(b) - susp(a);
  return Date.parse(a.arrived_at) - Date.parse(b.arrived_at) || a.id - b.id;
}

function cell(row, value, className) {
  const td = document.createElement("td");
  td.textContent = text(value);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

const AI_STATES = { received: "received", queued: "AI queued", analysing: "AI analysing…" };

function aiText(study) {
  if (study.status === "ai_failed") return `AI failed: ${text(study.status_reason)}`;
  if (study.status === "no_ai") return text(study.status_reason) || "No AI for this study type";
  if (study.status === "analysed") return text(study.ai_headline) || "AI: nothing found";
  return AI_STATES[study.status] || study.status;
}

function renderRow(study) {
  const row = document.createElement("tr");
  row.dataset.studyId = study.id;
  row.dataset.urgency = study.urgency_code;
  const badgeCell = cell(row, "");
  const badge = document.createElement("span");
  badge.className = `badge ${study.urgency_code}`;
  badge.textContent = study.urgency_name || study.urgency_code;
  badgeCell.appendChild(badge);
  cell(row, dueIn(study.due_at), study.escalation !== "none" ? study.escalation : "");
  cell(row, personName(study.patient_name), "patient");
  cell(row, `${text(study.patient_age)} ${text(study.patient_sex)}`.trim());
  cell(row, study.modality);
  cell(row, study.study_description);
  cell(row, aiText(study), `ai-status ${study.status}`);
  cell(row, new Date(study.arrived_at).toLocaleTimeString());
  cell(row, study.claimed_by ? `${study.reading_state.replace("_", " ")} (${study.claimed_by})` : study.reading_state);
  cell(row, study.priority_reason, "reason");
  return row;
}

function render(changedId) {
  const rows = [...studies.values()].filter(isOpen).sort(order);
  body.replaceChildren(...rows.map((study) => {
    const row = renderRow(study);
    if (study.id === changedId) row.classList.add("changed");
    return row;
  }));
  count.textContent = `${rows.length} studies`;
}

async function reload() {
  const response = await fetch("/api/worklist/?limit=500", { credentials: "same-origin" });
  if (!response.ok) throw new Error(`worklist: HTTP ${response.status}`);
  const page = await response.json();
  studies.clear();
  for (const study of page.results) studies.set(study.id, study);
  render(null);
}

function connect(delay = 1000) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/worklist/`);
  connection.dataset.state = "connecting";
  connection.textContent = "connecting…";
  socket.onopen = () => {
    connection.dataset.state = "live";
    connection.textContent = "live";
    reload().catch((error) => console.error(error));
    delay = 1000;
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "study.updated") {
      studies.set(message.study.id, message.study);
      render(message.study.id);
    }
  };
  socket.onclose = () => {
    connection.dataset.state = "offline";
    connection.textContent = "reconnecting…";
    setTimeout(() => connect(Math.min(delay * 2, 15000)), delay);
  };
}

reload().catch((error) => console.error(error));
connect();
// Due-in countdowns move with the clock.
setInterval(() => render(null), 30000);
