// The viewer's overlays: AI marks in the neutral form, placed on the series' slices, drawn as
// circles, listed (the findings list) and jumped to; and pick mode, where a left click gives the
// page (onPick) the clicked pixel and its place in the patient, to add a finding there.
// The AI's segmentations (DICOM SEG) are drawn by viewer-segmentation.js.

import { el, patientPosition, project, sliceSpacing } from "./viewer-util.js";

// AI results in the neutral mark form. Reads the lung model's findings whatever their exact key
// names (centre_mm or center_mm; radius_mm, diameter_mm or long_axis_mm). A finding seen on
// projection images ({views: [{view, series_instance_uid, sop_instance_uid, point_px, radius_px}]},
// the mammography model's form) gives one image mark per view, id `${finding}:${view}`.
export function marksFromFindings(result, { prefix = "AI" } = {}) {
  const findings = (result && (result.findings || result.nodules || result.lesions)) || [];
  const marks = [];
  findings.forEach((f, index) => {
    const key = String(f.id ?? f.key ?? f.lesion_id ?? index + 1);
    const diameter = f.diameter_mm ?? f.mean_diameter_mm ?? f.long_axis_mm;
    const parts = [f.type, diameter !== undefined ? `${Number(diameter).toFixed(1)} mm` : "",
      f.probability !== undefined ? `p=${Number(f.probability).toFixed(2)}` : ""].filter(Boolean);
    const label = f.label || `${prefix} ${index + 1}${parts.length ? ": " + parts.join(", ") : ""}`;
    if (Array.isArray(f.views)) {
      for (const v of f.views) {
        const point = v.point_px || v.centre_px || v.center_px;
        if (!point || point.length !== 2 || !v.sop_instance_uid) continue;
        const name = v.view || v.sop_instance_uid;
        marks.push({ id: `${key}:${name}`, finding: key, label: `${label} (${name})`,
          series_instance_uid: v.series_instance_uid || null, sop_instance_uid: String(v.sop_instance_uid),
          point_px: point.map(Number), radius_px: Number(v.radius_px ?? 10) });
      }
      return;
    }
    const centre = f.centre_mm || f.center_mm || f.centre || f.center;
    if (!centre || centre.length !== 3) return;
    marks.push({ id: key, label, centre_mm: centre.map(Number),
      radius_mm: Number(f.radius_mm ?? (diameter !== undefined ? diameter / 2 : 5)) });
  });
  return marks;
}

// A mark as the viewer keeps it: an image mark (kind "image") or a point in patient space ("3d").
export function normaliseMark(m) {
  const base = { id: String(m.id), label: String(m.label ?? m.id) };
  if (m.point_px && m.sop_instance_uid) {
    const id = base.id;
    return { ...base, kind: "image", finding: m.finding !== undefined ? String(m.finding)
      : (id.includes(":") ? id.slice(0, id.lastIndexOf(":")) : null),
      series_instance_uid: m.series_instance_uid ? String(m.series_instance_uid) : null,
      sop_instance_uid: String(m.sop_instance_uid), point_px: m.point_px.map(Number),
      radius_px: Math.max(1, Number(m.radius_px) || 0) };
  }
  if (!m.centre_mm || m.centre_mm.length !== 3) return null;
  return { ...base, kind: "3d", centre_mm: m.centre_mm.map(Number), radius_mm: Math.max(0.5, Number(m.radius_mm) || 0) };
}

