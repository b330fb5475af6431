// The reading page: claim on open, images with AI marks, findings review, structured report, sign.
// Business rules live in the API; this file only shows state and sends the reader's decisions.

import { liveSocket, requestJson } from "./api.js";
import { createFindingForm } from "./finding_form.js";
import { studyTitle } from "./format.js";
import { createDraftKeeper } from "./report_draft.js";
import { createReportForm } from "./report_form.js";
import { createViewer } from "./viewer.js";

const page = document.getElementById("study-page");
const studyId = Number(page.dataset.studyId);
const me = { username: page.dataset.user, role: page.dataset.role, readingMode: page.dataset.readingMode };
const $ = (id) => document.getElementById(id);
const NON_IMAGE = new Set(["SR", "SEG", "PR", "KO", "DOC", "REG"]);

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

// --- images ----------------------------------------------------------------------------------

let viewer = null;

// Every series the viewer shows, or fails to show, is reported to the server: the signing guard
// refuses a report on images the reader could not see. A series with slices the viewer could not
// decode (named by viewer:slice-errors) is not shown; reports go one at a time so the last one holds.
const seriesWithFailedSlices = new Set();
let viewReports = Promise.resolve();

function reportView(seriesId, shown, error = "") {
  if (me.role !== "radiologist") return viewReports;
  viewReports = viewReports.then(async () => {
    await api(`/studies/${studyId}/images-viewed/`, { method: "POST",
      body: shown ? { series_id: seriesId, shown } : { series_id: seriesId, shown, error: error.slice(0, 300) } });
    await report.refreshIfClean();
  });
  return viewReports;
}

function onSliceErrors(event) {
  const { seriesId, slices, reasons, count } = event.detail;
  seriesWithFailedSlices.add(seriesId);
  const which = slices.slice(0, 10).join(", ") + (slices.length > 10 ? ", …" : "");
  reportView(seriesId, false, `${slices.length} of ${count} slices could not be shown (${which}): ${reasons.join("; ")}`);
}

async function showSeries(seriesId) {
  try {
    await viewer.loadSeries(seriesId);
  } catch (error) {
    if (error.name === "AbortError") return; // another series was asked for meanwhile
    banner(`Images: ${error.message}`);
    await reportView(seriesId, false, String(error.message));
    return;
  }
  if (viewer.info.seriesId !== seriesId || seriesWithFailedSlices.has(seriesId)) return;
  await reportView(seriesId, true);
}

function bestSeries(detail) {
  const firstView = (detail.analyses || []).flatMap((a) => (a.result && a.result.findings) || [])
    .flatMap((f) => f.views || [])[0];
  const marked = firstView && detail.series.find((s) => s.series_instance_uid === firstView.series_instance_uid);
  if (marked) return marked;
  const aiSeries = detail.analyses.map((a) => a.result && a.result.series_instance_uid).filter(Boolean);
  const images = detail.series.filter((s) => !NON_IMAGE.has(s.modality));
  // Prostate MRI is read from the axial T2W first (PI-RADS: T2W for anatomy and the TZ).
  const prostate = /prostate/i.test(`${detail.body_part} ${detail.study_description}`);
  const t2 = prostate && images.find((s) => /t2/i.test(s.description || "") && /ax|tra/i.test(s.description || ""));
  if (t2 && !aiSeries.length) return t2;
  return images.find((s) => aiSeries.includes(s.series_instance_uid))
    || images.sort((a, b) => b.instance_count - a.instance_count)[0];
}

// Mammography: one button per standard view, to load that view's series at once.
const MG_VIEWS = ["RCC", "LCC", "RMLO", "LMLO"];

function mammoView(series) {
  // "R CC", "RCC", "RIGHT MLO", "L MLO" ...: a laterality and a view position in the description.
  const tokens = String(series.description || "").toUpperCase().split(/[^A-Z]+/).filter(Boolean);
  const compact = tokens.find((t) => MG_VIEWS.includes(t));
  if (compact) return compact;
  const side = tokens.some((t) => t === "R" || t === "RIGHT") ? "R" : tokens.some((t) => t === "L" || t === "LEFT") ? "L" : "";
  const view = tokens.includes("MLO") ? "MLO" : tokens.includes("CC") ? "CC" : "";
  return side && view ? side + view : "";
}

