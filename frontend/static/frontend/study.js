// The reading page: claim on open, images with AI marks, findings review, structured report, sign.
// Business rules live in the API; this file only shows state and sends the reader's decisions.

import { createViewer } from "./viewer.js";

const page = document.getElementById("study-page");
const studyId = Number(page.dataset.studyId);
const me = { username: page.dataset.user, role: page.dataset.role, readingMode: page.dataset.readingMode };
const $ = (id) => document.getElementById(id);
const NON_IMAGE = new Set(["SR", "SEG", "PR", "KO", "DOC", "REG"]);

let study = null;
let readOnly = me.role !== "radiologist";
let reportDirty = false;
let signedVersions = [];

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(`/api${path}`, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
  return { ok: response.ok, status: response.status, data };
}

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
  $("study-description").textContent = `${study.modality} · ${study.study_description} · ${study.accession_number}`;
  $("study-reason").textContent = study.priority_reason;
  const claim = $("study-claim");
  if (study.reading_state === "reported") claim.textContent = "Reported";
  else if (study.claimed_by) claim.textContent = `Being read by ${study.claimed_by}`;
  else claim.textContent = "Unclaimed";
  $("release").hidden = !(study.claimed_by === me.username || (me.role === "manager" && study.claimed_by));
}

function banner(text) {
  const element = $("study-banner");
  element.textContent = text;
  element.hidden = !text;
}

// --- claim -----------------------------------------------------------------------------------

async function claim() {
  if (me.role !== "radiologist" || study.reading_state === "reported") return;
  const result = await api(`/studies/${studyId}/claim/`, { method: "POST" });
  if (result.ok) {
    study = { ...study, ...result.data }; // the claim answers with the row; keep series and analyses
    readOnly = false;
    banner("");
  } else {
    readOnly = true;
    banner(result.data?.detail || "This study cannot be claimed.");
  }
  showHeader();
  document.body.classList.toggle("read-only", readOnly);
}

// --- images ----------------------------------------------------------------------------------

let viewer = null;

function bestSeries(detail) {
  const aiSeries = detail.analyses.map((a) => a.result && a.result.series_instance_uid).filter(Boolean);
  const images = detail.series.filter((s) => !NON_IMAGE.has(s.modality));
  return images.find((s) => aiSeries.includes(s.series_instance_uid))
    || images.sort((a, b) => b.instance_count - a.instance_count)[0];
}

// --- findings --------------------------------------------------------------------------------

let findings = [];

function marksFrom(list) {
  return list.filter((f) => f.centre_mm && f.decision !== "rejected").map((f) => ({
    id: f.key, label: f.label, centre_mm: f.centre_mm, radius_mm: (f.diameter_mm || 10) / 2,
  }));
}

function decisionButtons(finding) {
  const box = document.createElement("span");
  box.className = "decisions";
  for (const [decision, label] of [["accepted", "Accept"], ["rejected", "Reject"]]) {
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
  edit.disabled = readOnly || finding.source !== "ai";
  edit.addEventListener("click", () => {
    const size = prompt("Diameter (mm)", finding.diameter_mm ?? "");
    if (size === null) return;
    const type = prompt("Type: solid, part_solid or ground_glass", finding.finding_type || "solid");
    if (type === null) return;
    review(finding.key, { decision: "edited", diameter_mm: Number(size), finding_type: type.trim() });
  });
  box.appendChild(edit);
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
    jump.addEventListener("click", (event) => { event.preventDefault(); viewer.jumpToMark(finding.key); });
    const state = document.createElement("span");
    state.className = "decision";
    state.textContent = finding.decision || "not reviewed";
    item.append(jump, " ", state, " ", decisionButtons(finding));
    return item;
  }));
  if (!findings.length) list.innerHTML = "<li class='muted'>No AI finding.</li>";
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
  if (!reportDirty) await loadReport();
}

$("first-read-done").addEventListener("click", async () => {
  const result = await api(`/studies/${studyId}/first-read-done/`, { method: "POST" });
  if (result.ok) await loadFindings();
});

$("marks-visible").addEventListener("change", (event) => viewer.setMarksVisible(event.target.checked));

$("add-finding-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const centre = String(form.get("centre")).split(/[ ,;]+/).filter(Boolean).map(Number);
  const result = await api(`/studies/${studyId}/findings/`, {
    method: "POST",
    body: { centre_mm: centre, diameter_mm: Number(form.get("diameter_mm")), finding_type: form.get("finding_type") },
  });
  if (!result.ok) { alert(JSON.stringify(result.data)); return; }
  event.target.reset();
  await loadFindings();
  if (!reportDirty) await loadReport();
});

// --- report ----------------------------------------------------------------------------------

const form = $("report-form");

