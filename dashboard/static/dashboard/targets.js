// Targets editor on PATCH /api/urgency-classes/<code>/ (audit-logged, re-prioritises open studies).
import { dateTime, fillTable, getJson, minutes, sendJson, showError } from "./common.js";

const status = document.getElementById("targets-status");

function input(type, value, name) {
  const el = document.createElement("input");
  el.type = type;
  el.value = value;
  el.name = name;
  if (type === "number") { el.min = 1; el.max = 86400; el.step = 1; }
  return el;
}

async function save(row, code) {
  const name = row.querySelector("input[name=name]").value.trim();
  const target = Number(row.querySelector("input[name=target_minutes]").value);
  status.className = "";
  status.textContent = "saving…";
  try {
    const updated = await sendJson("PATCH", `/api/urgency-classes/${encodeURIComponent(code)}/`, { name, target_minutes: target });
    status.className = "saved";
    status.textContent = `Saved: ${updated.name} ${minutes(updated.target_minutes)}; open studies are being re-prioritised.`;
    await load();
  } catch (error) {
    status.className = "failed";
    status.textContent = `Not saved: ${error.message}`;
  }
}

async function load() {
  const [classes, changes] = await Promise.all([getJson("/api/urgency-classes/"), getJson("/api/stats/target-changes/")]);
  fillTable("#targets", classes, (c) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Save";
    button.dataset.code = c.code;
    button.addEventListener("click", () => save(button.closest("tr"), c.code));
    return [c.rank, c.code, input("text", c.name, "name"), input("number", c.target_minutes, "target_minutes"),
      minutes(c.target_minutes), button, dateTime(c.updated_at)];
  });
  for (const row of document.querySelectorAll("#targets tbody tr")) {
    const button = row.querySelector("button");
    if (button) row.dataset.code = button.dataset.code;
  }
  fillTable("#target-changes", changes, (c) => [dateTime(c.at), c.user || "", c.detail]);
}

load().catch(showError);
