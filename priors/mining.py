"""Rule-based mining of free-text mammography reports: BI-RADS category, density and key features.

Regular expressions over the report text plus a small NegEx-style negation scope (Chapman et al.,
J Biomed Inform 2001: trigger phrases, a scope that ends at the end of the clause or at a
termination word such as "but"). Vocabulary from the ACR BI-RADS Atlas, 5th edition (2013),
mammography lexicon and assessment categories.

Choices a reader of the results should know:

* Category mentions in a history, indication or comparison part ("previous BI-RADS 3",
  "History: ... reported as BI-RADS 4") are prior categories, not the current one.
* Several current categories (one per breast, mammography and ultrasound): an explicitly
  "overall" one wins; otherwise the most abnormal by the Atlas's hierarchy 1, 2, 3, 6, 0, 4, 5
  (4A < 4B < 4C inside 4).
* Density in the old 4th-edition numbering ("ACR 3", "density 2") maps 1 -> a, 2 -> b, 3 -> c,
  4 -> d: the four numbered classes (< 25 %, 25-50 %, 51-75 %, > 75 % glandular) are the
  ancestors of the four lettered ones. The 5th edition dropped the percentages, so the mapping
  is by rank, not exact.
* A feature counts when the text describes it as present, benign or suspicious alike ("benign
  vascular calcifications" is a calcification); negated mentions are kept apart, with evidence.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

FEATURES = ("mass", "calcifications", "architectural_distortion", "asymmetry")
CATEGORIES = ("0", "1", "2", "3", "4", "4A", "4B", "4C", "5", "6")
# ACR BI-RADS Atlas 5th ed., guidance on combining assessments: increasing abnormality.
HIERARCHY = ("1", "2", "3", "6", "0", "4", "4A", "4B", "4C", "5")
OLD_DENSITY = {"1": "a", "2": "b", "3": "c", "4": "d"}


@dataclass(frozen=True)
class Evidence:
    text: str
    start: int
    end: int


@dataclass
class Feature:
    kind: str
    negated: bool
    laterality: str | None
    descriptors: list[str]
    evidence: Evidence


@dataclass
class MinedReport:
    birads: str | None = None
    birads_evidence: Evidence | None = None
    density: str | None = None
    density_evidence: Evidence | None = None
    laterality: str | None = None
    features: list[Feature] = field(default_factory=list)
    negated: list[Feature] = field(default_factory=list)
    prior_birads: list[tuple[str, Evidence]] = field(default_factory=list)

    def has(self, kind: str) -> bool:
        return any(f.kind == kind for f in self.features)

    def as_dict(self) -> dict:
        return asdict(self)


def birads_level(category: str | None) -> str | None:
    """4A, 4B and 4C are level 4."""
    return category[0] if category else None


# --- text geometry ---------------------------------------------------------------------------------

# A clause ends at a full stop (not a decimal point "4.5" or the "ed." of "5th ed."), ; ! ? or a newline.
_CLAUSE_END = re.compile(r"(?<!\bed)\.(?!\d)|[;!?\n]")
_HEADER = re.compile(r"(?:^|[\n;.]|\s)\s*([A-Za-z][A-Za-z /]{1,40}?)\s*:")
_HISTORY_HEADERS = re.compile(
    r"\b(?:history|clinical|indication|reason|comparison|compared|prior|previous|anamnese|background|"
    r"referral|request)\b", re.I)


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    before = [m.end() for m in _CLAUSE_END.finditer(text, 0, start)]
    left = before[-1] if before else 0
    after = _CLAUSE_END.search(text, end)
    right = after.start() if after else len(text)
    return left, right


def _evidence(text: str, start: int, end: int) -> Evidence:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Evidence(text=text[start:end], start=start, end=end)


def _last_header(text: str, start: int) -> str | None:
    """The last 'Header:' in the clause before a position: "History: previous BI-RADS 3. BI-RADS 2" ends
    the history part at the full stop (one-line reports have no other boundary)."""
    clause_start, _ = _clause(text, start, start)
    headers = list(_HEADER.finditer(text, max(0, clause_start - 1), start))
    return headers[-1].group(1) if headers else None


def _in_history_section(text: str, start: int) -> bool:
    header = _last_header(text, start)
    return bool(header and _HISTORY_HEADERS.search(header))


# --- BI-RADS category --------------------------------------------------------------------------------

_WORDS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6"}
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6"}
_NUMBER = (
    r"(?:(?P<digit>[0-6])(?![0-9])(?!\s*(?:mm|cm|%|o'?clock|th\b|st\b|nd\b|rd\b|[.,]\d|/\d|-\d))"
    r"(?:(?-i:\s?(?P<sub_upper>[ABC]))|(?P<sub_lower>[abc])|\s(?P<sub_spaced>[abc])(?=\s*[:),.]|\s*$))?(?![A-Za-z])"
    r"|(?-i:(?P<roman>VI|IV|V|III|II|I)(?P<roman_sub>[abcABC])?)(?![A-Za-z])"
    r"|(?P<word>zero|one|two|three|four|five|six)\b(?:\s*\(?(?P<word_sub>[abc])\)?(?![A-Za-z]))?)"
)
_BIRADS_TOKEN = r"\bb\.?i\.?[\s\-_.]?r\.?a\.?d\.?s?\b(?:\s*®)?"
_EDITION = r"(?:\s*\(?(?:ACR\s*)?(?:5th|fifth|4th|fourth)\s*ed(?:ition|\.)?\)?)?"
_BIRADS = re.compile(
    rf"{_BIRADS_TOKEN}{_EDITION}\s*(?:[:=\-–—]\s*)?(?:final\s+)?(?:assessment\s+)?"
    rf"(?:category|categorie|kategorie|cat\.?|class|score)?\s*(?:[:=\-–—#]\s*)?{_NUMBER}",
    re.I,
)
# "Assessment: Category 0 - incomplete" names no system; taken when the clause is not about density.
_BARE_CATEGORY = re.compile(rf"\b(?:category|kategorie)\s*(?:[:=\-–—#]\s*)?{_NUMBER}", re.I)
_DENSITY_CONTEXT = re.compile(r"densit|composition|parenchym|fibroglandular|\bACR\s*(?:type|density)|tissue", re.I)

_HISTORY_BEFORE = re.compile(
    r"\b(?:previous(?:ly)?|prior|earlier|last\s+(?:year|time|examination|exam|study|mammogram)|"
    r"history\s+of|follow[\s-]?up\s+of|was\s+(?:reported|classified|assessed|categori[sz]ed|graded|scored)|"
    r"were\s+(?:reported|classified|assessed)|had\s+been|at\s+that\s+time|in\s+(?:19|20)\d\d|"
    r"(?:19|20)\d\d\s*(?:examination|exam|mammogram|study)|originally|initially|known\s+BI)", re.I)
_HISTORY_AFTER = re.compile(
    r"^[^.;\n]{0,30}?\b(?:in\s+(?:19|20)\d\d|(?:on|at|in)\s+(?:the\s+)?(?:previous|prior|last)\b|"
    r"\d+\s+(?:years?|months?)\s+ago|last\s+year|from\s+(?:last|the\s+previous|the\s+prior))", re.I)
_OVERALL = re.compile(r"\b(?:overall|combined|gesamt|bilateral\s+assessment|summary\s+assessment)\b", re.I)


@dataclass(frozen=True)
class _CategoryMention:
    category: str
    start: int
    end: int
    historical: bool
    overall: bool


def _category_value(match: re.Match) -> str | None:
    g = match.groupdict()
    if g["digit"] is not None:
        number, sub = g["digit"], g["sub_upper"] or g["sub_lower"] or g["sub_spaced"]
    elif g["roman"] is not None:
        number, sub = _ROMAN[g["roman"]], g["roman_sub"]
    else:
        number, sub = _WORDS[g["word"].lower()], g["word_sub"]
    value = number + (sub.upper() if sub and number == "4" else "")
    return value if value in CATEGORIES else None


def _category_mentions(text: str) -> list[_CategoryMention]:
    mentions, taken = [], []
    for pattern, bare in ((_BIRADS, False), (_BARE_CATEGORY, True)):
        for match in pattern.finditer(text):
            if any(s <= match.start() < e for s, e in taken):
                continue
            value = _category_value(match)
            if value is None:
                continue
            left, right = _clause(text, match.start(), match.end())
            before = text[left:match.start()]
            if bare and (_DENSITY_CONTEXT.search(before[-40:]) or _DENSITY_CONTEXT.search(text[match.end():right])):
                continue
            historical = bool(
                _HISTORY_BEFORE.search(before) or _HISTORY_AFTER.search(text[match.end():right])
                or _in_history_section(text, match.start())
            )
            mentions.append(_CategoryMention(value, match.start(), match.end(), historical,
                                             bool(_OVERALL.search(before))))
            taken.append((match.start(), match.end()))
    return sorted(mentions, key=lambda m: m.start)


def _current_category(mentions: list[_CategoryMention]) -> _CategoryMention | None:
    current = [m for m in mentions if not m.historical]
    if not current:
        return None
    overall = [m for m in current if m.overall]
    if overall:
        return overall[-1]
    return max(current, key=lambda m: (HIERARCHY.index(m.category), m.start))


# --- density -------------------------------------------------------------------------------------------

_DENSITY_WORDS = [
    (re.compile(r"\b(?:almost\s+entirely|predominantly|mostly|largely|entirely|completely)\s+fat(?:ty)?\b|"
                r"\bfatty[\s-]+(?:involuted|involution|replaced)\b|\bfatty\s+breasts?\b|\bbreasts?\s+(?:are\s+)?"
                r"fatty\b|\binvoluted\s+fatty\b", re.I), "a"),
    (re.compile(r"\bscattered\s+(?:areas\s+of\s+)?fibro[\s-]?glandular\b|\bscattered\s+(?:glandular\s+)?"
                r"densit(?:y|ies)\b", re.I), "b"),
    (re.compile(r"\bheterogen(?:e|eo|o)?us(?:ly)?\s+dense\b", re.I), "c"),
    (re.compile(r"\bextremely\s+dense\b", re.I), "d"),
]
_DENSITY_LETTER = re.compile(
    r"(?:\bACR\s*(?:density\s*|composition\s*)?(?:type|category|class|grade)?|"
    r"\b(?:breast\s+)?(?:density|composition)\s*(?:category|type|class|grade)?\s*[:=\-–—]?\s*(?:ACR)?\s*"
    r"(?:type|category)?)\s*[:=\-–—]?\s*\(?(?P<letter>[a-d])\)?(?![A-Za-z0-9])",
    re.I)
_DENSITY_NUMBER = re.compile(
    r"(?:\bACR\s*(?:density|type|grade|composition|class)?|\b(?:breast\s+)?density\s*(?:grade|type|class|"
    r"category)?\s*[:=\-–—]?\s*(?:ACR)?)\s*[:=\-–—]?\s*\(?(?P<number>[1-4])\)?(?![0-9A-Za-z])(?!\s*(?:mm|cm|%))",
    re.I)


def _density(text: str) -> tuple[str | None, Evidence | None]:
    found = []
    for pattern, letter in _DENSITY_WORDS:
        found += [(m.start(), m.end(), letter) for m in pattern.finditer(text)]
    found += [(m.start(), m.end(), m.group("letter").lower()) for m in _DENSITY_LETTER.finditer(text)]
    for match in _DENSITY_NUMBER.finditer(text):
        left, _ = _clause(text, match.start(), match.end())
        before = text[max(left, match.start() - 25):match.start()]
        if re.search(_BIRADS_TOKEN, before + match.group(0), re.I):
            continue  # "ACR BI-RADS 3" is a category
        found.append((match.start(), match.end(), OLD_DENSITY[match.group("number")]))
    found = [f for f in found if not _in_history_section(text, f[0])]
    if not found:
        return None, None
    start, end, letter = min(found)
    return letter, _evidence(text, start, end)


# --- features --------------------------------------------------------------------------------------------

_MASS_DESCRIPTORS = (r"spiculat\w*|circumscribed|well[\s-]?defined|ill[\s-]?defined|indistinct|microlobulated|"
                     r"lobulated|obscured|irregular|oval|round|fat[\s-]containing|high[\s-]density|equal[\s-]density")
_CALC_DESCRIPTORS = (r"fine[\s-]linear(?:[\s-]branching)?|linear[\s-]branching|fine\s+pleomorphic|pleomorphic|"
                     r"amorphous|coarse\s+heterogeneous|punctate|popcorn|vascular|rim|dystrophic|milk\s+of\s+calcium|"
                     r"rod[\s-]like|secretory|skin|suture|grouped|clustered?|segmental|regional|diffuse|linear|"
                     r"scattered|benign|suspicious|coarse|round")
_FEATURE_PATTERNS = {
    "mass": re.compile(r"\bmass(?:es)?\b|\bnodules?\b|\bnodular\s+opacit(?:y|ies)\b|\bopacit(?:y|ies)\b|"
                       r"\b(?:focal|solid|space[\s-]occupying)\s+lesions?\b", re.I),
    "calcifications": re.compile(r"\b(?:micro[\s-]?)?calc?[a-z]*?f[a-z]*?cations?\b|\b(?:micro)?calcs\b|"
                                 r"\bcalcified\b|\bmicrocalcs?\b", re.I),
    "architectural_distortion": re.compile(r"\b(?:architect\w*\s+|parenchymal\s+|structural\s+)?distor[st]ions?\b",
                                           re.I),
    "asymmetry": re.compile(r"\bas+ym+et+r(?:y|ies|ic\s+densit(?:y|ies))\b", re.I),
}
# "lesion" is a mass when the clause gives it a mass shape or margin.
_LESION = re.compile(r"\blesions?\b", re.I)
_DESCRIPTOR = {
    "mass": re.compile(rf"\b(?:{_MASS_DESCRIPTORS})\b", re.I),
    "calcifications": re.compile(rf"\b(?:{_CALC_DESCRIPTORS})\b", re.I),
    "architectural_distortion": re.compile(r"\b(?:subtle|focal)\b", re.I),
    "asymmetry": re.compile(r"\b(?:focal|global|developing)\b", re.I),
}

_NEG_BEFORE = re.compile(
    r"\b(?:no|not|without|neither|nor|negative\s+for|free\s+of|absence\s+of|absent|rules?\s+out|"
    r"ruled\s+out|exclude[sd]?|unremarkable\s+for)\b", re.I)
_PSEUDO_NEG = re.compile(
    r"\bno\s+(?:significant\s+|interval\s+|appreciable\s+)?(?:change|increase|growth|progression)\b|"
    r"\bnot\s+(?:significantly\s+)?(?:changed|enlarged|increased|only)\b|\bno\s+longer\b", re.I)
# Words that close a negation's scope before the clause ends.
_TERMINATION = re.compile(
    r"\b(?:but|however|although|though|except|apart\s+from|aside\s+from|yet|whereas|while|there\s+(?:is|are)|"
    r"seen\s+is|noted\s+is|we\s+note|demonstrated\s+is|with\s+the\s+exception)\b", re.I)
_NEG_AFTER = re.compile(
    r"^[^,;.\n]{0,60}?\b(?:(?:is|are|was|were)\s+)?(?:not|no\s+longer)\s+(?:seen|identified|present|visible|"
    r"demonstrated|evident|appreciated|detected|shown)\b|^[^,;.\n]{0,40}?\b(?:has|have)\s+resolved\b", re.I)
# Mentions that are not findings: "dense tissue may obscure small masses", "?mass".
_HYPOTHETICAL = re.compile(
    r"\b(?:obscur\w*|mask\w*|hide|hiding|sensitivity|to\s+exclude|evaluate\s+for|assess\s+for|query|r/o)\b|\?\s*$",
    re.I)
_SIDES = re.compile(
    r"\b(?P<bilateral>bilateral(?:ly)?|both\s+(?:breasts|sides))\b|\b(?P<right>right|rt)\b|\b(?P<left>left|lt)\b|"
    r"\b(?P<r>R)(?=\s+breast\b)|\b(?P<l>L)(?=\s+breast\b)", re.I)


def _laterality_near(text: str, left: int, right: int, position: int) -> str | None:
    sides = []
    for match in _SIDES.finditer(text, left, right):
        if match.group("bilateral"):
            side = "bilateral"
        elif match.group("right") or match.group("r"):
            side = "right"
        else:
            side = "left"
        sides.append((abs(match.start() - position), side))
    return min(sides)[1] if sides else None


def _negated(text: str, left: int, right: int, start: int, end: int) -> bool:
    before = text[left:start]
    triggers = [m for m in _NEG_BEFORE.finditer(before)
                if not any(p.start() <= m.start() < p.end() for p in _PSEUDO_NEG.finditer(before))]
    if triggers:
        scope = before[triggers[-1].end():]
        if not _TERMINATION.search(scope):
            return True
    return bool(_NEG_AFTER.search(text[end:right]))


def _features(text: str) -> tuple[list[Feature], list[Feature]]:
    present, negated = [], []
    mentions = []
    for kind, pattern in _FEATURE_PATTERNS.items():
        mentions += [(m.start(), m.end(), kind) for m in pattern.finditer(text)]
    for match in _LESION.finditer(text):
        left, right = _clause(text, match.start(), match.end())
        if _DESCRIPTOR["mass"].search(text[left:right]) and not any(s <= match.start() < e for s, e, _ in mentions):
            mentions.append((match.start(), match.end(), "mass"))
    for start, end, kind in sorted(mentions):
        left, right = _clause(text, start, end)
        if _in_history_section(text, start) or _HYPOTHETICAL.search(text[left:start]):
            continue
        clause = text[left:right]
        descriptors = sorted({d.group(0).lower() for d in _DESCRIPTOR[kind].finditer(clause)})
        feature = Feature(kind=kind, negated=_negated(text, left, right, start, end),
                          laterality=_laterality_near(text, left, right, start), descriptors=descriptors,
                          evidence=_evidence(text, left, right))
        (negated if feature.negated else present).append(feature)
    return _one_per_clause(present), _one_per_clause(negated)


def _one_per_clause(features: list[Feature]) -> list[Feature]:
    """"Calcifications ... microcalcifications" in one clause is one finding."""
    seen, kept = set(), []
    for feature in features:
        key = (feature.kind, feature.evidence.start)
        if key not in seen:
            seen.add(key)
            kept.append(feature)
    return kept


def _report_laterality(features: list[Feature]) -> str | None:
    sides = {f.laterality for f in features if f.laterality}
    if not sides:
        return None
    if "bilateral" in sides or {"left", "right"} <= sides:
        return "bilateral"
    return sides.pop()


def mine_mammography_report(text: str) -> MinedReport:
    """BI-RADS category, density, laterality and features of one free-text mammography report."""
    text = text or ""
    mentions = _category_mentions(text)
    current = _current_category(mentions)
    density, density_evidence = _density(text)
    present, negated = _features(text)
    return MinedReport(
        birads=current.category if current else None,
        birads_evidence=_evidence(text, current.start, current.end) if current else None,
        density=density,
        density_evidence=density_evidence,
        laterality=_report_laterality(present),
        features=present,
        negated=negated,
        prior_birads=[(m.category, _evidence(text, m.start, m.end)) for m in mentions if m.historical],
    )
