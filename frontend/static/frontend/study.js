// The reading page: claim on open, images with AI marks, findings review, structured report, sign.
// Business rules live in the API; this file only shows state and sends the reader's decisions.

import { createFindingForm } from "./finding_form.js";
import { studyTitle } from "./format.js";
import { createDraftKeeper } from "./report_draft.js";
import { showReportHistory } from "./report_history.js";
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

// A refusal in words: the API's sentence, or its field errors as "field: message".
function refusalText(data) {
  if (!data) return "Not saved.";
  if (data.detail) return data.detail;
  return Object.entries(data).map(([name, errors]) => `${name.replaceAll("_", " ")}: ${[].concat(errors).join(" ")}`)
    .join("; ");
}

// --- images ----------------------------------------------------------------------------------

let viewer = null;

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
      viewer.loadSeries(series.id).catch((error) => banner(`Images: ${error.message}`));
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
    await viewer.loadSeries(series.id).catch((error) => banner(`Images: ${error.message}`));
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
  onSaved: async () => { await loadFindings(); if (!reportDirty) await loadReport(); },
});

// --- report ----------------------------------------------------------------------------------

const form = $("report-form");

let template = "free";
let choices = null; // category lists and the PI-RADS lookup table, from the report API
const TEMPLATE_NAMES = { lungrads: "(Lung-RADS v2022)", birads: "(BI-RADS, ACR 5th edition)",
  pirads: "(PI-RADS v2.1)", free: "(free text)" };
// Text the page wrote itself: replaced when the category changes, unless the reader edited it.
const autoText = { impression: null, recommendation: null };

function setAuto(name, value) {
  const element = form.elements[name];
  if (element.value === "" || element.value === autoText[name]) element.value = value;
  autoText[name] = value;
}

function setUpChoices() {
  const options = (list) => list.map((c) => new Option(c.label, c.value));
  form.elements.birads_category.replaceChildren(...options(choices.birads_categories));
  form.elements.breast_composition.replaceChildren(new Option("–", ""), ...options(choices.breast_compositions));
}

function fill(fields) {
  for (const name of ["findings_text", "impression", "recommendation", "lungrads_category", "birads_category",
    "breast_composition", "gland_volume_ml", "psa_ng_ml"]) {
    if (fields[name] !== undefined && form.elements[name]) form.elements[name].value = fields[name] ?? "";
  }
  autoText.impression = fields.impression ?? null;
  autoText.recommendation = fields.recommendation ?? null;
  $("lungrads-field").hidden = template !== "lungrads";
  $("birads-field").hidden = template !== "birads";
  $("pirads-field").hidden = template !== "pirads";
  $("report-template").textContent = TEMPLATE_NAMES[template] || "";
  if (template === "birads") {
    $("birads-exam").textContent = fields.screening === undefined ? ""
      : fields.screening ? "Screening examination" : "Diagnostic examination";
    $("birads-suggested").textContent = fields.birads_suggested ?? "–";
    $("birads-rule").textContent = fields.birads_rule ?? "";
    showBiradsManagement();
  }
  if (template === "pirads") {
    showLesions(fields.pirads_lesions || []);
    updatePirads({ auto: false });
  }
}

// --- BI-RADS ---

function showBiradsManagement() {
  const chosen = choices.birads_categories.find((c) => c.value === form.elements.birads_category.value);
  $("birads-management").textContent = chosen ? `Management: ${chosen.management}` : "";
  return chosen;
}

form.elements.birads_category.addEventListener("change", () => {
  const chosen = showBiradsManagement();
  if (!chosen) return;
  setAuto("impression", `BI-RADS ${chosen.label}.`);
  setAuto("recommendation", `${chosen.management}.`);
});

// --- PI-RADS ---

const SCORE_OPTIONS = ["", "1", "2", "3", "4", "5"];

function select(field, values, labels, value) {
  const element = document.createElement("select");
  element.dataset.field = field;
  element.replaceChildren(...values.map((v, i) => new Option(labels[i], v)));
  element.value = value ?? "";
  return element;
}

