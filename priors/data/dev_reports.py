"""Development part of the labelled mammography report set (synthetic): the part the rules are tuned on.

US ACR structured reports, terse screening notes and a handful of hand-written tricky reports.
Labels are set by the generator or by hand, never by the miner.
"""

from __future__ import annotations

import random

KINDS = ("mass", "calcifications", "architectural_distortion", "asymmetry")

DENSITY = [
    ("Breast composition: a. The breasts are almost entirely fatty.", "a"),
    ("The breasts are almost entirely fatty (ACR A).", "a"),
    ("BREAST COMPOSITION: There are scattered areas of fibroglandular density.", "b"),
    ("Breast composition: b", "b"),
    ("Density: scattered fibroglandular densities.", "b"),
    ("ACR density 2", "b"),
    ("The breasts are heterogeneously dense, which may obscure small masses.", "c"),
    ("Breast density: ACR C", "c"),
    ("Heterogeneously dense breast tissue.", "c"),
    ("ACR 3", "c"),
    ("The breasts are extremely dense (d), which lowers the sensitivity of mammography.", "d"),
    ("Breast composition: D - extremely dense.", "d"),
    ("density ACR 4", "d"),
]

FINDINGS = {
    "mass": ["{Side} breast: {size} mm irregular mass with spiculated margins at {clock} o'clock, "
             "{depth} depth.",
             "There is an oval circumscribed mass in the {side} breast measuring {size} mm.",
             "{size} mm round mass with indistinct margins, {side} breast.",
             "A new irregular mass is seen in the {side} upper outer quadrant."],
    "calcifications": ["{Side} breast: grouped fine pleomorphic calcifications spanning {size} mm.",
                       "Clustered amorphous microcalcifications in the {side} breast.",
                       "Fine linear branching calcifications in a segmental distribution, {side} breast.",
                       "{Side} breast: new punctate calcs, grouped."],
    "architectural_distortion": ["Architectural distortion in the {side} breast at {clock} o'clock.",
                                 "{Side} breast: architectural distortion without an associated mass."],
    "asymmetry": ["Focal asymmetry in the {side} breast, posterior depth.",
                  "{Side} breast: developing asymmetry at {clock} o'clock.",
                  "A global asymmetry is present in the {side} breast."],
}
NEGATION = [
    "There is no suspicious mass, architectural distortion, or suspicious calcification.",
    "No suspicious masses or calcifications. No architectural distortion.",
    "No dominant masses, suspicious calcifications or areas of architectural distortion are seen.",
    "Negative for mass, distortion or suspicious microcalcifications.",
]
ASSESSMENT = {
    "0": ["BI-RADS 0: Incomplete - need additional imaging evaluation", "Assessment: Category 0 – incomplete",
          "BIRADS: 0"],
    "1": ["BI-RADS 1: Negative", "ACR BI-RADS® 1 - negative", "BI-RADS 5th ed. category 1 (negative)"],
    "2": ["BI-RADS 2: Benign", "ACR BI-RADS® 2 - benign", "Bi-Rads category two"],
    "3": ["BI-RADS 3: Probably benign", "BIRADS: 3", "BI-RADS Category 3 - probably benign"],
    "4": ["BI-RADS 4: Suspicious", "BI-RADS 4", "Bi-Rads category four"],
    "4A": ["BIRADS: 4a", "BI-RADS 4A: Low suspicion for malignancy"],
    "4B": ["BI-RADS 4B: Moderate suspicion", "BIRADS 4b"],
    "4C": ["BI-RADS 4C: High suspicion for malignancy", "Birads 4c"],
    "5": ["BI-RADS 5: Highly suggestive of malignancy", "BIRADS: 5"],
    "6": ["BI-RADS 6: Known biopsy-proven malignancy"],
}