function viewSeries() {
  // The AI's view marks name their series exactly; descriptions fill in the views without a finding.
  const byView = {};
  for (const analysis of study.analyses || []) {
    for (const finding of (analysis.result && analysis.result.findings) || []) {
      for (const mark of finding.views || []) {
        const series = study.series.find((s) => s.series_instance_uid === mark.series_instance_uid);
        if (series && MG_VIEWS.includes(mark.view)) byView[mark.view] = series;
      }
    }
  }
  for (const series of study.series) {
    const view = mammoView(series);
    if (view && !byView[view]) byView[view] = series;
  }
  return byView;
}

function showViewButtons() {
  const box = $("view-buttons");
  box.hidden = study.modality !== "MG";
  if (box.hidden) return;
  const byView = viewSeries();
  for (const button of box.querySelectorAll("button[data-view]")) {
    const series = byView[button.dataset.view];
    button.disabled = !series;
    button.title = series ? `${series.description || ""} (series ${series.series_number ?? series.id})` : "No such view";
    button.dataset.seriesId = series ? String(series.id) : "";
    button.onclick = () => {
      highlightView(series.id);
      showSeries(series.id);
    };
  }
  highlightView(viewer.info.seriesId);
}

function highlightView(seriesId) {
  for (const button of $("view-buttons").querySelectorAll("button[data-view]")) {
    button.classList.toggle("active", button.dataset.seriesId === String(seriesId));
  }
}

// --- findings --------------------------------------------------------------------------------

let findings = [];

// A 2-D finding (mammography) gives one image mark per view: the first view's mark has the
// finding's key, so jumpToMark(finding.key) finds it; the others are `${key}:${view}`.
function marksFrom(list) {
  const marks = [];
  for (const f of list) {
    if (f.decision === "rejected") continue;
    if (f.views && f.views.length) {
      f.views.forEach((v, index) => marks.push({
        id: index === 0 ? `${f.key}` : `${f.key}:${v.view}`, label: f.label,
        series_instance_uid: v.series_instance_uid, sop_instance_uid: v.sop_instance_uid,
        point_px: v.point_px, radius_px: v.radius_px,
      }));
    } else if (f.centre_mm) {
      marks.push({ id: f.key, label: f.label, centre_mm: f.centre_mm, radius_mm: (f.diameter_mm || 10) / 2 });
    }
  }
  return marks;
}

async function jumpTo(finding) {
  const first = finding.views && finding.views[0];
  const series = first && study.series.find((s) => s.series_instance_uid === first.series_instance_uid);
  if (series && viewer.info.seriesId !== series.id) {
    highlightView(series.id);
    await showSeries(series.id);
  }
  viewer.jumpToMark(finding.key);
}

function decisionButtons(finding) {
  const box = document.createElement("span");
  box.className = "decisions";
  for (const [decision, label] of finding.source === "ai" ? [["accepted", "Accept"], ["rejected", "Reject"]] : []) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.className = `decide-${decision}`;
    button.disabled = readOnly || finding.source !== "ai";
    button.addEventListener("click", () => review(finding.key, { decision }));
    box.appendChild(button);
  }
  const edit = document.createElement("button");
  edit.type = "button";
  edit.textContent = "Edit";
  edit.className = "decide-edited";
  edit.disabled = readOnly;
  edit.addEventListener("click", () => findingForm.edit(finding));
  box.appendChild(edit);
  if (finding.source === "reader") {
    const remove = document.createElement("button");
    Object.assign(remove, { type: "button", textContent: "Remove", className: "finding-remove", disabled: readOnly });
    remove.addEventListener("click", () => findingForm.remove(finding));
    box.appendChild(remove);
  }
  return box;
}

