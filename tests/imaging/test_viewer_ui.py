"""The viewer in headless Chromium over a synthetic chest CT with a known nodule."""

from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect
from pydicom.uid import RLELossless

from inference.synthetic import generate_study
from tests.imaging.helpers import archive, ct_series
from tests.ui.conftest import screenshot

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HARNESS = Path(__file__).with_name("viewer_harness.html").read_text()

# Canvas statistics computed in the page: pixels that are not black, and pixels in the marks' amber.
CANVAS_COUNTS = """() => {
  const canvas = document.querySelector(".viewer-canvas");
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let lit = 0, amber = 0;
  for (let p = 0; p < data.length; p += 4) {
    const [r, g, b] = [data[p], data[p + 1], data[p + 2]];
    if (r + g + b > 30) lit++;
    if (r > 150 && g > 90 && b < 60 && r - b > 120) amber++;
  }
  return { lit, amber, total: data.length / 4 };
}"""


def open_harness(page, base_url: str, study_id: int, series_id: int) -> None:
    # A page on the live server's origin, so the session cookie and the real static files apply.
    url = f"{base_url}/__viewer_harness__/?study={study_id}&series={series_id}"
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=HARNESS))
    page.goto(url)


def drawn(page) -> None:
    """Wait until the slice in view has arrived and a frame has been painted with it."""
    expect(page.locator(".viewer")).to_have_attribute("data-ready", "1")
    page.evaluate("() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))")


def test_the_viewer_shows_scrolls_windows_and_marks_a_nodule(login, web_server, orthanc, radiologist):
    ct = generate_study("chest_ct", seed=11, matrix=256, slices=60, n_nodules=1)
    nodule = ct.truth["lesions"][0]
    # The generator writes slices head first, as the viewer orders them: the truth's slice index is ours.
    nodule_slice = round(nodule["center_voxel_zyx"][0]) + 1
    study, series = archive(ct.datasets)

    page = login(radiologist)
    open_harness(page, web_server.url, study.pk, series.pk)
    assert page.evaluate("() => window.viewerLoaded") == "ok"
    viewer = page.locator(".viewer")
    expect(page.locator(".viewer-slice")).to_have_text("Slice 1/60")
    counts = page.evaluate(CANVAS_COUNTS)
    assert counts["lit"] > 0.1 * counts["total"], counts  # an image, not a black canvas

    # The mouse wheel scrolls one slice per notch and reports it.
    page.locator(".viewer-stage").hover()
    page.mouse.wheel(0, 100)
    expect(page.locator(".viewer-slice")).to_have_text("Slice 2/60")
    assert page.evaluate("() => window.sliceChanges") == [1]
    viewer.focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator(".viewer-slice")).to_have_text("Slice 3/60")

    # The header's first window (lung) is applied; a preset button changes it.
    expect(page.locator(".viewer-window")).to_have_text("WL -600 / WW 1500")
    page.get_by_role("button", name="Bone").click()
    expect(page.locator(".viewer-window")).to_have_text("WL 400 / WW 1800")
    page.evaluate("() => window.viewer.setPreset('lung')")
    expect(page.locator(".viewer-window")).to_have_text("WL -600 / WW 1500")

    # A mark at the truth centre, in the lung model's shape, converted by the viewer's own helper.
    page.evaluate("""(n) => window.viewer.setMarks(window.marksFromFindings(
        { findings: [{ id: "n1", centre_mm: n.center_mm, diameter_mm: n.long_axis_mm, type: n.type }] }))""",
                  nodule)
    assert page.evaluate("() => window.viewer.jumpToMark('n1')") is True
    expect(page.locator(".viewer-slice")).to_have_text(f"Slice {nodule_slice}/60")
    expect(page.locator(".viewer-finding")).to_have_count(1)
    drawn(page)
    assert page.evaluate(CANVAS_COUNTS)["amber"] > 20  # the circle is drawn
    # Centred: the mark's circle surrounds the middle of the canvas.
    box = page.locator(".viewer-canvas").bounding_box()
    centre_pixel = page.evaluate("""([x, y]) => {
        const c = document.querySelector('.viewer-canvas'); const r = c.width / c.clientWidth;
        return Array.from(c.getContext('2d').getImageData(Math.round(x * r), Math.round(y * r), 1, 1).data); }""",
                                 [box["width"] / 2, box["height"] / 2])
    assert centre_pixel[0] == centre_pixel[1] == centre_pixel[2]  # grey image there, not the amber ring
    screenshot(page, "viewer")

    # Second-reader mode: the marks and the findings list disappear until the first read is done.
    page.evaluate("() => window.viewer.setMarksVisible(false)")
    drawn(page)
    assert page.evaluate(CANVAS_COUNTS)["amber"] == 0
    expect(page.locator(".viewer-findings")).to_be_hidden()
    page.evaluate("() => window.viewer.setMarksVisible(true)")
    drawn(page)
    assert page.evaluate(CANVAS_COUNTS)["amber"] > 20

    # Far from the nodule, no circle is drawn.
    page.evaluate("() => window.viewer.setSlice(0)")
    drawn(page)
    assert page.evaluate(CANVAS_COUNTS)["amber"] == 0

    # Everything ends up cached in the page.
    expect(viewer).to_have_attribute("data-loaded", "60", timeout=20_000)
    page.evaluate("() => window.viewer.destroy()")
    expect(page.locator(".viewer")).to_have_count(0)


