"""CC/MLO linking: one lesion per same-class pair at a similar distance from the chest wall."""

import pytest

from inference.cad.mammography.model import LINK_DEPTH_MM, ViewMark, density_category, link_lesions
from inference.cad.mammography.network import Mark


def mark(view, kind, probability, depth_mm):
    return ViewMark(view=view, mark=Mark(kind=kind, probability=probability, row=50.0, col=depth_mm / 1.12,
                                         diameter_mm=12.0, spiculated=0.8 if kind == "mass" else 0.0),
                    point_px=(100.0, 200.0), radius_px=20.0, depth_mm=depth_mm)


def test_the_same_class_at_the_same_depth_is_one_lesion_with_both_marks():
    lesions = link_lesions("R", [mark("RCC", "mass", 0.9, 60.0), mark("RMLO", "mass", 0.7, 64.0)])
    [lesion] = lesions
    assert {m.view for m in lesion.marks} == {"RCC", "RMLO"}
    assert lesion.type == "mass_spiculated" and lesion.depth_mm == pytest.approx(62.0)
    # The partner view adds evidence: more than the stronger view alone.
    assert lesion.probability > 0.9


def test_different_depths_or_classes_are_not_linked():
    far = link_lesions("L", [mark("LCC", "mass", 0.9, 40.0), mark("LMLO", "mass", 0.8, 40.0 + LINK_DEPTH_MM + 5)])
    assert len(far) == 2 and all(len(les.marks) == 1 for les in far)
    kinds = link_lesions("L", [mark("LCC", "mass", 0.9, 40.0), mark("LMLO", "calcification_cluster", 0.8, 41.0)])
    assert len(kinds) == 2


def test_the_most_probable_pair_is_linked_first_and_a_mark_is_used_once():
    marks = [mark("RCC", "mass", 0.95, 50.0), mark("RCC", "mass", 0.3, 55.0), mark("RMLO", "mass", 0.9, 52.0)]
    lesions = link_lesions("R", marks)
    assert len(lesions) == 2
    linked = [les for les in lesions if len(les.marks) == 2]
    assert len(linked) == 1 and {m.mark.probability for m in linked[0].marks} == {0.95, 0.9}
    assert lesions[0] is linked[0]  # most probable first


def test_marks_of_the_other_breast_are_ignored():
    assert link_lesions("R", [mark("LCC", "mass", 0.9, 50.0)]) == []


def test_density_category_from_the_cut_points():
    cuts = (0.2, 0.45, 0.7)
    assert [density_category(f, cuts) for f in (0.05, 0.3, 0.6, 0.9)] == ["a", "b", "c", "d"]
