// Small DOM, vector and slice-geometry helpers of the viewer.

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function dot(a, b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
export function sub(a, b) { return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]; }
export function cross(a, b) { return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]; }

// The series' row and column direction cosines and the slices' normal.
export function sliceAxes(geo) {
  const o = geo.orientation || [1, 0, 0, 0, 1, 0];
  const row = o.slice(0, 3);
  const col = o.slice(3, 6);
  return { row, col, normal: cross(row, col) };
}

// Where a point in patient space (LPS mm) falls on slice k: pixel column, row, distance to the plane.
export function project(geo, point, k) {
  const position = geo.slices[k].position;
  if (!position) return null;
  const { row, col, normal } = sliceAxes(geo);
  const rel = sub(point, position);
  return { i: dot(rel, row) / geo.pixel_spacing[1], j: dot(rel, col) / geo.pixel_spacing[0],
    d: dot(rel, normal) };
}

// The distance between neighbouring slices along the normal (1 mm when it cannot be told).
export function sliceSpacing(geo) {
  const s = geo && geo.slices;
  if (!s || s.length < 2 || !s[0].position) return 1;
  const { normal } = sliceAxes(geo);
  return Math.abs(dot(sub(s[1].position, s[0].position), normal)) || 1;
}

// Where pixel (col, row) of slice k is in the patient, to 0.01 mm, or null without a position:
// DICOM PS3.3 2024 C.7.6.2.1.1,
// P = ImagePositionPatient + col * PixelSpacing[1] * row cosines + row * PixelSpacing[0] * column cosines.
export function patientPosition(geo, k, col, row) {
  const slice = geo.slices[k];
  if (!slice.position) return null;
  const { row: rowCosines, col: colCosines } = sliceAxes(geo);
  return [0, 1, 2].map((a) => Math.round((slice.position[a] + col * geo.pixel_spacing[1] * rowCosines[a]
    + row * geo.pixel_spacing[0] * colCosines[a]) * 100) / 100);
}