// Owns state.marks, marksVisible, pendingJump and pickMode.
export function createMarks(ctx) {
  const { state, dom, options } = ctx;
  const { stage, findingsList } = dom;

  function place() {
    const geo = state.geo;
    for (const mark of state.marks) {
      mark._slice = null;
      if (mark.kind === "image") {
        // On its own image only, in whichever series holds it.
        const k = geo ? geo.slices.findIndex((s) => s.sop_instance_uid === mark.sop_instance_uid) : -1;
        if (k >= 0) mark._slice = k;
        continue;
      }
      if (!geo || !geo.slices.length || !geo.slices[0].position) continue;
      let best = null;
      for (let k = 0; k < geo.slices.length; k++) {
        const p = project(geo, mark.centre_mm, k);
        if (best === null || Math.abs(p.d) < Math.abs(best.d)) best = { k, d: p.d };
      }
      // Outside the stack (another series' frame, or beyond its ends): listed, not drawn.
      if (best && Math.abs(best.d) <= Math.max(mark.radius_mm, sliceSpacing(geo) / 2)) mark._slice = best.k;
    }
  }

  // An amber circle at (x, y) in CSS pixels, dashed where the slice only grazes the finding.
  function circle(context, x, y, radius, label, { nearest = true } = {}) {
    context.save();
    context.lineWidth = nearest ? 2 : 1.5;
    context.strokeStyle = nearest ? "rgba(255, 196, 0, 0.95)" : "rgba(255, 196, 0, 0.45)";
    if (!nearest) context.setLineDash([4, 4]);
    context.beginPath();
    context.arc(x, y, radius + 3, 0, 2 * Math.PI);
    context.stroke();
    if (nearest) {
      context.font = "12px system-ui, sans-serif";
      context.fillStyle = "rgba(255, 196, 0, 0.95)";
      context.shadowColor = "black";
      context.shadowBlur = 3;
      context.fillText(label, x + radius + 6, y - radius - 2);
    }
    context.restore();
  }

  function draw(context, v) {
    if (!state.marksVisible) return;
    const k = state.index;
    for (const mark of state.marks) {
      if (mark._slice === null || mark._slice === undefined) continue;
      if (mark.kind === "image") {
        if (mark._slice !== k) continue;
        circle(context, v.x0 + (mark.point_px[0] + 0.5) * v.sx, v.y0 + (mark.point_px[1] + 0.5) * v.sy,
          Math.max(mark.radius_px * (v.sx + v.sy) / 2, 3), mark.label);
        continue;
      }
      const p = project(state.geo, mark.centre_mm, k);
      if (!p) continue;
      const nearest = mark._slice === k;
      const r = nearest ? mark.radius_mm : Math.sqrt(Math.max(0, mark.radius_mm ** 2 - p.d ** 2));
      if (!nearest && (Math.abs(p.d) >= mark.radius_mm || r < 0.5)) continue;
      circle(context, v.x0 + (p.i + 0.5) * v.sx, v.y0 + (p.j + 0.5) * v.sy, Math.max(r * v.perMm, 3), mark.label,
        { nearest });
    }
  }

  // The study's series (from the series list) that holds an image mark's image, if known.
  function seriesOfMark(mark) {
    if (!mark.series_instance_uid || !state.seriesList) return null;
    return state.seriesList.find((s) => s.series_instance_uid === mark.series_instance_uid) || null;
  }

  function renderFindings() {
    findingsList.replaceChildren();
    findingsList.hidden = !options.showFindings || !state.marksVisible || !state.marks.length;
    for (const mark of state.marks) {
      const item = el("li");
      const button = el("button", "viewer-finding", mark.label);
      button.type = "button";
      button.dataset.markId = mark.id;
      if (mark._slice !== null && mark._slice !== undefined) {
        button.title = `Slice ${mark._slice + 1}`;
      } else if (mark.kind === "image" && seriesOfMark(mark)) {
        button.title = "On another series: click to open it";
      } else {
        button.disabled = true;
        button.title = "Not in this series";
      }
      item.appendChild(button);
      findingsList.appendChild(item);
    }
  }

  function find(id) {
    const key = String(id);
    // A mark's own id, or a finding's id: its first view's mark.
    return state.marks.find((m) => m.id === key)
      || state.marks.find((m) => m.finding === key || m.id.startsWith(`${key}:`)) || null;
  }

  function jumpTo(id) {
    const mark = find(id);
    if (!mark) return false;
    if (mark._slice === null || mark._slice === undefined) {
      if (mark.kind !== "image") return false;
      // On another series: open it, then show the mark (loadSeries places and shows pendingJump).
      const open = (list) => {
        const target = list && list.find((s) => s.series_instance_uid === mark.series_instance_uid);
        if (!target) return false;
        state.pendingJump = mark.id;
        ctx.loadSeries(target.id).catch(() => {});
        return true;
      };
      if (state.seriesList) return open(state.seriesList);
      if (!mark.series_instance_uid) return false;
      ctx.loader.loadSeriesList().then(open).catch(() => {});
      return true;
    }
    ctx.setIndex(mark._slice);
    if (mark.kind === "image") {
      // A projection view fits the screen at 100 %: centre the mark only when zoomed in.
      if (state.zoom > 1) ctx.render.centreOn(mark.point_px[0], mark.point_px[1]);
    } else {
      const p = project(state.geo, mark.centre_mm, mark._slice);
      ctx.render.centreOn(p.i, p.j);
    }
    ctx.render.schedule();
    return true;
  }

  // Pick mode: the clicked pixel and where it is in the patient, for the page's onPick.
  function pick(event) {
    const geo = state.geo;
    const box = stage.getBoundingClientRect();
    const v = ctx.render.view();
    const col = Math.floor((event.clientX - box.left - v.x0) / v.sx);
    const row = Math.floor((event.clientY - box.top - v.y0) / v.sy);
    if (col < 0 || row < 0 || col >= geo.columns || row >= geo.rows) return;
    const slice = geo.slices[state.index];
    const picked = { seriesId: state.seriesId, sopInstanceUid: slice.sop_instance_uid || null,
      sliceIndex: state.index, position: patientPosition(geo, state.index, col, row), pixel: [col, row] };
    if (options.onPick) options.onPick(picked);
  }

  function setPickMode(on) {
    state.pickMode = Boolean(on);
    dom.root.dataset.pickMode = state.pickMode ? "1" : "0";
    stage.style.cursor = state.pickMode ? "crosshair" : "";
  }

  return { place, draw, renderFindings, jumpTo, pick, setPickMode };
}
