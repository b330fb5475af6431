// The AI's segmentations (DICOM SEG in the study) over the series in view: read from
// /api/studies/<id>/series/<id>/overlays/ after the first image, drawn as translucent fills with
// outlines (one canvas per slice, built once), with a legend whose checkbox or the O key toggles
// them; they hide with the marks (setMarksVisible(false)).

import { getJson } from "./api.js";
import { el } from "./viewer-util.js";

// A run-length mask from the overlays API (alternating runs of 0 and 1, row-major) into `out`.
export function decodeRuns(runs, out) {
  let p = 0;
  for (let n = 0; n < runs.length; n++) {
    const length = runs[n];
    if (n % 2) out.fill(1, p, Math.min(p + length, out.length));
    p += length;
  }
  return out;
}

export function hexColour(hex) {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || "");
  return m ? [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)] : [230, 25, 75];
}


// Owns state.overlays: { status, segments, rendered, visible, error, paintPending }.
export function createSegmentation(ctx) {
  const { state, dom, options } = ctx;
  const { root, legend, overlayCheckbox, legendList } = dom;
  const { studyId, apiBase } = options;

  function shown() {
    return state.marksVisible && state.overlays.visible && state.overlays.segments.length > 0;
  }

  // A new series: nothing read yet; whether the reader wants segmentations shown carries over.
  function reset() {
    state.overlays = { status: "none", segments: [], rendered: new Map(), visible: state.overlays.visible, error: "" };
    root.dataset.overlays = "none";
    renderLegend();
  }

  // Slice k's segments as one native-resolution canvas (fill + outline), built once per slice.
  function layer(k) {
    const cached = state.overlays.rendered.get(k);
    if (cached !== undefined) return cached;
    const started = performance.now();
    const geo = state.geo;
    const n = geo.rows * geo.columns;
    const on = state.overlays.segments.filter((segment) => segment.visible && segment.slices.has(k));
    let result = null;
    if (on.length) {
      const image = new ImageData(geo.columns, geo.rows);
      const out = new Uint32Array(image.data.buffer);
      const mask = new Uint8Array(n);
      const w = geo.columns;
      for (const segment of on) { // later segments (lesions) paint over earlier ones (zones)
        mask.fill(0);
        decodeRuns(segment.slices.get(k), mask);
        const [r, g, b] = segment.rgb;
        const fill = (90 << 24) | (b << 16) | (g << 8) | r; // little-endian RGBA
        const edge = (235 << 24) | (b << 16) | (g << 8) | r;
        for (let p = 0; p < n; p++) {
          if (!mask[p]) continue;
          const x = p % w;
          const border = x === 0 || x === w - 1 || p < w || p >= n - w || !mask[p - 1] || !mask[p + 1]
            || !mask[p - w] || !mask[p + w];
          out[p] = border ? edge : fill;
        }
      }
      result = document.createElement("canvas");
      result.width = geo.columns;
      result.height = geo.rows;
      result.getContext("2d").putImageData(image, 0, 0);
    }
    state.overlays.rendered.set(k, result);
    state.stats.overlayRenderMs = performance.now() - started;
    return result;
  }

  // Slice k's layer over the image drawn with the mapping v (the renderer's view()).
  function draw(context, v, k) {
    const geo = state.geo;
    if (shown()) {
      const canvas = layer(k);
      if (canvas) context.drawImage(canvas, v.x0, v.y0, geo.columns * v.sx, geo.rows * v.sy);
      if (state.overlays.paintPending) {
        state.stats.overlayFirstPaintMs = state.stats.overlayFetchMs + performance.now() - state.overlays.paintPending;
        state.overlays.paintPending = null;
      }
    }
    root.dataset.overlaySlice = shown() && state.overlays.rendered.get(k) ? "1" : "0";
  }

  function renderLegend() {
    const o = state.overlays;
    legend.hidden = !state.marksVisible || !o.segments.length;
    overlayCheckbox.checked = o.visible;
    root.dataset.overlaysVisible = shown() ? "1" : "0";
    legendList.replaceChildren(...o.segments.map((segment, i) => {
      const item = el("li", "viewer-legend-item");
      const box = el("input");
      box.type = "checkbox";
      box.checked = segment.visible;
      box.dataset.segment = String(i);
      box.disabled = !o.visible;
      const swatch = el("span", "viewer-swatch");
      swatch.style.background = segment.colour;
      const name = el("label", "", segment.label);
      name.prepend(box, swatch);
      name.title = [segment.property, segment.algorithm].filter(Boolean).join(" · ");
      item.appendChild(name);
      return item;
    }));
  }

  function setVisible(visible) {
    state.overlays.visible = Boolean(visible);
    renderLegend();
    ctx.render.schedule();
  }

  function setSegmentVisible(index, visible) {
    const segment = state.overlays.segments[index];
    if (!segment) return;
    segment.visible = visible;
    state.overlays.rendered = new Map();
    ctx.render.schedule();
  }

  async function load(gen) {
    const o = state.overlays;
    o.status = "loading";
    root.dataset.overlays = "loading";
    const started = performance.now();
    let data;
    try {
      data = await getJson(`${apiBase}/studies/${studyId}/series/${state.seriesId}/overlays/`,
        { signal: state.controller.signal });
    } catch (error) {
      if (gen !== state.generation || error.name === "AbortError") return;
      // 409: a second reader before the first read; setMarks() asks again once marks are given.
      o.status = error.status === 409 ? "hidden" : "error";
      o.error = error.message;
      root.dataset.overlays = o.status;
      return;
    }
    if (gen !== state.generation) return;
    // Masks are indexed by the server's slice order; map through the slice ids in case late images
    // arrived between the geometry and this answer.
    const here = new Map(state.geo.slices.map((s, k) => [s.id, k]));
    const segments = [];
    for (const seg of data.segmentations || []) {
      if (seg.error || !seg.segments) continue;
      for (const segment of seg.segments) {
        const slices = new Map();
        for (const s of segment.slices) {
          const k = here.get(data.slice_ids[s.index]);
          if (k !== undefined) slices.set(k, s.rle);
        }
        segments.push({ label: segment.label, number: segment.number, colour: segment.colour,
          rgb: hexColour(segment.colour), property: segment.property, algorithm: seg.algorithm_name,
          sop_instance_uid: seg.sop_instance_uid, slices, visible: true });
      }
    }
    Object.assign(o, { status: "ready", segments, rendered: new Map(), error: "" });
    state.stats.overlayFetchMs = performance.now() - started;
    state.overlays.paintPending = performance.now();
    root.dataset.overlays = String(segments.length);
    renderLegend();
    ctx.render.schedule();
    root.dispatchEvent(new CustomEvent("viewer:overlays", { detail: { ms: state.stats.overlayFetchMs,
      segments: segments.length } }));
  }

  return { shown, reset, draw, renderLegend, setVisible, setSegmentVisible, load };
}
