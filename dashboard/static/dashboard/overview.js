// Backlog (live over the worklist websocket), turnaround against targets, breaches, volume, workload.
import {
  chart, colour, COLOURS, dateTime, days, fillTable, getJson, liveSocket, minutes, onDaysChange, pct, personName,
  showError,
} from "./common.js";

async function loadBacklog() {
  const data = await getJson("/api/stats/backlog/");
  document.getElementById("backlog-total").textContent = data.total;
  document.getElementById("backlog-overdue").textContent = data.overdue;
  const oldest = Math.max(0, ...data.by_urgency.map((g) => g.oldest_wait_minutes));
  document.getElementById("backlog-oldest").textContent = data.total ? minutes(oldest) : "–";

  const urgency = data.by_urgency;
  chart("chart-backlog-urgency", {
    type: "bar",
    data: {
      labels: urgency.map((g) => g.label),
      datasets: [
        { label: "within due time", data: urgency.map((g) => g.n - g.overdue),
          backgroundColor: urgency.map((g, i) => colour(g.key, i)) },
        { label: "past due", data: urgency.map((g) => g.overdue), backgroundColor: COLOURS.red },
      ],
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  });
  chart("chart-backlog-modality", {
    type: "bar",
    data: { labels: data.by_modality.map((g) => g.label),
      datasets: [{ label: "open", data: data.by_modality.map((g) => g.n), backgroundColor: COLOURS.blue }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  const states = [...data.by_reading_state.map((g) => ({ ...g, label: `reading: ${g.label.replace("_", " ")}` })),
    ...data.by_ai_status.map((g) => ({ ...g, label: `AI: ${g.label.replace("_", " ")}` }))];
  chart("chart-backlog-state", {
    type: "bar",
    data: { labels: states.map((g) => g.label),
      datasets: [{ label: "open", data: states.map((g) => g.n), backgroundColor: states.map((g, i) => colour("", i)) }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  fillTable("#backlog-table", urgency, (g) => [
    g.label, g.n, g.overdue, minutes(g.oldest_wait_minutes),
    g.oldest_study ? `${g.oldest_study.accession_number || `#${g.oldest_study.id}`} · ${g.oldest_study.modality} ${g.oldest_study.study_description}` : "",
  ]);
}

async function loadTurnaround() {
  const window = `days=${days()}`;
  const [byClass, byDay, byModality] = await Promise.all([
    getJson(`/api/stats/turnaround/?group=urgency&${window}`),
    getJson(`/api/stats/turnaround/?group=day&${window}`),
    getJson(`/api/stats/turnaround/?group=modality&${window}`),
  ]);
  chart("chart-tat-class", {
    type: "bar",
    data: {
      labels: byClass.map((r) => r.label),
      datasets: [
        { label: "median", data: byClass.map((r) => r.median_minutes), backgroundColor: COLOURS.blue },
        { label: "90th percentile", data: byClass.map((r) => r.p90_minutes), backgroundColor: COLOURS.purple },
        { label: "target", type: "line", data: byClass.map((r) => r.target_minutes), borderColor: COLOURS.red,
          backgroundColor: COLOURS.red, showLine: false, pointStyle: "line", pointRadius: 22, pointBorderWidth: 3 },
      ],
    },
    options: {
      scales: { y: { type: "logarithmic", title: { display: true, text: "minutes" } } },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${minutes(c.raw)}` } } },
    },
  });
  chart("chart-tat-within", {
    type: "bar",
    data: { labels: byClass.map((r) => r.label),
      datasets: [{ label: "within target", data: byClass.map((r) => (r.within_target_share ?? 0) * 100),
        backgroundColor: byClass.map((r) => ((r.within_target_share ?? 1) >= 0.9 ? COLOURS.green : COLOURS.red)) }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } } } },
  });
  chart("chart-tat-day", {
    type: "line",
    data: {
      labels: byDay.map((r) => r.key),
      datasets: [
        { label: "median (h)", data: byDay.map((r) => r.median_minutes / 60), borderColor: COLOURS.blue, yAxisID: "y" },
        { label: "90th percentile (h)", data: byDay.map((r) => r.p90_minutes / 60), borderColor: COLOURS.purple, yAxisID: "y" },
        { label: "within target (%)", data: byDay.map((r) => (r.within_target_share ?? 0) * 100),
          borderColor: COLOURS.green, borderDash: [4, 4], yAxisID: "share" },
      ],
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: "hours" } },
      share: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } } },
  });
  const tatRow = (r) => [r.n, minutes(r.median_minutes), minutes(r.p90_minutes), pct(r.within_target_share)];
  fillTable("#tat-modality", byModality, (r) => [r.label, ...tatRow(r)]);
  fillTable("#tat-class-table", byClass, (r) => [r.label, minutes(r.target_minutes), ...tatRow(r)]);
}

async function loadBreaches() {
  const rows = await getJson(`/api/stats/breaches/?days=${days()}`);
  document.getElementById("breach-count").textContent = `${rows.length} studies${rows.length >= 200 ? " (worst 200)" : ""}`;
  fillTable("#breaches", rows.slice(0, 50), (r) => [
    r.accession_number || `#${r.id}`, personName(r.patient_name), r.modality, r.study_description, r.urgency_name,
    dateTime(r.arrived_at), minutes(r.turnaround_minutes), minutes(r.minutes_over),
    r.open ? `open (${r.reading_state.replace("_", " ")})` : "reported late",
  ]);
}

function volumeChart(id, rows, unit) {
  chart(id, {
    type: "bar",
    data: {
      labels: rows.map((r) => new Date(r.t)),
      datasets: [
        { label: "arrivals", data: rows.map((r) => r.arrivals), backgroundColor: COLOURS.blue },
        { label: "reports signed", data: rows.map((r) => r.reports), backgroundColor: COLOURS.teal },
      ],
    },
    options: {
      scales: {
        x: { ticks: { callback(value) {
          const d = new Date(this.getLabelForValue(value));
          return unit === "hour" ? d.toLocaleTimeString([], { hour: "2-digit" }) : d.toLocaleDateString([], { month: "short", day: "numeric" });
        }, maxTicksLimit: 24 } },
        y: { beginAtZero: true, ticks: { precision: 0 } },
      },
      plugins: { tooltip: { callbacks: { title: (items) => dateTime(rows[items[0].dataIndex].t) } } },
    },
  });
}

async function loadVolume() {
  const [hourly, daily, workload] = await Promise.all([
    getJson("/api/stats/volume/?bucket=hour&days=3"),
    getJson(`/api/stats/volume/?bucket=day&days=${days()}`),
    getJson(`/api/stats/workload/?days=${days()}`),
  ]);
  volumeChart("chart-volume-hour", hourly, "hour");
  volumeChart("chart-volume-day", daily, "day");
  const modalities = [...new Set(workload.flatMap((r) => Object.keys(r.by_modality)))].sort();
  chart("chart-workload", {
    type: "bar",
    data: {
      labels: workload.map((r) => r.name),
      datasets: modalities.map((m, i) => ({ label: m, data: workload.map((r) => r.by_modality[m] || 0), backgroundColor: colour("", i) })),
    },
    options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } } },
  });
  fillTable("#workload", workload, (r) => [
    r.name, r.reports, minutes(r.reading_median_minutes), minutes(r.reading_p90_minutes), r.reading_total_hours.toFixed(1),
  ]);
}

function loadAll() {
  document.getElementById("export").href = `/api/stats/export/studies.csv?days=${days()}`;
  return Promise.all([loadBacklog(), loadTurnaround(), loadBreaches(), loadVolume()]).catch(showError);
}

// The websocket only says that something changed; the backlog is re-read, at most every 2 s.
let pending = null;
function backlogSoon() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; loadBacklog().catch(showError); }, 2000);
}

function connect() {
  const connection = document.getElementById("connection");
  liveSocket("/ws/worklist/", {
    onOpen: backlogSoon, // re-read on every (re)connect: messages may have been missed
    onMessage: (message) => { if (message.type === "study.updated") backlogSoon(); },
    onState: (state) => {
      if (state === "connecting") return;
      connection.dataset.state = state === "live" ? "live" : "offline";
      connection.textContent = state === "live" ? "live" : "reconnecting…";
    },
  });
}

onDaysChange(loadAll);
loadAll();
connect();
// Waits grow with the clock even when nothing happens.
setInterval(() => loadBacklog().catch(showError), 60000);
