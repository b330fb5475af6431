// The live worklist: rows come from the REST API; the websocket says what changed.
// On every (re)connect the whole list is re-read, so missed messages cost nothing.
// Filtering happens here over the rows already loaded: the list is the department's open work.
// Reported studies have left that list: the "Reported" filter reads them from the server, a page at a time.
import { getJson, liveSocket } from "./api.js";
import { studyTitle } from "./format.js";

const body = document.getElementById("worklist-body");
const connection = document.getElementById("connection");
const count = document.getElementById("count");
const filters = document.getElementById("filters");
const criticalBanner = document.getElementById("critical-banner");
const me = document.body.dataset.user;
const studies = new Map();
let selectedId = null;
const REPORTED_PAGE = 50;
const reported = { rows: [], offset: 0, total: 0, loaded: false };
const pager = document.getElementById("pager");

function text(value) { return value === null || value === undefined ? "" : String(value); }

// DICOM person names are Family^Given^Middle^Prefix^Suffix; people read "Family, Given Middle".
function personName(value) {
  const [family = "", given = "", middle = ""] = text(value).split("=")[0].split("^");
  const first = [given, middle].filter(Boolean).join(" ");
  return first ? `${family}, ${first}` : family;
}

function dueIn(dueAt) {
  if (!dueAt) return "";
  const minutes = Math.round((new Date(dueAt) - Date.now()) / 60000);
  const sign = minutes < 0 ? "-" : "";
  const abs = Math.abs(minutes);
  const shown = abs >= 1440 ? `${Math.floor(abs / 1440)} d ${Math.floor((abs % 1440) / 60)} h`
    : abs >= 60 ? `${Math.floor(abs / 60)} h ${abs % 60} min` : `${abs} min`;
  return sign + shown;
}

// The server's order (triage.priority.ORDER_FIELDS): tier (promoted past the age ceiling first), the
// earlier of due time and age ceiling, AI suspicion, arrival, id.
function order(a, b) {
  const tier = (s) => (s.order_tier ?? 1);
  if (tier(a) !== tier(b)) return tier(a) - tier(b);
  const at = (s) => (s.order_at ? Date.parse(s.order_at) : Infinity);
  if (at(a) !== at(b)) return at(a) - at(b);
  const susp = (s) => (s.ai_suspicion === null ? -1 : s.ai_suspicion);
  if (susp(a) !== susp(b)) return susp(b) - susp(a);
  return Date.parse(a.arrived_at) - Date.parse(b.arrived_at) || a.id - b.id;
}

function matches(study) {
  const f = Object.fromEntries(new FormData(filters).entries());
  if (f.state ? study.reading_state !== f.state : study.reading_state === "reported") return false;
  if (f.modality && study.modality !== f.modality) return false;
  if (f.queue && study.reading_queue !== f.queue) return false;
  if (f.body_part && study.body_part !== f.body_part) return false;
  if (f.mine && study.claimed_by !== me) return false;
  const q = (f.search || "").trim().toLowerCase();
  if (q && ![study.patient_name, personName(study.patient_name), study.patient_id, study.accession_number]
    .some((v) => text(v).toLowerCase().includes(q))) return false;
  return true;
}

