// The study page's image viewer: a plain canvas over pixels proxied from Orthanc by the API.
//
//   import { createViewer } from "/static/frontend/viewer.js";
//   const viewer = createViewer(element, { studyId, onSliceChange, onPick });
//   await viewer.loadSeries(seriesId);
//   viewer.setMarks([{ id, label, centre_mm: [x, y, z], radius_mm },          // a point in patient space
//                    { id, label, series_instance_uid, sop_instance_uid,         // a point on one image
//                      point_px: [column, row], radius_px }]);                  // (projection views)
//
// Events on viewer.element: viewer:firstimage, viewer:cached, viewer:overlays, viewer:slice-errors.
//
// This module composes the parts and keeps the pages' API; each part owns a share of one state:
//   viewer-loading.js       series list, slices fetched nearest first with abort, per-slice errors
//   viewer-render.js        canvas, window/level and presets by modality, zoom and pan
//   viewer-overlays.js      AI marks, the findings list, pick mode (onPick) for click-to-add findings
//   viewer-segmentation.js  AI segmentations (SEG) and their legend
//   viewer-input.js         wheel, keys, drags and the toolbar;  viewer-dom.js  the elements
// The network is reached through api.js.
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
import { buildViewerDom } from "./viewer-dom.js";
import { createInput } from "./viewer-input.js";
import { createLoader, FAILED } from "./viewer-loading.js";
import { createMarks, marksFromFindings, normaliseMark } from "./viewer-overlays.js";
import { createRenderer, initialWindow, PRESETS, presetsFor, windowFromPixels } from "./viewer-render.js";
import { createSegmentation, decodeRuns } from "./viewer-segmentation.js";

// Pages import these from the viewer, as before the split.
export { decodeRuns, marksFromFindings, PRESETS, presetsFor };

const emptyStats = () => ({ geometryMs: null, firstImageMs: null, allCachedMs: null, bytes: 0, requests: 0, draws: [],
  overlayFetchMs: null, overlayRenderMs: null, overlayFirstPaintMs: null });

export function createViewer(container, options = {}) {
  const { studyId, onSliceChange, onPick, apiBase = "/api", chunkSize = 4, parallel = 4, showFindings = true,
    series = null } = options;
  if (!studyId) throw new Error("createViewer needs a studyId");
  const dom = buildViewerDom(container);
  const { root, overlay, slider, seriesSelect } = dom;

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
    stats: emptyStats(),
    t0: 0,
  };

  // The parts reach each other through ctx, looked up when called.
  const ctx = { state, dom, options: { studyId, onPick, apiBase, chunkSize, parallel, showFindings, series } };
  ctx.render = createRenderer(ctx);
  ctx.loader = createLoader(ctx);
  ctx.marks = createMarks(ctx);
  ctx.seg = createSegmentation(ctx);

  function setIndex(k) {
    const geo = state.geo;
    if (!geo) return;
    const next = Math.max(0, Math.min(geo.slices.length - 1, Math.round(k)));
    if (next === state.index) return;
    state.direction = next > state.index ? 1 : -1;
    state.index = next;
    slider.value = String(next + 1);
    ctx.render.schedule();
    ctx.loader.pump();
    if (onSliceChange) onSliceChange({ index: next, count: geo.slices.length, position: geo.slices[next].position });
  }

  function setPreset(name) {
    const preset = state.presets[name];
    if (!preset) throw new Error(`unknown preset ${name}`);
    ctx.render.setWindow(preset.center, preset.width);
  }

  async function loadSeries(seriesId) {
    if (state.controller) state.controller.abort();
    state.generation += 1;
    const gen = state.generation;
    state.controller = new AbortController();
    overlay.failed.textContent = "";
    delete root.dataset.failedSlices;
    Object.assign(state, { seriesId, geo: null, pixels: [], sliceErrors: new Map(), inflight: new Set(), active: 0,
      loadedCount: 0, holdPrefetch: false, failed: false, firstImageResolve: null, firstImageReject: null, index: 0,
      direction: 1, zoom: 1, pan: [0, 0], lutKey: "", rasterKey: "" });
    state.stats = emptyStats();
    ctx.seg.reset();
    root.dataset.seriesId = String(seriesId);
    root.dataset.ready = "0"; // until this series' slice is on screen
    state.t0 = performance.now();
    overlay.message.textContent = "Loading…";
    overlay.progress.textContent = "";
    root.dataset.loaded = "0";
    ctx.render.schedule();
    ctx.loader.loadSeriesList().catch(() => { seriesSelect.hidden = true; });
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
    ctx.render.renderPresets();
    state.pixels = new Array(geo.slices.length).fill(null);
    state.window = initialWindow(geo) || { center: 0, width: 1 };
    const autoWindow = !initialWindow(geo);
    overlay.series.textContent = [geo.modality, geo.description, geo.units].filter(Boolean).join(" · ");
    slider.max = String(geo.slices.length);
    slider.value = "1";
    ctx.marks.place();
    ctx.marks.renderFindings();
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
    await ctx.loader.fetchSlices([state.index], gen);
    if (gen !== state.generation) return;
    state.holdPrefetch = false;
    if (state.pixels[state.index] && state.pixels[state.index] !== FAILED && geo.dtype !== "rgb8") {
      state.fullRange = windowFromPixels(state.pixels[state.index]);
      if (autoWindow) state.window = { ...state.fullRange };
      ctx.render.renderPresets();
    }
    ctx.render.schedule();
    ctx.loader.pump();
    // After the first image, so that it does not wait behind the SEG's decoding on the server.
    ctx.seg.load(gen);
    await first;
  }

  Object.assign(ctx, { setIndex, setPreset, loadSeries });
  const detach = createInput(ctx).attach();

  return {
    loadSeries,
    setMarks(marks) {
      state.marks = (marks || []).map(normaliseMark).filter(Boolean);
      ctx.marks.place();
      ctx.marks.renderFindings();
      // The server hid the AI's segmentation (second reader, before the first read); marks being
      // given is the page's sign that AI output may now be shown: ask again.
      if (state.overlays.status === "hidden" && state.geo && state.controller) ctx.seg.load(state.generation);
      ctx.render.schedule();
    },
    setMarksVisible(visible) {
      state.marksVisible = Boolean(visible);
      root.dataset.marksVisible = state.marksVisible ? "1" : "0";
      ctx.marks.renderFindings();
      ctx.seg.renderLegend();
      ctx.render.schedule();
    },
    setOverlaysVisible: (visible) => ctx.seg.setVisible(visible),
    jumpToMark: (id) => ctx.marks.jumpTo(id),
    setPickMode: (on) => ctx.marks.setPickMode(on),
    setPreset,
    setWindow: (center, width) => ctx.render.setWindow(center, width),
    setSlice(index) { setIndex(index); },
    get info() {
      return { seriesId: state.seriesId, slice: state.index, count: state.geo ? state.geo.slices.length : 0,
        instanceId: state.geo && state.geo.slices.length ? state.geo.slices[state.index].id : null,
        loaded: state.loadedCount, window: { ...state.window },
        failedSlices: [...state.sliceErrors.keys()].sort((a, b) => a - b).map((k) => k + 1), zoom: state.zoom, pan: [...state.pan],
        marksVisible: state.marksVisible,
        marks: state.marks.map((m) => ({ id: m.id, kind: m.kind, slice: m._slice })),
        overlays: { status: state.overlays.status, visible: ctx.seg.shown(),
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
      detach();
      state.pixels = [];
      root.remove();
    },
  };
}
