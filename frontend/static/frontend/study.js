// The reading page: claim on open, images with AI marks, findings review, structured report, sign.
// Business rules live in the API; this file only shows state and sends the reader's decisions.

import { liveSocket, requestJson } from "./api.js";
import { studyTitle } from "./format.js";
import { createDraftKeeper } from "./report_draft.js";
import { createReportForm } from "./report_form.js";
import { createFindings } from "./study_findings.js";
import { createStudyImages } from "./study_images.js";

const page = document.getElementById("study-page");
const studyId = Number(page.dataset.studyId);
const me = { username: page.dataset.user, role: page.dataset.role, readingMode: page.dataset.readingMode };
const $ = (id) => document.getElementById(id);

let study = null;
let readOnly = me.role !== "radiologist";

// { ok, status, data }: the page words the server's refusals itself (data.detail), never raw JSON.
const api = (path, options) => requestJson(`/api${path}`, options);

function personName(value) {
  const [family = "", given = "", middle = ""] = String(value || "").split("=")[0].split("^");
  const first = [given, middle].filter(Boolean).join(" ");
  return first ? `${family}, ${first}` : family;
}

function showHeader() {
  $("study-patient").textContent =
    `${personName(study.patient_name)} · ${study.patient_id} · ${study.patient_age ?? ""} ${study.patient_sex}`;
  const badge = $("study-badge");
  badge.className = `badge ${study.urgency_code}`;
  badge.textContent = study.urgency_name;
  $("study-description").textContent = `${studyTitle(study)} · ${study.accession_number}`;
  $("study-reason").textContent = study.priority_reason;
  const claim = $("study-claim");
  if (study.reading_state === "reported") claim.textContent = "Reported";
  else if (study.claimed_by) claim.textContent = `Being read by ${study.claimed_by_name || study.claimed_by}`;
  else claim.textContent = "Unclaimed";
  $("release").hidden = !(study.claimed_by === me.username || (me.role === "manager" && study.claimed_by));
  // The server's words while the study may still be receiving images (cleared by a websocket push).
  const arriving = $("arriving-banner");
  arriving.textContent = study.images_arriving_note || "";
  arriving.hidden = !study.images_arriving_note;
}

function banner(text) {
  const element = $("study-banner");
  element.textContent = text;
  element.hidden = !text;
}

// --- claim -----------------------------------------------------------------------------------

// A reported study is claimed only to amend it (reporting/amend.py): the Amend button opens the
// amendment; while it is open, the periodic claim renews it.
function amending() { return study.reading_state === "reported" && study.claimed_by === me.username; }

function showAmendButton() {
  $("amend-open").hidden = !(me.role === "radiologist" && study.reading_state === "reported" && !amending());
}

async function claim() {
  if (me.role !== "radiologist") return;
  if (study.reading_state === "reported" && !amending()) {
    readOnly = true;
    document.body.classList.toggle("read-only", readOnly);
    showAmendButton();
    return;
  }
  const path = study.reading_state === "reported" ? "report/amendment" : "claim";
  const result = await api(`/studies/${studyId}/${path}/`, { method: "POST" });
  if (result.ok) {
    study = { ...study, ...result.data }; // the claim answers with the row; keep series and analyses
    readOnly = false;
    banner("");
  } else {
    readOnly = true;
    banner(result.data?.detail || "This study cannot be claimed.");
  }
  showHeader();
  showAmendButton();
  document.body.classList.toggle("read-only", readOnly);
}

$("amend-open").addEventListener("click", async () => {
  const result = await api(`/studies/${studyId}/report/amendment/`, { method: "POST" });
  if (!result.ok) { banner(result.data?.detail || "This report cannot be amended."); return; }
  study = { ...study, ...result.data };
  readOnly = false;
  document.body.classList.remove("read-only");
  showHeader();
  showAmendButton();
  banner("Amending: review the findings again; the report follows them. Sign the amendment with its reason.");
  await loadFindings();
  await loadReport();
  await draft.restore();
});

// --- images and findings ------------------------------------------------------------------

