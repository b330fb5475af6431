"""The viewer in headless Chromium: an AI prostate SEG over its T2 series, and image marks on mammograms."""

import math
import random

import numpy as np
import pytest
from django.utils import timezone
from playwright.sync_api import expect
from scipy import ndimage

from accounts.models import ReadingMode, Role
from inference.synthetic import generate_study
from inference.synthetic.prostate_mri import prostate_masks
from tests.imaging.helpers import archive
from tests.imaging.seg_helpers import prostate_seg, prostate_t2
from tests.imaging.test_viewer_ui import CANVAS_COUNTS, drawn, open_harness
from tests.ui.conftest import screenshot

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Pixels whose channels differ: the image is greyscale, so only the overlay (or marks) colour them.
COLOURS = """() => {
  const canvas = document.querySelector(".viewer-canvas");
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let coloured = 0, turquoise = 0, red = 0, green = 0;
  for (let p = 0; p < data.length; p += 4) {
    const [r, g, b] = [data[p], data[p + 1], data[p + 2]];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 25) coloured++;
    if (g - r > 40 && b - r > 40) turquoise++;
    if (r - g > 60 && r - b > 60) red++;
    if (g - r > 25 && g - b > 25) green++;
  }
  return { coloured, turquoise, red, green };
}"""

# The canvas pixel under image pixel (column, row) with the viewer's fit-to-stage mapping at 100 %.
PIXEL_AT = """([col, row, cols, rows, dx, dy]) => {
  const stage = document.querySelector(".viewer-stage");
  const canvas = document.querySelector(".viewer-canvas");
  const w = stage.clientWidth, h = stage.clientHeight, ratio = canvas.width / w;
  const perMm = Math.min(w / (cols * dx), h / (rows * dy));
  const x = (w - cols * perMm * dx) / 2 + (col + 0.5) * perMm * dx;
  const y = (h - rows * perMm * dy) / 2 + (row + 0.5) * perMm * dy;
  return { x, y, scale: perMm * dx,
    rgb: Array.from(canvas.getContext("2d").getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data) };
}"""


def show_slice(page, index: int) -> None:
    page.evaluate(f"() => window.viewer.setSlice({index})")
    expect(page.locator(".viewer-slice")).to_contain_text(f"Slice {index + 1}/")
    drawn(page)


def test_the_ai_segmentation_is_drawn_over_its_series_and_can_be_hidden(login, web_server, orthanc, radiologist):
    t2, truth = prostate_t2(seed=3)
    shuffled = list(t2)
    random.Random(2).shuffle(shuffled)
    study, series = archive(shuffled + [prostate_seg(t2, truth, source_order=shuffled)])
    masks = prostate_masks(truth, "t2w")  # head first, the viewer's order
    middle = int(np.argmax(masks["tz"].sum(axis=(1, 2))))
    outside = next(k for k in range(len(t2)) if not masks["gland"][k].any())
    # The transition-zone pixel deepest inside it (away from outlines and the lesion).
    depth = ndimage.distance_transform_edt(masks["tz"][middle] & ~masks["lesion_1"][middle])
    row, col = np.unravel_index(int(np.argmax(depth)), depth.shape)
    spacing = truth["geometry"]["t2w"]["pixel_spacing_mm"]

    page = login(radiologist)
    open_harness(page, web_server.url, study.pk, series.pk)
    assert page.evaluate("() => window.viewerLoaded") == "ok"
    viewer = page.locator(".viewer")
    expect(viewer).to_have_attribute("data-overlays", "3")  # loaded by the viewer on its own
    legend = page.locator(".viewer-legend")
    expect(legend).to_be_visible()
    expect(legend.locator(".viewer-legend-item")).to_have_text(["Transition zone", "Peripheral zone", "Lesion"])
    info = page.evaluate("() => window.viewer.info.overlays")
    assert info["segments"][0]["slices"] == [k for k in range(len(t2)) if masks["tz"][k].any()]

    show_slice(page, middle)
    counts = page.evaluate(COLOURS)
    assert counts["turquoise"] > 200 and counts["green"] > 200, counts  # TZ (recommended colour), PZ (palette)
    at = page.evaluate(PIXEL_AT, [int(col), int(row), 128, 128, spacing[1], spacing[0]])
    r, g, b, _ = at["rgb"]
    assert g - r > 40 and b - r > 40, at  # turquoise, translucent over the grey image, inside the gland
    screenshot(page, "viewer-seg-overlay")

    show_slice(page, outside)
    assert page.evaluate(COLOURS)["coloured"] == 0  # no gland on this slice: nothing painted

    # The O key and the legend's checkbox hide and show it.
    show_slice(page, middle)
    viewer.focus()
    page.keyboard.press("o")
    expect(viewer).to_have_attribute("data-overlays-visible", "0")
    drawn(page)
    assert page.evaluate(COLOURS)["coloured"] == 0
    expect(page.locator(".viewer-overlay-toggle")).not_to_be_checked()
    page.locator(".viewer-overlay-toggle").click()
    expect(viewer).to_have_attribute("data-overlays-visible", "1")
    drawn(page)
    assert page.evaluate(COLOURS)["turquoise"] > 200

    # One segment off: its colour goes, the others stay.
    page.locator(".viewer-legend-item", has_text="Transition zone").locator("input").click()
    drawn(page)
    counts = page.evaluate(COLOURS)
    assert counts["turquoise"] == 0 and counts["green"] > 200, counts

    # AI output hidden (second-reader mode on the study page): the segmentation goes with the marks.
    page.evaluate("() => window.viewer.setMarksVisible(false)")
    drawn(page)
    assert page.evaluate(COLOURS)["coloured"] == 0
    expect(legend).to_be_hidden()


