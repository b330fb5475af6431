"""OHIF through the application, in headless Chromium, on what the real models wrote.

Three studies go to Orthanc by C-STORE, a Celery worker runs the built-in lung, mammography and
prostate models, and OHIF (npm @ohif/app, served by the application, reading its DICOMweb
endpoint) must list and draw the nodule measurement on the chest CT, the mass mark on each
mammography view that holds it (rendered, not black), and the prostate SEG's segments over the
T2 images; the prostate SR must load. A clinician reaches OHIF for her own patient only, and a
DICOMweb request for another patient's study is refused and audited. Every SR and SEG the
models stored passes dciodvfy. One test: the stack (Orthanc, worker, web server, browser) starts
once, as the machine is small.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pydicom
import pytest
from django.conf import settings
from PIL import Image
from playwright.sync_api import expect

from accounts.models import Role
from archive.orthanc import get_binary, get_json
from clinician.services import referrer_link
from inference.cad.lung_nodule.model import LungNoduleModel
from inference.cad.mammography.model import MammographyModel
from inference.cad.prostate.model import ProstateModel
from inference.models import AnalysisRun
from inference.synthetic import generate_study
from tests.support import processes
from tests.support.dicom import c_store, dciodvfy_errors
from tests.ui.conftest import screenshot
from worklist.models import AuditEvent, Study

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MODELS = ("inference.cad.lung_nodule.model:LungNoduleModel,inference.cad.mammography.model:MammographyModel,"
          "inference.cad.prostate.model:ProstateModel")
LUNG_SEED = 1037  # one solid nodule of 13.8 mm (tests/cad/test_lung_end_to_end.py)
MAMMO_SEED = 18  # one right-breast spiculated mass seen in RCC and RMLO (tests/ui/test_cad_results_...)
PROSTATE_SEED = 1026  # one right PZ lesion (tests/cad/test_prostate_end_to_end.py)
# The viewer has WebGL in headless Chromium through SwiftShader (software).
CHROMIUM_OHIF_ARGS = ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--enable-unsafe-swiftshader"]

SR_DISPLAY_SET = """(description) => {
  const set = services.displaySetService.getActiveDisplaySets().find((d) => d.SeriesDescription === description);
  return set && set.isLoaded ? set.measurements.map((m) => ({ id: m.TrackingIdentifier, loaded: m.loaded,
    labels: m.labels.map((l) => `${l.label}: ${l.value}`),
    image: m.coords?.[0]?.ReferencedSOPSequence?.ReferencedSOPInstanceUID,
    on: m.displaySetInstanceUID && services.displaySetService.getDisplaySetByUID(m.displaySetInstanceUID)
      ?.SeriesDescription })) : null;
}"""
DRAWN_MARKS = """() => [...document.querySelectorAll("svg.svg-layer [data-annotation-uid]")].map((g) => g.textContent)
  .concat([...document.querySelectorAll("svg.svg-layer ellipse, svg.svg-layer polyline")].map(() => "shape"))"""
SEGMENTS = """() => services.segmentationService.getSegmentations()
  .flatMap((s) => Object.values(s.segments).filter(Boolean).map((x) => x.label))"""


@pytest.fixture
def cad_worker(orthanc, subprocess_env, service_logs):
    worker = processes.celery_worker_process(dict(subprocess_env, CAD_MODELS=MODELS), service_logs).start()
    yield worker
    worker.stop()


@pytest.fixture(scope="module")
def ohif_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=CHROMIUM_OHIF_ARGS)
        yield browser
        browser.close()


class Session:
    """A logged-in browser context that records every request and page error."""

    def __init__(self, browser, base_url: str, user):
        self.base_url, self.requests, self.errors = base_url, [], []
        self.context = browser.new_context(viewport={"width": 1500, "height": 950})
        self.context.on("request", lambda r: self.requests.append(r.url))
        # Every Content-Security-Policy violation in any page of the session (the policy is enforced:
        # a blocked script, worker, style or fetch is listed here and the test fails on it).
        self.csp_violations: list[str] = []
        self.context.expose_function("reportCspViolation", lambda text: self.csp_violations.append(text))
        self.context.add_init_script("document.addEventListener('securitypolicyviolation', (e) => "
                                     "window.reportCspViolation(`${e.effectiveDirective} ${e.blockedURI} "
                                     "${e.sourceFile}:${e.lineNumber}`));")
        page = self.context.new_page()
        page.goto(base_url + "/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", "pw-" + user.username)
        with page.expect_navigation():
            page.click("button[type=submit]")
        self.page = page

    def watch(self, page):
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def open_tab(self, click):
        """A link that opens OHIF in a new tab."""
        with self.context.expect_page() as opened:
            click()
        return self.watch(opened.value)


def ohif_ready(page, thumbnails: int, *, first_visit: bool) -> None:
    """OHIF has started on the study: its thumbnails are listed. On a browser's first visit OHIF
    shows a tour and its "investigational use" note (remembered in local storage): closed here."""
    expect(page.locator("[data-cy='study-browser-thumbnail'], [data-cy='study-browser-thumbnail-no-image']")
           ).to_have_count(thumbnails, timeout=90_000)
    if first_visit:
        for note in ("Skip all", "Confirm and hide"):
            page.get_by_text(note).first.click(timeout=30_000)
    # An image is on screen (its series named in the viewport): OHIF now takes a double click on a result.
    expect(page.locator("[data-cy='viewport-overlay-top-left']").first).not_to_be_empty(timeout=90_000)


def wait_for(page, script: str, arg=None, *, timeout: float = 60_000):
    return page.wait_for_function(f"(arg) => {{ const v = ({script})(arg); return v && v.length ? v : null; }}",
                                  arg=arg, timeout=timeout).json_value()


def repaint_once_marks_are_placed(page) -> None:
    """OHIF 3.13 can place an SR's marks on their images without repainting the viewport (seen on
    both CT and mammography, depending on timing); a user sees them at the next pan, zoom or
    scroll. The test repaints, as such an action would, once OHIF says a mark is placed."""
    page.wait_for_function("() => services.displaySetService.getActiveDisplaySets()"
                           ".some((d) => d.Modality === 'SR' && d.measurements?.some((m) => m.loaded))",
                           timeout=60_000)
    page.evaluate("() => cornerstone.getRenderingEngines().forEach((engine) => engine.render())")


def coloured_pixels(page) -> int:
    """Pixels of the viewport in colour: the images are grey, so only an overlay paints colour."""
    box = page.locator("[data-cy='viewport-pane']").first.bounding_box()
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB")).astype(int)
    return int(((shot.max(axis=2) - shot.min(axis=2)) > 40).sum())


def _analysed(uid: str) -> Study:
    return processes.wait_until(
        lambda: Study.objects.filter(study_instance_uid=uid, status__in=("analysed", "ai_failed")).first(),
        timeout=300, what=f"study {uid} analysed")


@pytest.mark.timeout(1200)  # three real analyses and three viewer sessions on a small shared machine
def test_ohif_shows_the_models_results_and_a_clinician_sees_only_her_patient(
        cad_worker, web_server, ohif_browser, radiologist, make_user, tmp_path):
    chest = generate_study("chest_ct", seed=LUNG_SEED, matrix=256, slices=80, n_nodules=1)
    mammo = generate_study("mammography", seed=MAMMO_SEED, matrix="standard", n_lesions=1, density="b")
    prostate = generate_study("prostate_mri", seed=PROSTATE_SEED, n_lesions=1)
    for study in (chest, mammo, prostate):
        c_store(study.datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
                called_aet=settings.ORTHANC_DICOM_AET)
    ct, mg, mr = (_analysed(s.study_instance_uid) for s in (chest, mammo, prostate))
    for study in (ct, mg, mr):
        assert study.status == "analysed", study.status_reason

    # Every SR and SEG the models stored is valid DICOM.
    results = [instance for s in get_json("studies") for series in get_json(f"studies/{s}/series")
               if series["MainDicomTags"].get("Modality") in ("SR", "SEG") for instance in series["Instances"]]
    assert len(results) == 4  # lung SR, mammography SR, prostate SEG and SR
    for instance in results:
        raw = get_binary(f"instances/{instance}/file")
        assert dciodvfy_errors(raw, tmp_path) == [], pydicom.dcmread(io.BytesIO(raw)).SeriesDescription

    rosa = Session(ohif_browser, web_server.url, radiologist)

    # Chest CT, from the reading page: the nodule is listed with its measurements and drawn on its image.
    rosa.page.goto(f"{web_server.url}/studies/{ct.pk}/")
    page = rosa.open_tab(lambda: rosa.page.click("#open-ohif"))
    ohif_ready(page, thumbnails=2, first_visit=True)
    page.get_by_text("AI lung_nodule").first.dblclick()
    nodules = wait_for(page, SR_DISPLAY_SET, f"AI lung_nodule {LungNoduleModel.version}")
    assert nodules[0]["id"] == "Nodule 1" and any(lab.startswith("Long axis") for lab in nodules[0]["labels"])
    repaint_once_marks_are_placed(page)
    marks = wait_for(page, DRAWN_MARKS)
    assert "shape" in marks and any("Long axis" in m for m in marks), marks
    screenshot(page, "ohif-lung-nodule-sr")
    page.close()  # one viewer at a time on a small machine

    # Mammography, from the worklist row: rendered (not black), the mass marked on both right views.
    rosa.page.goto(f"{web_server.url}/")
    row = rosa.page.locator(f"tr[data-study-id='{mg.pk}']")
    page = rosa.open_tab(lambda: row.locator("a.ohif-link").click())
    ohif_ready(page, thumbnails=5, first_visit=False)
    page.get_by_text("AI mammography").first.dblclick()
    lesions = wait_for(page, SR_DISPLAY_SET, f"AI mammography {MammographyModel.version}")
    marks_listed = [m for m in lesions if m["id"].startswith("Lesion 1")]
    # One measurement per view (not merged into one), each placed by OHIF on its own view's image.
    views = {v["view"]: v for f in AnalysisRun.objects.get(study=mg, model_name="mammography").result["findings"]
             for v in f["views"]}
    assert {(m["image"], m["on"], m["loaded"]) for m in marks_listed} == {
        (views["RCC"]["sop_instance_uid"], "R CC", True), (views["RMLO"]["sop_instance_uid"], "R MLO", True)}
    # The SR viewport opens on the first mark: drawn on the rendered (not black) R CC image. Its arrows
    # step through marks of one image stack only, so the R MLO mark is checked as placed, above.
    repaint_once_marks_are_placed(page)
    expect(page.locator("svg.svg-layer ellipse")).to_have_count(1, timeout=60_000)
    expect(page.locator("[data-cy='viewport-overlay-top-left']").first).to_contain_text("R CC")
    lit = np.asarray(Image.open(io.BytesIO(page.locator("[data-cy='viewport-pane']").first.screenshot())))
    assert (lit[..., :3].max(axis=2) > 60).mean() > 0.1  # an image, not a black viewport
    screenshot(page, "ohif-mammography-sr")
    page.close()

    # Prostate MRI: the SR loads (groups without an image region), the SEG's segments are listed and drawn.
    page = rosa.watch(rosa.context.new_page())
    page.goto(f"{web_server.url}/ohif/studies/{mr.pk}/")
    ohif_ready(page, thumbnails=5, first_visit=False)
    page.get_by_text(f"AI prostate {ProstateModel.version}", exact=True).first.dblclick()
    zones = wait_for(page, SR_DISPLAY_SET, f"AI prostate {ProstateModel.version}")
    assert {"Peripheral zone", "Transition zone"} <= {m["id"] for m in zones}
    page.get_by_text(f"AI prostate {ProstateModel.version} SEG").first.dblclick()
    page.get_by_role("button", name="Yes").click()
    segments = wait_for(page, SEGMENTS)
    assert segments[:2] == ["Peripheral zone", "Transition zone"] and segments[2].startswith("Lesion 1")
    page.locator("[data-cy='panelSegmentation-btn']").first.click()
    expect(page.get_by_text("Peripheral zone").first).to_be_visible()
    processes.wait_until(lambda: coloured_pixels(page) > 300, timeout=30, what="the SEG drawn over T2")
    screenshot(page, "ohif-prostate-seg")
    assert not [e for e in rosa.errors if "ReferencedSOPSequence" in e or "VOI LUT" in e], rosa.errors

    # Clara refers the mammography and prostate patients, not the chest CT's.
    clara = make_user("clara", Role.CLINICIAN)
    referrer_link(user=clara, referring_name=str(mammo.datasets[0].ReferringPhysicianName), created_by=None)
    assert str(chest.datasets[0].ReferringPhysicianName) != str(mammo.datasets[0].ReferringPhysicianName)
    own = Session(ohif_browser, web_server.url, clara)
    own.page.goto(f"{web_server.url}/clinician/studies/{mg.pk}/")
    page = own.open_tab(lambda: own.page.click("#open-ohif"))
    ohif_ready(page, thumbnails=5, first_visit=True)
    searched = own.context.request.get(f"{web_server.url}/dicom-web/studies")
    assert {s["0020000D"]["Value"][0] for s in json.loads(searched.body())} == {mg.study_instance_uid,
                                                                               mr.study_instance_uid}
    assert own.context.request.get(f"{web_server.url}/ohif/studies/{ct.pk}/", max_redirects=0).status == 404
    refused = own.context.request.get(f"{web_server.url}/dicom-web/studies/{ct.study_instance_uid}/metadata")
    assert (refused.status, json.loads(refused.body())) == (404, {"detail": "Not found."})
    assert AuditEvent.objects.filter(user=clara, action="dicomweb.refused", study=ct).exists()
    assert AuditEvent.objects.filter(user=clara, action="dicomweb.metadata", study=mg).exists()

    # Nothing came from another server, and no answer of ours was a server error.
    for session in (rosa, own):
        outside = [u for u in session.requests if not u.startswith((web_server.url, "data:", "blob:"))]
        assert outside == []
        # OHIF ran whole under its Content-Security-Policy (config.middleware): nothing was blocked.
        assert session.csp_violations == []