function lesionItem(lesion) {
  const item = document.createElement("li");
  item.className = "pirads-lesion";
  item.dataset.key = lesion.key || "";
  const zones = Object.keys(choices.pirads_zones);
  const zone = select("zone", ["", ...zones], ["zone?", ...zones.map((z) => z.toUpperCase())], lesion.zone);
  const site = document.createElement("input");
  Object.assign(site, { value: lesion.location || "", placeholder: "site" });
  site.dataset.field = "location";
  const size = document.createElement("input");
  Object.assign(size, { type: "number", step: "any", min: "0", value: lesion.diameter_mm ?? "", placeholder: "mm" });
  size.dataset.field = "diameter_mm";
  const scoreLabels = (name) => [`${name}?`, ...SCORE_OPTIONS.slice(1).map((score) => `${name} ${score}`)];
  const t2 = select("t2", SCORE_OPTIONS, scoreLabels("T2W"), lesion.t2 === null ? "" : String(lesion.t2 ?? ""));
  const dwi = select("dwi", SCORE_OPTIONS, scoreLabels("DWI"), lesion.dwi === null ? "" : String(lesion.dwi ?? ""));
  const dce = select("dce", ["?", "-", "+", ""], ["DCE?", "DCE −", "DCE +", "DCE not done"],
    lesion.dce === null || lesion.dce === undefined ? "?" : lesion.dce);
  const category = document.createElement("output");
  category.className = "pirads-category";
  const rule = document.createElement("span");
  rule.className = "pirads-rule muted";
  const remove = document.createElement("button");
  Object.assign(remove, { type: "button", textContent: "×", title: "Remove this lesion" });
  remove.addEventListener("click", () => { item.remove(); updatePirads(); reportDirty = true; });
  const row = (className, ...children) => {
    const div = document.createElement("div");
    div.className = className;
    div.append(...children);
    return div;
  };
  item.append(row("pirads-site", zone, site, size, remove), row("pirads-scores", t2, dwi, dce, category), rule);
  return item;
}

function showLesions(lesions) {
  $("pirads-lesions").replaceChildren(...lesions.map(lesionItem));
}

function readLesions() {
  return [...$("pirads-lesions").querySelectorAll("li")].map((item) => {
    const value = (field) => item.querySelector(`[data-field=${field}]`).value;
    return {
      key: item.dataset.key, zone: value("zone"), location: value("location"),
      diameter_mm: value("diameter_mm") === "" ? null : Number(value("diameter_mm")),
      t2: value("t2") === "" ? null : Number(value("t2")), dwi: value("dwi") === "" ? null : Number(value("dwi")),
      dce: value("dce") === "?" ? null : value("dce"),
    };
  });
}

// Categories are looked up in the table the API sends (built from triage/pirads.py), never
// recomputed here; a lesion not fully scored has no category yet.
function lesionCategory(lesion) {
  if (!lesion.zone || !lesion.t2 || !lesion.dwi || lesion.dce === null) return null;
  return choices.pirads_table[`${lesion.zone}:${lesion.t2}:${lesion.dwi}:${lesion.dce}`] || null;
}

function updatePirads({ auto = true } = {}) {
  const lesions = readLesions();
  const items = $("pirads-lesions").querySelectorAll("li");
  const categories = lesions.map((lesion, index) => {
    const found = lesionCategory(lesion);
    items[index].querySelector(".pirads-category").textContent = found ? `PI-RADS ${found[0]}` : "–";
    items[index].querySelector(".pirads-rule").textContent = found ? found[1] : "score T2W, DWI and DCE";
    return found ? found[0] : null;
  });
  const complete = categories.every((c) => c !== null);
  const overall = !complete ? null : Math.max(1, ...categories);
  $("pirads-overall").textContent = overall ?? "–";
  $("pirads-assessment").textContent = overall ? choices.pirads_assessment[overall] : "";
  const volume = Number(form.elements.gland_volume_ml.value);
  const psa = Number(form.elements.psa_ng_ml.value);
  $("psa-density").textContent = volume > 0 && form.elements.psa_ng_ml.value !== "" ? (psa / volume).toFixed(2) : "–";
  if (auto && overall) {
    const worst = lesions.map((l, i) => [l, categories[i]]).filter(([, c]) => c === overall)
      .map(([l]) => l.location || l.zone.toUpperCase());
    setAuto("impression", `PI-RADS ${overall}${worst.length ? ` (${worst.join("; ")})` : ""}: `
      + `${choices.pirads_assessment[overall]}.`);
  }
}