function showFindings() {
  const list = $("findings-list");
  list.replaceChildren(...findings.map((finding) => {
    const item = document.createElement("li");
    item.dataset.key = finding.key;
    item.dataset.decision = finding.decision || "pending";
    const jump = document.createElement("a");
    jump.href = "#";
    jump.className = "finding-label";
    const probability = finding.probability !== null ? ` · p=${finding.probability.toFixed(2)}` : "";
    jump.textContent = `${finding.source === "reader" ? "Reader" : "AI"}: ${finding.label}${probability}`;
    jump.addEventListener("click", (event) => { event.preventDefault(); jumpTo(finding); });
    const state = document.createElement("span");
    state.className = "decision";
    state.textContent = finding.decision || "not reviewed";
    item.append(jump, " ", state, " ", decisionButtons(finding));
    return item;
  }));
  if (!findings.length) {
    // "No AI finding" only when the AI ran: a failed or pending analysis is said as such.
    const empty = document.createElement("li");
    empty.className = "muted";
    empty.textContent = study.status === "ai_failed" ? `AI analysis failed: ${study.status_reason || "no reason given"}.`
      : study.status === "no_ai" ? "No AI for this study type."
        : study.status !== "analysed" ? "AI analysis not finished yet." : "No AI finding.";
    list.replaceChildren(empty);
  }
  viewer.setMarks(marksFrom(findings));
}

async function loadFindings() {
  const result = await api(`/studies/${studyId}/findings/`);
  const hidden = result.status === 409;
  $("findings-hidden").hidden = !hidden;
  $("first-read-done").hidden = !hidden || readOnly;
  if (hidden) {
    findings = [];
    $("findings-list").replaceChildren();
    viewer.setMarks([]);
    return;
  }
  findings = result.data || [];
  showFindings();
}

async function review(key, body) {
  const result = await api(`/studies/${studyId}/findings/${key}/review/`, { method: "POST", body });
  if (!result.ok) { alert(result.data?.detail || "Not saved"); return; }
  await loadFindings();
  await report.refreshIfClean();
}

$("first-read-done").addEventListener("click", async () => {
  const result = await api(`/studies/${studyId}/first-read-done/`, { method: "POST" });
  if (result.ok) await loadFindings();
});

$("marks-visible").addEventListener("change", (event) => viewer.setMarksVisible(event.target.checked));

let findingTypes = ["solid", "part_solid", "ground_glass"];

// The add-a-finding form asks for what the template needs: a 3-D centre on CT, the breast on a
// mammogram, the zone and site on a prostate MRI. Fields of other templates are disabled, so
// they are neither required nor sent.
function setUpAddFinding(template, types) {
  findingTypes = types;
  const addForm = $("add-finding-form");
  for (const label of addForm.querySelectorAll("label[data-for]")) {
    const active = label.dataset.for.split(" ").includes(template);
    label.hidden = !active;
    label.querySelectorAll("input, select").forEach((input) => { input.disabled = !active; });
  }
  addForm.elements.finding_type.replaceChildren(...types.map((t) => new Option(t.replaceAll("_", " "), t)));
  findingForm.showSolidPart();
}

const findingForm = createFindingForm({
  studyId,
  elements: { details: $("add-finding"), form: $("add-finding-form"), pick: $("pick-on-image"),
    place: $("picked-place"), error: $("finding-error"), title: $("add-finding-title"), submit: $("finding-save"),
    cancel: $("finding-cancel") },
  viewer: () => viewer,
  onSaved: async () => { await loadFindings(); await report.refreshIfClean(); },
});

// --- report ----------------------------------------------------------------------------------

// The form, its wording and the signing guard's answers live in report_form.js and on the server.
const report = createReportForm({ studyId, api, viewer: () => viewer, banner: (text) => banner(text),
  refreshStudy: () => refreshStudy(), onTemplate: (template, types) => setUpAddFinding(template, types),
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
  // The series list is passed in so the viewer does not re-read (and re-audit) the study.
  viewer = createViewer($("viewer"), { studyId, showFindings: false, series: study.series,
    onPick: (point) => findingForm.onPick(point) });
  viewer.element.addEventListener("viewer:slice-errors", onSliceErrors);
  const series = bestSeries(study);
  if (series) showSeries(series.id);
  showViewButtons();
  await loadFindings();
  await loadReport();
  if (!readOnly) await draft.restore();
  await setUpAssign();
  listen();
  // Opening is activity: keep the claim from lapsing while the page stays open.
  setInterval(() => { if (!readOnly) claim(); }, 240000);
}

start();