function fill(fields) {
  for (const name of ["findings_text", "impression", "recommendation", "lungrads_category"]) {
    if (fields[name] !== undefined && form.elements[name]) form.elements[name].value = fields[name];
  }
  $("lungrads-field").hidden = fields.template !== "lungrads";
  $("report-template").textContent = fields.template === "lungrads" ? "(Lung-RADS v2022)" : "(free text)";
}

function showVersions() {
  $("report-versions").replaceChildren(...signedVersions.map((v) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/api/studies/${studyId}/report/v${v.number}.pdf`;
    link.textContent = `v${v.number} signed by ${v.author} ${new Date(v.signed_at).toLocaleString()}`;
    link.target = "_blank";
    item.append(link, v.amendment_reason ? ` — amended: ${v.amendment_reason}` : "",
      v.critical ? " — critical result" : "", v.archived ? " — in archive" : "");
    return item;
  }));
  const amending = signedVersions.length > 0;
  $("amend-reason-field").hidden = !amending;
  $("sign").textContent = amending ? "Sign amendment" : "Sign report";
}

async function loadReport() {
  const result = await api(`/studies/${studyId}/report/`);
  if (!result.ok) return;
  signedVersions = result.data.versions;
  if (result.data.draft) fill(result.data.draft);
  else if (signedVersions.length) fill({ ...signedVersions.at(-1).fields });
  keyImages = signedVersions.length ? [...(signedVersions.at(-1).fields.key_images || [])] : keyImages;
  showKeyImages();
  showVersions();
  reportDirty = false;
}

let keyImages = [];

function showKeyImages() {
  $("key-images").replaceChildren(...keyImages.map((image, index) => {
    const item = document.createElement("li");
    item.textContent = image.label;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.title = "Remove";
    remove.addEventListener("click", () => { keyImages.splice(index, 1); showKeyImages(); });
    item.append(" ", remove);
    return item;
  }));
}

$("add-key-image").addEventListener("click", () => {
  const info = viewer.info;
  if (!info.instanceId) return;
  keyImages.push({ series_id: info.seriesId, instance_id: info.instanceId,
    label: `Series ${info.seriesId}, slice ${info.slice + 1}/${info.count}` });
  reportDirty = true;
  showKeyImages();
});

function reportBody() {
  const data = Object.fromEntries(new FormData(form).entries());
  data.key_images = keyImages;
  data.critical = form.elements.critical.checked;
  if ($("lungrads-field").hidden) delete data.lungrads_category;
  if ($("amend-reason-field").hidden) delete data.reason;
  return data;
}

form.addEventListener("input", () => { reportDirty = true; });
form.elements.critical.addEventListener("change", (event) => {
  $("critical-note-field").hidden = !event.target.checked;
});

$("preview").addEventListener("click", () => {
  const data = reportBody();
  const lines = [`${study.study_description || study.modality}`, "", "FINDINGS", data.findings_text || "-", "",
    "IMPRESSION", data.impression];
  if (data.lungrads_category) lines.push("", `Lung-RADS v2022 category: ${data.lungrads_category}`);
  if (data.recommendation) lines.push("", "RECOMMENDATION", data.recommendation);
  const preview = $("report-preview");
  preview.textContent = lines.join("\n");
  preview.hidden = false;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const amending = signedVersions.length > 0;
  const result = await api(`/studies/${studyId}/report/${amending ? "amend" : "sign"}/`,
    { method: "POST", body: reportBody() });
  if (!result.ok) {
    $("report-error").textContent = result.data?.detail || JSON.stringify(result.data);
    return;
  }
  $("report-error").textContent = "";
  await loadReport();
  await refreshStudy();
  banner(amending ? `Amendment v${result.data.number} signed.` : "Report signed.");
});

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
  if (result.ok) { study = { ...study, ...result.data }; showHeader(); banner(`Assigned to ${study.claimed_by}.`); }
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

function listen() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/worklist/`);
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "study.updated" && message.study.id === studyId) {
      const before = study.status;
      study = { ...study, ...message.study };
      showHeader();
      if (before !== study.status && study.status === "analysed") loadFindings();
    }
  };
  socket.onclose = () => setTimeout(listen, 3000);
}

async function start() {
  const result = await refreshStudy();
  if (!result.ok) { banner("Study not found."); return; }
  await claim();
  // The series list is passed in so the viewer does not re-read (and re-audit) the study.
  viewer = createViewer($("viewer"), { studyId, showFindings: false, series: study.series });
  const series = bestSeries(study);
  if (series) viewer.loadSeries(series.id).catch((error) => banner(`Images: ${error.message}`));
  await loadFindings();
  await loadReport();
  await setUpAssign();
  listen();
  // Opening is activity: keep the claim from lapsing while the page stays open.
  setInterval(() => { if (!readOnly && study.reading_state !== "reported") claim(); }, 240000);
}

start();
