// The viewer's loading: the pixel endpoint's answer into one typed array per slice.
//
// The body holds the decoded slices in the order asked, the failed ones left out; X-Slice-Errors
// (percent-encoded JSON) names those by slice id with the reason. 16-bit slices come as a low-byte
// plane then a high-byte plane; colour ("rgb8") as R, G and B planes.

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
