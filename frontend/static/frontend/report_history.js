// The study's report history (reporting/history.py): every signed version, who signed it, when and why.
import { requestJson } from "./api.js";

const PAGE = 10;

function entry(version) {
  const item = document.createElement("li");
  item.dataset.version = version.number;
  const link = document.createElement("a");
  Object.assign(link, { href: version.pdf, target: "_blank", textContent: `v${version.number}` });
  const who = document.createElement("span");
  who.className = "history-who";
  who.textContent = ` ${version.author_name} (${version.author}), ${new Date(version.signed_at).toLocaleString()}`;
  const why = document.createElement("span");
  why.className = "history-why";
  why.textContent = ` — ${version.reason}`;
  item.append(link, who, why);
  if (version.override_reason) {
    // The signing guard was overridden: say so where the history is read (issue 15).
    const over = document.createElement("span");
    over.className = "history-override";
    over.textContent = ` — signed over the guard: ${version.override_reason}`;
    item.append(over);
    item.classList.add("overridden");
  }
  item.append(version.critical ? " — critical result" : "", version.archived ? " — in archive" : "");
  return item;
}

export async function showReportHistory(studyId, list, { offset = 0 } = {}) {
  const url = `/api/studies/${studyId}/report/history/?limit=${PAGE}&offset=${offset}`;
  const { ok, status, data: page } = await requestJson(url);
  if (!ok || !page) {
    list.replaceChildren(Object.assign(document.createElement("li"),
      { className: "muted", textContent: `Report history not available (HTTP ${status}).` }));
    return;
  }
  const items = page.results.map(entry);
  if (!page.count) {
    items.push(Object.assign(document.createElement("li"),
      { className: "muted empty", textContent: "No signed report yet: this study has not been reported." }));
  }
  if (offset + PAGE < page.count) {
    const more = Object.assign(document.createElement("button"), { type: "button", textContent: "Older versions" });
    more.addEventListener("click", () => showReportHistory(studyId, list, { offset: offset + PAGE }));
    items.push(Object.assign(document.createElement("li"), { className: "history-more" }));
    items.at(-1).append(more);
  }
  if (offset > 0) {
    const newer = Object.assign(document.createElement("button"), { type: "button", textContent: "Newer versions" });
    newer.addEventListener("click", () => showReportHistory(studyId, list, { offset: Math.max(0, offset - PAGE) }));
    items.unshift(Object.assign(document.createElement("li"), { className: "history-more" }));
    items[0].append(newer);
  }
  list.replaceChildren(...items);
}
