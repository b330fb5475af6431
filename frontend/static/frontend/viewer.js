// The study page's image viewer: a plain canvas over pixels proxied from Orthanc by the API.
//
//   import { createViewer } from "/static/frontend/viewer.js";
//   const viewer = createViewer(element, { studyId, onSliceChange });
//   await viewer.loadSeries(seriesId);
//   viewer.setMarks([{ id, label, centre_mm: [x, y, z], radius_mm },          // a point in patient space
//                    { id, label, series_instance_uid, sop_instance_uid,         // a point on one image
//                      point_px: [column, row], radius_px }]);                  // (projection views)
//
// Modules: viewer-loading.js (the pixel answer into slices), viewer-render.js (presets, window
// table, rasterising), viewer-overlays.js (marks, SEG masks), viewer-util.js; api.js for JSON.
//
// AI segmentations (DICOM SEG in the study) over the series in view are fetched by the viewer itself
// from /api/studies/<id>/series/<id>/overlays/ and drawn as translucent fills with outlines; the
// legend's checkbox or the O key toggles them, and setMarksVisible(false) hides them with the marks.
//
// Why no toolkit: what a reading worklist needs (scroll, window/level, zoom/pan, circles at a
// position in patient space) is a few hundred lines over a 2-D canvas; Cornerstone3D would add a
// bundler, WASM codecs and workers to build and ship, for features this page does not use.
//
// Loading: the geometry comes first, then the slice in view alone (the first image), then the rest
// in chunks over a few parallel requests, nearest to the slice in view first, re-ordered as the
// reader scrolls. Slices are kept as 16-bit typed arrays, so scrolling never waits on the network
// once a slice has arrived, and window/level is a lookup table over the real values (HU for CT).
// Colour series (dtype "rgb8": ultrasound, secondary captures, palette images) arrive as R, G and B
// byte planes and are drawn as they are. A slice the server could not decode is named in the
// response's X-Slice-Errors; the viewer says which slices failed and shows the others.

import { getJson } from "./api.js";
import { slicesFromResponse } from "./viewer-loading.js";
import { decodeRuns, hexColour, marksFromFindings, normaliseMark } from "./viewer-overlays.js";
import { PRESETS, presetsFor, rasteriseSlice, windowFromPixels, windowLut } from "./viewer-render.js";
import { cross, dot, el, sub } from "./viewer-util.js";

// Pages import these from the viewer, as before the split.
export { decodeRuns, marksFromFindings, PRESETS, presetsFor };

const NON_IMAGE_MODALITIES = new Set(["SR", "SEG", "PR", "KO", "DOC", "RTSTRUCT", "RTPLAN", "RTRECORD", "REG",
  "ECG", "HD"]);
// Stands in state.pixels for a slice the server could not decode: present, so it is not fetched again.
const FAILED = Object.freeze({ failed: true });
const WHEEL_STEP = 40; // wheel delta (px) that moves one slice

