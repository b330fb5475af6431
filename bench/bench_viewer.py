"""Bench the study page's viewer end to end: Orthanc -> pixel proxy (uvicorn) -> headless Chromium.

    .venv/bin/python bench/bench_viewer.py [--slices 300] [--matrix 512] [--runs 3]

Starts its own Orthanc (scripts/orthanc.sh) and uvicorn on spare ports with a throwaway SQLite
database, stores a synthetic chest CT, logs a radiologist in through the real login form and opens
the viewer on a page of the server's origin. Each run is a fresh browser context (nothing cached in
the page); the archive's files stay in the OS page cache between runs, as on a busy server.

Measures: time from loadSeries() to the first image on screen (and from navigation start), time
until every slice is held in the page, bytes over the wire, and per-slice scroll cost once cached:
the draw itself and the time from a wheel event to the painted frame. Prints a markdown table of
medians over the runs.

With --overlay-slices > 0 (default 24) it also stores a synthetic prostate MRI and an AI-style DICOM SEG
(3 segments: transition zone, peripheral zone, lesion, built with highdicom) over its T2 series, opens
that series, and measures the overlay request (the SEG read and decoded on the server the first time,
then from its cache) and the time until the overlay is first painted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import processes  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "bench-password-1"

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>viewer bench</title>
<style>html, body { margin: 0; height: 100%; } #v { height: 100vh; }</style></head>
<body><div id="v"></div><script type="module">
import { createViewer } from "/static/frontend/viewer.js";
const q = new URLSearchParams(location.search);
window.viewer = createViewer(document.getElementById("v"), { studyId: Number(q.get("study")),
  chunkSize: Number(q.get("chunk")), parallel: Number(q.get("parallel")) });
window.loaded = window.viewer.loadSeries(Number(q.get("series"))).then(() => ({
  firstImageMs: window.viewer.stats.firstImageMs, sinceNavigationMs: performance.now() }));
window.cached = new Promise((resolve) => window.viewer.element.addEventListener("viewer:cached",
  (event) => resolve(event.detail.ms)));
window.overlays = new Promise((resolve) => window.viewer.element.addEventListener("viewer:overlays",
  (event) => resolve(event.detail)));
</script></body></html>"""

# After the overlay has arrived: move to the slice with most of it and wait for that frame.
OVERLAY_PAINT = """async () => {
  const info = window.viewer.info.overlays;
  const counts = new Map();
  for (const s of info.segments) for (const k of s.slices) counts.set(k, (counts.get(k) || 0) + 1);
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  await frame();
  await frame();
  const firstPaintMs = window.viewer.stats.overlayFirstPaintMs;
  const busiest = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const t0 = performance.now();
  window.viewer.setSlice(busiest);
  while (window.viewer.element.dataset.overlaySlice !== "1") await frame();
  return { firstPaintMs, sliceWithOverlayMs: performance.now() - t0, renderMs: window.viewer.stats.overlayRenderMs,
           segments: info.segments.length };
}"""

