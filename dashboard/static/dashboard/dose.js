// CT dose per protocol against the manager's reference levels; outliers listed.
import { chart, COLOURS, dateTime, days, fillTable, getJson, num, onDaysChange, sendJson, showError } from "./common.js";

const status = document.getElementById("dose-status");

function field(value, name) {
  const el = document.createElement("input");
  el.type = "number";
  el.step = "0.1";
  el.min = "0";
  el.name = name;
  el.value = value ?? "";
  return el;
}

async function save(row, protocol) {
  const value = (name) => { const v = row.querySelector(`input[name=${name}]`).value; return v === "" ? null : Number(v); };
  try {
    await sendJson("POST", "/api/stats/dose/reference-levels/", { protocol, ctdi_vol_mgy: value("ctdi"), dlp_mgy_cm: value("dlp") });
    status.className = "saved";
    status.textContent = `Reference level saved for ${protocol}.`;
    await load();
  } catch (error) {
    status.className = "failed";
    status.textContent = `Not saved: ${error.message}`;
  }
}

async function load() {
  const [protocols, outliers] = await Promise.all([
    getJson(`/api/stats/dose/?days=${days()}`), getJson(`/api/stats/dose/outliers/?days=${days()}`),
  ]);
  chart("chart-dose", {
    type: "bar",
    data: {
      labels: protocols.map((p) => p.protocol || "(no description)"),
      datasets: [
        { label: "median", data: protocols.map((p) => p.ctdi_median), backgroundColor: COLOURS.blue },
        { label: "75th percentile", data: protocols.map((p) => p.ctdi_p75), backgroundColor: COLOURS.purple },
        { label: "reference", type: "line", data: protocols.map((p) => p.reference_ctdi), borderColor: COLOURS.red,
          backgroundColor: COLOURS.red, showLine: false, pointStyle: "line", pointRadius: 22, pointBorderWidth: 3 },
      ],
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: "mGy" } } } },
  });
  fillTable("#dose-table", protocols, (p) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Save";
    button.addEventListener("click", () => save(button.closest("tr"), p.protocol));
    return [p.protocol, p.n, num(p.ctdi_median), num(p.ctdi_p75), num(p.ctdi_max), num(p.dlp_median, 0), num(p.dlp_p75, 0),
      num(p.dlp_max, 0), field(p.reference_ctdi, "ctdi"), field(p.reference_dlp, "dlp"), button, p.outliers];
  });
  fillTable("#dose-outliers", outliers, (o) => [
    o.accession_number || `#${o.id}`, o.study_description, dateTime(o.arrived_at), num(o.ctdi_vol_mgy), num(o.dlp_mgy_cm, 0),
    `${num(o.ratio, 2)}×`,
  ]);
}

onDaysChange(() => load().catch(showError));
load().catch(showError);
