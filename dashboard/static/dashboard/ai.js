// AI performance per model version, agreement with readers over time, drift alerts.
import { chart, colour, COLOURS, dateTime, days, fillTable, getJson, num, onDaysChange, pct, showError } from "./common.js";

const label = (m) => `${m.model_name} ${m.model_version}`;

async function load() {
  const [ai, weekly, mammo] = await Promise.all([
    getJson(`/api/stats/ai/?days=${days()}`),
    getJson(`/api/stats/ai/agreement/?days=${Math.max(days(), 35)}`),
    // Every analysed mammogram against the BI-RADS mined from its report (priors app), all time.
    getJson("/api/dashboard/ai-agreement/mammography/"),
  ]);

  const alerts = document.getElementById("drift-alerts");
  const drifting = ai.drift.filter((d) => d.alert);
  alerts.replaceChildren(...(drifting.length ? drifting : [null]).map((d) => {
    const p = document.createElement("p");
    if (d) {
      p.className = "alert-banner drift-alert";
      p.textContent = `Agreement drift: ${label(d)}: ${d.reason}. Check the model's inputs and recent cases.`;
    } else {
      p.className = "ok-banner";
      p.textContent = ai.drift.length ? "No model's agreement with readers has drifted down." : "No reviewed findings yet.";
    }
    return p;
  }));

  const models = ai.models;
  chart("chart-ai-rates", {
    type: "bar",
    data: {
      labels: models.map(label),
      datasets: [
        { label: "flag rate", data: models.map((m) => (m.flag_rate ?? 0) * 100), backgroundColor: COLOURS.ai_critical },
        { label: "PPV of flags", data: models.map((m) => (m.ppv === null ? null : m.ppv * 100)), backgroundColor: COLOURS.blue },
        { label: "findings accepted", data: models.map((m) => (m.accepted_share === null ? null : m.accepted_share * 100)), backgroundColor: COLOURS.green },
        { label: "findings missed (added by readers)", data: models.map((m) => (m.missed_share === null ? null : m.missed_share * 100)), backgroundColor: COLOURS.red },
        { label: "failures", data: models.map((m) => (m.failure_rate ?? 0) * 100), backgroundColor: COLOURS.grey },
      ],
    },
    options: { scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } } } },
  });
  chart("chart-ai-time", {
    type: "bar",
    data: {
      labels: models.map(label),
      datasets: [
        { label: "median", data: models.map((m) => m.inference_median_seconds), backgroundColor: COLOURS.teal },
        { label: "90th percentile", data: models.map((m) => m.inference_p90_seconds), backgroundColor: COLOURS.purple },
      ],
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: "seconds" } } } },
  });
  const series = new Map();
  for (const row of weekly) {
    const key = label(row);
    if (!series.has(key)) series.set(key, []);
    series.get(key).push({ x: row.week, y: row.accepted_share === null ? null : row.accepted_share * 100, n: row.reviewed });
  }
  const weeks = [...new Set(weekly.map((r) => r.week))].sort();
  chart("chart-ai-weekly", {
    type: "line",
    data: {
      labels: weeks,
      datasets: [...series.entries()].map(([key, points], i) => ({
        label: key, borderColor: colour("", i), backgroundColor: colour("", i),
        data: weeks.map((w) => (points.find((p) => p.x === w) || { y: null }).y), spanGaps: true,
      })),
    },
    options: { scales: { y: { min: 0, max: 100, title: { display: true, text: "% accepted" } } } },
  });
  fillTable("#ai-models", models, (m) => [
    m.model_name, m.model_version, m.analysed, m.failed, m.flagged, pct(m.flag_rate),
    m.ppv === null ? "–" : `${pct(m.ppv)} (${m.flags_confirmed}/${m.flags_reviewed})`,
    m.accepted_share === null ? "–" : `${pct(m.accepted_share)} (${m.findings_accepted + m.findings_edited})`,
    m.findings_rejected, m.findings_added, m.inference_median_seconds === null ? "–" : `${num(m.inference_median_seconds)} s`,
  ]);
  const t = mammo.table;
  const skipped = Object.entries(mammo.not_counted).filter(([, n]) => n).map(([why, n]) => `${why.replaceAll("_", " ")} ${n}`);
  fillTable("#ai-mammo-reports", mammo.n || skipped.length ? [mammo] : [], (m) => [
    m.n, t.ai_recall_report_recall, t.ai_recall_report_no_recall, t.ai_no_recall_report_recall,
    t.ai_no_recall_report_no_recall, m.sensitivity === null ? "–" : pct(m.sensitivity),
    m.specificity === null ? "–" : pct(m.specificity), m.agreement === null ? "–" : pct(m.agreement),
    skipped.join(", ") || "–",
  ]);
  document.getElementById("ai-mammo-definition").textContent = mammo.definition;
  fillTable("#ai-failures", ai.failures, (f) => [f.model_name, f.model_version, f.reason, f.n, dateTime(f.last)]);
}

onDaysChange(() => load().catch(showError));
load().catch(showError);
