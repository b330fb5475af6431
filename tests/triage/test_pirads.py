"""PI-RADS v2.1 (ACR 2019) zone tables, cell by cell, and the exam category."""

import pytest

from triage import pirads

# The v2.1 PZ table: DWI decides; DWI 3 with positive DCE -> 4. Rows: DWI 1..5; columns DCE -, +.
PZ_TABLE = {1: (1, 1), 2: (2, 2), 3: (3, 4), 4: (4, 4), 5: (5, 5)}

# The v2.1 TZ table: T2W decides; rows T2W 1..5, columns DWI 1..5.
TZ_TABLE = {
    1: (1, 1, 1, 1, 1),
    2: (2, 2, 2, 3, 3),  # v2.1: T2W 2 with DWI >= 4 -> 3
    3: (3, 3, 3, 3, 4),  # T2W 3 with DWI 5 -> 4
    4: (4, 4, 4, 4, 4),
    5: (5, 5, 5, 5, 5),
}


@pytest.mark.parametrize("t2", pirads.SCORES)
@pytest.mark.parametrize("dwi", pirads.SCORES)
def test_every_pz_cell_follows_dwi_and_dce_whatever_t2(t2, dwi):
    negative, positive = PZ_TABLE[dwi]
    assert pirads.lesion_category(zone="pz", t2=t2, dwi=dwi, dce="-")[0] == negative
    assert pirads.lesion_category(zone="pz", t2=t2, dwi=dwi, dce="+")[0] == positive
    # Biparametric (DCE not performed): DWI alone.
    assert pirads.lesion_category(zone="pz", t2=t2, dwi=dwi, dce="")[0] == dwi


@pytest.mark.parametrize("t2", pirads.SCORES)
@pytest.mark.parametrize("dwi", pirads.SCORES)
@pytest.mark.parametrize("dce", pirads.DCE_VALUES)
def test_every_tz_cell_follows_t2_with_dwi_upgrades_and_ignores_dce(t2, dwi, dce):
    assert pirads.lesion_category(zone="tz", t2=t2, dwi=dwi, dce=dce)[0] == TZ_TABLE[t2][dwi - 1]


def test_the_rule_that_fired_is_named():
    assert pirads.lesion_category(zone="pz", t2=2, dwi=3, dce="+") == (4, "PZ: DWI 3 with positive DCE -> 4")
    assert pirads.lesion_category(zone="tz", t2=2, dwi=4, dce="-")[1] == "TZ: T2W 2 with DWI 4 (≥ 4) -> 3"
    assert pirads.lesion_category(zone="tz", t2=3, dwi=5, dce="-")[1] == "TZ: T2W 3 with DWI 5 -> 4"


@pytest.mark.parametrize("kwargs", [
    {"zone": "cz", "t2": 3, "dwi": 3, "dce": "-"},
    {"zone": "pz", "t2": 0, "dwi": 3, "dce": "-"},
    {"zone": "pz", "t2": 3, "dwi": 6, "dce": "-"},
    {"zone": "pz", "t2": True, "dwi": 3, "dce": "-"},
    {"zone": "tz", "t2": 3, "dwi": 3, "dce": "yes"},
])
def test_out_of_range_scores_are_refused(kwargs):
    with pytest.raises(ValueError):
        pirads.lesion_category(**kwargs)


def test_the_exam_category_is_the_highest_lesion_category_and_1_without_lesions():
    assert pirads.exam_category([3, 5, 2]) == 5
    assert pirads.exam_category([]) == 1


def test_psa_density_needs_both_psa_and_volume():
    assert pirads.psa_density(6.0, 40.0) == 0.15
    assert pirads.psa_density(None, 40.0) is None
    assert pirads.psa_density(6.0, None) is None


def test_a_large_lesion_scored_4_is_pointed_out():
    assert "1.5 cm" in pirads.size_note(zone="pz", category=4, diameter_mm=18)
    assert pirads.size_note(zone="pz", category=4, diameter_mm=12) == ""
    assert pirads.size_note(zone="pz", category=5, diameter_mm=18) == ""


def test_the_lookup_table_for_the_page_holds_every_cell():
    table = pirads.lookup_table()
    assert len(table) == 2 * 5 * 5 * 3
    assert table["pz:1:3:+"][0] == 4 and table["tz:2:4:"][0] == 3 and table["tz:3:5:-"][0] == 4