SCROLL = """async (steps) => {
  const stage = document.querySelector(".viewer-stage");
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  await frame();
  const before = window.viewer.stats.draws.length;
  const latencies = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    stage.dispatchEvent(new WheelEvent("wheel", { deltaY: 100, bubbles: true, cancelable: true }));
    await frame();  // the viewer's draw was queued first, so it has run when this resolves
    latencies.push(performance.now() - t0);
  }
  return { draws: window.viewer.stats.draws.slice(before), latencies, slice: window.viewer.info.slice };
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_env(tmp: Path, http_port: int, dicom_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_COOKIES": "0", "DJANGO_HSTS_SECONDS": "0",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "VAR_DIR": str(tmp),
        "ORTHANC_HTTP_PORT": str(http_port), "ORTHANC_DICOM_PORT": str(dicom_port),
        "ORTHANC_URL": f"http://127.0.0.1:{http_port}", "ORTHANC_USERNAME": "triage",
        "ORTHANC_PASSWORD": "bench-orthanc-password", "ORTHANC_STORAGE": str(tmp / "orthanc"),
        "ORTHANC_ADMIN_USERNAME": "orthanc-admin", "ORTHANC_ADMIN_PASSWORD": "bench-orthanc-admin-password",
        "DICOM_MODALITIES": "MODSIM@127.0.0.1",
        "ORTHANC_NAME": "viewer-bench", "ORTHANC_STABLE_AGE": "60", "PYTHONUNBUFFERED": "1",
        # The worklist page joins a Channels group on login; keep it off the demo's Redis database.
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"),
    })
    return env


def store_study(args) -> tuple[int, int, int]:
    """Generate the CT, store it in Orthanc, and record it as ingestion would (without the AI queue)."""
    import io

    from django.utils import timezone

    from accounts.models import Role, User
    from archive.orthanc import post_instance
    from inference.synthetic import generate_study
    from worklist.models import Series, Study

    started = time.monotonic()
    ct = generate_study("chest_ct", seed=args.seed, matrix=args.matrix, slices=args.slices)
    print(f"generated {len(ct.datasets)} slices of {args.matrix}x{args.matrix} in {time.monotonic() - started:.1f} s",
          flush=True)
    started = time.monotonic()
    answer = {}
    for ds in ct.datasets:
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        answer = post_instance(buffer.getvalue())
    print(f"stored in Orthanc in {time.monotonic() - started:.1f} s", flush=True)
    first = ct.datasets[0]
    study = Study.objects.create(study_instance_uid=ct.study_instance_uid, orthanc_id=answer["ParentStudy"],
                                 modality="CT", arrived_at=timezone.now(), instance_count=len(ct.datasets),
                                 series_count=1)
    series = Series.objects.create(study=study, series_instance_uid=str(first.SeriesInstanceUID),
                                   orthanc_id=answer["ParentSeries"], modality="CT",
                                   description=str(first.SeriesDescription), instance_count=len(ct.datasets))
    User.objects.create_user(username="bench", password=PASSWORD, role=Role.RADIOLOGIST)
    return study.pk, series.pk, len(ct.datasets)


def store_prostate_with_seg(args) -> tuple[int, int]:
    """A synthetic prostate MRI's T2 series and an AI-style SEG over it, recorded as ingestion would."""
    from django.utils import timezone

    from archive.orthanc import post_instance
    from tests.imaging.helpers import dicom_bytes
    from tests.imaging.seg_helpers import prostate_seg, prostate_t2
    from worklist.models import Series, Study

    started = time.monotonic()
    t2, truth = prostate_t2(seed=args.seed, t2_matrix=args.overlay_matrix, slices=args.overlay_slices)
    seg = prostate_seg(t2, truth)
    answer = {}
    for ds in t2:
        answer = post_instance(dicom_bytes(ds))
    post_instance(dicom_bytes(seg))
    study = Study.objects.create(study_instance_uid=str(t2[0].StudyInstanceUID), orthanc_id=answer["ParentStudy"],
                                 modality="MR", arrived_at=timezone.now(), instance_count=len(t2) + 1,
                                 series_count=2)
    series = Series.objects.create(study=study, series_instance_uid=str(t2[0].SeriesInstanceUID),
                                   orthanc_id=answer["ParentSeries"], modality="MR",
                                   description=str(t2[0].SeriesDescription), instance_count=len(t2))
    print(f"prostate T2 ({len(t2)} slices of {args.overlay_matrix}x{args.overlay_matrix}) and its SEG "
          f"({seg.NumberOfFrames} frames) stored in {time.monotonic() - started:.1f} s", flush=True)
    return study.pk, series.pk