function ensureStylesheet() {
  const href = new URL("./viewer.css", import.meta.url).href;
  if ([...document.querySelectorAll("link[rel=stylesheet]")].some((link) => link.href === href)) return;
  const link = el("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.appendChild(link);
}

export function createViewer(container, options = {}) {
  const { studyId, onSliceChange, onPick, apiBase = "/api", chunkSize = 4, parallel = 4, showFindings = true,
    series = null } = options;
  if (!studyId) throw new Error("createViewer needs a studyId");
  ensureStylesheet();

  // --- DOM ---
  const root = el("div", "viewer");
  root.tabIndex = 0;
  const toolbar = el("div", "viewer-toolbar");
  const seriesSelect = el("select", "viewer-series");
  seriesSelect.title = "Series";
  const presetBox = el("span", "viewer-presets");
  function renderPresets() {
    state.presets = presetsFor(state.geo, state.fullRange);
    presetBox.replaceChildren(...Object.entries(state.presets).map(([name, preset]) => {
      const button = el("button", "viewer-preset", preset.label);
      button.type = "button";
      button.dataset.preset = name;
      return button;
    }));
  }
  const modeButton = el("button", "viewer-mode", "Drag: W/L");
  modeButton.type = "button";
  modeButton.title = "What the left button drags (the right button does the other)";
  const zoomOut = el("button", "viewer-zoom-out", "−");
  const zoomIn = el("button", "viewer-zoom-in", "+");
  const resetButton = el("button", "viewer-reset", "Reset");
  for (const b of [zoomOut, zoomIn, resetButton]) b.type = "button";
  zoomOut.title = "Zoom out (Ctrl+wheel)";
  zoomIn.title = "Zoom in (Ctrl+wheel)";
  toolbar.append(seriesSelect, presetBox, modeButton, zoomOut, zoomIn, resetButton);

  const body = el("div", "viewer-body");
  const stage = el("div", "viewer-stage");
  const canvas = el("canvas", "viewer-canvas");
  const overlay = {
    series: el("div", "viewer-ov viewer-ov-tl"),
    zoom: el("div", "viewer-ov viewer-ov-tr"),
    slice: el("div", "viewer-ov viewer-ov-bl viewer-slice"),
    window: el("div", "viewer-ov viewer-ov-br viewer-window"),
    message: el("div", "viewer-message"),
    progress: el("div", "viewer-progress"),
    failed: el("div", "viewer-failed"),
  };
  // The AI segmentations' legend: one switch for all (key O), one per segment.
  const legend = el("div", "viewer-legend");
  legend.hidden = true;
  const legendToggle = el("label", "viewer-legend-toggle");
  const overlayCheckbox = el("input", "viewer-overlay-toggle");
  overlayCheckbox.type = "checkbox";
  overlayCheckbox.checked = true;
  legendToggle.append(overlayCheckbox, " Segmentation (O)");
  legendToggle.title = "Show the AI segmentation (key O)";
  const legendList = el("ul", "viewer-legend-list");
  legend.append(legendToggle, legendList);
  stage.append(canvas, ...Object.values(overlay), legend);
  const findingsList = el("ol", "viewer-findings");
  body.append(stage, findingsList);
  const slider = el("input", "viewer-slider");
  slider.type = "range";
  slider.min = "1";
  slider.max = "1";
  slider.value = "1";
  slider.title = "Slice";
  root.append(toolbar, body, slider);
  container.appendChild(root);

  const context = canvas.getContext("2d");
  const raster = document.createElement("canvas"); // the slice at native resolution
  const rasterContext = raster.getContext("2d");

  // --- state ---
  const state = {
    generation: 0, // bumped by each loadSeries and by destroy: late responses are dropped
    seriesList: null,
    seriesId: null,
    geo: null,
    pixels: [], // typed array per slice, or null until it arrives
    inflight: new Set(),
    active: 0,
    loadedCount: 0,
    sliceErrors: new Map(), // slice index -> why the server could not decode it
    index: 0,
    direction: 1,
    window: { center: 40, width: 400 },
    presets: {}, // the series' window presets (presetsFor)
    fullRange: null, // the first slice's value range, as a window
    lut: null,
    lutKey: "",
    rasterKey: "",
    imageData: null,
    zoom: 1,
    pan: [0, 0], // screen pixels (CSS)
    leftDrag: "wl",
    pickMode: false, // a left click picks a point (onPick) instead of dragging
    marks: [],
    marksVisible: true,
    pendingJump: null, // an image mark to show once its series has loaded
    // AI segmentations over this series: segments with per-slice masks, and per-slice pre-rendered canvases.
    overlays: { status: "none", segments: [], rendered: new Map(), visible: true, error: "" },
    controller: null,
    frame: 0,
    wheelAccum: 0,
    firstImageResolve: null,
    destroyed: false,
    stats: { geometryMs: null, firstImageMs: null, allCachedMs: null, bytes: 0, requests: 0, draws: [],
      overlayFetchMs: null, overlayRenderMs: null, overlayFirstPaintMs: null },
    t0: 0,
  };

  // --- geometry helpers ---
  function sliceAxes(geo) {
    const o = geo.orientation || [1, 0, 0, 0, 1, 0];
    const row = o.slice(0, 3);
    const col = o.slice(3, 6);
    return { row, col, normal: cross(row, col) };
  }

  // Where a point in patient space (LPS mm) falls on slice k: pixel column, row, distance to the plane.
  function project(point, k) {
    const geo = state.geo;
    const position = geo.slices[k].position;
    if (!position) return null;
    const { row, col, normal } = sliceAxes(geo);
    const rel = sub(point, position);
    return { i: dot(rel, row) / geo.pixel_spacing[1], j: dot(rel, col) / geo.pixel_spacing[0],
      d: dot(rel, normal) };
  }

  function placeMarks() {
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
        const p = project(mark.centre_mm, k);
        if (best === null || Math.abs(p.d) < Math.abs(best.d)) best = { k, d: p.d };
      }
      // Outside the stack (another series' frame, or beyond its ends): listed, not drawn.
      if (best && Math.abs(best.d) <= Math.max(mark.radius_mm, sliceSpacing() / 2)) mark._slice = best.k;
    }
  }

  function sliceSpacing() {
    const s = state.geo && state.geo.slices;
    if (!s || s.length < 2 || !s[0].position) return 1;
    const { normal } = sliceAxes(state.geo);
    return Math.abs(dot(sub(s[1].position, s[0].position), normal)) || 1;
  }

  // --- rendering ---
  function buildLut() {
    const geo = state.geo;
    const key = `${state.window.center}|${state.window.width}|${geo.dtype}|${geo.invert}`;
    if (key === state.lutKey) return;
    state.lut = windowLut(state.window, { signed: geo.dtype === "int16", invert: geo.invert });
    state.lutKey = key;
  }

  function rasterise(k) {
    const geo = state.geo;
    const key = `${state.generation}|${k}|${state.lutKey}`;
    if (key === state.rasterKey) return;
    if (!state.imageData || state.imageData.width !== geo.columns || state.imageData.height !== geo.rows) {
      raster.width = geo.columns;
      raster.height = geo.rows;
      state.imageData = rasterContext.createImageData(geo.columns, geo.rows);
    }
    rasteriseSlice(new Uint32Array(state.imageData.data.buffer), state.pixels[k], geo, state.lut);
    rasterContext.putImageData(state.imageData, 0, 0);
    state.rasterKey = key;
  }

  function resizeCanvas() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(stage.clientWidth * ratio));
    const height = Math.max(1, Math.round(stage.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
  }

  // Image-to-screen mapping in CSS pixels: fit the slice in millimetres, then zoom and pan.
  function view() {
    const geo = state.geo;
    const w = stage.clientWidth;
    const h = stage.clientHeight;
    const mmWide = geo.columns * geo.pixel_spacing[1];
    const mmHigh = geo.rows * geo.pixel_spacing[0];
    const perMm = Math.min(w / mmWide, h / mmHigh) * state.zoom;
    const sx = perMm * geo.pixel_spacing[1];
    const sy = perMm * geo.pixel_spacing[0];
    const x0 = (w - geo.columns * sx) / 2 + state.pan[0];
    const y0 = (h - geo.rows * sy) / 2 + state.pan[1];
    return { sx, sy, x0, y0, perMm };
  }

  function drawMarks(v) {
    if (!state.marksVisible) return;
    const k = state.index;
    for (const mark of state.marks) {
      if (mark._slice === null || mark._slice === undefined) continue;
      if (mark.kind === "image") {
        if (mark._slice === k) drawImageMark(mark, v);
        continue;
      }
      const p = project(mark.centre_mm, k);
      if (!p) continue;
      const nearest = mark._slice === k;
      const r = nearest ? mark.radius_mm : Math.sqrt(Math.max(0, mark.radius_mm ** 2 - p.d ** 2));
      if (!nearest && (Math.abs(p.d) >= mark.radius_mm || r < 0.5)) continue;
      const x = v.x0 + (p.i + 0.5) * v.sx;
      const y = v.y0 + (p.j + 0.5) * v.sy;
      const radius = Math.max(r * v.perMm, 3);
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
        context.fillText(mark.label, x + radius + 6, y - radius - 2);
      }
      context.restore();
    }
  }

  function drawImageMark(mark, v) {
    const x = v.x0 + (mark.point_px[0] + 0.5) * v.sx;
    const y = v.y0 + (mark.point_px[1] + 0.5) * v.sy;
    const radius = Math.max(mark.radius_px * (v.sx + v.sy) / 2, 3);
    context.save();
    context.lineWidth = 2;
    context.strokeStyle = "rgba(255, 196, 0, 0.95)";
    context.beginPath();
    context.arc(x, y, radius + 3, 0, 2 * Math.PI);
    context.stroke();
    context.font = "12px system-ui, sans-serif";
    context.fillStyle = "rgba(255, 196, 0, 0.95)";
    context.shadowColor = "black";
    context.shadowBlur = 3;
    context.fillText(mark.label, x + radius + 6, y - radius - 2);
    context.restore();
  }

  // --- segmentation overlays ---
  function overlaysShown() {
    return state.marksVisible && state.overlays.visible && state.overlays.segments.length > 0;
  }

  // Slice k's segments as one native-resolution canvas (fill + outline), built once per slice.
  function overlayCanvas(k) {
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

  function renderLegend() {
    const o = state.overlays;
    legend.hidden = !state.marksVisible || !o.segments.length;
    overlayCheckbox.checked = o.visible;
    root.dataset.overlaysVisible = overlaysShown() ? "1" : "0";
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

  function setOverlaysVisible(visible) {
    state.overlays.visible = Boolean(visible);
    renderLegend();
    schedule();
  }

  async function fetchOverlays(gen) {
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
    schedule();
    root.dispatchEvent(new CustomEvent("viewer:overlays", { detail: { ms: state.stats.overlayFetchMs,
      segments: segments.length } }));
  }

  function draw() {
    state.frame = 0;
    if (state.destroyed) return;
    const started = performance.now();
    resizeCanvas();
    const ratio = canvas.width / Math.max(1, stage.clientWidth);
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
    const geo = state.geo;
    if (!geo) return;
    const k = state.index;
    const failed = state.pixels[k] === FAILED;
    const ready = Boolean(state.pixels[k]) && !failed;
    // A label tells apart slices at one position (a DWI series' b-values, sorted into one stack each).
    overlay.slice.textContent = `Slice ${k + 1}/${geo.slices.length}${geo.slices[k].label ? ` · ${geo.slices[k].label}` : ""}`;
    overlay.window.textContent = geo.dtype === "rgb8" ? "Colour"
      : `WL ${Math.round(state.window.center)} / WW ${Math.round(state.window.width)}`;
    overlay.zoom.textContent = `${Math.round(state.zoom * 100)} %`;
    root.dataset.slice = String(k + 1);
    root.dataset.ready = ready ? "1" : "0";
    if (failed) {
      overlay.message.textContent = `Slice ${k + 1} could not be shown: ${state.sliceErrors.get(k)}`;
      root.dataset.sliceFailed = "1";
      if (state.firstImageResolve) state.firstImageResolve(); // the series is open, this slice cannot be
      state.firstImageResolve = state.firstImageReject = null;
      return;
    }
    root.dataset.sliceFailed = "0";
    if (!ready) {
      overlay.message.textContent = "Loading…";
      return;
    }
    overlay.message.textContent = "";
    buildLut();
    rasterise(k);
    const v = view();
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.imageSmoothingEnabled = state.zoom < 3; // past 3× show the real pixels
    context.drawImage(raster, v.x0, v.y0, geo.columns * v.sx, geo.rows * v.sy);
    if (overlaysShown()) {
      const layer = overlayCanvas(k);
      if (layer) context.drawImage(layer, v.x0, v.y0, geo.columns * v.sx, geo.rows * v.sy);
      if (state.overlays.paintPending) {
        state.stats.overlayFirstPaintMs = state.stats.overlayFetchMs + performance.now() - state.overlays.paintPending;
        state.overlays.paintPending = null;
      }
    }
    root.dataset.overlaySlice = overlaysShown() && state.overlays.rendered.get(k) ? "1" : "0";
    drawMarks(v);
    const spent = performance.now() - started;
    state.stats.draws.push(spent);
    if (state.stats.draws.length > 1000) state.stats.draws.shift();
    if (state.stats.firstImageMs === null) {
      state.stats.firstImageMs = performance.now() - state.t0;
      root.dispatchEvent(new CustomEvent("viewer:firstimage", { detail: { ms: state.stats.firstImageMs } }));
    }
    if (state.firstImageResolve) {
      state.firstImageResolve();
      state.firstImageResolve = state.firstImageReject = null;
    }
  }

  function schedule() {
    if (!state.frame && !state.destroyed) state.frame = requestAnimationFrame(draw);
  }

  function renderFindings() {
    findingsList.replaceChildren();
    findingsList.hidden = !showFindings || !state.marksVisible || !state.marks.length;
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

  // The study's series (from the series list) that holds an image mark's image, if known.
  function seriesOfMark(mark) {
    if (!mark.series_instance_uid || !state.seriesList) return null;
    return state.seriesList.find((s) => s.series_instance_uid === mark.series_instance_uid) || null;
  }

  function findMark(id) {
    const key = String(id);
    // A mark's own id, or a finding's id: its first view's mark.
    return state.marks.find((m) => m.id === key)
      || state.marks.find((m) => m.finding === key || m.id.startsWith(`${key}:`)) || null;
  }

  function centreOn(i, j) {
    state.pan = [0, 0];
    const v = view();
    state.pan = [stage.clientWidth / 2 - (v.x0 + (i + 0.5) * v.sx), stage.clientHeight / 2 - (v.y0 + (j + 0.5) * v.sy)];
  }

  function jumpToMark(id) {
    const mark = findMark(id);
    if (!mark) return false;
    if (mark._slice === null || mark._slice === undefined) {
      if (mark.kind !== "image") return false;
      // On another series: open it, then show the mark (loadSeries places and shows pendingJump).
      const open = (list) => {
        const target = list && list.find((s) => s.series_instance_uid === mark.series_instance_uid);
        if (!target) return false;
        state.pendingJump = mark.id;
        loadSeries(target.id).catch(() => {});
        return true;
      };
      if (state.seriesList) return open(state.seriesList);
      if (!mark.series_instance_uid) return false;
      loadSeriesList().then(open).catch(() => {});
      return true;
    }
    setIndex(mark._slice);
    if (mark.kind === "image") {
      // A projection view fits the screen at 100 %: centre the mark only when zoomed in.
      if (state.zoom > 1) centreOn(mark.point_px[0], mark.point_px[1]);
    } else {
      const p = project(mark.centre_mm, mark._slice);
      centreOn(p.i, p.j);
    }
    schedule();
    return true;
  }

  // --- slices ---
  function setIndex(k) {
    const geo = state.geo;
    if (!geo) return;
    const next = Math.max(0, Math.min(geo.slices.length - 1, Math.round(k)));
    if (next === state.index) return;
    state.direction = next > state.index ? 1 : -1;
    state.index = next;
    slider.value = String(next + 1);
    schedule();
    pump();
    if (onSliceChange) onSliceChange({ index: next, count: geo.slices.length, position: geo.slices[next].position });
  }

  function nearestMissing() {
    const n = state.pixels.length;
    const free = (k) => k >= 0 && k < n && !state.pixels[k] && !state.inflight.has(k);
    for (let step = 0; step < n; step++) {
      const ahead = state.index + state.direction * step;
      const behind = state.index - state.direction * step;
      if (free(ahead)) return { k: ahead, dir: state.direction };
      if (step && free(behind)) return { k: behind, dir: -state.direction };
    }
    return null;
  }

  function pump() {
    const gen = state.generation;
    if (!state.geo || state.destroyed || state.holdPrefetch || state.failed) return;
    while (state.active < parallel) {
      const seed = nearestMissing();
      if (!seed) return;
      const batch = [];
      for (let k = seed.k; batch.length < Math.min(chunkSize, state.geo.max_slices_per_request); k += seed.dir) {
        if (k < 0 || k >= state.pixels.length || state.pixels[k] || state.inflight.has(k)) break;
        batch.push(k);
      }
      fetchSlices(batch, gen);
    }
  }

  async function fetchSlices(batch, gen) {
    const geo = state.geo;
    batch.forEach((k) => state.inflight.add(k));
    state.active += 1;
    const ids = batch.map((k) => geo.slices[k].id).join(",");
    const url = `${apiBase}/studies/${studyId}/series/${state.seriesId}/pixels/?ids=${encodeURIComponent(ids)}`;
    try {
      const response = await fetch(url, { credentials: "same-origin", signal: state.controller.signal });
      if (!response.ok) {
        let detail = `${response.status}`;
        try { detail = (await response.json()).detail || detail; } catch { /* binary or empty */ }
        const error = new Error(detail);
        error.status = response.status;
        throw error;
      }
      const buffer = await response.arrayBuffer();
      if (gen !== state.generation) return;
      state.stats.bytes += Number(response.headers.get("Content-Length")) || buffer.byteLength;
      state.stats.requests += 1;
      const { pixels, failed } = slicesFromResponse(buffer, response.headers.get("X-Slice-Errors"), batch, geo);
      for (const [k, values] of pixels) state.pixels[k] = values;
      for (const [k, reason] of failed) {
        state.pixels[k] = FAILED;
        state.sliceErrors.set(k, reason);
      }
      state.loadedCount += pixels.size + failed.size;
      if (state.sliceErrors.size) {
        const numbers = [...state.sliceErrors.keys()].sort((a, b) => a - b).map((k) => k + 1);
        overlay.failed.textContent = `${numbers.length} of ${geo.slices.length} slices could not be shown: `
          + `${numbers.join(", ")}`;
        root.dataset.failedSlices = numbers.join(",");
      }
      // The page reports a series with slices it could not show (the signing guard asks why).
      if (failed.size) {
        root.dispatchEvent(new CustomEvent("viewer:slice-errors", { detail: { seriesId: state.seriesId,
          slices: root.dataset.failedSlices.split(",").map(Number), reasons: [...new Set(state.sliceErrors.values())],
          count: geo.slices.length } }));
      }
      if (batch.includes(state.index)) schedule();
      overlay.progress.textContent = state.loadedCount < state.pixels.length
        ? `${state.loadedCount}/${state.pixels.length} loaded` : "";
      root.dataset.loaded = String(state.loadedCount);
      if (state.loadedCount === state.pixels.length && state.stats.allCachedMs === null) {
        state.stats.allCachedMs = performance.now() - state.t0;
        root.dispatchEvent(new CustomEvent("viewer:cached", { detail: { ms: state.stats.allCachedMs } }));
      }
    } catch (error) {
      if (gen !== state.generation || error.name === "AbortError") return;
      overlay.message.textContent = `Images could not be loaded: ${error.message}`;
      batch.forEach((k) => state.inflight.delete(k));
      state.active -= 1;
      if (error.status >= 400 && error.status < 500 && error.status !== 429) {
        // The server refused these images for a reason that a retry will not change.
        state.failed = true;
        if (state.firstImageReject) state.firstImageReject(error);
        state.firstImageResolve = state.firstImageReject = null;
        return;
      }
      // Try again a little later rather than hammering an archive that is down.
      setTimeout(() => { if (gen === state.generation) pump(); }, 3000);
      return;
    }
    if (gen !== state.generation) return;
    batch.forEach((k) => state.inflight.delete(k));
    state.active -= 1;
    pump();
  }

  function initialWindow(geo) {
    const header = geo.windows && geo.windows[0];
    if (header) return { center: header.center, width: header.width };
    if (geo.modality === "CT") return { ...PRESETS.mediastinum };
    return null; // from the first slice's values
  }

  async function loadSeriesList() {
    if (state.seriesList) return state.seriesList;
    // The page may pass the study's series it already has; otherwise read them (one audited read).
    const all = series || (await getJson(`${apiBase}/studies/${studyId}/`)).series || [];
    state.seriesList = all.filter((s) => !NON_IMAGE_MODALITIES.has(s.modality));
    seriesSelect.replaceChildren(...state.seriesList.map((s) => {
      const option = el("option", "", [s.series_number !== null ? `S${s.series_number}` : "", s.modality,
        s.description, `(${s.instance_count})`].filter(Boolean).join(" "));
      option.value = String(s.id);
      return option;
    }));
    seriesSelect.hidden = state.seriesList.length < 2;
    seriesSelect.value = String(state.seriesId);
    return state.seriesList;
  }

  async function loadSeries(seriesId) {
    if (state.controller) state.controller.abort();
    state.generation += 1;
    const gen = state.generation;
    state.controller = new AbortController();
    overlay.failed.textContent = "";
    delete root.dataset.failedSlices;
    Object.assign(state, { seriesId, geo: null, pixels: [], sliceErrors: new Map(), inflight: new Set(), active: 0,
      loadedCount: 0,
      holdPrefetch: false, failed: false, firstImageResolve: null, firstImageReject: null, index: 0, direction: 1, zoom: 1, pan: [0, 0], lutKey: "", rasterKey: "" });
    state.stats = { geometryMs: null, firstImageMs: null, allCachedMs: null, bytes: 0, requests: 0, draws: [],
      overlayFetchMs: null, overlayRenderMs: null, overlayFirstPaintMs: null };
    state.overlays = { status: "none", segments: [], rendered: new Map(), visible: state.overlays.visible, error: "" };
    root.dataset.overlays = "none";
    root.dataset.seriesId = String(seriesId);
    root.dataset.ready = "0"; // until this series' slice is on screen
    renderLegend();
    state.t0 = performance.now();
    overlay.message.textContent = "Loading…";
    overlay.progress.textContent = "";
    root.dataset.loaded = "0";
    schedule();
    loadSeriesList().catch(() => { seriesSelect.hidden = true; });
    seriesSelect.value = String(seriesId);
    let geo;
    try {
      geo = await getJson(`${apiBase}/studies/${studyId}/series/${seriesId}/geometry/`, { signal: state.controller.signal });
    } catch (error) {
      if (gen === state.generation) overlay.message.textContent = `This series cannot be shown: ${error.message}`;
      throw error;
    }
    if (gen !== state.generation) return;
    state.stats.geometryMs = performance.now() - state.t0;
    state.geo = geo;
    state.fullRange = null;
    renderPresets();
    state.pixels = new Array(geo.slices.length).fill(null);
    state.window = initialWindow(geo) || { center: 0, width: 1 };
    const autoWindow = !initialWindow(geo);
    overlay.series.textContent = [geo.modality, geo.description, geo.units].filter(Boolean).join(" · ");
    slider.max = String(geo.slices.length);
    slider.value = "1";
    placeMarks();
    renderFindings();
    const pending = state.pendingJump && state.marks.find((m) => m.id === state.pendingJump);
    state.pendingJump = null;
    if (pending && pending._slice !== null) {
      // Open on the mark's image: it is the first one fetched.
      state.index = pending._slice;
      slider.value = String(pending._slice + 1);
    }
    const first = new Promise((resolve, reject) => {
      state.firstImageResolve = resolve;
      state.firstImageReject = reject;
    });
    // The slice in view on its own first: the smallest request that shows an image; the prefetch
    // waits for it so that it has the archive and both cores to itself.
    state.holdPrefetch = true;
    await fetchSlices([state.index], gen);
    if (gen !== state.generation) return;
    state.holdPrefetch = false;
    if (state.pixels[state.index] && state.pixels[state.index] !== FAILED && geo.dtype !== "rgb8") {
      state.fullRange = windowFromPixels(state.pixels[state.index]);
      if (autoWindow) state.window = { ...state.fullRange };
      renderPresets();
    }
    schedule();
    pump();
    // After the first image, so that it does not wait behind the SEG's decoding on the server.
    fetchOverlays(gen);
    await first;
  }

  // --- interaction ---
  function setWindow(center, width) {
    state.window = { center, width: Math.max(1, width) };
    schedule();
  }

  function zoomAt(factor, cx, cy) {
    if (!state.geo) return;
    const before = state.zoom;
    state.zoom = Math.max(0.25, Math.min(16, state.zoom * factor));
    const applied = state.zoom / before;
    // Keep the point under the cursor where it is.
    const w = stage.clientWidth;
    const h = stage.clientHeight;
    const px = cx ?? w / 2;
    const py = cy ?? h / 2;
    state.pan[0] = (state.pan[0] + w / 2 - px) * applied - (w / 2 - px);
    state.pan[1] = (state.pan[1] + h / 2 - py) * applied - (h / 2 - py);
    schedule();
  }

  function reset() {
    state.zoom = 1;
    state.pan = [0, 0];
    if (state.geo) state.window = initialWindow(state.geo) || state.window;
    schedule();
  }

  function onWheel(event) {
    event.preventDefault();
    if (event.ctrlKey) {
      const box = stage.getBoundingClientRect();
      zoomAt(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - box.left, event.clientY - box.top);
      return;
    }
    // One slice per wheel notch whatever its size (100 or 120 px by browser); trackpads send many
    // small deltas, which add up to a slice.
    state.wheelAccum += event.deltaMode === 1 ? event.deltaY * WHEEL_STEP : event.deltaY;
    if (Math.abs(state.wheelAccum) >= WHEEL_STEP) {
      setIndex(state.index + Math.sign(state.wheelAccum));
      state.wheelAccum = 0;
    }
  }

  function onKey(event) {
    if (!state.geo || event.target === slider || event.target === seriesSelect) return;
    const n = state.geo.slices.length;
    const moves = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1, PageUp: -10, PageDown: 10 };
    if (event.key in moves) setIndex(state.index + moves[event.key]);
    else if (event.key === "Home") setIndex(0);
    else if (event.key === "End") setIndex(n - 1);
    else if ((event.key === "o" || event.key === "O") && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (!state.overlays.segments.length) return;
      setOverlaysVisible(!state.overlays.visible);
    } else return;
    event.preventDefault();
  }

  // --- picking a point (setPickMode / onPick) ---
  // The clicked pixel and where it is in the patient: DICOM PS3.3 2024 C.7.6.2.1.1,
  // P = ImagePositionPatient + col * PixelSpacing[1] * row cosines + row * PixelSpacing[0] * column cosines.
  function pickAt(event) {
    const geo = state.geo;
    const box = stage.getBoundingClientRect();
    const v = view();
    const col = Math.floor((event.clientX - box.left - v.x0) / v.sx);
    const row = Math.floor((event.clientY - box.top - v.y0) / v.sy);
    if (col < 0 || row < 0 || col >= geo.columns || row >= geo.rows) return null;
    const slice = geo.slices[state.index];
    let position = null;
    if (slice.position) {
      const { row: rowCosines, col: colCosines } = sliceAxes(geo);
      position = [0, 1, 2].map((a) => Math.round((slice.position[a] + col * geo.pixel_spacing[1] * rowCosines[a]
        + row * geo.pixel_spacing[0] * colCosines[a]) * 100) / 100);
    }
    return { seriesId: state.seriesId, sopInstanceUid: slice.sop_instance_uid || null, sliceIndex: state.index,
      position, pixel: [col, row] };
  }

  let drag = null;
  function onPointerDown(event) {
    if (!state.geo) return;
    if (state.pickMode && event.button === 0) {
      event.preventDefault();
      const picked = pickAt(event);
      if (picked && onPick) onPick(picked);
      return;
    }
    const kind = event.button === 0 ? (event.shiftKey ? "pan" : state.leftDrag)
      : event.button === 2 ? (state.leftDrag === "wl" ? "pan" : "wl") : event.button === 1 ? "pan" : null;
    if (!kind) return;
    event.preventDefault();
    root.focus({ preventScroll: true });
    stage.setPointerCapture(event.pointerId);
    drag = { kind, x: event.clientX, y: event.clientY, window: { ...state.window }, pan: [...state.pan] };
  }

  function onPointerMove(event) {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (drag.kind === "pan") {
      state.pan = [drag.pan[0] + dx, drag.pan[1] + dy];
      schedule();
    } else {
      // Sensitivity follows the window: fine control on a brain window, fast on a lung window.
      const k = Math.max(0.5, drag.window.width / 300);
      setWindow(drag.window.center - dy * k, drag.window.width + dx * k);
    }
  }

  function onPointerUp(event) {
    if (drag && stage.hasPointerCapture(event.pointerId)) stage.releasePointerCapture(event.pointerId);
    drag = null;
  }

  const listeners = [
    [stage, "wheel", onWheel, { passive: false }],
    [root, "keydown", onKey],
    [stage, "pointerdown", onPointerDown],
    [stage, "pointermove", onPointerMove],
    [stage, "pointerup", onPointerUp],
    [stage, "pointercancel", onPointerUp],
    [stage, "contextmenu", (event) => event.preventDefault()],
    [slider, "input", () => setIndex(Number(slider.value) - 1)],
    [seriesSelect, "change", () => { api.loadSeries(Number(seriesSelect.value)).catch(() => {}); }],
    [presetBox, "click", (event) => { if (event.target.dataset.preset) api.setPreset(event.target.dataset.preset); }],
    [modeButton, "click", () => {
      state.leftDrag = state.leftDrag === "wl" ? "pan" : "wl";
      modeButton.textContent = state.leftDrag === "wl" ? "Drag: W/L" : "Drag: Pan";
    }],
    [zoomIn, "click", () => zoomAt(1.25)],
    [zoomOut, "click", () => zoomAt(1 / 1.25)],
    [resetButton, "click", () => reset()],
    [legend, "pointerdown", (event) => event.stopPropagation()], // clicks here are not drags
    [overlayCheckbox, "change", () => setOverlaysVisible(overlayCheckbox.checked)],
    [legendList, "change", (event) => {
      const segment = state.overlays.segments[Number(event.target.dataset.segment)];
      if (!segment) return;
      segment.visible = event.target.checked;
      state.overlays.rendered = new Map();
      schedule();
    }],
    [findingsList, "click", (event) => {
      const id = event.target.dataset && event.target.dataset.markId;
      if (id) api.jumpToMark(id);
    }],
  ];
  for (const [target, type, handler, opts] of listeners) target.addEventListener(type, handler, opts);
  const resizer = new ResizeObserver(() => schedule());
  resizer.observe(stage);

  const api = {
    loadSeries,
    setMarks(marks) {
      state.marks = (marks || []).map(normaliseMark).filter(Boolean);
      placeMarks();
      renderFindings();
      // The server hid the AI's segmentation (second reader, before the first read); marks being
      // given is the page's sign that AI output may now be shown: ask again.
      if (state.overlays.status === "hidden" && state.geo && state.controller) fetchOverlays(state.generation);
      schedule();
    },
    setMarksVisible(visible) {
      state.marksVisible = Boolean(visible);
      root.dataset.marksVisible = state.marksVisible ? "1" : "0";
      renderFindings();
      renderLegend();
      schedule();
    },
    setOverlaysVisible,
    jumpToMark,
    setPickMode(on) {
      state.pickMode = Boolean(on);
      root.dataset.pickMode = state.pickMode ? "1" : "0";
      stage.style.cursor = state.pickMode ? "crosshair" : "";
    },
    setPreset(name) {
      const preset = state.presets[name];
      if (!preset) throw new Error(`unknown preset ${name}`);
      setWindow(preset.center, preset.width);
    },
    setWindow,
    setSlice(index) { setIndex(index); },
    get info() {
      return { seriesId: state.seriesId, slice: state.index, count: state.geo ? state.geo.slices.length : 0,
        instanceId: state.geo && state.geo.slices.length ? state.geo.slices[state.index].id : null,
        loaded: state.loadedCount, window: { ...state.window },
        failedSlices: [...state.sliceErrors.keys()].sort((a, b) => a - b).map((k) => k + 1), zoom: state.zoom, pan: [...state.pan],
        marksVisible: state.marksVisible,
        marks: state.marks.map((m) => ({ id: m.id, kind: m.kind, slice: m._slice })),
        overlays: { status: state.overlays.status, visible: overlaysShown(),
          segments: state.overlays.segments.map((s) => ({ label: s.label, number: s.number, colour: s.colour,
            sop_instance_uid: s.sop_instance_uid, slices: [...s.slices.keys()].sort((a, b) => a - b) })) } };
    },
    get stats() { return { ...state.stats, draws: [...state.stats.draws] }; },
    element: root,
    destroy() {
      state.destroyed = true;
      state.generation += 1;
      if (state.controller) state.controller.abort();
      if (state.frame) cancelAnimationFrame(state.frame);
      for (const [target, type, handler, opts] of listeners) target.removeEventListener(type, handler, opts);
      resizer.disconnect();
      state.pixels = [];
      root.remove();
    },
  };
  return api;
}
