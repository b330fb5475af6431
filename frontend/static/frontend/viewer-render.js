// The viewer's rendering: window presets per modality, the window lookup table, rasterising a
// slice into RGBA (greyscale through the table, colour as it is), and the renderer that paints the
// canvas once per animation frame: slice, segmentation layer, marks, corner texts, zoom and pan.

import { FAILED } from "./viewer-loading.js";
import { el } from "./viewer-util.js";

// Window presets in Hounsfield units: CT only. Other modalities have no absolute scale; they are
// offered the windows in their own headers (mammography's, a radiograph's) and the full range.
export const PRESETS = {
  lung: { label: "Lung", center: -600, width: 1500 },
  mediastinum: { label: "Mediastinum", center: 40, width: 400 },
  bone: { label: "Bone", center: 400, width: 1800 },
  brain: { label: "Brain", center: 40, width: 80 },
};

// The presets a series of this modality is offered: name -> { label, center, width }.
export function presetsFor(geo, fullRange = null) {
  if (!geo || geo.dtype === "rgb8") return {};
  const out = geo.modality === "CT" ? { ...PRESETS } : {};
  (geo.windows || []).forEach((w, i) => {
    const name = geo.modality === "CT" ? `header${i + 1}` : `window${i + 1}`;
    out[name] = { label: w.name || (geo.windows.length > 1 ? `Window ${i + 1}` : "Header window"),
      center: w.center, width: w.width };
  });
  if (geo.modality !== "CT" && fullRange) out.full = { label: "Full range", ...fullRange };
  return out;
}

// DICOM PS3.3 C.11.2.1.2 linear window function over every 16-bit value, as RGBA words.
export function windowLut({ center, width }, { signed, invert }) {
  const lut = new Uint32Array(65536);
  const offset = signed ? 32768 : 0;
  const c = center - 0.5;
  const w = Math.max(width - 1, 1);
  for (let v = 0; v < 65536; v++) {
    const x = v - offset;
    let g = ((x - c) / w + 0.5) * 255;
    g = g <= 0 ? 0 : g >= 255 ? 255 : g | 0;
    if (invert) g = 255 - g;
    lut[v] = 0xff000000 | (g << 16) | (g << 8) | g;
  }
  return lut;
}

// One slice into `out` (RGBA words): 16-bit values through the table, or R, G, B planes ("rgb8").
export function rasteriseSlice(out, src, geo, lut) {
  if (geo.dtype === "rgb8") {
    // R, G, B planes into RGBA little-endian words; colour images are not windowed.
    const n = geo.rows * geo.columns;
    for (let p = 0; p < n; p++) out[p] = 0xff000000 | (src[2 * n + p] << 16) | (src[n + p] << 8) | src[p];
    return;
  }
  const offset = geo.dtype === "int16" ? 32768 : 0;
  for (let p = 0, n = src.length; p < n; p++) out[p] = lut[src[p] + offset];
}

// A window spanning a slice's values (every 7th pixel is enough).
export function windowFromPixels(values) {
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < values.length; p += 7) {
    if (values[p] < min) min = values[p];
    if (values[p] > max) max = values[p];
  }
  return { center: (min + max) / 2, width: Math.max(1, max - min) };
}

// The window a series opens with: its header's first, the mediastinum for CT, else null (then the
// first slice's values decide).
export function initialWindow(geo) {
  const header = geo.windows && geo.windows[0];
  if (header) return { center: header.center, width: header.width };
  if (geo.modality === "CT") return { ...PRESETS.mediastinum };
  return null;
}

// Owns state.window, presets, lut, zoom and pan; draws what the other parts hold (ctx.seg, ctx.marks).
export function createRenderer(ctx) {
  const { state, dom } = ctx;
  const { root, stage, canvas, overlay, presetBox } = dom;
  const context = canvas.getContext("2d");
  const raster = document.createElement("canvas"); // the slice at native resolution
  const rasterContext = raster.getContext("2d");

  function renderPresets() {
    state.presets = presetsFor(state.geo, state.fullRange);
    presetBox.replaceChildren(...Object.entries(state.presets).map(([name, preset]) => {
      const button = el("button", "viewer-preset", preset.label);
      button.type = "button";
      button.dataset.preset = name;
      return button;
    }));
  }

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

  function firstImageSettled() {
    if (state.firstImageResolve) state.firstImageResolve();
    state.firstImageResolve = state.firstImageReject = null;
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
      firstImageSettled(); // the series is open, this slice cannot be
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
    ctx.seg.draw(context, v, k);
    ctx.marks.draw(context, v);
    const spent = performance.now() - started;
    state.stats.draws.push(spent);
    if (state.stats.draws.length > 1000) state.stats.draws.shift();
    if (state.stats.firstImageMs === null) {
      state.stats.firstImageMs = performance.now() - state.t0;
      root.dispatchEvent(new CustomEvent("viewer:firstimage", { detail: { ms: state.stats.firstImageMs } }));
    }
    firstImageSettled();
  }

  function schedule() {
    if (!state.frame && !state.destroyed) state.frame = requestAnimationFrame(draw);
  }

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

  // Pan so that pixel (i, j) of the slice is in the middle of the stage.
  function centreOn(i, j) {
    state.pan = [0, 0];
    const v = view();
    state.pan = [stage.clientWidth / 2 - (v.x0 + (i + 0.5) * v.sx), stage.clientHeight / 2 - (v.y0 + (j + 0.5) * v.sy)];
  }

  return { schedule, view, renderPresets, setWindow, zoomAt, reset, centreOn };
}
