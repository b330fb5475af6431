// The PI-RADS v2.1 lesions of the report form (at most four): zone, site, size and the T2W, DWI
// and DCE scores the reader gives. Categories are looked up in the table the API sends (built
// from triage/pirads.py), never recomputed here; a lesion not fully scored has no category yet.

const $ = (id) => document.getElementById(id);
const SCORE_OPTIONS = ["", "1", "2", "3", "4", "5"];

// form: the report form (gland volume and PSA); choices(): the template's choices from the API
// (zones, table, assessment); onChange(): a score changed (the impression follows).
export function createPiradsLesions({ form, choices, onChange }) {
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
    const zones = Object.keys(choices().zones);
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
    remove.addEventListener("click", () => { item.remove(); onChange(); });
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

  function lesionCategory(lesion) {
    if (!lesion.zone || !lesion.t2 || !lesion.dwi || lesion.dce === null) return null;
    return choices().table[`${lesion.zone}:${lesion.t2}:${lesion.dwi}:${lesion.dce}`] || null;
  }

  function showPiradsCategories() {
    const lesions = readLesions();
    const items = $("pirads-lesions").querySelectorAll("li");
    const categories = lesions.map((lesion, index) => {
      const found = lesionCategory(lesion);
      items[index].querySelector(".pirads-category").textContent = found ? `PI-RADS ${found[0]}` : "–";
      items[index].querySelector(".pirads-rule").textContent = found ? found[1] : "score T2W, DWI and DCE";
      return found ? found[0] : null;
    });
    const overall = categories.every((c) => c !== null) ? Math.max(1, ...categories) : null;
    $("pirads-overall").textContent = overall ?? "–";
    $("pirads-assessment").textContent = overall ? choices().assessment[overall] : "";
    const volume = Number(form.elements.gland_volume_ml.value);
    const psa = Number(form.elements.psa_ng_ml.value);
    $("psa-density").textContent = volume > 0 && form.elements.psa_ng_ml.value !== "" ? (psa / volume).toFixed(2) : "–";
  }

  $("pirads-lesions").addEventListener("change", onChange);
  $("pirads-lesions").addEventListener("input", showPiradsCategories);
  form.elements.gland_volume_ml.addEventListener("input", showPiradsCategories);
  form.elements.psa_ng_ml.addEventListener("input", showPiradsCategories);
  $("pirads-add-lesion").addEventListener("click", () => {
    if ($("pirads-lesions").children.length >= 4) { alert("PI-RADS v2.1 reports at most four lesions."); return; }
    $("pirads-lesions").appendChild(lesionItem({}));
    showPiradsCategories();
  });

  return { show: showLesions, read: readLesions, showCategories: showPiradsCategories };
}
