"""Held-out part of the labelled mammography report set (synthetic; written before the mining rules).

A second, independent style generator: UK/European free text, verbose narrative, dictated
telegraphic notes and a German-English "structured" style, with their own phrase banks. The
mining rules are never tuned on this part; its accuracy is reported separately.

Every report is invented text built from the phrase banks below, with its labels set by the
generator (never by the miner). Run by `build_labelled_set` (priors/data/build.py).
"""

from __future__ import annotations

import random

SIDES = {"right": ["right", "Right", "RIGHT", "R"], "left": ["left", "Left", "LEFT", "L"]}

# (text, density letter). Wording a European or UK reader would dictate.
COMPOSITION = [
    ("The breasts are almost entirely fatty.", "a"),
    ("Breast tissue predominantly fatty (ACR a).", "a"),
    ("Fatty involuted breasts, ACR type A.", "a"),
    ("Scattered fibroglandular tissue.", "b"),
    ("There are scattered areas of fibroglandular density.", "b"),
    ("Density ACR B.", "b"),
    ("Breast density: ACR 2 (old numbering).", "b"),
    ("The breast tissue is heterogeneously dense, which may obscure small masses.", "c"),
    ("Heterogeneously dense parenchyma (ACR C).", "c"),
    ("Dense glandular tissue, ACR c, sensitivity reduced.", "c"),
    ("ACR density 3.", "c"),
    ("The breasts are extremely dense, which lowers the sensitivity of mammography.", "d"),
    ("Extremely dense breast tissue (type D).", "d"),
    ("ACR 4 density.", "d"),
    ("Breast composition category D.", "d"),
]

MASS = [
    "an irregular spiculated mass measuring {size} mm in the {side} upper outer quadrant",
    "a {size} mm oval circumscribed mass in the {side} breast at 3 o'clock",
    "a round mass with indistinct margins, {size} mm, {side} retroareolar",
    "an ill-defined lesion of {size} mm with spiculation in the {side} breast",
    "a lobulated, well circumscribed opacity of {size} mm in the {side} lower inner quadrant",
    "a {size} mm irregular mass with microlobulated margins in the {side} breast",
]
CALC = [
    "a cluster of fine pleomorphic microcalcifications spanning {size} mm in the {side} breast",
    "grouped amorphous calcifications in the {side} upper inner quadrant",
    "fine linear branching calcifications in a segmental distribution in the {side} breast",
    "coarse heterogeneous calcifications, grouped, {side} breast, extent {size} mm",
    "a new group of punctate microcalcifications in the {side} breast",
]
DISTORTION = [
    "architectural distortion in the {side} upper outer quadrant",
    "an area of architectural distorsion at 12 o'clock in the {side} breast",
    "subtle parenchymal distortion in the {side} breast, seen on the CC view only",
]
ASYMMETRY = [
    "a focal asymmetry in the {side} breast, {size} mm",
    "a developing asymmetry in the {side} upper outer quadrant",
    "a global asymmetry of the {side} breast",
    "an asymmetric density in the {side} breast, seen in one projection only",
]
BENIGN_CALC = [
    "Benign vascular calcifications bilaterally.",
    "Scattered benign-appearing coarse calcifications on both sides.",
    "Secretory (rod-like) calcifications in both breasts, benign.",
]

NEGATIONS = [
    "No mass, suspicious calcifications or architectural distortion.",
    "There is no evidence of a suspicious mass, microcalcifications or architectural distortion.",
    "No focal lesion. No suspicious microcalcification. No distortion.",
    "No dominant mass or suspicious calcification is seen.",
    "Without suspicious masses, calcifications or architectural distortion.",
    "Neither mass nor asymmetry is identified.",
    "No new asymmetry or architectural distortion has developed.",
]

CATEGORY_PHRASES = {
    "0": ["BI-RADS 0 (incomplete, needs further imaging)", "Category 0 - additional imaging required",
          "BIRADS 0: recall for assessment", "BI-RADS category zero"],
    "1": ["BI-RADS 1 - negative", "BIRADS 1 (normal)", "Category 1: negative", "BI-RADS I"],
    "2": ["BI-RADS 2 (benign findings)", "BIRADS II, benign", "BI-RADS-2", "Bi-RADS category 2 - benign"],
    "3": ["BI-RADS 3 - probably benign, short-interval follow-up suggested", "BIRADS III",
          "BI-RADS category 3 (probably benign)"],
    "4": ["BI-RADS 4, suspicious", "BIRADS 4 (suspicious abnormality)", "BI-RADS IV"],
    "4A": ["BI-RADS 4a (low suspicion)", "BIRADS 4A", "BI-RADS IVa"],
    "4B": ["BI-RADS 4b (moderate suspicion)", "BIRADS 4 B"],
    "4C": ["BI-RADS 4c (high suspicion)", "BIRADS 4C"],
    "5": ["BI-RADS 5 - highly suggestive of malignancy", "BIRADS V", "BI-RADS category five"],
    "6": ["BI-RADS 6 (known biopsy-proven malignancy)", "BIRADS 6"],
}

# The hierarchy the ACR uses to combine assessments (BI-RADS Atlas 5th ed.): 1, 2, 3, 6, 0, 4, 5.
ORDER = ["1", "2", "3", "6", "0", "4A", "4", "4B", "4C", "5"]

# Findings that make a category plausible; the labels follow the text either way.
SUSPICIOUS = ("0", "3", "4", "4A", "4B", "4C", "5", "6")


def _side_word(rng: random.Random, side: str) -> str:
    return rng.choice(SIDES[side][:3])


