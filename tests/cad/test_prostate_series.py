"""The prostate model finds T2w, high-b DWI and ADC by their headers, whatever the descriptions say."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest
from pydicom.dataset import Dataset

from inference.cad.prostate import series as series_module
from inference.cad.prostate.model import case_from_datasets
from inference.cad.prostate.series import choose_series, diffusion_b_value, orthanc_series_headers, series_role
from inference.synthetic.prostate_mri import generate_prostate_mri


@pytest.fixture(scope="module")
def study():
    datasets, truth, _ = generate_prostate_mri(8, t2_matrix=128, n_lesions=1)
    by_number = {}
    for ds in datasets:
        by_number.setdefault(int(ds.SeriesNumber), str(ds.SeriesInstanceUID))
    return datasets, truth, by_number  # series 3 T2, 5 DWI (all b-values), 6 ADC


def _mr(**attributes) -> Dataset:
    ds = Dataset()
    ds.Modality, ds.Rows = "MR", 64
    for key, value in attributes.items():
        setattr(ds, key, value)
    return ds


def test_roles_come_from_image_type_b_value_and_timing():
    assert series_role(_mr(ImageType=["DERIVED", "PRIMARY", "ADC"], EchoTime=70, RepetitionTime=4000)) == "adc"
    assert series_role(_mr(ImageType=["ORIGINAL", "PRIMARY"], DiffusionBValue=1400, EchoTime=70,
                           RepetitionTime=4000)) == "dwi"
    assert series_role(_mr(ImageType=["ORIGINAL", "PRIMARY", "DIFFUSION", "TRACEW"], EchoTime=70,
                           RepetitionTime=4000)) == "dwi"
    assert series_role(_mr(ImageType=["ORIGINAL", "PRIMARY", "M"], EchoTime=104, RepetitionTime=4500)) == "t2w"
    # A T1-weighted series (short TE and TR) is none of the three; nor is a CT image.
    assert series_role(_mr(ImageType=["ORIGINAL", "PRIMARY", "M"], EchoTime=2.5, RepetitionTime=6)) is None
    ct = _mr(EchoTime=104, RepetitionTime=4500)
    ct.Modality = "CT"
    assert series_role(ct) is None


def test_the_b_value_is_read_from_the_enhanced_mr_diffusion_sequence_too():
    item = Dataset()
    item.DiffusionBValue = 800
    assert diffusion_b_value(_mr(MRDiffusionSequence=[item])) == 800.0
    assert diffusion_b_value(_mr()) is None


def _scrambled(datasets, descriptions: dict[str, str]) -> list[Dataset]:
    # Deep copies: archive.volumes.volume_from_datasets drops the first slice's pixels from its input.
    out = []
    for ds in datasets:
        scrambled = copy.deepcopy(ds)
        scrambled.SeriesDescription = descriptions[str(ds.SeriesInstanceUID)]
        out.append(scrambled)
    return out[::-1]


@pytest.mark.parametrize("style", ["blank", "swapped"])
def test_series_are_identified_with_blank_or_misleading_descriptions(study, style):
    datasets, truth, by_number = study
    t2, dwi, adc = by_number[3], by_number[5], by_number[6]
    names = ({t2: "", dwi: "", adc: ""} if style == "blank"
             else {t2: "ADC (10^-6 mm2/s)", dwi: "T2 TSE AX", adc: "DWI EPI AX b1400"})
    case = case_from_datasets(_scrambled(datasets, names))
    assert case.series_uids == {"t2w": t2, "adc": adc, "dwi": dwi}
    assert case.b_value == max(truth["b_values"])
    assert case.high_b.hu.shape == tuple(truth["geometry"]["dwi"]["shape_zyx"])
    assert case.t2.hu.shape == tuple(truth["geometry"]["t2w"]["shape_zyx"])


def test_a_study_without_an_adc_map_is_refused(study):
    datasets, _, by_number = study
    without_adc = [copy.deepcopy(ds) for ds in datasets if str(ds.SeriesInstanceUID) != by_number[6]]
    with pytest.raises(ValueError, match="no T2-weighted, ADC and diffusion"):
        case_from_datasets(without_adc)


def test_orthanc_headers_choose_the_series_whatever_the_database_descriptions(study, monkeypatch):
    """The pipeline path: one header per MR series read from Orthanc (mocked here), descriptions ignored."""
    datasets, _, by_number = study
    groups = {}
    for ds in datasets:
        groups.setdefault(str(ds.SeriesInstanceUID), []).append(ds)
    files = {}
    for uid, items in groups.items():
        for n, ds in enumerate(items):
            buffer = io.BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            files[f"{uid}-{n}"] = buffer.getvalue()

    def get_json(endpoint: str):
        uid = endpoint.split("/")[1]
        return {"Instances": [f"{uid}-{n}" for n in range(len(groups[uid]))]}

    def get_binary(endpoint: str):
        return files[endpoint.split("/")[1]]

    monkeypatch.setattr("archive.orthanc.get_json", get_json)
    monkeypatch.setattr("archive.orthanc.get_binary", get_binary)
    rng = np.random.default_rng(0)
    items = [{"orthanc_id": uid, "modality": "MR", "description": f"series {rng.integers(1000)}",
              "instance_count": len(groups[uid]), "series_instance_uid": uid} for uid in groups]
    choice = choose_series(orthanc_series_headers(items))
    assert (choice.t2w, choice.adc, choice.dwi) == (by_number[3], by_number[6], [by_number[5]])
    assert series_module  # the module the pipeline imports


def test_a_series_beyond_the_voxel_limit_is_refused_before_fetching(settings):
    from archive.volumes import VolumeError
    from inference.cad.prostate.model import refuse_if_too_large

    settings.MAX_VOLUME_VOXELS = 1_000_000
    header = _mr(Columns=512)
    header.Rows = 512
    refuse_if_too_large({"small": (header, 3)}, ["small"])
    with pytest.raises(VolumeError, match="too large"):
        refuse_if_too_large({"small": (header, 3), "big": (header, 4)}, ["small", "big"])
