// Targets editor on PATCH /api/urgency-classes/<code>/ and /api/ageing-policy/ (audit-logged, re-prioritise
// open studies). The server refuses inconsistent targets with a message in words; warnings are shown.
import { dateTime, fillTable, getJson, minutes, sendJson, showError } from "./common.js";

const status = document.getElementById("targets-status");
const warningsList = document.getElementById("targets-warnings");
const ageingForm = document.getElementById("ageing-form");

function input(type, value, name) {
  const el = document.createElement("input");
  el.type = type;
  el.value = value ?? "";
  el.name = name;
  if (type === "number") { el.min = 1; el.max = 86400; el.step = 1; }
  return el;
}

function showWarnings(warnings) {
  warningsList.replaceChildren(...(warnings || []).map((w) => {
    const li = document.createElement("li"); li.className = "warning"; li.textContent = `Warning: ${w}`; return li;
  }));
}

async function send(method, url, body, done) {
  status.className = "";
  status.textContent = "saving…";
  try {
    const updated = await sendJson(method, url, body);
    status.className = "saved";
    status.textContent = `${done(updated)}; open studies are being re-prioritised.`;
    await load();
    showWarnings(updated.warnings);
  } catch (error) {
    status.className = "failed";
    status.textContent = `Not saved: ${error.message}`;
  }
}

function save(row, code) {
  const name = row.querySelector("input[name=name]").value.trim();
  const target = Number(row.querySelector("input[name=target_minutes]").value);
  const ceilingText = row.querySelector("input[name=ceiling_minutes]").value.trim();
  const ceiling = ceilingText === "" ? null : Number(ceilingText);
  return send("PATCH", `/api/urgency-classes/${encodeURIComponent(code)}/`,
    { name, target_minutes: target, ceiling_minutes: ceiling },
    (u) => `Saved: ${u.name} ${minutes(u.target_minutes)}, age ceiling ${u.ceiling_minutes ? minutes(u.ceiling_minutes) : "none"}`);
}

ageingForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(ageingForm);
  send("PATCH", "/api/ageing-policy/", {
    mode: form.get("mode"), score_weight: Number(form.get("score_weight")),
    unscored_closeness: Number(form.get("unscored_closeness")),
  }, (p) => `Saved: ageing ${p.mode}, AI score weight ${p.score_weight}`);
});

async function load() {
  const [classes, changes, policy] = await Promise.all([
    getJson("/api/urgency-classes/"), getJson("/api/stats/target-changes/"), getJson("/api/ageing-policy/")]);
  fillTable("#targets", classes, (c) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Save";
    button.dataset.code = c.code;
    button.addEventListener("click", () => save(button.closest("tr"), c.code));
    return [c.rank, c.code, input("text", c.name, "name"), input("number", c.target_minutes, "target_minutes"),
      minutes(c.target_minutes), input("number", c.ceiling_minutes, "ceiling_minutes"),
      c.ceiling_minutes ? minutes(c.ceiling_minutes) : "none (target)", button, dateTime(c.updated_at)];
  });
  for (const row of document.querySelectorAll("#targets tbody tr")) {
    const button = row.querySelector("button");
    if (button) row.dataset.code = button.dataset.code;
  }
  for (const name of ["mode", "score_weight", "unscored_closeness"]) ageingForm.elements[name].value = policy[name];
  fillTable("#target-changes", changes, (c) => [dateTime(c.at), c.user || "", c.detail]);
}

load().catch(showError);
