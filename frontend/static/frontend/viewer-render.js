// The viewer's rendering: window presets per modality, the window lookup table and rasterising a
// slice into RGBA (greyscale through the table, colour as it is).

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