$("pirads-lesions").addEventListener("change", () => updatePirads());
$("pirads-lesions").addEventListener("input", () => updatePirads());
form.elements.gland_volume_ml.addEventListener("input", () => updatePirads({ auto: false }));
form.elements.psa_ng_ml.addEventListener("input", () => updatePirads({ auto: false }));
$("pirads-add-lesion").addEventListener("click", () => {
  if ($("pirads-lesions").children.length >= 4) { alert("PI-RADS v2.1 reports at most four lesions."); return; }
  $("pirads-lesions").appendChild(lesionItem({}));
  updatePirads();
});

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
  template = result.data.template;
  if (!choices) {
    choices = result.data.choices;
    setUpChoices();
    setUpAddFinding(template, result.data.finding_types);
  }
  if (result.data.draft) fill(result.data.draft);
  else if (signedVersions.length) fill({ ...signedVersions.at(-1).fields });
  keyImages = signedVersions.length ? [...(signedVersions.at(-1).fields.key_images || [])] : keyImages;
  showKeyImages();
  showVersions();
  showReportHistory(studyId, $("report-history")).catch((error) => console.error(error));
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
    remove.addEventListener("click", () => { keyImages.splice(index, 1); showKeyImages(); draft.schedule(); });
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
  draft.schedule();
});

function reportBody() {
  const data = Object.fromEntries(new FormData(form).entries());
  data.key_images = keyImages;
  data.critical = form.elements.critical.checked;
  if (template !== "lungrads") delete data.lungrads_category;
  if (template !== "birads") { delete data.birads_category; delete data.breast_composition; }
  delete data.gland_volume_ml;
  delete data.psa_ng_ml;
  if (template === "pirads") {
    data.pirads_lesions = readLesions();
    for (const name of ["gland_volume_ml", "psa_ng_ml"]) {
      const value = form.elements[name].value;
      data[name] = value === "" ? null : Number(value);
    }
  }
  if ($("amend-reason-field").hidden) delete data.reason;
  return data;
}

form.addEventListener("input", () => { reportDirty = true; draft.schedule(); });

// A saved draft back in the form: the template's fields, then any other named field (critical
// note, amendment reason, override reasons) and the key images.
function applyDraft(fields) {
  fill(fields);
  for (const [name, value] of Object.entries(fields)) {
    const element = form.elements[name];
    if (!element || typeof value === "object" || element instanceof RadioNodeList) continue;
    if (element.type === "checkbox") element.checked = Boolean(value);
    else element.value = value;
  }
  $("critical-note-field").hidden = !form.elements.critical.checked;
  keyImages = Array.isArray(fields.key_images) ? [...fields.key_images] : [];
  showKeyImages();
  reportDirty = true;
}

const draft = createDraftKeeper({ studyId, collect: () => reportBody(), apply: applyDraft, status: $("draft-status") });
form.elements.critical.addEventListener("change", (event) => {
  $("critical-note-field").hidden = !event.target.checked;
});

$("preview").addEventListener("click", () => {
  const data = reportBody();
  const lines = [`${study.study_description || study.modality}`, "", "FINDINGS", data.findings_text || "-", "",
    "IMPRESSION", data.impression];
  if (data.lungrads_category) lines.push("", `Lung-RADS v2022 category: ${data.lungrads_category}`);
  if (template === "birads") lines.push("", $("birads-management").textContent);
  if (template === "pirads") {
    lines.push("", ...[...$("pirads-lesions").querySelectorAll("li")].map((item, index) =>
      `Lesion ${index + 1}: ${item.querySelector(".pirads-category").textContent}`),
    `Overall PI-RADS v2.1: ${$("pirads-overall").textContent}`);
  }
  if (data.recommendation) lines.push("", "RECOMMENDATION", data.recommendation);
  const preview = $("report-preview");
  preview.textContent = lines.join("\n");
  preview.hidden = false;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const amending = signedVersions.length > 0;
  if (amending && !String(form.elements.reason.value).trim()) {
    $("report-error").textContent = "Give a reason for the amendment: say what was corrected.";
    form.elements.reason.focus();
    return;
  }
  const result = await api(`/studies/${studyId}/report/${amending ? "amend" : "sign"}/`,
    { method: "POST", body: reportBody() });
  if (!result.ok) {
    $("report-error").textContent = refusalText(result.data);
    return;
  }
  $("report-error").textContent = "";
  draft.signed();
  await loadReport();
  await refreshStudy();
  if (amending) form.elements.reason.value = "";
  await claim(); // after signing the study is read-only, with its Amend button
  await loadFindings();
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
  viewer = createViewer($("viewer"), { studyId, showFindings: false, series: study.series,
    onPick: (point) => findingForm.onPick(point) });
  const series = bestSeries(study);
  if (series) viewer.loadSeries(series.id).catch((error) => banner(`Images: ${error.message}`));
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
