// The viewer's overlays: AI marks in the neutral form, and SEG masks from the overlays API.

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