def test_image_marks_are_drawn_on_their_own_view_only(login, web_server, orthanc, radiologist):
    mg = generate_study("mammography", seed=2, n_lesions=1, matrix="small")
    lesion = mg.truth["lesions"][0]
    assert lesion["breast"] == "R" and set(lesion["views"]) == {"RCC", "RMLO"}
    views = {v["view"]: v for v in mg.truth["views"]}
    result = {"findings": [{
        "lesion_id": "m1", "type": lesion["type"], "breast": "R", "diameter_mm": lesion["size_mm"], "probability": 0.91,
        "views": [{"view": name, "series_instance_uid": views[name]["series_instance_uid"],
                   "sop_instance_uid": views[name]["sop_instance_uid"], "point_px": where["center_px"],
                   "radius_px": (where["bbox_px"][2] - where["bbox_px"][0]) / 2}
                  for name, where in lesion["views"].items()]}]}
    study, _ = archive(mg.datasets)
    by_uid = {s.series_instance_uid: s for s in study.series.all()}
    left_cc = by_uid[views["LCC"]["series_instance_uid"]]

    page = login(radiologist)
    open_harness(page, web_server.url, study.pk, left_cc.pk)
    assert page.evaluate("() => window.viewerLoaded") == "ok"
    viewer = page.locator(".viewer")
    page.evaluate("(result) => window.viewer.setMarks(window.marksFromFindings(result))", result)
    marks = page.evaluate("() => window.viewer.info.marks")
    assert marks == [{"id": "m1:RCC", "kind": "image", "slice": None},
                     {"id": "m1:RMLO", "kind": "image", "slice": None}]
    drawn(page)
    assert page.evaluate(CANVAS_COUNTS)["amber"] == 0  # the other breast: no mark
    expect(page.locator(".viewer-finding")).to_have_count(2)
    expect(page.locator(".viewer-finding").first).to_be_enabled()  # on another series, one click away

    def mark_is_drawn_at(view: str) -> None:
        expect(viewer).to_have_attribute("data-series-id", str(by_uid[views[view]["series_instance_uid"]].pk))
        drawn(page)
        where = lesion["views"][view]
        radius = (where["bbox_px"][2] - where["bbox_px"][0]) / 2
        centre = page.evaluate(PIXEL_AT, [*where["center_px"], 416, 512, 0.56, 0.56])
        ring = centre["scale"] * radius + 3
        hits = page.evaluate("""([x, y, ring]) => {
            const c = document.querySelector('.viewer-canvas'); const ctx = c.getContext('2d');
            const ratio = c.width / c.clientWidth; let hits = 0;
            for (let a = 0; a < 16; a++) {
              const angle = a * Math.PI / 8;
              const d = ctx.getImageData(Math.round((x + ring * Math.cos(angle)) * ratio),
                                         Math.round((y + ring * Math.sin(angle)) * ratio), 1, 1).data;
              if (d[0] > 150 && d[1] > 90 && d[2] < 60 && d[0] - d[2] > 120) hits++;
            }
            return hits; }""", [centre["x"], centre["y"], ring])
        assert hits >= 14, (view, hits, centre)  # the circle is around the lesion, on this view
        assert math.isfinite(centre["scale"])

    # The finding's id opens its first view; a view's id opens that view.
    assert page.evaluate("() => window.viewer.jumpToMark('m1')") is True
    mark_is_drawn_at("RCC")
    assert page.evaluate("() => window.viewer.info.marks")[0]["slice"] == 0
    assert page.evaluate("() => window.viewer.jumpToMark('m1:RMLO')") is True
    mark_is_drawn_at("RMLO")
    screenshot(page, "viewer-mammo-mark")

    # Back on a left view: nothing drawn; hidden marks are not drawn on their own view either.
    page.locator(".viewer-series").select_option(str(by_uid[views["LMLO"]["series_instance_uid"]].pk))
    expect(viewer).to_have_attribute("data-series-id", str(by_uid[views["LMLO"]["series_instance_uid"]].pk))
    drawn(page)
    assert page.evaluate(CANVAS_COUNTS)["amber"] == 0
    page.evaluate("() => window.viewer.jumpToMark('m1:RCC')")
    mark_is_drawn_at("RCC")
    page.evaluate("() => window.viewer.setMarksVisible(false)")
    drawn(page)
    assert page.evaluate(CANVAS_COUNTS)["amber"] == 0


def test_a_second_reader_gets_the_segmentation_once_the_first_read_is_done(login, web_server, orthanc, make_user):
    t2, truth = prostate_t2(seed=3)
    study, series = archive(t2 + [prostate_seg(t2, truth)])
    middle = int(np.argmax(prostate_masks(truth, "t2w")["gland"].sum(axis=(1, 2))))
    reader = make_user("sam", Role.RADIOLOGIST, reading_mode=ReadingMode.SECOND_READER)

    page = login(reader)
    open_harness(page, web_server.url, study.pk, series.pk)
    assert page.evaluate("() => window.viewerLoaded") == "ok"
    viewer = page.locator(".viewer")
    expect(viewer).to_have_attribute("data-overlays", "hidden")  # the server kept it back
    show_slice(page, middle)
    assert page.evaluate(COLOURS)["coloured"] == 0
    expect(page.locator(".viewer-legend")).to_be_hidden()

    # The unaided read is declared; the study page then gives the viewer the AI's marks.
    study.first_read_done_at = timezone.now()
    study.save(update_fields=["first_read_done_at"])
    page.evaluate("() => window.viewer.setMarks([])")
    expect(viewer).to_have_attribute("data-overlays", "3")
    drawn(page)
    assert page.evaluate(COLOURS)["coloured"] > 200
