import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.lungrads import CATEGORY_ORDER, MANAGEMENT, Nodule, describe, nodule_category, round_mm, suggest


def category(kind, d, solid=None, *, baseline=True, **flags) -> str:
    return nodule_category(Nodule(kind, d, solid, **flags), baseline=baseline)[0]


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (0.0, "2"),
        (5.9, "2"),
        (5.94, "2"),  # rounds to 5.9
        (5.95, "3"),  # rounds to 6.0
        (6.0, "3"),
        (7.9, "3"),
        (8.0, "4A"),
        (14.9, "4A"),
        (15.0, "4B"),
        (40.0, "4B"),
    ],
)
def test_baseline_solid(d, expected):
    assert category("solid", d) == expected


@pytest.mark.parametrize(
    ("d", "solid", "expected"),
    [
        (5.9, 3.0, "2"),
        (5.9, 5.9, "2"),  # total under 6 mm wins
        (6.0, 0.0, "3"),
        (12.0, 5.9, "3"),
        (12.0, 6.0, "4A"),
        (12.0, 7.9, "4A"),
        (12.0, 8.0, "4B"),
        (20.0, 15.0, "4B"),
        (10.0, None, "3"),  # unmeasured solid part counts as 0
    ],
)
def test_baseline_part_solid(d, solid, expected):
    assert category("part_solid", d, solid) == expected


@pytest.mark.parametrize(("d", "expected"), [(10.0, "2"), (29.9, "2"), (30.0, "3"), (45.0, "3")])
def test_baseline_ground_glass(d, expected):
    assert category("ground_glass", d) == expected


@pytest.mark.parametrize(
    ("d", "expected"),
    [(3.9, "2"), (4.0, "3"), (5.9, "3"), (6.0, "4A"), (7.9, "4A"), (8.0, "4B")],
)
def test_new_solid_at_follow_up(d, expected):
    assert category("solid", d, baseline=False, new=True) == expected


@pytest.mark.parametrize(("d", "expected"), [(5.0, "4A"), (7.9, "4A"), (8.0, "4B"), (16.0, "4B")])
def test_growing_solid_at_follow_up(d, expected):
    assert category("solid", d, baseline=False, growing=True) == expected


@pytest.mark.parametrize(
    ("d", "solid", "flags", "expected"),
    [
        (5.9, 2.0, {"new": True}, "3"),
        (8.0, 3.9, {"new": True}, "4A"),
        (8.0, 4.0, {"new": True}, "4B"),
        (10.0, 3.0, {"growing": True}, "4A"),
        (10.0, 5.0, {"growing": True}, "4B"),
        (10.0, 5.0, {}, "2"),  # unchanged
    ],
)
def test_part_solid_at_follow_up(d, solid, flags, expected):
    assert category("part_solid", d, solid, baseline=False, **flags) == expected


@pytest.mark.parametrize(
    ("d", "flags", "expected"),
    [(29.9, {"new": True}, "2"), (30.0, {"new": True}, "3"), (35.0, {"growing": True}, "2"), (35.0, {}, "2")],
)
def test_ground_glass_at_follow_up(d, flags, expected):
    assert category("ground_glass", d, baseline=False, **flags) == expected


def test_flags_are_ignored_at_baseline():
    assert category("solid", 7.0, new=True) == "3"
    assert category("solid", 7.0, growing=True) == "3"


def test_unchanged_solid_at_follow_up_is_benign():
    assert category("solid", 12.0, baseline=False) == "2"


def test_suspicious_features_make_3_and_4_into_4x_but_not_2():
    assert category("solid", 7.0, suspicious_features=True) == "4X"
    assert category("solid", 10.0, suspicious_features=True) == "4X"
    assert category("solid", 4.0, suspicious_features=True) == "2"


def test_benign_calcification_is_category_1():
    assert category("solid", 20.0, benign_calcification=True) == "1"


def test_perifissural_solid_under_10_mm_is_benign():
    assert category("solid", 9.9, perifissural=True) == "2"
    assert category("solid", 10.0, perifissural=True) == "4A"


def test_no_nodules_is_category_1_with_annual_screening():
    s = suggest([])
    assert (s.category, s.driving_nodule) == ("1", None)
    assert "12 months" in s.management


def test_the_most_suspicious_nodule_drives_the_exam():
    nodules = [Nodule("solid", 4.0), Nodule("part_solid", 14.0, 8.2), Nodule("solid", 9.0)]
    s = suggest(nodules)
    assert s.category == "4B"
    assert s.driving_nodule == 1
    assert "solid part ≥ 8 mm" in s.rule
    assert s.management == MANAGEMENT["4B"]
    assert s.as_category == "lungrads:4B"


def test_equal_categories_are_driven_by_the_larger_nodule():
    s = suggest([Nodule("solid", 9.0), Nodule("solid", 12.5), Nodule("solid", 10.0)])
    assert (s.category, s.driving_nodule) == ("4A", 1)
    assert "12.5" in s.rule


def test_kind_synonyms_and_errors():
    assert category("GGN", 12.0) == "2"
    assert category("Part-solid", 12.0, 7.0) == "4A"
    with pytest.raises(ValueError):
        category("cavity", 12.0)
    with pytest.raises(ValueError):
        category("solid", -1.0)


def test_describe_gives_a_short_headline():
    assert describe(Nodule("solid", 9.04)) == "9 mm solid nodule"
    assert describe(Nodule("part_solid", 12.0, 6.5)) == "12 mm part-solid nodule (solid part 6.5 mm)"


def test_round_mm_rounds_half_up():
    assert [round_mm(x) for x in (5.95, 7.85, 14.949, 0.05)] == [6.0, 7.9, 14.9, 0.1]


@given(
    kind=st.sampled_from(["solid", "part_solid", "ground_glass"]),
    d=st.floats(min_value=0, max_value=60),
    extra=st.floats(min_value=0, max_value=60),
    ratio=st.floats(min_value=0, max_value=1),
)
def test_a_larger_nodule_of_the_same_kind_never_gets_a_lower_baseline_category(kind, d, extra, ratio):
    small = Nodule(kind, d, d * ratio)
    large = Nodule(kind, d + extra, (d + extra) * ratio)
    assert CATEGORY_ORDER.index(nodule_category(large)[0]) >= CATEGORY_ORDER.index(nodule_category(small)[0])
