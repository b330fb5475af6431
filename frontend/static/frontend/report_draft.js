// The report draft, kept on the server as the reader types (reporting/drafts.py), so a reload, a
// crash or another workstation gets it back. Saving is debounced; leaving the page sends what is left.
import { requestJson } from "./api.js";

const SAVE_DELAY_MS = 800;

// collect(): the form as the sign request would send it; apply(fields): put a saved draft back.
// status: an element that says whether the draft is saved.
export function createDraftKeeper({ studyId, collect, apply, status }) {
  const url = `/api/studies/${studyId}/report/draft/`;
  let timer = null;
  let lastSaved = null;
  let enabled = false;
  let restored = false;
  let changedEarly = false; // the reader changed the form before the saved draft was read

  function say(text, state) {
    if (!status) return;
    status.textContent = text;
    status.dataset.state = state;
  }

  async function save({ keepalive = false } = {}) {
    clearTimeout(timer);
    timer = null;
    if (!enabled) return;
    const payload = { fields: collect() };
    const body = JSON.stringify(payload);
    if (body === lastSaved) return;
    say("Saving draft…", "saving");
    try {
      const response = await requestJson(url, { method: "PUT", body: payload, keepalive });
      if (!response.ok) {
        say(`Draft not saved: ${response.data?.detail || `HTTP ${response.status}`}`, "error");
        return;
      }
      lastSaved = body;
      // Typing during the request schedules another save: until it is done the draft is not saved.
      if (timer) say("Draft: unsaved changes", "dirty");
      else say(`Draft saved ${new Date().toLocaleTimeString()}`, "saved");
    } catch (error) {
      say(`Draft not saved: ${error.message}`, "error");
    }
  }

  // Only the reader holding the read has a draft; anyone else gets 409 and nothing is applied.
  // A change made while the draft was being read wins over it and is saved.
  async function restore() {
    const response = await requestJson(url);
    enabled = response.ok;
    restored = true;
    if (enabled && changedEarly) {
      changedEarly = false;
      schedule();
      return false;
    }
    if (response.status === 204) say("No draft saved yet", "none");
    if (response.status !== 200 || !response.data) return false;
    const draft = response.data;
    apply(draft.fields || {});
    lastSaved = JSON.stringify({ fields: collect() });
    say(`Draft restored (saved ${new Date(draft.saved_at).toLocaleTimeString()})`, "saved");
    return true;
  }

  function schedule() {
    if (!restored) changedEarly = true;
    if (!enabled) return;
    clearTimeout(timer);
    say("Draft: unsaved changes", "dirty");
    timer = setTimeout(() => save(), SAVE_DELAY_MS);
  }

  window.addEventListener("pagehide", () => { if (timer) save({ keepalive: true }); });

  return {
    restore, schedule, save,
    // After signing the server has removed the draft; the next edits start a new one.
    signed() { clearTimeout(timer); timer = null; lastSaved = null; say("", "none"); },
    enable(value) { enabled = value; },
  };
}