def test_the_viewer_drags_zooms_resets_and_switches_series(login, web_server, orthanc, radiologist):
    first = ct_series(5, shape=(64, 64))
    second = ct_series(3, shape=(64, 64), study_uid=first[0].StudyInstanceUID)
    compressed = ct_series(2, shape=(64, 64), study_uid=first[0].StudyInstanceUID)
    for number, (datasets, description) in enumerate([(second, "Second"), (compressed, "Compressed")], start=2):
        for ds in datasets:
            ds.SeriesNumber, ds.SeriesDescription = number, description
    for ds in compressed:
        ds.compress(RLELossless, encoding_plugin="pydicom")
    study, series = archive(first + second + compressed)
    by_number = {s.series_number: s for s in study.series.all()}

    page = login(radiologist)
    open_harness(page, web_server.url, study.pk, series.pk)
    assert page.evaluate("() => window.viewerLoaded") == "ok"
    window_text, zoom_text = page.locator(".viewer-window"), page.locator(".viewer-ov-tr")
    # No window in the header: a CT opens on the mediastinal window.
    expect(window_text).to_have_text("WL 40 / WW 400")

    # Left drag windows: right is wider, up is brighter (lower level); sensitivity width / 300.
    box = page.locator(".viewer-stage").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 30, steps=4)
    page.mouse.up()
    expect(window_text).to_have_text("WL 0 / WW 480")

    # Right drag pans; the mode button swaps what the left button does.
    page.mouse.move(cx, cy)
    page.mouse.down(button="right")
    page.mouse.move(cx + 40, cy - 20, steps=3)
    page.mouse.up(button="right")
    assert page.evaluate("() => window.viewer.info.pan") == [40, -20]
    page.get_by_role("button", name="Drag: W/L").click()
    expect(page.get_by_role("button", name="Drag: Pan")).to_be_visible()
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 10, cy + 10, steps=2)
    page.mouse.up()
    assert page.evaluate("() => window.viewer.info.pan") == [50, -10]
    expect(window_text).to_have_text("WL 0 / WW 480")

    # Ctrl+wheel and the buttons zoom; Reset restores zoom, pan and the opening window.
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    expect(zoom_text).to_have_text("115 %")
    expect(page.locator(".viewer-slice")).to_have_text("Slice 1/5")  # zooming did not scroll
    page.get_by_role("button", name="+").click()
    expect(zoom_text).to_have_text("144 %")
    page.get_by_role("button", name="Reset").click()
    expect(zoom_text).to_have_text("100 %")
    expect(window_text).to_have_text("WL 40 / WW 400")
    assert page.evaluate("() => window.viewer.info.pan") == [0, 0]

    # Keyboard scrolling once the viewer has focus.
    page.locator(".viewer").focus()
    page.keyboard.press("End")
    expect(page.locator(".viewer-slice")).to_have_text("Slice 5/5")
    page.keyboard.press("PageUp")
    expect(page.locator(".viewer-slice")).to_have_text("Slice 1/5")

    # The series switcher lists the study's series and loads the one picked.
    switcher = page.locator(".viewer-series")
    expect(switcher.locator("option")).to_have_count(3)
    switcher.select_option(str(by_number[2].pk))
    expect(page.locator(".viewer-slice")).to_have_text("Slice 1/3")
    expect(page.locator(".viewer")).to_have_attribute("data-ready", "1")
    # A compressed series (RLE here; every syntax in test_transfer_syntaxes) is decoded by the server.
    switcher.select_option(str(by_number[3].pk))
    expect(page.locator(".viewer-slice")).to_have_text("Slice 1/2")
    expect(page.locator(".viewer")).to_have_attribute("data-ready", "1")


