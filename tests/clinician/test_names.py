"""The matching rule: normalised names must be equal; near matches are suggestions, never links."""

import pytest

from clinician.names import near_match, referrer_parse, referrer_parse_typed


@pytest.mark.parametrize("written", [
    "Haddad^Samir", "HADDAD^SAMIR^^DR", "haddad^samir^^Dr.", "Haddad, Samir", "Dr. Haddad, Samir",
    "Haddad^Samir^^Prof^MD", "Haddad^Samir=ハダド^サミール",
])
def test_it_folds_case_titles_punctuation_and_groups(written):
    assert referrer_parse(written).key == "haddad^samir"


def test_it_folds_accents_and_apostrophes():
    assert referrer_parse("Müller^José").key == referrer_parse("MULLER^JOSE").key
    assert referrer_parse("O'Brien^Seán").key == "obrien^sean"


def test_it_keeps_the_order_of_components():
    # Family and given are told apart by position, not by guessing.
    assert referrer_parse("Samir^Haddad").key != referrer_parse("Haddad^Samir").key


def test_it_refuses_a_typed_name_whose_family_name_is_ambiguous():
    with pytest.raises(ValueError):
        referrer_parse_typed("Samir Haddad")
    assert referrer_parse_typed("Haddad").key == "haddad^"


@pytest.mark.parametrize("other", ["Haddad^Sami", "Haddad^S", "Haddad", "Haddad^Samir^K", "Samir^Haddad"])
def test_near_matches_are_recognised_but_not_equal(other):
    a, b = referrer_parse("Haddad^Samir"), referrer_parse(other)
    assert a.key != b.key
    assert near_match(a, b)


def test_unrelated_names_are_not_near_matches():
    assert not near_match(referrer_parse("Haddad^Samir"), referrer_parse("Chen^Wei"))
    assert not near_match(referrer_parse("Haddad^Samir"), referrer_parse("Haddad^Samir^^Dr"))
