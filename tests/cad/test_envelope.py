"""Operating envelopes: header facts, refusals in words, best-series choice, and the pipeline's "No AI: reason"."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from inference.cad import registry
from inference.cad.base import ModelOutcome, StudyInfo
from inference.cad.envelope import Envelope, OutsideEnvelope, series_choose, series_facts
from inference.cad.external import ManifestError, envelope_from_manifest
from inference.cad.lung_nodule.model import LungNoduleModel
from inference.cad.prostate.model import prostate_envelope_check
from inference.cad.prostate.series import SeriesChoice

LUNG = LungNoduleModel.envelope


def ct_headers(*, slices=80, thickness=1.0, step=None, pixel=0.7, kvp=120, kernel="B60f", drop=(), contrast=""):
    step = thickness if step is None else step
    out = []
    for k in range(slices):
        if k in drop:
            continue
        out.append({"Modality": "CT", "SliceThickness": str(thickness), "PixelSpacing": [str(pixel), str(pixel)],
                    "ImageOrientationPatient": ["1", "0", "0", "0", "1", "0"],
                    "ImagePositionPatient": ["-100", "-100", str(-k * step)], "KVP": str(kvp),
                    "ConvolutionKernel": kernel, "ContrastBolusAgent": contrast})
    return out


def test_facts_come_from_the_positions_not_only_the_stated_thickness():
    facts = series_facts(ct_headers(slices=50, thickness=1.0, step=5.0, drop=(10,)))
    assert facts.slices == 49
    assert facts.slice_thickness_mm == 1.0
    assert facts.slice_spacing_mm == pytest.approx(5.0)
    assert facts.largest_step_mm == pytest.approx(10.0)
    assert facts.coverage_mm == pytest.approx(245.0)
    assert facts.pixel_spacing_mm == pytest.approx(0.7)
    assert facts.kernel == "B60f" and facts.kvp == 120 and not facts.contrast


def test_a_thin_contiguous_chest_ct_is_inside_the_lung_envelope():
    assert LUNG.refusals(series_facts(ct_headers())) == []


@pytest.mark.parametrize(("headers", "reason"), [
    (ct_headers(slices=20, thickness=5.0), "slices 5 mm thick; this model reads 0.5–1.25 mm"),
    (ct_headers(slices=40, thickness=1.0, step=5.0), "gaps of 4 mm between slices (1 mm slices every 5 mm); "
                                                     "this model needs contiguous slices"),
    (ct_headers(slices=90, drop=(40, 41, 42, 43)), "slices missing: a 5 mm jump between two slices"),
    (ct_headers(slices=45), "the series covers 44 mm; this model needs at least 60 mm"),
    (ct_headers(pixel=2.0), "pixels 2.00 mm; this model reads 0.5–1.6 mm"),
    (ct_headers(kvp=70), "tube voltage 70 kVp; this model reads 80–140 kVp"),
])
def test_each_way_out_of_the_lung_envelope_is_said_in_words(headers, reason):
    assert reason in LUNG.refusals(series_facts(headers))


def test_the_thin_series_is_read_when_a_study_has_thin_and_thick():
    thick = ({"orthanc_id": "thick"}, series_facts(ct_headers(slices=20, thickness=5.0)))
    thin = ({"orthanc_id": "thin"}, series_facts(ct_headers(slices=300, thickness=1.0)))
    medium = ({"orthanc_id": "medium"}, series_facts(ct_headers(slices=250, thickness=1.25)))
    assert series_choose([thick, medium, thin], LUNG)["orthanc_id"] == "thin"
    assert series_choose([thick, medium], LUNG)["orthanc_id"] == "medium"


def test_of_two_equally_thin_series_the_preferred_kernel_wins_over_more_images():
    soft = ({"orthanc_id": "soft"}, series_facts(ct_headers(slices=320, kernel="B30f")))
    sharp = ({"orthanc_id": "sharp"}, series_facts(ct_headers(slices=300, kernel="B60f")))
    assert series_choose([soft, sharp], LUNG)["orthanc_id"] == "sharp"


def test_a_study_with_only_thick_series_is_refused_with_the_closest_series_reason():
    thick = ({"orthanc_id": "a"}, series_facts(ct_headers(slices=20, thickness=5.0)))
    thicker = ({"orthanc_id": "b"}, series_facts(ct_headers(slices=12, thickness=8.0)))
    with pytest.raises(OutsideEnvelope) as caught:
        series_choose([thicker, thick], LUNG)
    assert caught.value.reason == "slices 5 mm thick; this model reads 0.5–1.25 mm (the closest of 2 series)"


def test_contrast_is_checked_only_where_the_envelope_says_so():
    unenhanced_only = Envelope(modalities=("CT",), contrast=False)
    enhanced = series_facts(ct_headers(contrast="IOHEXOL"))
    assert unenhanced_only.refusals(enhanced) == ["contrast-enhanced; this model reads unenhanced scans"]
    assert LUNG.refusals(enhanced) == []


def test_the_lung_model_reads_the_thin_series_and_refuses_a_thick_only_study(monkeypatch):
    headers = {"thin": ct_headers(slices=200), "thick": ct_headers(slices=40, thickness=5.0)}
    model = LungNoduleModel(weights="/nonexistent")
    monkeypatch.setattr(model, "series_facts", lambda s: series_facts(headers[s["orthanc_id"]]))

    def study(*names):
        return StudyInfo(study_id=1, orthanc_id="o", modality="CT", modalities=("CT",), body_part="CHEST",
                         study_description="CT CHEST", series=tuple(
                             {"orthanc_id": n, "modality": "CT", "description": n, "instance_count": 40}
                             for n in names))

    assert model.applies_to(study("thick"))  # routing is cheap; the envelope is checked before inference
    assert model.select_series(study("thick", "thin"))["orthanc_id"] == "thin"
    with pytest.raises(OutsideEnvelope, match="slices 5 mm thick"):
        model.select_series(study("thick"))


# --- prostate: required sequences and field strength -------------------------------------------------


def mr_header(*, te=100, tr=4000, b=None, image_type=("ORIGINAL", "PRIMARY", "M"), field=3.0, thickness=3.0,
              pixel=0.56):
    ds = Dataset()
    ds.Modality, ds.Rows, ds.Columns = "MR", 320, 320
    ds.EchoTime, ds.RepetitionTime, ds.ImageType = te, tr, list(image_type)
    ds.MagneticFieldStrength, ds.SliceThickness, ds.PixelSpacing = field, thickness, [pixel, pixel]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    if b is not None:
        ds.DiffusionBValue = b
    return ds


def test_a_prostate_study_without_an_adc_map_is_refused_naming_what_is_missing():
    headers = {"t2": (mr_header(), 24), "dwi": (mr_header(te=72, b=1400, pixel=1.5), 96)}
    with pytest.raises(OutsideEnvelope) as caught:
        prostate_envelope_check(headers, None)
    assert caught.value.reason.startswith("no ADC map series found; this model needs axial T2-weighted")


def test_a_prostate_study_at_1_5_tesla_is_outside_what_was_validated():
    headers = {"t2": (mr_header(field=1.5), 24), "adc": (mr_header(image_type=("DERIVED", "PRIMARY", "ADC")), 24),
               "dwi": (mr_header(te=72, b=1400, pixel=1.5, field=1.5), 96)}
    choice = SeriesChoice(t2w="t2", adc="adc", dwi=["dwi"])
    with pytest.raises(OutsideEnvelope) as caught:
        prostate_envelope_check(headers, choice)
    assert caught.value.reason == ("T2: field strength 1.5 T; this model reads 2.9–3.1 T; "
                                   "DWI: field strength 1.5 T; this model reads 2.9–3.1 T")
    headers = {k: (mr_header(**({"te": 72, "b": 1400, "pixel": 1.5} if k == "dwi" else {})), n)
               for k, (_, n) in headers.items()}
    prostate_envelope_check(headers, choice)  # 3 T: inside


def test_an_external_manifest_declares_its_envelope():
    envelope = envelope_from_manifest({"modalities": ["ct"], "slice_thickness_mm": [0.5, 1.5], "min_slices": 50})
    assert envelope.modalities == ("CT",) and envelope.slice_thickness_mm == (0.5, 1.5)
    assert envelope_from_manifest(None) is None
    with pytest.raises(ManifestError, match="unknown keys"):
        envelope_from_manifest({"slice_thickness": [1, 2]})


# --- the pipeline: "No AI: <reason>" on the worklist, never hidden, never a crash ------------------------


class RefusesThickCt:
    name, version = "thick_refuser", "1"

    def applies_to(self, study):
        return study.modality == "CT"

    def run(self, study):
        raise OutsideEnvelope("slices 5 mm thick; this model reads 0.5–1.25 mm")


class ReadsEveryCt:
    name, version = "reader", "1"

    def applies_to(self, study):
        return study.modality == "CT"

    def run(self, study):
        return ModelOutcome(suspicion=0.1, headline="No nodule found")


@pytest.fixture
def cad_models(settings):
    def use(*paths):
        settings.CAD_MODELS = list(paths)
        registry.registered_models.cache_clear()

    yield use
    registry.registered_models.cache_clear()


@pytest.mark.django_db
def test_a_study_outside_the_only_models_envelope_is_listed_no_ai_with_the_reason(cad_models):
    from inference.models import AnalysisRun
    from inference.services import study_analyse
    from tests.worklist.factories import make_study
    from worklist.models import StudyStatus

    cad_models("tests.cad.test_envelope:RefusesThickCt")
    study = make_study(status=StudyStatus.QUEUED, analysis_generation=1, modality="CT")
    assert study_analyse(study.pk) == "done: no_ai"
    study.refresh_from_db()
    assert study.status == StudyStatus.NO_AI
    assert study.status_reason == "No AI: slices 5 mm thick; this model reads 0.5–1.25 mm"
    run = AnalysisRun.objects.get(study=study)
    assert (run.status, run.suspicion) == ("refused", None)
    assert run.error == "slices 5 mm thick; this model reads 0.5–1.25 mm"


@pytest.mark.django_db
def test_a_refusal_beside_another_models_result_stays_in_the_headline(cad_models):
    from inference.services import study_analyse
    from tests.worklist.factories import make_study
    from worklist.models import StudyStatus

    cad_models("tests.cad.test_envelope:ReadsEveryCt", "tests.cad.test_envelope:RefusesThickCt")
    study = make_study(status=StudyStatus.QUEUED, analysis_generation=1, modality="CT")
    study_analyse(study.pk)
    study.refresh_from_db()
    assert study.status == StudyStatus.ANALYSED
    assert study.ai_headline == ("No nodule found; No AI (thick refuser): slices 5 mm thick; "
                                 "this model reads 0.5–1.25 mm")