def generate(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    reports = []
    for index in range(n):
        kinds = [k for k in KINDS if rng.random() < 0.25]
        side = rng.choice(["right", "left"])
        category = rng.choice(["1", "2"]) if not kinds else rng.choice(["0", "3", "4", "4A", "4B", "4C", "5"])
        if rng.random() < 0.05:
            category = "6"
        density_text, density = rng.choice(DENSITY)
        prior = rng.choice(["0", "3", "4"]) if rng.random() < 0.3 else None
        style = rng.choice(["acr_structured", "terse"])
        findings = [rng.choice(FINDINGS[k]).format(side=side, Side=side.capitalize(), size=rng.randint(5, 30),
                                                   clock=rng.randint(1, 12), depth=rng.choice(["middle", "anterior"]))
                    for k in kinds]
        if not kinds or rng.random() < 0.3:
            findings.append(rng.choice(NEGATION) if not kinds else "")
        history = (rng.choice([f"Comparison: prior exam dated 2024 assessed as BI-RADS {prior}.",
                               f"HISTORY: Follow-up of previous BI-RADS {prior}.",
                               f"Previous BI-RADS {prior} in 2023."]) if prior else "")
        assessment = rng.choice(ASSESSMENT[category])
        if style == "acr_structured":
            text = "\n".join(x for x in [
                "EXAM: Bilateral screening digital mammogram with tomosynthesis.",
                "INDICATION: Screening." if not history else history,
                density_text, "FINDINGS: " + " ".join(f for f in findings if f),
                "IMPRESSION: " + assessment + ".",
            ] if x)
        else:
            text = " ".join(x for x in [history, density_text + ".", " ".join(f for f in findings if f),
                                        assessment + "."] if x)
        features = {k: k in kinds for k in KINDS}
        reports.append({"id": f"dev-{index:03d}", "part": "dev", "style": style, "text": text, "birads": category,
                        "density": density, "laterality": side if kinds else None, "features": features})
    return reports


def _features(*present: str) -> dict:
    return {k: k in present for k in KINDS}


# Hand-written reports for the tricky phrasings the issue lists.
HAND_WRITTEN = [
    ("Right breast: BI-RADS 2. Left breast: BI-RADS 4A. Overall assessment: BI-RADS 4A.\n"
     "Left breast: 9 mm irregular mass with indistinct margins.", "4A", None, "left", _features("mass")),
    ("Right breast BI-RADS 1; left breast BI-RADS 3 (focal asymmetry, left upper outer quadrant).", "3", None,
     "left", _features("asymmetry")),
    ("History: previous BI-RADS 3, now 24-month follow-up. The breasts are heterogeneously dense. Stable oval "
     "circumscribed mass in the right breast. BI-RADS 2 - benign.", "2", "c", "right", _features("mass")),
    ("Extremely dense (d). No mass, no suspicious calcifications, without architectural distortion. BI-RADS 1.",
     "1", "d", None, _features()),
    ("BIRADS-4 b: grouped amorphous calcifications left breast. ACR density 3.", "4B", "c", "left",
     _features("calcifications")),
    ("Mammo: Bi-Rads category four. Irregular spiculated mass R breast 2 o'clock. ACR C.", "4", "c", "right",
     _features("mass")),
    ("SCREENING. almost entirely fatty. negative. bi-rads 1.", "1", "a", None, _features()),
    ("Comparison with 2022 when it was reported as BI-RADS 4 and biopsied (benign). Today: scattered "
     "fibroglandular tissue, biopsy clip left breast, no new findings. BI-RADS 2.", "2", "b", None, _features()),
    ("Breast composition: c. Benign vascular calcifications bilaterally. No suspicious mass. ACR BI-RADS® 2 - "
     "benign.", "2", "c", "bilateral", _features("calcifications")),
    ("Assessment: Category 0 – incomplete. Focal asymmetry left breast seen on the MLO view only; spot "
     "compression views recommended. Density: b", "0", "b", "left", _features("asymmetry")),
    ("The mass previously described in the left breast is no longer seen. BI-RADS 1. Heterogeneously dense.",
     "1", "c", None, _features()),
    ("Fine linear branching calcifications in the right breast spanning 4 cm, segmental; associated "
     "architectural distortion. BI-RADS 5. Known previous BI-RADS 3.", "5", None, "right",
     _features("calcifications", "architectural_distortion")),
    ("Bilateral mammogram. Breast density ACR B. Right breast: no abnormality. Left breast: 14 mm spiculated "
     "mass; biopsy-proven carcinoma. BI-RADS 6.", "6", "b", "left", _features("mass")),
    ("Impression: BI-RADS 3 - probably benign. Clustered punctate microcalcs in the left breast. Short-interval "
     "follow-up in 6 months. Breast composition: b.", "3", "b", "left", _features("calcifications")),
    ("BIRADS: 4a. Developing asymmetry, right breast 10 o'clock. Scattered areas of fibroglandular density.",
     "4A", "b", "right", _features("asymmetry")),
    ("Ultrasound BI-RADS 2 (simple cyst) and mammography BI-RADS 0; overall BI-RADS 0 pending further views. "
     "Round circumscribed mass left breast.", "0", None, "left", _features("mass")),
    ("Heterogenously dense breasts. No evidence of malignancy. Stable benign-appearing calcifications in the "
     "left breast. BI-RADS 2.", "2", "c", "left", _features("calcifications")),
    ("BI-RADS 5th edition: category 3. Oval circumscribed mass in the right breast, likely fibroadenoma.",
     "3", None, "right", _features("mass")),
]


def hand_written() -> list[dict]:
    return [{"id": f"dev-hand-{i:02d}", "part": "dev", "style": "hand_written", "text": text, "birads": birads,
             "density": density, "laterality": laterality, "features": features}
            for i, (text, birads, density, laterality, features) in enumerate(HAND_WRITTEN)]
