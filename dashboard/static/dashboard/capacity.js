// Capacity planning: measured inputs, then the department simulation run on them.
import { chart, COLOURS, fillTable, getJson, minutes, pct, sendJson, showError } from "./common.js";

const GROUPS = { stat: "Needed STAT", ai_critical: "Needed AI-critical", inpatient: "Needed inpatient",
  urgent: "Needed urgent", routine: "Needed routine", "truly positive": "Truly positive",
  "positive, missed by AI": "Positive, missed by AI", all: "All studies" };

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const source = (measured) => (measured ? "measured" : "default");

function utilisationSpan(value) {
  const span = document.createElement("span");
  span.className = `util${value >= 1 ? " over" : value >= 0.85 ? " high" : ""}`;
  span.textContent = pct(value);
  return span;
}

async function loadInputs() {
  const inputs = await getJson("/api/stats/capacity/inputs/");
  document.getElementById("cap-per-day").textContent = inputs.per_day.toFixed(0);
  document.getElementById("cap-per-day-label").textContent = inputs.measured_arrivals
    ? `studies per day (measured, last ${plural(inputs.days, "day", "days")})`
    : "studies per day (default: too few arrivals measured)";
  document.getElementById("cap-hourly-caption").textContent = inputs.measured_arrivals
    ? `Arrivals per hour of the day (measured, last ${plural(inputs.days, "day", "days")})`
    : "Arrivals per hour of the day (default profile: too few arrivals measured)";
  document.getElementById("cap-read").textContent = minutes(inputs.mean_read_minutes);
  document.getElementById("cap-read-label").textContent = inputs.measured_read_types === inputs.read_types
    ? "mean reading time (measured)" : inputs.measured_read_types === 0 ? "mean reading time (default)"
      : `mean reading time (measured for ${inputs.measured_read_types} of ${inputs.read_types} types, default for the rest)`;
  document.getElementById("cap-readers").textContent = inputs.radiologists;
  document.getElementById("cap-readers-label").textContent = inputs.measured_radiologists
    ? `${inputs.radiologists === 1 ? "radiologist" : "radiologists"} (measured: signed reports, last 7 days)`
    : `${inputs.radiologists === 1 ? "radiologist" : "radiologists"} (assumed: none signed in the last 7 days)`;
  document.getElementById("cap-util").replaceChildren(utilisationSpan(inputs.utilisation));
  document.querySelector("#cap-form input[name=radiologists]").value = inputs.radiologists;
  document.getElementById("cap-notes").replaceChildren(...inputs.notes.map((n) => {
    const li = document.createElement("li"); li.textContent = n; return li;
  }));
  chart("chart-hourly", {
    type: "bar",
    data: { labels: inputs.hourly.map((_, h) => `${String(h).padStart(2, "0")}:00`),
      datasets: [{ label: "arrivals per hour", data: inputs.hourly, backgroundColor: COLOURS.blue }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
  });
  fillTable("#cap-types", inputs.types.filter((t) => t.share > 0), (t) => [
    t.name.replaceAll("_", " "), pct(t.share), t.arrivals, minutes(t.read_minutes),
    t.measured_read ? `measured (${plural(t.timed_reads, "read", "reads")})` : `default (${plural(t.timed_reads, "timed read", "timed reads")})`,
  ]);
}

function scenarioCard(s) {
  const card = document.createElement("div");
  card.className = `scenario${s.overloaded ? " overloaded" : ""}`;
  const title = document.createElement("h3");
  title.append(`${s.scenario}: ${plural(s.radiologists, "radiologist", "radiologists")}, ${plural(s.studies, "study", "studies")}, utilisation `, utilisationSpan(s.utilisation));
  if (s.overloaded) title.append(" — overloaded: the backlog grows for as long as this lasts; no queue order helps");
  const table = document.createElement("table");
  table.className = "compact";
  table.innerHTML = "<thead><tr><th>Group</th><th>Policy</th><th>n</th><th>Wait to start: median</th><th>p95</th><th>p99</th><th>max</th>"
    + "<th>To report: median</th><th>p95</th><th>p99</th><th>max</th><th>Within target</th></tr></thead><tbody></tbody>";
  for (const g of s.groups) {
    const tr = document.createElement("tr");
    for (const v of [GROUPS[g.group] || g.group, g.policy, g.n, minutes(g.start_median_minutes), minutes(g.start_p95_minutes),
      minutes(g.start_p99_minutes), minutes(g.start_max_minutes), minutes(g.report_median_minutes), minutes(g.report_p95_minutes),
      minutes(g.report_p99_minutes), minutes(g.report_max_minutes), pct(g.within_target)]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    table.tBodies[0].appendChild(tr);
  }
  card.append(title, table);
  return card;
}

function resultsChart(plan) {
  const canvas = document.createElement("canvas");
  canvas.id = "chart-capacity";
  const figure = document.createElement("figure");
  figure.className = "card wide";
  figure.innerHTML = "<figcaption>Share reported within target, FIFO against triage</figcaption>";
  figure.appendChild(canvas);
  document.getElementById("cap-results").prepend(figure);
  const pick = (s, group, policy) => (s.groups.find((g) => g.group === group && g.policy === policy) || {}).within_target;
  const datasets = [];
  for (const [group, colour] of [["stat", COLOURS.stat], ["truly positive", COLOURS.ai_critical], ["routine", COLOURS.routine]]) {
    for (const policy of ["fifo", "triage"]) {
      datasets.push({ label: `${GROUPS[group]} · ${policy}`, backgroundColor: colour + (policy === "fifo" ? "66" : "ff"),
        data: plan.scenarios.map((s) => (pick(s, group, policy) ?? 0) * 100) });
    }
  }
  chart("chart-capacity", {
    type: "bar",
    data: { labels: plan.scenarios.map((s) => `${s.scenario} (${pct(s.utilisation)})`), datasets },
    options: { scales: { y: { min: 0, max: 100, title: { display: true, text: "% within target" } } } },
  });
}

document.getElementById("cap-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const status = document.getElementById("cap-status");
  status.textContent = "simulating…";
  try {
    const plan = await sendJson("POST", "/api/stats/capacity/", {
      radiologists: Number(form.get("radiologists")), days: Number(form.get("days")), volume_growth: Number(form.get("volume_growth")),
    });
    const results = document.getElementById("cap-results");
    results.replaceChildren(...plan.scenarios.map(scenarioCard));
    resultsChart(plan);
    status.textContent = `${plural(plan.days, "day", "days")} simulated per scenario (seed ${plan.seed}); arrivals `
      + `${source(plan.inputs.measured_arrivals)}, radiologists ${plan.inputs.measured_radiologists ? "measured" : "assumed"}.`;
  } catch (error) {
    status.textContent = `Simulation failed: ${error.message}`;
  }
});

loadInputs().catch(showError);
