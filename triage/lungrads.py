"""Lung-RADS category suggestion from measured nodules.

Coded from the ACR Lung-RADS v2022 assessment categories (released November
2022) for lung cancer screening CT. It is a *suggestion* shown to the
radiologist, who assigns the category. Not covered: category 0 (incomplete
exam, possible infection), the S modifier, airway nodules, atypical cysts, and
the stepped management of short-interval follow-ups (4A stable at 3 months ->
3, 3 stable at 6 months -> 2), which needs the prior category.

Sizes are mean diameters rounded to one decimal place, as the standard asks,
before they are compared with the thresholds: 5.96 mm counts as 6.0 mm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

SOLID = "solid"
PART_SOLID = "part_solid"
GROUND_GLASS = "ground_glass"

_KINDS = {
    "solid": SOLID,
    "part_solid": PART_SOLID,
    "partsolid": PART_SOLID,
    "part-solid": PART_SOLID,
    "subsolid": PART_SOLID,
    "ground_glass": GROUND_GLASS,
    "ground-glass": GROUND_GLASS,
    "groundglass": GROUND_GLASS,
    "ggn": GROUND_GLASS,
    "ggo": GROUND_GLASS,
    "non_solid": GROUND_GLASS,
    "nonsolid": GROUND_GLASS,
    "non-solid": GROUND_GLASS,
}

CATEGORY_ORDER = ("1", "2", "3", "4A", "4B", "4X")

# Lung-RADS v2022 management recommendations, shortened.
MANAGEMENT = {
    "1": "Continue annual screening with LDCT in 12 months",
    "2": "Continue annual screening with LDCT in 12 months",
    "3": "LDCT in 6 months",
    "4A": "LDCT in 3 months; PET/CT may be considered if there is a solid nodule or solid component ≥ 8 mm",
    "4B": (
        "Diagnostic chest CT with or without contrast; PET/CT may be considered if there is a solid "
        "nodule or solid component ≥ 8 mm; tissue sampling; and/or referral for further clinical evaluation"
    ),
}
MANAGEMENT["4X"] = MANAGEMENT["4B"]


@dataclass(frozen=True)
class Nodule:
    kind: str  # solid | part_solid | ground_glass
    diameter_mm: float  # mean diameter of the whole nodule
    solid_mm: float | None = None  # mean diameter of the solid component (part-solid)
    new: bool = False  # follow-up only: not seen on the prior scan
    growing: bool = False  # follow-up only: mean diameter up > 1.5 mm within 12 months
    suspicious_features: bool = False  # spiculation, lymphadenopathy ...: 3/4 -> 4X
    benign_calcification: bool = False  # complete, central, popcorn, concentric, or fat -> 1
    perifissural: bool = False  # solid, smooth, oval/lentiform/triangular juxtapleural


@dataclass(frozen=True)
class LungRadsSuggestion:
    category: str  # "1" | "2" | "3" | "4A" | "4B" | "4X"
    rule: str  # the rule that fired, for the radiologist
    management: str
    driving_nodule: int | None  # index into the nodules given; None without nodules

    @property
    def as_category(self) -> str:
        """Category string for an AI result, e.g. "lungrads:4A"."""
        return f"lungrads:{self.category}"


def round_mm(value: float) -> float:
    """Round half up to 0.1 mm without binary floating-point surprises."""
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def normalise_kind(kind: str) -> str:
    key = kind.strip().lower().replace(" ", "_") if isinstance(kind, str) else ""
    if key not in _KINDS:
        raise ValueError(f"unknown nodule type {kind!r}; expected solid, part_solid or ground_glass")
    return _KINDS[key]


def describe(nodule: Nodule) -> str:
    """Short headline such as "9.2 mm solid nodule"."""
    kind = normalise_kind(nodule.kind)
    size = f"{round_mm(nodule.diameter_mm):g} mm"
    status = "new " if nodule.new else "growing " if nodule.growing else ""
    if kind == PART_SOLID:
        # A solid part never measured is said so, not written as "0 mm".
        solid = f" (solid part {round_mm(nodule.solid_mm):g} mm)" if nodule.solid_mm else " (solid part not measured)"
        return f"{size} {status}part-solid nodule{solid}"
    name = "solid nodule" if kind == SOLID else "ground-glass nodule"
    return f"{size} {status}{name}"


def _solid(d: float, *, baseline: bool, new: bool, growing: bool) -> tuple[str, str]:
    if baseline or (not new and not growing):
        if not baseline:
            # Unchanged on follow-up: benign behaviour. This assumes the stepped
            # short-interval follow-ups were done; see the module docstring.
            return "2", f"solid {d:g} mm, unchanged at follow-up"
        if d < 6:
            return "2", f"solid {d:g} mm < 6 mm at baseline"
        if d < 8:
            return "3", f"solid {d:g} mm, 6 to < 8 mm at baseline"
        if d < 15:
            return "4A", f"solid {d:g} mm, 8 to < 15 mm at baseline"
        return "4B", f"solid {d:g} mm ≥ 15 mm at baseline"
    if growing:
        if d < 8:
            return "4A", f"solid {d:g} mm, growing < 8 mm"
        return "4B", f"solid {d:g} mm, growing ≥ 8 mm"
    if d < 4:
        return "2", f"solid {d:g} mm, new < 4 mm"
    if d < 6:
        return "3", f"solid {d:g} mm, new 4 to < 6 mm"
    if d < 8:
        return "4A", f"solid {d:g} mm, new 6 to < 8 mm"
    return "4B", f"solid {d:g} mm, new ≥ 8 mm"


def _part_solid(d: float, s: float, *, baseline: bool, new: bool, growing: bool) -> tuple[str, str]:
    size = f"part-solid {d:g} mm (solid part {s:g} mm)"
    if baseline:
        if d < 6:
            return "2", f"{size}, total < 6 mm at baseline"
        if s < 6:
            return "3", f"{size}, total ≥ 6 mm with solid part < 6 mm at baseline"
        if s < 8:
            return "4A", f"{size}, solid part 6 to < 8 mm"
        return "4B", f"{size}, solid part ≥ 8 mm"
    if new and d < 6:
        return "3", f"{size}, new with total < 6 mm"
    if new or growing:
        # v2022 4A/4B: "new or growing < 4 mm / >= 4 mm solid component". We
        # read a growing part-solid nodule as one whose solid part grows, and
        # apply the rule whatever the total size; the table is not explicit
        # about growing part-solid nodules under 6 mm in total.
        status = "new" if new else "growing"
        if s < 4:
            return "4A", f"{size}, {status} solid part < 4 mm"
        return "4B", f"{size}, {status} solid part ≥ 4 mm"
    return "2", f"{size}, unchanged at follow-up"


def _ground_glass(d: float, *, baseline: bool, new: bool, growing: bool) -> tuple[str, str]:
    size = f"ground-glass {d:g} mm"
    if d < 30:
        return "2", f"{size} < 30 mm"
    if baseline or new:
        return "3", f"{size} ≥ 30 mm at baseline or new"
    # v2022 keeps a >= 30 mm GGN "stable or slowly growing" in category 2. Our
    # flag does not tell slow growth from fast; a GGN that develops a solid
    # component is part-solid and is caught there.
    return "2", f"{size} ≥ 30 mm, stable or growing at follow-up"


def nodule_category(nodule: Nodule, *, baseline: bool = True) -> tuple[str, str]:
    """Lung-RADS v2022 category of one nodule and the rule that gave it."""
    kind = normalise_kind(nodule.kind)
    if nodule.diameter_mm is None or nodule.diameter_mm < 0:
        raise ValueError("a nodule needs a mean diameter ≥ 0 mm")
    d = round_mm(nodule.diameter_mm)
    new = nodule.new and not baseline
    growing = nodule.growing and not baseline and not new

    if nodule.benign_calcification:
        return "1", f"{kind.replace('_', '-')} {d:g} mm with benign calcification or fat"
    if kind == SOLID and nodule.perifissural and d < 10 and not growing:
        return "2", f"perifissural/juxtapleural solid {d:g} mm < 10 mm"

    if kind == SOLID:
        category, rule = _solid(d, baseline=baseline, new=new, growing=growing)
    elif kind == PART_SOLID:
        # A solid part cannot be larger than the nodule; unmeasured counts as 0.
        s = min(round_mm(nodule.solid_mm or 0.0), d)
        category, rule = _part_solid(d, s, baseline=baseline, new=new, growing=growing)
    else:
        category, rule = _ground_glass(d, baseline=baseline, new=new, growing=growing)

    if nodule.suspicious_features and category in {"3", "4A", "4B"}:
        return "4X", f"{rule}, with additional suspicious features"
    return category, rule


def suggest(nodules: Sequence[Nodule], *, baseline: bool = True) -> LungRadsSuggestion:
    """Exam-level Lung-RADS v2022 suggestion: the most suspicious nodule sets
    the category (the larger nodule on a tie)."""
    if not nodules:
        return LungRadsSuggestion("1", "no lung nodules", MANAGEMENT["1"], None)
    best: tuple[int, float, int] | None = None
    best_rule = ""
    for index, nodule in enumerate(nodules):
        category, rule = nodule_category(nodule, baseline=baseline)
        rank = (CATEGORY_ORDER.index(category), round_mm(nodule.diameter_mm), -index)
        if best is None or rank > best:
            best, best_rule = rank, rule
    assert best is not None
    category = CATEGORY_ORDER[best[0]]
    return LungRadsSuggestion(category, best_rule, MANAGEMENT[category], -best[2])
