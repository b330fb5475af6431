// The viewer's loading: the study's image series, and the pixel endpoint's answer into one typed
// array per slice, fetched nearest to the slice in view first over a few parallel requests that the
// series' AbortController cancels. A slice the server could not decode is kept as FAILED, named in
// the viewer's corner and announced by a "viewer:slice-errors" event on the viewer's element.
//
// The body holds the decoded slices in the order asked, the failed ones left out; X-Slice-Errors
// (percent-encoded JSON) names those by slice id with the reason. 16-bit slices come as a low-byte
// plane then a high-byte plane; colour ("rgb8") as R, G and B planes.

import { getBinary, getJson } from "./api.js";
import { el } from "./viewer-util.js";

const NON_IMAGE_MODALITIES = new Set(["SR", "SEG", "PR", "KO", "DOC", "RTSTRUCT", "RTPLAN", "RTRECORD", "REG",
  "ECG", "HD"]);
// Stands in state.pixels for a slice the server could not decode: present, so it is not fetched again.
export const FAILED = Object.freeze({ failed: true });

export function slicesFromResponse(buffer, errorsHeader, batch, geo) {
  const n = geo.rows * geo.columns;
  const perSlice = (geo.dtype === "rgb8" ? 3 : 2) * n;
  const errors = JSON.parse(decodeURIComponent(errorsHeader || "%7B%7D"));
  const shown = batch.filter((k) => !(geo.slices[k].id in errors));
  if (buffer.byteLength !== shown.length * perSlice) throw new Error("unexpected pixel data size");
  const bytes = new Uint8Array(buffer);
  const pixels = new Map();
  shown.forEach((k, b) => {
    if (geo.dtype === "rgb8") {
      pixels.set(k, bytes.slice(perSlice * b, perSlice * (b + 1)));
      return;
    }
    const low = bytes.subarray(perSlice * b, perSlice * b + n);
    const high = bytes.subarray(perSlice * b + n, perSlice * (b + 1));
    // Int16Array stores high << 8 | low modulo 2^16, which is exactly the two's-complement value.
    const out = geo.dtype === "int16" ? new Int16Array(n) : new Uint16Array(n);
    for (let p = 0; p < n; p++) out[p] = low[p] | (high[p] << 8);
    pixels.set(k, out);
  });
  const failed = new Map(batch.filter((k) => geo.slices[k].id in errors).map((k) => [k, errors[geo.slices[k].id]]));
  return { pixels, failed };
}

// Owns state.seriesList, pixels, inflight, active, loadedCount, sliceErrors, failed and holdPrefetch.
export function createLoader(ctx) {
  const { state, dom, options } = ctx;
  const { root, overlay, seriesSelect } = dom;
  const { studyId, apiBase, chunkSize, parallel, series } = options;

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

  // The failed slices in the corner and on the element; the page hears of new ones by an event
  // (it reports a series with slices it could not show: the signing guard asks why).
  function showSliceErrors(geo, newlyFailed) {
    if (!state.sliceErrors.size) return;
    const numbers = [...state.sliceErrors.keys()].sort((a, b) => a - b).map((k) => k + 1);
    overlay.failed.textContent = `${numbers.length} of ${geo.slices.length} slices could not be shown: `
      + `${numbers.join(", ")}`;
    root.dataset.failedSlices = numbers.join(",");
    if (!newlyFailed) return;
    root.dispatchEvent(new CustomEvent("viewer:slice-errors", { detail: { seriesId: state.seriesId,
      slices: numbers, reasons: [...new Set(state.sliceErrors.values())], count: geo.slices.length } }));
  }

  async function fetchSlices(batch, gen) {
    const geo = state.geo;
    batch.forEach((k) => state.inflight.add(k));
    state.active += 1;
    const ids = batch.map((k) => geo.slices[k].id).join(",");
    const url = `${apiBase}/studies/${studyId}/series/${state.seriesId}/pixels/?ids=${encodeURIComponent(ids)}`;
    try {
      const { buffer, headers } = await getBinary(url, { signal: state.controller.signal });
      if (gen !== state.generation) return;
      state.stats.bytes += Number(headers.get("Content-Length")) || buffer.byteLength;
      state.stats.requests += 1;
      const { pixels, failed } = slicesFromResponse(buffer, headers.get("X-Slice-Errors"), batch, geo);
      for (const [k, values] of pixels) state.pixels[k] = values;
      for (const [k, reason] of failed) {
        state.pixels[k] = FAILED;
        state.sliceErrors.set(k, reason);
      }
      state.loadedCount += pixels.size + failed.size;
      showSliceErrors(geo, failed.size > 0);
      if (batch.includes(state.index)) ctx.render.schedule();
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

  return { loadSeriesList, fetchSlices, pump };
}
