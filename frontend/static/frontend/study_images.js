// The reading page's images: the viewer, the series it opens first, the mammography view buttons,
// and the reports of what the reader could see. Every series the viewer shows, or fails to show, is
// reported to the server: the signing guard refuses a report on images the reader could not see.
import { createViewer } from "./viewer.js";

const $ = (id) => document.getElementById(id);
const NON_IMAGE = new Set(["SR", "SEG", "PR", "KO", "DOC", "REG"]);
// Mammography: one button per standard view, to load that view's series at once.
const MG_VIEWS = ["RCC", "LCC", "RMLO", "LMLO"];

export function bestSeries(detail) {
  const firstView = (detail.analyses || []).flatMap((a) => (a.result && a.result.findings) || [])
    .flatMap((f) => f.views || [])[0];
  const marked = firstView && detail.series.find((s) => s.series_instance_uid === firstView.series_instance_uid);
  if (marked) return marked;
  const aiSeries = detail.analyses.map((a) => a.result && a.result.series_instance_uid).filter(Boolean);
  const images = detail.series.filter((s) => !NON_IMAGE.has(s.modality));
  // Prostate MRI is read from the axial T2W first (PI-RADS: T2W for anatomy and the TZ).
  const prostate = /prostate/i.test(`${detail.body_part} ${detail.study_description}`);
  const t2 = prostate && images.find((s) => /t2/i.test(s.description || "") && /ax|tra/i.test(s.description || ""));
  if (t2 && !aiSeries.length) return t2;
  return images.find((s) => aiSeries.includes(s.series_instance_uid))
    || images.sort((a, b) => b.instance_count - a.instance_count)[0];
}

function mammoView(series) {
  // "R CC", "RCC", "RIGHT MLO", "L MLO" ...: a laterality and a view position in the description.
  const tokens = String(series.description || "").toUpperCase().split(/[^A-Z]+/).filter(Boolean);
  const compact = tokens.find((t) => MG_VIEWS.includes(t));
  if (compact) return compact;
  const side = tokens.some((t) => t === "R" || t === "RIGHT") ? "R" : tokens.some((t) => t === "L" || t === "LEFT") ? "L" : "";
  const view = tokens.includes("MLO") ? "MLO" : tokens.includes("CC") ? "CC" : "";
  return side && view ? side + view : "";
}

function viewSeries(study) {
  // The AI's view marks name their series exactly; descriptions fill in the views without a finding.
  const byView = {};
  for (const analysis of study.analyses || []) {
    for (const finding of (analysis.result && analysis.result.findings) || []) {
      for (const mark of finding.views || []) {
        const series = study.series.find((s) => s.series_instance_uid === mark.series_instance_uid);
        if (series && MG_VIEWS.includes(mark.view)) byView[mark.view] = series;
      }
    }
  }
  for (const series of study.series) {
    const view = mammoView(series);
    if (view && !byView[view]) byView[view] = series;
  }
  return byView;
}

// study(): the study as the page last read it (with series and analyses); api: the page's
// requestJson under /api; onPick: the viewer's pick mode answers there; onViewed(): a report was sent.
export function createStudyImages({ studyId, me, study, api, banner, onPick, onViewed }) {
  // The series list is passed in so the viewer does not re-read (and re-audit) the study.
  const viewer = createViewer($("viewer"), { studyId, showFindings: false, series: study().series, onPick });

  // A series with slices the viewer could not decode (named by viewer:slice-errors) is not shown;
  // reports go one at a time so the last one holds.
  const seriesWithFailedSlices = new Set();
  let viewReports = Promise.resolve();

  function reportView(seriesId, shown, error = "") {
    if (me.role !== "radiologist") return viewReports;
    viewReports = viewReports.then(async () => {
      await api(`/studies/${studyId}/images-viewed/`, { method: "POST",
        body: shown ? { series_id: seriesId, shown } : { series_id: seriesId, shown, error: error.slice(0, 300) } });
      await onViewed();
    });
    return viewReports;
  }

  viewer.element.addEventListener("viewer:slice-errors", (event) => {
    const { seriesId, slices, reasons, count } = event.detail;
    seriesWithFailedSlices.add(seriesId);
    const which = slices.slice(0, 10).join(", ") + (slices.length > 10 ? ", …" : "");
    reportView(seriesId, false, `${slices.length} of ${count} slices could not be shown (${which}): ${reasons.join("; ")}`);
  });

  async function showSeries(seriesId) {
    try {
      await viewer.loadSeries(seriesId);
    } catch (error) {
      if (error.name === "AbortError") return; // another series was asked for meanwhile
      banner(`Images: ${error.message}`);
      await reportView(seriesId, false, String(error.message));
      return;
    }
    if (viewer.info.seriesId !== seriesId || seriesWithFailedSlices.has(seriesId)) return;
    await reportView(seriesId, true);
  }

  function highlightView(seriesId) {
    for (const button of $("view-buttons").querySelectorAll("button[data-view]")) {
      button.classList.toggle("active", button.dataset.seriesId === String(seriesId));
    }
  }

  function showViewButtons() {
    const box = $("view-buttons");
    box.hidden = study().modality !== "MG";
    if (box.hidden) return;
    const byView = viewSeries(study());
    for (const button of box.querySelectorAll("button[data-view]")) {
      const series = byView[button.dataset.view];
      button.disabled = !series;
      button.title = series ? `${series.description || ""} (series ${series.series_number ?? series.id})` : "No such view";
      button.dataset.seriesId = series ? String(series.id) : "";
      button.onclick = () => {
        highlightView(series.id);
        showSeries(series.id);
      };
    }
    highlightView(viewer.info.seriesId);
  }

  // A finding's first view may be on another series: open it, then centre the finding.
  async function jumpTo(finding) {
    const first = finding.views && finding.views[0];
    const series = first && study().series.find((s) => s.series_instance_uid === first.series_instance_uid);
    if (series && viewer.info.seriesId !== series.id) {
      highlightView(series.id);
      await showSeries(series.id);
    }
    viewer.jumpToMark(finding.key);
  }

  const best = bestSeries(study());
  if (best) showSeries(best.id);
  showViewButtons();
  return { viewer, showSeries, jumpTo };
}
