// The reading page's findings: the AI's and the reader's, each accepted, rejected or edited (the
// server records the decision), their marks on the viewer, and the add-a-finding form
// (finding_form.js), whose pick mode places a finding by a click on the image.
import { createFindingForm } from "./finding_form.js";

const $ = (id) => document.getElementById(id);

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

// viewer(), study(), readOnly(): the page's current ones; jumpTo(finding): show it on the images;
// onChanged(): a decision was saved (the report follows the findings).
export function createFindings({ studyId, api, viewer, study, readOnly, jumpTo, onChanged }) {
  let findings = [];

  function decisionButtons(finding) {
    const box = document.createElement("span");
    box.className = "decisions";
    for (const [decision, label] of finding.source === "ai" ? [["accepted", "Accept"], ["rejected", "Reject"]] : []) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.className = `decide-${decision}`;
      button.disabled = readOnly() || finding.source !== "ai";
      button.addEventListener("click", () => review(finding.key, { decision }));
      box.appendChild(button);
    }
    const edit = document.createElement("button");
    edit.type = "button";
    edit.textContent = "Edit";
    edit.className = "decide-edited";
    edit.disabled = readOnly();
    edit.addEventListener("click", () => findingForm.edit(finding));
    box.appendChild(edit);
    if (finding.source === "reader") {
      const remove = document.createElement("button");
      Object.assign(remove, { type: "button", textContent: "Remove", className: "finding-remove", disabled: readOnly() });
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
      const { status, status_reason: reason } = study();
      empty.textContent = status === "ai_failed" ? `AI analysis failed: ${reason || "no reason given"}.`
        : status === "no_ai" ? "No AI for this study type."
          : status !== "analysed" ? "AI analysis not finished yet." : "No AI finding.";
      list.replaceChildren(empty);
    }
    viewer().setMarks(marksFrom(findings));
  }

  async function loadFindings() {
    const result = await api(`/studies/${studyId}/findings/`);
    const hidden = result.status === 409;
    $("findings-hidden").hidden = !hidden;
    $("first-read-done").hidden = !hidden || readOnly();
    if (hidden) {
      findings = [];
      $("findings-list").replaceChildren();
      viewer().setMarks([]);
      return;
    }
    findings = result.data || [];
    showFindings();
  }

  async function review(key, body) {
    const result = await api(`/studies/${studyId}/findings/${key}/review/`, { method: "POST", body });
    if (!result.ok) { alert(result.data?.detail || "Not saved"); return; }
    await loadFindings();
    await onChanged();
  }

  $("first-read-done").addEventListener("click", async () => {
    const result = await api(`/studies/${studyId}/first-read-done/`, { method: "POST" });
    if (result.ok) await loadFindings();
  });

  $("marks-visible").addEventListener("change", (event) => viewer().setMarksVisible(event.target.checked));

  // The add-a-finding form asks for what the template needs: a 3-D centre on CT, the breast on a
  // mammogram, the zone and site on a prostate MRI. Fields of other templates are disabled, so
  // they are neither required nor sent.
  function setUpAddFinding(template, types) {
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
    viewer,
    onSaved: async () => { await loadFindings(); await onChanged(); },
  });


  return { load: loadFindings, setUpAddFinding, onPick: (point) => findingForm.onPick(point) };
}
