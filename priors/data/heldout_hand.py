"""A second held-out part: 30 hand-written reports (synthetic), labelled by hand and committed before the
miner was ever run on them. The rules are not tuned on these either.

The generated held-out part scored 1.000 once generic bugs found on the dev part were fixed: template
text is too regular to measure a miner. These are written to differ from both generators: American
and British dictation habits, spelled-out system names, odd punctuation, hedges, scars and clips.
"""

KINDS = ("mass", "calcifications", "architectural_distortion", "asymmetry")


def _f(*present: str) -> dict:
    return {k: k in present for k in KINDS}


# (text, birads, density, laterality, features)
REPORTS = [
    ("BILATERAL SCREENING MAMMOGRAM\nTECHNIQUE: Standard CC and MLO views.\nCOMPARISON: 01/12/2024.\n"
     "The breast tissue is heterogeneously dense. No mammographic evidence of malignancy.\n"
     "ASSESSMENT: Negative (BI-RADS 1). Recommend annual screening.", "1", "c", None, _f()),
    ("Breast Imaging Reporting and Data System (BI-RADS) category 2: benign. Postsurgical scar with "
     "architectural distortion in the left breast, stable since 2022. Scattered fibroglandular densities.",
     "2", "b", "left", _f("architectural_distortion")),
    ("Final Assessment Category: 3 - Probably Benign.\nBreast density category B.\nA 7 mm oval, circumscribed "
     "mass in the right breast at 9:00, 4 cm from the nipple. Follow-up in 6 months.", "3", "b", "right",
     _f("mass")),
    ("FINDINGS: Extremely dense breasts. In the left breast at 2 o'clock there is a 12 mm irregular mass with "
     "angular margins and associated pleomorphic calcifications.\nIMPRESSION: Highly suspicious left breast mass. "
     "BI-RADS: 5.", "5", "d", "left", _f("mass", "calcifications")),
    ("Indication: recall from screening (BI-RADS 0) for right breast asymmetry. Spot compression views: the "
     "asymmetry disperses, consistent with superimposed normal tissue. No suspicious finding. BI-RADS 1.",
     "1", None, None, _f()),
    ("ACR BI-RADS Category: 4 (Suspicious). Density: ACR-Typ C. Neue gruppierte Mikroverkalkungen links / "
     "new grouped microcalcifications in the left breast, 8 mm.", "4", "c", "left", _f("calcifications")),
    ("bi-rads3. fatty breasts. small well-defined nodule right outer breast, likely intramammary node or "
     "fibroadenoma.", "3", "a", "right", _f("mass")),
    ("Screening mammogram. Compared with prior studies dating back to 2019. There are scattered areas of "
     "fibroglandular density. Bilateral benign-appearing calcifications. There are no suspicious masses. "
     "BIRADS=2.", "2", "b", "bilateral", _f("calcifications")),
    ("Both breasts show predominantly fatty involution (ACR 1). No focal abnormality.\nCONCLUSION: Normal "
     "mammogram, BI-RADS category 1.", "1", "a", None, _f()),
    ("Clinical history: prior right lumpectomy 2020 (BI-RADS 6 at that time). Post-treatment changes in the "
     "right breast with skin thickening. Left breast normal. No evidence of recurrence. BI-RADS 2.",
     "2", None, None, _f()),
    ("LEFT DIAGNOSTIC MAMMOGRAM: Palpable lump left 3 o'clock marked with a BB. No mammographic correlate "
     "for the palpable finding. Heterogeneously dense. Assessment: BI-RADS 1, negative; ultrasound recommended "
     "for the palpable area.", "1", "c", None, _f()),
    ("Right breast: BI-RADS 4B (irregular mass with microlobulated margins, 16 mm, UOQ).\nLeft breast: BI-RADS 2 "
     "(stable calcified fibroadenoma).\nBreast composition: b.", "4B", "b", "bilateral",
     _f("mass", "calcifications")),
    ("Mammography shows a new focal asymmetry in the left lower inner quadrant which does not resolve on "
     "spot compression. No underlying calcifications or distortion. BI-RADS 4A. The breasts are almost entirely "
     "fatty.", "4A", "a", "left", _f("asymmetry")),
    ("Impression: Category 0 - Incomplete. Possible distortion in the right breast on the CC view only; "
     "tomosynthesis recommended. ACR density: c.", "0", "c", "right", _f("architectural_distortion")),
    ("BIRAD 2. Benign vascular calcs. Density B.", "2", "b", None, _f("calcifications")),
    ("No interval change in the 6 mm circumscribed mass in the right breast which has been stable for 3 years "
     "and is therefore benign. BI-RADS 2. Scattered fibroglandular tissue.", "2", "b", "right", _f("mass")),
    ("Assessment: suspicious for malignancy (BI-RADS IV). Segmental fine linear branching calcifications "
     "spanning 5 cm in the right breast. Heterogeneously dense breast tissue.", "4", "c", "right",
     _f("calcifications")),
    ("Screening: normal. Mammographic density: extremely dense (ACR d). Supplemental MRI may be considered. "
     "BI-RADS 1 - negative.", "1", "d", None, _f()),
    ("The previously seen 9 mm mass in the left breast has resolved. No new mass, calcifications or "
     "asymmetry. BI-RADS 1. ACR B.", "1", "b", None, _f()),
    ("History: BI-RADS 4 biopsy left breast (benign, concordant). Today post-biopsy clip in the left breast "
     "with minimal distortion at the biopsy site. BI-RADS 2. ACR C.", "2", "c", "left",
     _f("architectural_distortion")),
    ("MAMMO BILAT DIGITAL: dense (heterogeneous) parenchyma. Two clustered groups of amorphous "
     "microcalcifications in the right upper outer quadrant. BI-RADS 4B - stereotactic biopsy recommended.",
     "4B", "c", "right", _f("calcifications")),
    ("Conclusion: BI-RADS 3 right (probably benign asymmetry), BI-RADS 1 left. Overall BI-RADS 3.",
     "3", None, "right", _f("asymmetry")),
    ("Spiculated mass right breast, 22 mm, with nipple retraction and skin thickening. Enlarged right axillary "
     "node. Highly suggestive of malignancy, BIRADS 5. Scattered fibroglandular density.", "5", "b", "right",
     _f("mass")),
    ("BI-RADS 2 - benign. Bilateral silicone implants, intact. No suspicious calcifications or masses in the "
     "residual breast tissue, which is heterogeneously dense.", "2", "c", None, _f()),
    ("ASSESSMENT: BI-RADS 0 (needs additional imaging). A possible mass in the left breast seen only on the "
     "MLO view, 10 mm. Breasts are almost entirely fat.", "0", "a", "left", _f("mass")),
    ("Bilateral mammogram with CAD. ACR density category 3 (heterogeneously dense). No dominant mass or "
     "suspicious microcalcification. No skin or nipple change. Impression: BI-RADS 1.", "1", "c", None, _f()),
    ("Left breast global asymmetry corresponding to asymmetric breast tissue, unchanged over 4 years. "
     "BI-RADS 2. Breast composition: a.", "2", "a", "left", _f("asymmetry")),
    ("Known left breast carcinoma under neoadjuvant chemotherapy (BI-RADS 6). The 30 mm irregular spiculated "
     "mass in the left breast has decreased to 18 mm. Heterogeneously dense.", "6", "c", "left", _f("mass")),
    ("Mammogram: no suspicious abnormality. Benign category (BI-RADS 2) because of a stable oil cyst in the right "
     "breast with rim calcification. Scattered fibroglandular.", "2", "b", "right", _f("calcifications")),
    ("Right breast: architectural distortion at 11:00 without a central mass, not seen before. Left breast: "
     "negative. BI-RADS 4C. Density ACR 2.", "4C", "b", "right", _f("architectural_distortion")),
]


def generate() -> list[dict]:
    return [{"id": f"heldout-hand-{i:02d}", "part": "heldout_hand", "style": "hand_written", "text": text,
             "birads": birads, "density": density, "laterality": laterality, "features": features}
            for i, (text, birads, density, laterality, features) in enumerate(REPORTS)]