def run_browser(args, url: str, study_id: int, series_id: int, count: int, overlay_ids=None) -> list[dict]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for run in range(args.runs):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.goto(url + "/login/")
            page.fill("input[name=username]", "bench")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(url + "/")
            viewer_url = (f"{url}/__viewer_bench__/?study={study_id}&series={series_id}"
                          f"&chunk={args.chunk}&parallel={args.parallel}")
            page.route(viewer_url, lambda route: route.fulfill(status=200, content_type="text/html", body=PAGE))
            page.goto(viewer_url)
            first = page.evaluate("() => window.loaded")
            cached_ms = page.evaluate("() => window.cached")
            stats = page.evaluate("() => window.viewer.stats")
            scroll = page.evaluate(SCROLL, min(args.scroll_steps, count - 1))
            assert scroll["slice"] == min(args.scroll_steps, count - 1), scroll["slice"]
            result = {
                "first_image_ms": first["firstImageMs"], "first_since_navigation_ms": first["sinceNavigationMs"],
                "geometry_ms": stats["geometryMs"], "all_cached_ms": cached_ms, "bytes": stats["bytes"],
                "requests": stats["requests"],
                "draw_median_ms": statistics.median(scroll["draws"]), "draw_p95_ms": percentile(scroll["draws"], 0.95),
                "frame_median_ms": statistics.median(scroll["latencies"]),
                "frame_p95_ms": percentile(scroll["latencies"], 0.95),
            }
            if overlay_ids:
                overlay_url = (f"{url}/__viewer_bench__/?study={overlay_ids[0]}&series={overlay_ids[1]}"
                               f"&chunk={args.chunk}&parallel={args.parallel}")
                page.route(overlay_url, lambda route: route.fulfill(status=200, content_type="text/html", body=PAGE))
                page.goto(overlay_url)
                page.evaluate("() => window.loaded")
                fetched = page.evaluate("() => window.overlays")
                painted = page.evaluate(OVERLAY_PAINT)
                assert fetched["segments"] == painted["segments"] == 3, (fetched, painted)
                result.update(overlay_fetch_ms=fetched["ms"], overlay_first_paint_ms=painted["firstPaintMs"],
                              overlay_slice_render_ms=painted["renderMs"],
                              overlay_slice_switch_ms=painted["sliceWithOverlayMs"])
            print(f"run {run + 1}: " + ", ".join(f"{k}={v:.1f}" for k, v in result.items()), flush=True)
            results.append(result)
            context.close()
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--matrix", type=int, default=512)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=4, help="slices per pixel request")
    parser.add_argument("--parallel", type=int, default=4, help="pixel requests in flight")
    parser.add_argument("--scroll-steps", type=int, default=200)
    parser.add_argument("--overlay-slices", type=int, default=24,
                        help="slices of the prostate T2 series under the SEG overlay (0: no overlay bench)")
    parser.add_argument("--overlay-matrix", type=int, default=320)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, archive)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="viewer-bench-"))
    env = bench_env(tmp, processes.free_port(), processes.free_port())
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    python = str(processes.VENV_BIN / "python")
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    orthanc = processes.orthanc_process(env, tmp).start()
    web = None
    try:
        processes.wait_until(lambda: processes.orthanc_ready(env["ORTHANC_URL"], ("triage", env["ORTHANC_PASSWORD"])),
                             timeout=30, what="Orthanc")
        study_id, series_id, count = store_study(args)
        overlay_ids = store_prostate_with_seg(args) if args.overlay_slices > 0 else None
        web_port = processes.free_port()
        web = processes.asgi_process(env, tmp, web_port).start()
        url = f"http://127.0.0.1:{web_port}"
        import requests

        processes.wait_until(lambda: requests.get(url + "/login/", timeout=2).ok, timeout=30, what="uvicorn")
        results = run_browser(args, url, study_id, series_id, count, overlay_ids)
    finally:
        if web is not None:
            web.stop()
        orthanc.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)  # the archive copy of the CT is ~160 MB

    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    raw_mb = count * args.matrix * args.matrix * 2 / 1e6
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print()
    print(f"Viewer bench: {count}-slice {args.matrix}x{args.matrix} synthetic chest CT, {args.runs} runs "
          f"(medians), chunk {args.chunk} slices x {args.parallel} parallel requests, {os.cpu_count()} cores, "
          f"load average {load} at the end")
    print()
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| first image after loadSeries() | {med('first_image_ms'):.0f} ms |")
    print(f"| first image after navigation start | {med('first_since_navigation_ms'):.0f} ms |")
    print(f"| geometry ({count} slices) | {med('geometry_ms'):.0f} ms |")
    print(f"| all {count} slices held in the page | {med('all_cached_ms') / 1000:.1f} s |")
    print(f"| over the wire (gzip byte planes) | {med('bytes') / 1e6:.1f} MB of {raw_mb:.0f} MB raw, "
          f"{med('requests'):.0f} requests |")
    print(f"| scroll, draw per slice (median / p95) | {med('draw_median_ms'):.1f} / {med('draw_p95_ms'):.1f} ms |")
    print(f"| scroll, wheel event to painted frame (median / p95) | {med('frame_median_ms'):.1f} / "
          f"{med('frame_p95_ms'):.1f} ms |")
    if overlay_ids:
        # Run 1 reads and decodes the SEG on the server; later runs are served from its cache.
        cold, warm = results[0], results[1:] or results[:1]
        print(f"| SEG overlay request, first (SEG decoded) / cached (median) | {cold['overlay_fetch_ms']:.0f} / "
              f"{statistics.median(r['overlay_fetch_ms'] for r in warm):.0f} ms |")
        print(f"| SEG overlay, request start to first frame drawn with it, first / cached | "
              f"{cold['overlay_first_paint_ms']:.0f} / "
              f"{statistics.median(r['overlay_first_paint_ms'] for r in warm):.0f} ms |")
        print(f"| SEG overlay, pre-render of one {args.overlay_matrix}x{args.overlay_matrix} slice (3 segments) | "
              f"{med('overlay_slice_render_ms'):.1f} ms |")


if __name__ == "__main__":
    main()
