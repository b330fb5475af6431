// Shared by the manager pages: JSON over the session, number formats, Chart.js set-up.
/* global Chart */

export const COLOURS = {
  stat: "#e5484d", ai_critical: "#f76808", inpatient: "#f5d90a", urgent: "#ffb224", routine: "#3e9b4f",
  blue: "#4aa3ff", teal: "#12a594", purple: "#8e4ec6", grey: "#8b98a5", red: "#e5484d", green: "#3e9b4f",
};
const PALETTE = ["#4aa3ff", "#12a594", "#f5d90a", "#8e4ec6", "#f76808", "#e5484d", "#3e9b4f", "#d6409f", "#8b98a5"];
export const colour = (key, i) => COLOURS[key] || PALETTE[i % PALETTE.length];

Chart.defaults.color = "#c7d0d9";
Chart.defaults.borderColor = "#26313b";
Chart.defaults.font.family = "system-ui, sans-serif";
Chart.defaults.animation = false; // charts redraw on every live update; motion would only distract
Chart.defaults.maintainAspectRatio = false;

// JSON and sockets: the one helper every page uses.
export { getJson, liveSocket, sendJson } from "../frontend/api.js";

export function minutes(value) {
  if (value === null || value === undefined) return "–";
  if (value < 60) return `${value.toFixed(value < 10 ? 1 : 0)} min`;
  if (value < 48 * 60) return `${(value / 60).toFixed(1)} h`;
  return `${(value / 1440).toFixed(1)} d`;
}

export const pct = (value) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(0)} %`);
export const num = (value, digits = 1) => (value === null || value === undefined ? "–" : value.toFixed(digits));
export const dateTime = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" }) : "");

// DICOM person names: Family^Given -> "Family, Given".
export function personName(value) {
  const [family = "", given = ""] = String(value || "").split("=")[0].split("^");
  return given ? `${family}, ${given}` : family;
}

export function fillTable(selector, rows, cells) {
  const body = document.querySelector(`${selector} tbody`);
  body.replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    for (const value of cells(row)) {
      const td = document.createElement("td");
      if (value instanceof Node) td.appendChild(value); else td.textContent = value ?? "";
      tr.appendChild(td);
    }
    return tr;
  }));
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = body.closest("table").querySelectorAll("thead th").length;
    td.className = "empty";
    td.textContent = "Nothing in this window.";
    tr.appendChild(td);
    body.appendChild(tr);
  }
}

const charts = new Map();

// Draw or redraw a chart in a canvas (by id), keeping one Chart per canvas.
export function chart(id, config) {
  const old = charts.get(id);
  if (old) old.destroy();
  const made = new Chart(document.getElementById(id), config);
  charts.set(id, made);
  return made;
}

export function days() {
  const select = document.getElementById("days");
  return select ? Number(select.value) : 30;
}

export function onDaysChange(callback) {
  const select = document.getElementById("days");
  if (select) select.addEventListener("change", callback);
}

export function showError(error) {
  console.error(error);
  let banner = document.getElementById("dashboard-error");
  if (!banner) {
    banner = document.createElement("p");
    banner.id = "dashboard-error";
    banner.className = "error";
    document.querySelector(".dashboard").prepend(banner);
  }
  banner.textContent = `Could not load: ${error.message}`;
}
