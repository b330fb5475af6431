// The report form of the reading page. Every word of the report comes from the server's template
// module (reporting/report_types): the draft, the impression and recommendation that follow a
// category, the preview and the signing guard's objections. This file only shows them and sends
// the reader's fields.

import { createPiradsLesions } from "./report_pirads.js";
import { showReportHistory } from "./report_history.js";

const $ = (id) => document.getElementById(id);

// onChange(): the reader changed the form (the draft keeper saves it); onSigned(): a version was signed.
export function createReportForm({ studyId, api, viewer, banner, refreshStudy, onTemplate,
  onChange = () => {}, onSigned = async () => {} }) {
  const form = $("report-form");
  let template = "free";
  let chosen = ""; // the template the reader switched to ("" = the study's default)
  let choices = {};
  let signedVersions = [];
  let keyImages = [];
  let dirty = false;
  let generation = 0; // a load or a reader's change makes answers to earlier requests stale
  // Impression and recommendation the reader typed: the server leaves them as they are.
  const edited = new Set();

  // --- template and draft ---

  function showTemplates(data) {
    const select = $("report-type");
    select.replaceChildren(...data.templates.map((t) => new Option(t.title, t.name)));
    select.value = data.template;
    select.disabled = signedVersions.length > 0 || data.templates.length < 2;
    $("report-template").textContent = `(${data.template_title})`;
    $("report-type-reason").textContent = `Why: ${data.template_reason}`;
  }

  function showNotes(notes) {
    $("report-notes").replaceChildren(...(notes || []).map((note) => {
      const item = document.createElement("li");
      item.textContent = note;
      return item;
    }));
  }

  function options(select, list, blank) {
    const items = (list || []).map((c) => new Option(c.label, c.value));
    select.replaceChildren(...(blank ? [new Option(blank, "")] : []), ...items);
  }

  function setUpChoices() {
    if (template === "lungrads") options(form.elements.lungrads_category, choices.categories, "– choose –");
    if (template === "birads") {
      options(form.elements.birads_category, choices.categories, "– choose –");
      options(form.elements.breast_composition, choices.compositions, "–");
    }
  }

  function fill(fields) {
    for (const name of ["findings_text", "impression", "recommendation", "lungrads_category", "birads_category",
      "breast_composition", "fleischner_risk", "gland_volume_ml", "psa_ng_ml"]) {
      if (fields[name] !== undefined && form.elements[name]) form.elements[name].value = fields[name] ?? "";
    }
    for (const [id, name] of [["lungrads-field", "lungrads"], ["fleischner-field", "fleischner"],
      ["birads-field", "birads"], ["pirads-field", "pirads"]]) $(id).hidden = template !== name;
    if (template === "lungrads") {
      $("lungrads-suggested").textContent = fields.lungrads_suggested ?? "–";
      $("lungrads-rule").textContent = fields.lungrads_rule ?? "";
    }
    if (template === "fleischner") $("fleischner-risk-needed").hidden = !fields.fleischner_risk_needed;
    if (template === "birads") {
      $("birads-exam").textContent = fields.screening === undefined ? ""
        : fields.screening ? "Screening examination" : "Diagnostic examination";
      $("birads-suggested").textContent = fields.birads_suggested ?? "–";
      $("birads-rule").textContent = fields.birads_rule ?? "";
    }
    if (template === "pirads") {
      pirads.show(fields.pirads_lesions || []);
      pirads.showCategories();
    }
  }

  async function load({ unlessTyped = false } = {}) {
    const query = chosen ? `?template=${encodeURIComponent(chosen)}` : "";
    const asked = ++generation;
    const result = await api(`/studies/${studyId}/report/${query}`);
    // The reader typed or chose something meanwhile: their draft wins over a background refresh.
    if (asked !== generation || (unlessTyped && dirty)) return;
    if (!result.ok) { $("report-error").textContent = result.data?.detail || "The report could not be loaded."; return; }
    const data = result.data;
    signedVersions = data.versions;
    const switched = data.template !== template || !choices.loaded;
    template = data.template;
    choices = { ...data.choices, loaded: true };
    showTemplates(data);
    setUpChoices();
    // Only on a new template: a refresh must not reset the add-a-finding form the reader is filling.
    if (switched) onTemplate(template, data.finding_types);
    edited.clear();
    if (data.draft) { fill(data.draft); showNotes(data.draft.notes); }
    else if (signedVersions.length) { fill({ ...signedVersions.at(-1).fields }); showNotes([]); }
    keyImages = signedVersions.length ? [...(signedVersions.at(-1).fields.key_images || [])] : keyImages;
    showKeyImages();
    showAmendState();
    showReportHistory(studyId, $("report-history")).catch((error) => console.error(error));
    showProblems([]);
    $("override-field").hidden = true;
    dirty = false;
  }

  $("report-type").addEventListener("change", async (event) => {
    if (dirty && !confirm("Switch template? The draft typed so far is replaced.")) {
      event.target.value = template;
      return;
    }
    chosen = event.target.value;
    await load();
  });

  // --- the server's words for the current fields ---

  function showProblems(problems) {
    $("report-problems").replaceChildren(...problems.map((problem) => {
      const item = document.createElement("li");
      item.textContent = problem;
      return item;
    }));
  }

  async function preview() {
    const result = await api(`/studies/${studyId}/report/preview/`,
      { method: "POST", body: { ...reportBody(), edited: [...edited] } });
    if (!result.ok) { $("report-error").textContent = result.data?.detail || "No preview."; return null; }
    $("report-error").textContent = "";
    showProblems(result.data.problems);
    return result.data;
  }

  // A category (or risk, or score) changed: impression and recommendation follow, unless typed.
  async function followCategory() {
    dirty = true;
    const asked = ++generation;
    const data = await preview();
    if (!data || asked !== generation) return;
    for (const name of ["impression", "recommendation"]) {
      if (!edited.has(name) && data.auto[name] !== undefined) form.elements[name].value = data.fields[name];
    }
    if (template === "pirads") pirads.showCategories();
  }

  for (const name of ["lungrads_category", "birads_category", "fleischner_risk"]) {
    form.elements[name].addEventListener("change", followCategory);
  }
  for (const name of ["impression", "recommendation"]) {
    form.elements[name].addEventListener("input", () => edited.add(name));
  }

  $("preview").addEventListener("click", async () => {
    const data = await preview();
    if (!data) return;
    const box = $("report-preview");
    box.textContent = data.text;
    box.hidden = false;
  });

  // --- PI-RADS lesions (report_pirads.js) ---

  const pirads = createPiradsLesions({ form, choices: () => choices, onChange: () => followCategory() });

  // --- key images, versions ---

  function showKeyImages() {
    $("key-images").replaceChildren(...keyImages.map((image, index) => {
      const item = document.createElement("li");
      item.textContent = image.label;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.title = "Remove";
      remove.addEventListener("click", () => { keyImages.splice(index, 1); showKeyImages(); onChange(); });
      item.append(" ", remove);
      return item;
    }));
  }

  $("add-key-image").addEventListener("click", () => {
    const info = viewer().info;
    if (!info.instanceId) return;
    keyImages.push({ series_id: info.seriesId, instance_id: info.instanceId,
      label: `Series ${info.seriesId}, slice ${info.slice + 1}/${info.count}` });
    dirty = true;
    showKeyImages();
    onChange();
  });

  // The signed versions themselves are listed by report_history.js (one list, from the server).
  function showAmendState() {
    const amending = signedVersions.length > 0;
    $("amend-reason-field").hidden = !amending;
    $("sign").textContent = amending ? "Sign amendment" : "Sign report";
  }

  // --- sign ---

  function reportBody() {
    const data = Object.fromEntries(new FormData(form).entries());
    data.template = template;
    data.key_images = keyImages;
    data.critical = form.elements.critical.checked;
    if (template !== "lungrads") delete data.lungrads_category;
    if (template !== "fleischner") delete data.fleischner_risk;
    if (template !== "birads") { delete data.birads_category; delete data.breast_composition; }
    delete data.gland_volume_ml;
    delete data.psa_ng_ml;
    if (template === "pirads") {
      data.pirads_lesions = pirads.read();
      for (const name of ["gland_volume_ml", "psa_ng_ml"]) {
        const value = form.elements[name].value;
        data[name] = value === "" ? null : Number(value);
      }
    }
    if ($("amend-reason-field").hidden) delete data.reason;
    if ($("override-field").hidden || !data.override_reason) delete data.override_reason;
    return data;
  }

  form.addEventListener("input", () => { dirty = true; generation += 1; onChange(); });

  // A saved draft back in the form: the template's fields, then any other named field (critical
  // note, amendment reason, override reason), the key images and which texts the reader typed.
  function apply(fields) {
    fill(fields);
    for (const [name, value] of Object.entries(fields)) {
      const element = form.elements[name];
      if (!element || typeof value === "object" || element instanceof RadioNodeList) continue;
      if (element.type === "checkbox") element.checked = Boolean(value);
      else element.value = value;
    }
    $("critical-note-field").hidden = !form.elements.critical.checked;
    if (fields.override_reason) $("override-field").hidden = false;
    for (const name of fields.edited_fields || []) edited.add(name);
    keyImages = Array.isArray(fields.key_images) ? [...fields.key_images] : [];
    showKeyImages();
    dirty = true;
    generation += 1;
  }
  form.elements.critical.addEventListener("change", (event) => {
    $("critical-note-field").hidden = !event.target.checked;
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
      // The server words its refusals for the reader; never show raw JSON.
      $("report-error").textContent = result.data?.detail || `Not signed (error ${result.status}).`;
      if (result.data?.override_needed) {
        showProblems(result.data.problems);
        $("override-field").hidden = false;
      }
      return;
    }
    $("report-error").textContent = "";
    form.elements.override_reason.value = "";
    if (amending) form.elements.reason.value = "";
    await load();
    await refreshStudy();
    await onSigned();
    banner(amending ? `Amendment v${result.data.number} signed.` : "Report signed.");
  });

  return {
    load,
    apply,
    // What the draft keeper saves: the sign request's body and which texts the reader typed.
    collect: () => ({ ...reportBody(), edited_fields: [...edited] }),
    get dirty() { return dirty; },
    async refreshIfClean() { if (!dirty) await load({ unlessTyped: true }); },
  };
}