function cell(row, value, className) {
  const td = document.createElement("td");
  td.textContent = text(value);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

const QUEUE_LABELS = { screening: "screening", diagnostic_workup: "work-up" };

const AI_STATES = { received: "received", queued: "AI queued", analysing: "AI analysing…" };

function aiText(study) {
  if (study.identity_state === "conflict") return `IDENTITY CONFLICT (held for a manager): ${text(study.identity_reason)}`;
  if (study.status === "ai_failed") return `AI failed: ${text(study.status_reason)}`;
  if (study.status === "no_ai") return text(study.status_reason) || "No AI for this study type";
  if (study.status === "analysed") return text(study.ai_headline) || "AI: nothing found";
  return AI_STATES[study.status] || study.status;
}

function renderRow(study) {
  const row = document.createElement("tr");
  row.dataset.studyId = study.id;
  row.dataset.urgency = study.urgency_code;
  row.tabIndex = -1;
  const badgeCell = cell(row, "");
  const badge = document.createElement("span");
  badge.className = `badge ${study.urgency_code}`;
  badge.textContent = study.urgency_name || study.urgency_code;
  badgeCell.appendChild(badge);
  cell(row, dueIn(study.due_at), `due ${study.escalation !== "none" ? study.escalation : ""}`);
  cell(row, personName(study.patient_name), "patient");
  cell(row, `${text(study.patient_age)} ${text(study.patient_sex)}`.trim());
  cell(row, study.modality);
  const description = cell(row, study.study_description);
  if (study.reading_queue && study.reading_queue !== "general") {
    const tag = document.createElement("span");
    tag.className = `queue-tag ${study.reading_queue}`;
    tag.textContent = QUEUE_LABELS[study.reading_queue] || study.reading_queue;
    description.append(" ", tag);
  }
  description.append(" ", ohifLink(study.id));
  const ai = cell(row, aiText(study), `ai-status ${study.status}`);
  // Analysed before the archive called the study complete: the result may rest on part of it.
  if (study.images_arriving) {
    const tag = document.createElement("span");
    tag.className = "arriving-tag";
    tag.textContent = "images may still be arriving";
    tag.title = study.images_arriving_note;
    ai.append(" ", tag);
  }
  cell(row, new Date(study.arrived_at).toLocaleTimeString());
  cell(row, study.claimed_by ? `${study.reading_state.replace("_", " ")} (${study.claimed_by_name || study.claimed_by})`
    : study.reading_state.replace("_", " "), "state");
  cell(row, study.priority_reason, "reason");
  row.addEventListener("click", () => open(study.id));
  return row;
}

function showingReported() { return filters.elements.state.value === "reported"; }

function render(changedId) {
  // Reported rows keep the server's order (latest signed first); open work is sorted by priority.
  const rows = showingReported() ? reported.rows.filter(matches) : [...studies.values()].filter(matches).sort(order);
  body.replaceChildren(...rows.map((study) => {
    const row = renderRow(study);
    if (study.id === changedId) row.classList.add("changed");
    if (study.id === selectedId) row.classList.add("selected");
    return row;
  }));
  const empty = document.getElementById("worklist-empty");
  empty.textContent = rows.length ? "" : emptyText();
  empty.hidden = rows.length > 0;
  count.textContent = showingReported() ? `${reported.total} reported studies` : `${rows.length} studies`;
  showPager();
  refreshFilterOptions();
}

// An empty list says what is empty, and whether a filter hides rows.
function emptyText() {
  const f = Object.fromEntries(new FormData(filters).entries());
  const filtered = ["search", "modality", "queue", "body_part", "mine"].some((name) => f[name]);
  const what = { "": "No open study", unread: "No unread study", in_progress: "No study being read",
    reported: "No reported study" }[f.state || ""] || "No study";
  return `${what}${filtered ? " matches these filters" : ""}.`;
}

function showPager() {
  pager.hidden = !showingReported() || reported.total <= REPORTED_PAGE;
  if (pager.hidden) return;
  const last = Math.min(reported.offset + REPORTED_PAGE, reported.total);
  document.getElementById("page-info").textContent = `${reported.offset + 1}–${last} of ${reported.total}`;
  document.getElementById("page-newer").disabled = reported.offset === 0;
  document.getElementById("page-older").disabled = last >= reported.total;
}

async function loadReported(offset = reported.offset) {
  const f = Object.fromEntries(new FormData(filters).entries());
  const query = new URLSearchParams({ reading_state: "reported", limit: REPORTED_PAGE, offset });
  if (f.search) query.set("search", f.search.trim());
  if (f.modality) query.set("modality", f.modality);
  if (f.queue) query.set("queue", f.queue);
  const page = await getJson(`/api/worklist/?${query}`);
  Object.assign(reported, { rows: page.results, offset, total: page.count, loaded: true });
  render(null);
}

document.getElementById("page-newer").addEventListener("click",
  () => loadReported(Math.max(0, reported.offset - REPORTED_PAGE)).catch((error) => console.error(error)));
document.getElementById("page-older").addEventListener("click",
  () => loadReported(reported.offset + REPORTED_PAGE).catch((error) => console.error(error)));

function refreshFilterOptions() {
  for (const [name, key] of [["modality", "modality"], ["body_part", "body_part"]]) {
    const select = filters.elements[name];
    const values = [...new Set([...studies.values()].map((s) => s[key]).filter(Boolean))].sort();
    const have = [...select.options].map((o) => o.value);
    for (const value of values) {
      if (!have.includes(value)) select.add(new Option(value, value));
    }
  }
}

function open(studyId) { window.location.href = `/studies/${studyId}/`; }

// The study in OHIF, the diagnostic viewer (frontend.ohif), in its own tab; the row itself opens the reading page.
function ohifLink(studyId) {
  const link = document.createElement("a");
  Object.assign(link, { href: `/ohif/studies/${studyId}/`, target: "_blank", rel: "noopener", className: "ohif-link",
    textContent: "OHIF", title: "Open in OHIF" });
  link.addEventListener("click", (event) => event.stopPropagation());
  return link;
}

// --- AI-critical announcements -----------------------------------------------------------------

function announce(study) {
  criticalBanner.textContent = `AI-critical: ${personName(study.patient_name)} — ${text(study.ai_headline)} `
    + `(${studyTitle(study)})`;
  criticalBanner.hidden = false;
  criticalBanner.onclick = () => open(study.id);
  if (filters.elements.sound.checked) beep();
}

function beep() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  } catch (error) {
    console.warn("no sound", error);
  }
}

