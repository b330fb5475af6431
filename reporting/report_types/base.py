"""What every report template module provides, and the pieces they share.

A template module (lung screening, incidental nodule, mammography, prostate MRI, free text) is one
`ReportType` instance registered in `reporting.report_types`. The reading page, the signed text and
the PDF all go through it, so the report wording exists once, on the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal


class ReportFieldError(ValueError):
    """A report field the template cannot accept; the text says why, in the reader's words."""

    http_status = 409


KEPT = ("accepted", "edited", "added")


@dataclass(frozen=True)
class SizeConvention:
    """How a template measures a lesion (../shared/DOMAIN.md, "Measuring").

    basis "mean": (long + short axis) / 2, as Lung-RADS v2022 and Fleischner 2017 ask;
    basis "long": the longest dimension, as BI-RADS 5th ed. and PI-RADS v2.1 report."""

    basis: str  # "mean" | "long"
    decimals: int  # 1 = to 0.1 mm, 0 = whole mm
    measure: str  # "mean diameter", "average diameter", "long axis"
    standard: str  # "Lung-RADS v2022" ...

    @property
    def label(self) -> str:
        """e.g. "mean diameter (Lung-RADS v2022)"."""
        return f"{self.measure} ({self.standard})"

    def value(self, finding) -> float | None:
        """The finding's size in this convention. A size the reader typed (edited or added) is taken
        as given in the template's own convention; the AI's measures are converted."""
        raw = None
        if finding.decision in ("edited", "added") or finding.source == "reader":
            raw = finding.diameter_mm
        elif self.basis == "mean":
            raw = finding.mean_diameter_mm if finding.mean_diameter_mm is not None else finding.diameter_mm
        else:
            raw = finding.diameter_mm
        return None if raw is None else self.round(raw)

    def round(self, mm: float) -> float:
        step = Decimal(1).scaleb(-self.decimals)
        return float(Decimal(str(mm)).quantize(step, rounding=ROUND_HALF_UP))

    def number(self, mm: float) -> str:
        return f"{self.round(mm):.{self.decimals}f}"

    def text(self, mm: float | None) -> str:
        """"15.9 mm mean diameter (Lung-RADS v2022)": the value always with its convention."""
        return "" if mm is None else f"{self.number(mm)} mm {self.label}"

    def short(self, mm: float | None) -> str:
        """"15.9 mm mean diameter", where the standard is named nearby (the assessment heading)."""
        return "" if mm is None else f"{self.number(mm)} mm {self.measure}"


@dataclass
class ReadContext:
    """What is known about the read when the draft is made or the report signed."""

    findings: list  # reporting.reading.FindingView, AI and reader-added
    ai_note: str = ""  # "AI analysis failed: …; read without AI", "" when the AI result is in
    images_note: str = ""  # "" when the reader has seen the images
    arriving_note: str = ""  # "" unless the study may still be receiving images (Study.images_arriving)
    screening: bool = False
    ai_results: dict = field(default_factory=dict)  # model name -> finished result

    @property
    def kept(self) -> list:
        return [f for f in self.findings if f.decision in KEPT]

    @property
    def unreviewed(self) -> list:
        return [f for f in self.findings if f.source == "ai" and not f.decision]

    @property
    def unreviewed_note(self) -> str:
        count = len(self.unreviewed)
        if not count:
            return ""
        return f"{count} AI finding{'s are' if count > 1 else ' is'} not reviewed yet."

    @property
    def notes(self) -> list[str]:
        """Why the draft cannot state a normal result yet, in plain words."""
        return [n for n in (self.unreviewed_note, self.arriving_note, self.ai_note, self.images_note) if n]

    @property
    def complete(self) -> bool:
        return not self.notes


class ReportType:
    """The interface of a template module; the defaults are those of a free-text report."""

    name = "free"
    title = "Free text"
    standard = ""
    finding_types: tuple[str, ...] = ("solid", "part_solid", "ground_glass")
    size = SizeConvention("long", 1, "long axis", "as measured")
    category_field = ""  # the field holding the category the impression must agree with

    # --- choice ---
    def can_report(self, study) -> bool:
        """Offered to the reader on this study (the reader may switch to it)."""
        return True

    def applies_to(self, study) -> tuple[bool, str]:
        """Chosen by default for this study, and why (shown on the page)."""
        return True, "no structured template for this kind of study"

    # --- findings ---
    def finding_label(self, finding) -> str:
        size = self.size.text(self.size.value(finding))
        kind = (finding.finding_type or "finding").replace("_", "-")
        return f"{size} {kind}".strip() if size else kind

    def added_site(self, *, centre, breast, depth_mm, zone, location) -> dict | None:
        if centre is None:
            raise ReportFieldError("a finding needs a positive diameter and a centre (x, y, z in mm)")
        return None

    # --- the draft ---
    def prefill(self, study, ctx: ReadContext) -> dict:
        return {"findings_text": "\n".join(ctx.notes), "impression": "", "recommendation": ""}

    def auto_texts(self, study, fields: dict, ctx: ReadContext) -> dict:
        """Impression and recommendation that follow from the chosen category ({} if none)."""
        return {}

    # --- signing ---
    def validate(self, study, fields: dict, ctx: ReadContext) -> dict:
        """The template's own fields, checked and completed (computed values never come from the client)."""
        return {}

    def contradictions(self, fields: dict) -> list[str]:
        """Where the impression or recommendation says something else than the category."""
        return []

    def assessment(self, fields: dict) -> tuple[str, list[str]]:
        """The assessment block of the report: (heading, lines); empty for free text."""
        return "", []

    def choices(self) -> dict:
        return {}

    def describe(self) -> dict:
        return {"name": self.name, "title": self.title, "finding_types": list(self.finding_types),
                "size_label": self.size.label}


def mentions(text: str, prefix: str, values) -> set[str]:
    """Categories named in a text: {"4A", "3"} for "Lung-RADS 4A ... Lung-RADS v2022 category: 3"."""
    alternatives = "|".join(sorted((re.escape(str(v)) for v in values), key=len, reverse=True))
    pattern = (rf"{re.escape(prefix)}(?:\s+v[\d.]+)?(?:\s+(?:assessment\s+)?category)?[\s:]+"
               rf"({alternatives})(?![\w])")
    return {m.group(1).upper() for m in re.finditer(pattern, text or "", flags=re.IGNORECASE)}


def same_sentence(a: str, b: str) -> bool:
    clean = lambda s: re.sub(r"[\s.]+$", "", (s or "").strip()).lower()  # noqa: E731
    return clean(a) == clean(b)
