// The in-page finding form: add a finding the AI missed by clicking on the image (the viewer's
// pick mode gives the slice and the patient position), edit or remove a reader-added finding, or
// change an AI finding's size and type. The server checks every value and says what is wrong.
import { requestJson } from "./api.js";

const send = (path, method, body) => requestJson(`/api${path}`, { method, body });

function refusal(data) {
  if (!data) return "Not saved.";
  if (data.detail) return data.detail;
  return Object.entries(data).map(([name, errors]) => `${name.replaceAll("_", " ")}: ${[].concat(errors).join(" ")}`)
    .join("; ");
}

const number = (value) => (value === "" || value === null || value === undefined ? null : Number(value));

// elements: { details, form, pick, place, error, title, submit, cancel }; viewer(): the page's viewer;
// onSaved(): re-read findings and report.
export function createFindingForm({ studyId, elements, viewer, onSaved }) {
  const { details, form, pick, place, error, title, submit, cancel } = elements;
  let picked = null; // {seriesId, sopInstanceUid, sliceIndex, position, pixel}
  let editing = null; // null (adding), {key, source}

  function showSolidPart() {
    const partSolid = form.elements.finding_type.value === "part_solid";
    const field = form.querySelector(".solid-part");
    field.hidden = !partSolid;
    form.elements.solid_mm.disabled = !partSolid;
    form.elements.solid_mm.required = partSolid;
  }

  function setPicking(on) {
    viewer().setPickMode(on);
    pick.setAttribute("aria-pressed", on ? "true" : "false");
    pick.textContent = on ? "Click the finding on the image…" : "Place on the image";
  }

  function centreField() { return [...form.querySelectorAll("input[name=centre]")].find((i) => !i.disabled); }

  function reset() {
    form.reset();
    picked = null;
    editing = null;
    place.textContent = "";
    error.textContent = "";
    title.textContent = "Add a finding the AI missed";
    submit.textContent = "Add";
    cancel.hidden = true;
    form.querySelectorAll("[data-adding-only]").forEach((e) => { e.hidden = false; });
    setPicking(false);
    showSolidPart();
  }

  function onPick(point) {
    if (!point.position) { error.textContent = "This image has no patient position: type the site instead."; return; }
    picked = point;
    const centre = centreField();
    if (centre) centre.value = point.position.map((v) => v.toFixed(1)).join(", ");
    place.textContent = `Slice ${point.sliceIndex + 1}, pixel ${point.pixel.join(", ")}: `
      + `(${point.position.map((v) => v.toFixed(1)).join(", ")}) mm`;
    place.dataset.slice = String(point.sliceIndex);
    setPicking(false);
    details.open = true;
    error.textContent = "";
    form.elements.diameter_mm.focus();
  }

  function body() {
    const data = new FormData(form);
    const result = { diameter_mm: number(data.get("diameter_mm")), finding_type: data.get("finding_type") };
    if (result.finding_type === "part_solid") result.solid_mm = number(data.get("solid_mm"));
    const centre = String(data.get("centre") || "").split(/[ ,;]+/).filter(Boolean).map(Number);
    if (centre.length) result.centre_mm = centre;
    for (const name of ["breast", "zone", "location"]) if (data.get(name)) result[name] = data.get(name);
    if (data.get("depth_mm")) result.depth_mm = Number(data.get("depth_mm"));
    if (picked) {
      result.image = { series_id: picked.seriesId, slice_index: picked.sliceIndex,
        sop_instance_uid: picked.sopInstanceUid || "", pixel: picked.pixel };
    }
    return result;
  }

  async function save(event) {
    event.preventDefault();
    const data = body();
    let result;
    if (!editing) {
      result = await send(`/studies/${studyId}/findings/reader/`, "POST", data);
    } else if (editing.source === "reader") {
      const { diameter_mm, finding_type, solid_mm, centre_mm } = data;
      result = await send(`/studies/${studyId}/findings/${editing.key}/`, "PATCH",
        { diameter_mm, finding_type, ...(solid_mm !== undefined && { solid_mm }), ...(centre_mm && { centre_mm }) });
    } else {
      result = await send(`/studies/${studyId}/findings/${editing.key}/review/`, "POST",
        { decision: "edited", diameter_mm: data.diameter_mm, finding_type: data.finding_type });
    }
    if (!result.ok) { error.textContent = refusal(result.data); return; }
    reset();
    details.open = false;
    await onSaved();
  }

  function edit(finding) {
    reset();
    editing = { key: finding.key, source: finding.source };
    title.textContent = finding.source === "reader" ? "Edit your finding" : "Edit the AI finding's size and type";
    submit.textContent = "Save";
    cancel.hidden = false;
    // An AI finding keeps the AI's position; only its size and type change.
    if (finding.source !== "reader") form.querySelectorAll("[data-adding-only]").forEach((e) => { e.hidden = true; });
    form.elements.diameter_mm.value = finding.diameter_mm ?? "";
    if ([...form.elements.finding_type.options].some((o) => o.value === finding.finding_type)) {
      form.elements.finding_type.value = finding.finding_type;
    }
    form.elements.solid_mm.value = finding.solid_mm ?? "";
    const centre = centreField();
    if (centre && finding.centre_mm) centre.value = finding.centre_mm.join(", ");
    showSolidPart();
    details.open = true;
    form.elements.diameter_mm.focus();
  }

  async function remove(finding) {
    const result = await send(`/studies/${studyId}/findings/${finding.key}/`, "DELETE");
    if (!result.ok) { error.textContent = refusal(result.data); details.open = true; return; }
    await onSaved();
  }

  form.addEventListener("submit", save);
  form.elements.finding_type.addEventListener("change", showSolidPart);
  pick.addEventListener("click", () => setPicking(pick.getAttribute("aria-pressed") !== "true"));
  cancel.addEventListener("click", () => { reset(); details.open = false; });
  form.addEventListener("input", (event) => { if (event.target.name === "centre") { picked = null; place.textContent = ""; } });

  return { onPick, edit, remove, reset, showSolidPart };
}
