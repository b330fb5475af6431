"""The lung model's findings become a Lung-RADS v2022 suggestion and a headline."""

from inference.cad.base import Finding
from inference.cad.lung_nodule.model import lungrads_summary


def nodule(d, kind="solid", solid=None, p=0.9):
    return Finding(centre_mm=(0, 0, 0), diameter_mm=d + 0.5, kind=kind, probability=p, mean_diameter_mm=d,
                   solid_mm=solid)


def test_no_findings_is_lung_rads_1():
    assert lungrads_summary([]) == ("lungrads:1", "No nodule ≥ 3 mm found, Lung-RADS 1")


def test_the_largest_solid_nodule_sets_the_category_and_the_headline():
    category, headline = lungrads_summary([nodule(4.0), nodule(11.2), nodule(7.0, "ground_glass")])
    assert category == "lungrads:4A"
    assert headline == "3 nodules, largest 11.2 mm mean diameter (Lung-RADS v2022) solid, Lung-RADS 4A"


def test_a_part_solid_nodule_with_a_large_solid_part_is_4b():
    category, headline = lungrads_summary([nodule(14.0, "part_solid", solid=8.5)])
    assert category == "lungrads:4B"
    assert headline == "1 nodule, largest 14.0 mm mean diameter (Lung-RADS v2022) part-solid, Lung-RADS 4B"