def _finding_sentence(rng: random.Random, kind: str, side: str) -> str:
    bank = {"mass": MASS, "calcifications": CALC, "architectural_distortion": DISTORTION, "asymmetry": ASYMMETRY}
    phrase = rng.choice(bank[kind]).format(size=rng.randint(4, 35), side=_side_word(rng, side).lower())
    opener = rng.choice(["There is ", "We note ", "Demonstrated is ", "Seen is ", "", "In addition "])
    sentence = opener + phrase if opener else phrase[0].upper() + phrase[1:]
    return sentence + "."


def _typo(rng: random.Random, text: str) -> str:
    swaps = [("calcifications", "calcfications"), ("architectural", "architectual"), ("BI-RADS", "BI-RAD"),
             ("asymmetry", "assymetry"), ("mammography", "mamography"), ("BI-RADS", "Bi-Rads")]
    old, new = rng.choice(swaps)
    return text.replace(old, new, 1)


def _history(rng: random.Random, prior: str | None) -> str:
    if prior is None:
        return rng.choice(["Clinical information: screening.", "Indication: routine screening, no symptoms.",
                           "Clinical details: palpable lump?", ""])
    return rng.choice([
        f"Clinical information: follow-up of a BI-RADS {prior} finding from last year.",
        f"History: previous mammogram (2023) was reported as BI-RADS {prior}.",
        f"Indication: short interval follow-up; prior assessment BIRADS {prior}.",
        f"Previously classified BI-RADS {prior} at another institution.",
    ])


def generate(n: int, seed: int = 20261126) -> list[dict]:
    rng = random.Random(seed)
    reports = []
    for index in range(n):
        kinds = [k for k in ("mass", "calcifications", "architectural_distortion", "asymmetry") if rng.random() < 0.22]
        side = rng.choice(["right", "left"])
        category = rng.choice(["1", "2"]) if not kinds else rng.choice(["0", "3", "4", "4A", "4B", "4C", "5"])
        if rng.random() < 0.05:
            category = "6"
        composition, density = rng.choice(COMPOSITION)
        if rng.random() < 0.08:
            composition, density = "", None
        prior = rng.choice(["3", "4", "2", "0"]) if rng.random() < 0.3 else None
        style = rng.choice(["uk_free_text", "verbose", "dictated", "structured_eu"])
        benign_calc = rng.random() < 0.2 and not kinds
        features = {k: k in kinds for k in ("mass", "calcifications", "architectural_distortion", "asymmetry")}
        if benign_calc:
            features["calcifications"] = True
        laterality = side if kinds else ("bilateral" if benign_calc else None)

        findings = [_finding_sentence(rng, k, side) for k in kinds]
        if benign_calc:
            findings.append(rng.choice(BENIGN_CALC))
        if not kinds or rng.random() < 0.4:
            absent = [k for k in features if not features[k]]
            if absent:
                findings.append(rng.choice([n for n in NEGATIONS if _negation_fits(n, features)] or [""]))
        findings = [f for f in findings if f]
        if not findings:
            findings = ["Normal appearances."]

        per_breast = style in ("structured_eu", "verbose") and kinds and rng.random() < 0.5
        category_text = rng.choice(CATEGORY_PHRASES[category])
        if per_breast:
            other = "right" if side == "left" else "left"
            other_cat = rng.choice(["1", "2"])
            assessment = (f"{other.capitalize()} breast: {rng.choice(CATEGORY_PHRASES[other_cat])}. "
                          f"{side.capitalize()} breast: {category_text}.")
            if rng.random() < 0.5:
                assessment += f" Overall: BI-RADS {category}."
        else:
            assessment = category_text + "."

        history = _history(rng, prior)
        if style == "uk_free_text":
            text = "\n".join(x for x in [
                "Bilateral mammography, 2 views.", history, composition, " ".join(findings),
                f"Conclusion: {assessment}",
                "Recommendation: " + rng.choice(["routine recall", "triple assessment clinic", "ultrasound and "
                                                 "biopsy", "return to screening"]) + ".",
            ] if x)
        elif style == "verbose":
            text = " ".join(x for x in [
                "Bilateral digital mammography in craniocaudal and mediolateral oblique projections was performed.",
                history, "Comparison is made with prior examinations where available.", composition,
                " ".join(findings), f"In summary, the final assessment is {assessment}",
            ] if x)
        elif style == "dictated":
            text = "; ".join(x.rstrip(".") for x in [
                "mammo bilat", history, composition, " ".join(findings), f"impression {assessment}",
            ] if x) + "."
        else:
            text = "\n".join(x for x in [
                "MAMMOGRAPHIE beidseits / bilateral mammography", "Anamnese/History: " + (history or "none"),
                "Parenchym/Composition: " + (composition or "not stated"), "Befund/Findings: " + " ".join(findings),
                "Beurteilung/Assessment: " + assessment,
            ])
        if rng.random() < 0.2:
            text = _typo(rng, text)
        reports.append({
            "id": f"heldout-{index:03d}", "part": "heldout", "style": style, "text": text,
            "birads": category, "density": density, "laterality": laterality, "features": features,
        })
    return reports


def _negation_fits(sentence: str, features: dict) -> bool:
    """A negation sentence may only deny what the report does not describe."""
    lowered = sentence.lower()
    words = {"mass": ["mass", "lesion"], "calcifications": ["calcification"],
             "architectural_distortion": ["distortion"], "asymmetry": ["asymmetry"]}
    return not any(features[k] and any(w in lowered for w in ws) for k, ws in words.items())