def test_the_viewer_names_slices_it_cannot_show_and_shows_the_rest_and_colour(login, web_server, orthanc,
                                                                              radiologist):
    datasets = ct_series(24, shape=(64, 64))
    for k in (4, 11, 19):  # slices 5, 12 and 20 in reading order (the series runs head first)
        datasets[k].PixelData = datasets[k].PixelData[:100]
    colour = ct_series(1, shape=(64, 64), study_uid=datasets[0].StudyInstanceUID)[0]
    colour.SeriesNumber, colour.SeriesDescription, colour.Modality = 2, "Doppler", "US"
    colour.SamplesPerPixel, colour.PhotometricInterpretation, colour.PlanarConfiguration = 3, "RGB", 0
    colour.BitsAllocated, colour.BitsStored, colour.HighBit = 8, 8, 7
    colour.PixelData = np.tile(np.array([220, 30, 30], np.uint8), (64, 64, 1)).tobytes()  # all red
    study, series = archive(datasets + [colour])

    page = login(radiologist)
    open_harness(page, web_server.url, study.pk, series.pk)
    assert page.evaluate("() => window.viewerLoaded") == "ok"
    viewer = page.locator(".viewer")
    expect(viewer).to_have_attribute("data-loaded", "24")
    expect(viewer).to_have_attribute("data-failed-slices", "5,12,20")
    expect(page.locator(".viewer-failed")).to_have_text("3 of 24 slices could not be shown: 5, 12, 20")
    page.evaluate("() => window.viewer.setSlice(4)")
    expect(page.locator(".viewer-message")).to_contain_text("Slice 5 could not be shown:")
    expect(viewer).to_have_attribute("data-slice-failed", "1")
    page.evaluate("() => window.viewer.setSlice(5)")
    drawn(page)
    expect(page.locator(".viewer-message")).to_have_text("")
    assert page.evaluate(CANVAS_COUNTS)["lit"] > 0

    page.locator(".viewer-series").select_option(str(study.series.get(series_number=2).pk))
    drawn(page)
    expect(page.locator(".viewer-window")).to_have_text("Colour")
    expect(page.locator(".viewer-failed")).to_have_text("")
    red = page.evaluate("""() => {
      const c = document.querySelector(".viewer-canvas");
      const d = c.getContext("2d").getImageData(c.width / 2, c.height / 2, 1, 1).data;
      return [d[0], d[1], d[2]];
    }""")
    assert red == [220, 30, 30]


def test_mammography_gets_its_own_windows_not_ct_presets_or_a_us_label(login, web_server, orthanc, radiologist):
    views = ct_series(1, shape=(64, 48), intercept=0)
    for ds in views:
        ds.Modality, ds.SeriesDescription, ds.RescaleType = "MG", "L CC", "US"  # US: unspecified
        ds.WindowCenter, ds.WindowWidth = 1900, 2600
    study, series = archive(views)

    page = login(radiologist)
    open_harness(page, web_server.url, study.pk, series.pk)
    assert page.evaluate("() => window.viewerLoaded") == "ok"
    drawn(page)
    expect(page.locator(".viewer-preset")).to_have_text(["Header window", "Full range"])
    expect(page.locator(".viewer-ov-tl")).to_have_text("MG · L CC")
    expect(page.locator(".viewer-window")).to_have_text("WL 1900 / WW 2600")
    page.get_by_role("button", name="Full range").click()
    expect(page.locator(".viewer-window")).to_have_text("WL 1000 / WW 1")