// The viewer and the series it shows (study_images.js), created once the claim is settled.
let images = null;
let viewer = null;

// The findings list, their marks and the add-a-finding form (study_findings.js, finding_form.js).
const findings = createFindings({ studyId, api, viewer: () => viewer, study: () => study, readOnly: () => readOnly,
  jumpTo: (finding) => images.jumpTo(finding), onChanged: () => report.refreshIfClean() });
const loadFindings = () => findings.load();

// --- report ----------------------------------------------------------------------------------

// The form, its wording and the signing guard's answers live in report_form.js and on the server.
const report = createReportForm({ studyId, api, viewer: () => viewer, banner: (text) => banner(text),
  refreshStudy: () => refreshStudy(), onTemplate: (template, types) => findings.setUpAddFinding(template, types),
  onChange: () => draft.schedule(),
  onSigned: async () => { draft.signed(); await claim(); await loadFindings(); } });
// The draft is kept on the server as the reader types (report_draft.js, reporting/drafts.py).
const draft = createDraftKeeper({ studyId, collect: () => report.collect(), apply: (fields) => report.apply(fields),
  status: $("draft-status") });
const loadReport = () => report.load();

// --- live state ------------------------------------------------------------------------------

async function refreshStudy() {
  const result = await api(`/studies/${studyId}/`);
  if (result.ok) { study = result.data; showHeader(); }
  return result;
}

async function setUpAssign() {
  if (me.role !== "manager" || study.reading_state === "reported") return;
  const result = await api("/radiologists/");
  if (!result.ok) return;
  $("assign-to").replaceChildren(...result.data.map((r) => new Option(r.name || r.username, r.username)));
  $("assign-box").hidden = false;
}

$("assign").addEventListener("click", async () => {
  const result = await api(`/studies/${studyId}/assign/`, { method: "POST", body: { username: $("assign-to").value } });
  if (result.ok) { study = { ...study, ...result.data }; showHeader(); banner(`Assigned to ${study.claimed_by_name || study.claimed_by}.`); }
  else banner(result.data?.detail || "Not assigned");
});

$("release").addEventListener("click", async () => {
  const result = await api(`/studies/${studyId}/release/`, { method: "POST" });
  if (result.ok) window.location.href = "/";
});

$("reading-mode").value = me.readingMode;
$("reading-mode").addEventListener("change", async (event) => {
  const result = await api("/me/", { method: "PATCH", body: { reading_mode: event.target.value } });
  if (result.ok) { me.readingMode = result.data.reading_mode; await loadFindings(); }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !event.target.closest("input, textarea, select")) window.location.href = "/";
});

function studyChanged(before) {
  showHeader();
  if (before !== study.status && study.status === "analysed") loadFindings();
}

// The worklist's socket says when this study changes. Messages sent while it was down are lost, so
// a reconnect re-reads the study over REST (the first connection follows the page's own read).
function listen() {
  let connected = false;
  liveSocket("/ws/worklist/", {
    onMessage: (message) => {
      if (message.type !== "study.updated" || message.study.id !== studyId) return;
      const before = study.status;
      study = { ...study, ...message.study };
      studyChanged(before);
    },
    onOpen: async () => {
      if (!connected) { connected = true; return; }
      const before = study.status;
      const result = await refreshStudy();
      if (result.ok) studyChanged(before);
    },
  });
}

async function start() {
  const result = await refreshStudy();
  if (!result.ok) { banner("Study not found."); return; }
  await claim();
  // The viewer opens the best series and reports what the reader could see (the signing guard).
  images = createStudyImages({ studyId, me, study: () => study, api, banner, onPick: (point) => findings.onPick(point),
    onViewed: () => report.refreshIfClean() });
  viewer = images.viewer;
  await loadFindings();
  await loadReport();
  if (!readOnly) await draft.restore();
  await setUpAssign();
  listen();
  // Opening is activity: keep the claim from lapsing while the page stays open.
  setInterval(() => { if (!readOnly) claim(); }, 240000);
}

start();