// --- keyboard --------------------------------------------------------------------------------

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea")) return;
  const rows = [...body.querySelectorAll("tr")];
  if (!rows.length) return;
  let index = rows.findIndex((r) => Number(r.dataset.studyId) === selectedId);
  if (event.key === "ArrowDown" || event.key === "j") index = Math.min(rows.length - 1, index + 1);
  else if (event.key === "ArrowUp" || event.key === "k") index = Math.max(0, index - 1);
  else if (event.key === "Enter" && selectedId !== null) { open(selectedId); return; }
  else return;
  event.preventDefault();
  selectedId = Number(rows[index].dataset.studyId);
  rows.forEach((r) => r.classList.toggle("selected", Number(r.dataset.studyId) === selectedId));
  rows[index].scrollIntoView({ block: "nearest" });
});

// --- data ------------------------------------------------------------------------------------

async function reload() {
  const page = await getJson("/api/worklist/?limit=1000");
  studies.clear();
  for (const study of page.results) studies.set(study.id, study);
  render(null);
}

function onMessage(message) {
  if (message.type === "study.updated" && showingReported() && message.study.reading_state === "reported") {
    loadReported().catch((error) => console.error(error));
  }
  if (message.type === "study.updated") {
    const before = studies.get(message.study.id);
    studies.set(message.study.id, message.study);
    if (message.study.urgency_code === "ai_critical" && (!before || before.urgency_code !== "ai_critical")) {
      announce(message.study);
    }
    render(message.study.id);
  } else if (message.type === "alert.raised") {
    criticalBanner.textContent = message.alert.message;
    criticalBanner.hidden = false;
    if (filters.elements.sound.checked) beep();
  } else if (message.type === "critical.acknowledged" || message.type === "critical.escalated") {
    const critical = message.critical || {};
    criticalBanner.textContent = message.type === "critical.acknowledged"
      ? `Critical result acknowledged by ${text(critical.acknowledged_by_name || critical.acknowledged_by)} (${text(critical.accession_number)})`
      : `Critical result NOT acknowledged after ${text(critical.minutes_unacknowledged)} min`
        + ` (${text(critical.accession_number)}) — call the referrer`;
    criticalBanner.hidden = false;
  }
}

const CONNECTION_TEXT = { connecting: "connecting…", live: "live", offline: "reconnecting…", refused: "offline" };

function connect() {
  liveSocket("/ws/worklist/", {
    onMessage,
    // On every (re)connect: messages sent while the socket was down are lost, so re-read.
    onOpen: () => reload().catch((error) => console.error(error)),
    onState: (state) => {
      connection.dataset.state = state === "refused" ? "offline" : state;
      connection.textContent = CONNECTION_TEXT[state];
    },
  });
}

filters.addEventListener("input", (event) => {
  // The reported list is read from the server: a new filter reads its first page again.
  if (showingReported() && event.target.name !== "sound") {
    loadReported(0).catch((error) => console.error(error));
    return;
  }
  render(null);
});
filters.addEventListener("submit", (event) => event.preventDefault());
reload().catch((error) => console.error(error));
connect();
// Due-in countdowns move with the clock.
setInterval(() => render(null), 30000);
