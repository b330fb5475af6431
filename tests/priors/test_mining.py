"""The report miner on the phrasings the issue names; each case states what a reader would take from it."""

import pytest

from priors.mining import birads_level, mine_mammography_report


@pytest.mark.parametrize(("text", "category"), [
    ("BI-RADS 4", "4"),
    ("BIRADS: 4a", "4A"),
    ("Bi-Rads category four", "4"),
    ("ACR BI-RADS® 2 - benign", "2"),
    ("Assessment: Category 0 – incomplete", "0"),
    ("BI-RADS 5th ed. category 1 (negative)", "1"),
    ("BI-RADS 5th edition: category 3.", "3"),
    ("BI-RADS IV", "4"),
    ("BIRADS II, benign", "2"),
    ("BI-RADS IVa", "4A"),
    ("BIRADS 4 B", "4B"),
    ("BIRADS-4 b: grouped calcifications", "4B"),
    ("bi-rads 1.", "1"),
    ("BI-RAD 3", "3"),
    ("BI-RADS category zero", "0"),
    ("Final assessment: BI-RADS 4C: high suspicion for malignancy", "4C"),
])
def test_it_reads_the_category_however_it_is_written(text, category):
    assert mine_mammography_report(text).birads == category


def test_the_overall_assessment_wins_over_the_per_breast_ones():
    text = "Right breast: BI-RADS 2. Left breast: BI-RADS 4A. Overall assessment: BI-RADS 3."
    assert mine_mammography_report(text).birads == "3"


def test_without_an_overall_assessment_the_most_abnormal_breast_decides():
    assert mine_mammography_report("Right breast BI-RADS 1; left breast BI-RADS 3.").birads == "3"
    # The ACR hierarchy puts 0 above 3 and 6, and 4 below 5.
    assert mine_mammography_report("Left: BI-RADS 6. Right: BI-RADS 0.").birads == "0"
    assert mine_mammography_report("Left: BI-RADS 5. Right: BI-RADS 4C.").birads == "5"


@pytest.mark.parametrize("text", [
    "History: previous BI-RADS 3, now 24-month follow-up. Stable mass. BI-RADS 2 - benign.",
    "Comparison: prior exam dated 2024 assessed as BI-RADS 4. BI-RADS 2.",
    "Previous BI-RADS 4 in 2023. Today: BI-RADS 2.",
    "Follow-up of a BI-RADS 3 finding from last year. BI-RADS 2.",
])
def test_a_category_in_the_history_is_not_the_current_one(text):
    mined = mine_mammography_report(text)
    assert mined.birads == "2"
    assert [category for category, _ in mined.prior_birads] and mined.prior_birads[0][0] != "2"


def test_a_report_with_only_a_prior_category_has_no_current_category():
    assert mine_mammography_report("History: previous BI-RADS 3. Findings unchanged.").birads is None


def test_sizes_and_editions_are_not_categories():
    assert mine_mammography_report("BI-RADS lexicon: 3 mm mass.").birads is None
    assert mine_mammography_report("ACR BI-RADS 5th edition terminology used.").birads is None


def test_the_category_evidence_is_the_text_it_came_from():
    text = "Findings: none. Impression: ACR BI-RADS® 2 - benign."
    evidence = mine_mammography_report(text).birads_evidence
    assert text[evidence.start:evidence.end] == evidence.text and "2" in evidence.text


@pytest.mark.parametrize(("text", "density"), [
    ("ACR C", "c"),
    ("The breasts are heterogeneously dense, which may obscure small masses.", "c"),
    ("The breasts are extremely dense (d).", "d"),
    ("There are scattered areas of fibroglandular density.", "b"),
    ("breast composition: b", "b"),
    ("The breasts are almost entirely fatty.", "a"),
    ("ACR density 3", "c"),  # old 4th-edition numbering 1-4 maps to a-d by rank
    ("Density ACR 1.", "a"),
    ("Breast composition category D.", "d"),
    ("Heterogenously dense breasts.", "c"),
])
def test_it_reads_the_density(text, density):
    assert mine_mammography_report(text).density == density


def test_a_bi_rads_category_is_not_an_old_density_number():
    mined = mine_mammography_report("ACR BI-RADS 3. Scattered fibroglandular tissue.")
    assert (mined.birads, mined.density) == ("3", "b")


def test_negated_features_are_not_findings():
    mined = mine_mammography_report(
        "No suspicious calcifications. There is no mass, without architectural distortion. "
        "Neither mass nor asymmetry is identified. BI-RADS 1.")
    assert mined.features == []
    assert {f.kind for f in mined.negated} == {"mass", "calcifications", "architectural_distortion", "asymmetry"}


def test_a_negation_ends_at_but():
    mined = mine_mammography_report("No mass, but grouped amorphous calcifications in the left breast.")
    assert [f.kind for f in mined.features] == ["calcifications"]
    assert mined.features[0].laterality == "left"
    assert {"amorphous", "grouped"} <= set(mined.features[0].descriptors)


def test_a_finding_that_is_no_longer_seen_is_negated_and_an_unchanged_one_is_not():
    assert not mine_mammography_report("The mass previously described in the left breast is no longer seen.").features
    kept = mine_mammography_report("No interval change in the circumscribed mass in the right breast.")
    assert [f.kind for f in kept.features] == ["mass"]


def test_dense_tissue_that_may_obscure_masses_is_not_a_mass():
    assert not mine_mammography_report("Heterogeneously dense, which may obscure small masses.").features


def test_features_carry_descriptors_laterality_and_evidence():
    text = ("Right breast: 14 mm irregular mass with spiculated margins. Fine linear branching calcifications in "
            "a segmental distribution, left breast. Architectural distortion left. Focal asymmetry, right breast.")
    mined = mine_mammography_report(text)
    by_kind = {f.kind: f for f in mined.features}
    assert set(by_kind) == {"mass", "calcifications", "architectural_distortion", "asymmetry"}
    assert {"irregular", "spiculated"} <= set(by_kind["mass"].descriptors)
    assert {"fine linear branching", "segmental"} <= set(by_kind["calcifications"].descriptors)
    assert by_kind["mass"].laterality == "right" and by_kind["calcifications"].laterality == "left"
    assert "spiculated" in by_kind["mass"].evidence.text
    assert mined.laterality == "bilateral"


def test_typos_in_feature_names_are_read():
    mined = mine_mammography_report("Grouped calcfications right. Developing assymetry right. Architectual "
                                    "distorsion right.")
    assert {f.kind for f in mined.features} == {"calcifications", "asymmetry", "architectural_distortion"}
    assert mined.laterality == "right"


def test_benign_calcifications_are_calcifications():
    mined = mine_mammography_report("Benign vascular calcifications bilaterally. No suspicious calcifications.")
    assert [f.kind for f in mined.features] == ["calcifications"]
    assert mined.laterality == "bilateral"


def test_the_level_of_a_subcategory_is_four():
    assert [birads_level(c) for c in ("4A", "4B", "4C", "4", "0", None)] == ["4", "4", "4", "4", "0", None]


def test_an_empty_report_yields_nothing():
    mined = mine_mammography_report("")
    assert (mined.birads, mined.density, mined.laterality, mined.features) == (None, None, None, [])
