"""Referring physician names: one normal form, so that a study is linked only on an exact match.

The rule (README "Referring clinicians"): a study belongs to a clinician only when its referring
physician's name, normalised, equals one of the identities a manager linked to that clinician.
Normalising folds case and accents, drops punctuation and titles, and reads the name by its
components (DICOM PN `Family^Given^Middle^Prefix^Suffix`; HL7 orders arrive as `Family^Given`), so
"HADDAD^Samir^^Dr" and "Haddad, Samir" are one person. Anything less than equality (same family
name with another given name, the same words in another order, an initial) is a near match: it is
shown to the manager as a suggestion and never linked by itself, because two doctors can share a
surname and a wrong link shows one clinician another's patients.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Titles and post-nominals, compared after normalising; dropped wherever they stand as a word.
TITLES = frozenset({
    "dr", "doctor", "prof", "professor", "mr", "mrs", "ms", "miss", "mx", "sir", "dame",
    "md", "phd", "mbbs", "mbchb", "frcr", "frcp", "frcs", "facr", "do", "jr", "sr",
})
_APOSTROPHES = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class ReferrerName:
    family: str
    given: str

    @property
    def key(self) -> str:
        return f"{self.family}^{self.given}" if self.family or self.given else ""

    @property
    def words(self) -> frozenset[str]:
        return frozenset((self.family + " " + self.given).split())


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()
    # O'Brien is one word; a hyphen or a full stop separates two.
    folded = _NON_WORD.sub(" ", _APOSTROPHES.sub("", folded)).replace("_", " ")
    return [word for word in folded.split() if word not in TITLES]


def referrer_parse(value: str) -> ReferrerName:
    """A name as DICOM (PN) or an HL7 order carries it: components separated by ^.

    Only the first (alphabetic) PN component group counts; prefix and suffix components are
    titles and are dropped.
    """
    alphabetic = (value or "").split("=")[0]
    if "^" not in alphabetic and "," in alphabetic:
        return referrer_parse_typed(alphabetic)
    parts = alphabetic.split("^")
    family = " ".join(_words(parts[0]))
    given = " ".join(_words(" ".join(parts[1:3])))
    return ReferrerName(family=family, given=given)


def referrer_parse_typed(value: str) -> ReferrerName:
    """A name a manager types: `Family^Given` or `Family, Given`; a single word is a family name.

    "Samir Haddad" is refused rather than guessed: which word is the family name is exactly the
    kind of guess that links the wrong doctor.
    """
    value = (value or "").strip()
    if "^" in value:
        return referrer_parse(value)
    family, comma, given = value.partition(",")
    family_words, given_words = _words(family), _words(given)
    if not comma and len(family_words) > 1:
        raise ValueError("write the name as 'Family, Given' or Family^Given so the family name is unambiguous")
    if not family_words:
        raise ValueError("the name has no family name")
    return ReferrerName(family=" ".join(family_words), given=" ".join(given_words))


def referrer_from_parts(family: str, given: str) -> ReferrerName:
    return ReferrerName(family=" ".join(_words(family)), given=" ".join(_words(given)))


def referrer_key(value: str) -> str:
    return referrer_parse(value).key


def near_match(a: ReferrerName, b: ReferrerName) -> bool:
    """Similar enough to suggest to a manager, never enough to link: not equal, but plausibly one person."""
    if not a.key or not b.key or a.key == b.key:
        return False
    same_family = bool(a.family) and a.family == b.family
    same_words_reordered = a.words == b.words
    return same_family or same_words_reordered


def referrer_display(key: str) -> str:
    """A normal form shown to people: 'Haddad, Samir'."""
    family, _, given = key.partition("^")
    return f"{family.title()}, {given.title()}" if given else family.title()
