"""BI-RADS (ACR Atlas 5th edition): categories, management wording and the suggestion rules."""

import pytest

from triage import birads
from triage.birads import Finding

MANAGEMENT = {
    "0": "Recall for additional imaging and/or comparison with prior examination(s)",
    "1": "Routine mammography screening",
    "2": "Routine mammography screening",
    "3": "Short-interval (6-month) follow-up or continued surveillance mammography",
    "4": "Tissue diagnosis", "4A": "Tissue diagnosis", "4B": "Tissue diagnosis", "4C": "Tissue diagnosis",
    "5": "Tissue diagnosis",
    "6": "Surgical excision when clinically appropriate",
}


@pytest.mark.parametrize("category", list(MANAGEMENT))
def test_every_category_has_its_atlas_management_and_wording(category):
    assert birads.MANAGEMENT[category] == MANAGEMENT[category]
    assert birads.assessment_text(category).startswith(f"Category {category}: ")
    assert birads.LIKELIHOOD[category]


def test_categories_are_exactly_the_atlas_ones():
    assert set(birads.CATEGORIES) == set(MANAGEMENT)
    with pytest.raises(ValueError):
        birads.assessment_text("7")


def test_composition_letters():
    assert birads.composition_text("c").startswith("Breast composition c: The breasts are heterogeneously dense")
    with pytest.raises(ValueError):
        birads.composition_text("e")


SPICULATED = Finding("mass_spiculated", "R", 14.0, 62.0, ("RCC", "RMLO"))
CALCS = Finding("calcification_cluster", "L", 8.0, 40.0, ("LCC",))
CIRCUMSCRIBED = Finding("mass_circumscribed", "L", 11.0, 30.0, ("LCC", "LMLO"))


def test_the_finding_line_names_breast_type_size_depth_and_views():
    assert birads.describe(SPICULATED) == (
        "R breast: spiculated mass 14 mm at 62 mm from the chest wall, seen on CC and MLO")
    assert birads.describe(CALCS) == (
        "L breast: calcification cluster 8 mm at 40 mm from the chest wall, seen on CC only")
    assert birads.describe(Finding("mass_circumscribed", "L")) == "L breast: circumscribed mass"


def test_no_finding_suggests_1():
    for screening in (True, False):
        suggestion = birads.suggest([], screening=screening)
        assert suggestion.category == "1" and suggestion.management == MANAGEMENT["1"]


def test_a_screening_exam_with_any_finding_suggests_recall():
    suggestion = birads.suggest([CIRCUMSCRIBED], screening=True)
    assert suggestion.category == "0" and "recall" in suggestion.rule
    assert suggestion.management == MANAGEMENT["0"]


@pytest.mark.parametrize(("findings", "category", "driver"), [
    ([SPICULATED], "4C", 0),
    ([CALCS], "4B", 0),
    ([CIRCUMSCRIBED], "3", 0),
    ([CIRCUMSCRIBED, CALCS], "4B", 1),
    ([CIRCUMSCRIBED, CALCS, SPICULATED], "4C", 2),
])
def test_a_diagnostic_exam_takes_the_most_suspicious_finding(findings, category, driver):
    suggestion = birads.suggest(findings, screening=False)
    assert (suggestion.category, suggestion.driving_finding) == (category, driver)
    assert suggestion.rule.startswith("diagnostic exam: ") and suggestion.management == MANAGEMENT[category]


def test_screening_is_read_from_the_description_or_the_procedure():
    assert birads.is_screening("MAMMOGRAPHY SCREENING BILATERAL", "")
    assert birads.is_screening("MAMMO BILAT", "Screening mammogram")
    assert not birads.is_screening("MAMMOGRAPHY DIAGNOSTIC LEFT", "")
    assert birads.is_screening("MAMMO BILAT", None, "SCREENING CENTRE")
