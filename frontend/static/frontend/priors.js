// "Prior mammography results": the same patient's earlier reports, mined by the server (priors app),
// with the words each value came from in the title (hover). Text goes in with textContent only: report
// text is never HTML.
import { getJson } from "./api.js";

const FEATURE_NAMES = {
  mass: "mass",
  calcifications: "calcifications",
  architectural_distortion: "distortion",
  asymmetry: "asymmetry",
};
const SIDES = { left: "L", right: "R", bilateral: "bilat." };

function cell(text, title) {
  const td = document.createElement("td");
  td.textContent = text;
  if (title) td.title = title;
  return td;
}

function featureText(feature) {
  const side = SIDES[feature.laterality] ? ` ${SIDES[feature.laterality]}` : "";
  const details = feature.descriptors.length ? ` (${feature.descriptors.join(", ")})` : "";
  return `${FEATURE_NAMES[feature.kind] || feature.kind}${side}${details}`;
}

export function priorRow(prior) {
  const row = document.createElement("tr");
  row.dataset.priorId = prior.id;
  const source = prior.source === "signed" ? "signed here" : "imported";
  row.append(
    cell(prior.study_date, `${prior.accession_number || "no accession"} · ${source}`),
    cell(prior.birads || "–", prior.birads_evidence ? prior.birads_evidence.text : "no category stated"),
    cell(prior.density || "–", prior.density_evidence ? prior.density_evidence.text : "no density stated"),
  );
  const features = document.createElement("td");
  if (!prior.features.length) {
    features.textContent = "none described";
    features.title = prior.negated.map((f) => f.evidence.text).join("\n") || "no feature mentioned";
  }
  prior.features.forEach((feature, index) => {
    const span = document.createElement("span");
    span.className = "prior-feature";
    span.textContent = (index ? "; " : "") + featureText(feature);
    span.title = feature.evidence.text;
    features.append(span);
  });
  row.append(features);
  return row;
}

export function renderPriors(panel, data) {
  const body = panel.querySelector("#priors-body");
  body.replaceChildren(...data.priors.map(priorRow));
  panel.querySelector("#priors-empty").hidden = data.priors.length > 0;
  panel.querySelector(".priors-table").hidden = data.priors.length === 0;
  const ai = panel.querySelector("#priors-ai");
  if (data.ai) {
    const category = data.ai.category ? data.ai.category.replace(/^birads:/, "BI-RADS ") : "no category";
    const recall = data.ai.recall === true ? "recall" : data.ai.recall === false ? "no recall" : "";
    ai.textContent = `AI on this study: ${category}${recall ? ` (${recall})` : ""}`;
    ai.title = data.ai.headline || "";
  } else {
    ai.textContent = "";
  }
  // Studies with neither priors nor a mammography AI result (other modalities) do not show the panel.
  panel.hidden = data.priors.length === 0 && !data.ai;
}

export async function loadPriors(panel, studyId) {
  let data;
  try {
    data = await getJson(`/api/studies/${studyId}/priors/`);
  } catch {
    panel.hidden = true;
    return null;
  }
  renderPriors(panel, data);
  return data;
}

for (const panel of document.querySelectorAll("[data-priors-study-id]")) {
  loadPriors(panel, Number(panel.dataset.priorsStudyId));
}
