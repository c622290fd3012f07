"""The "realsize" dev dictionary: shaped like a real auto-spinner's, from shipped resources."""

from __future__ import annotations

import pytest

from unspin.resources.dictionary import (
    REALSIZE_SOURCES,
    SpinnerDictionary,
    build_agreement_dictionary,
    load_spinner_dictionary,
)
from unspin.resources.lm import default_ngram


def _sources() -> list[SpinnerDictionary]:
    """Three hand-written "thesaurus" dictionaries that agree on some alternatives."""
    return [
        SpinnerDictionary(
            "a",
            [
                ["said", "stated", "told", "declared"],
                ["reiterated", "restated", "repeated"],
                ["house", "home", "residence"],
                ["zzqxv", "word", "thing"],
            ],
        ),
        SpinnerDictionary(
            "b",
            [
                ["said", "told", "stated", "uttered"],
                ["reiterated", "repeated", "restated"],
                ["house", "home", "dwelling"],
                ["zzqxv", "word", "thing"],
            ],
        ),
        SpinnerDictionary(
            "c",
            [
                ["take part", "participate", "join", "partake"],
                ["said", "declared", "voiced"],
                ["house", "building"],
            ],
        ),
    ]


def test_alternatives_are_those_two_sources_agree_on():
    built = build_agreement_dictionary(_sources(), default_ngram(), lines=10, seed=0)
    lines = {line[0]: line[1:] for line in built.lines}
    # "uttered" and "voiced" are listed once; "stated", "told", "declared" twice.
    assert set(lines["said"]) <= {"stated", "told", "declared"}
    assert lines["said"][:2] == ["stated", "told"]  # same votes: lower summed rank first
    assert set(lines["reiterated"]) == {"restated", "repeated"}
    # "house" has only one agreed alternative ("home"), "take part" none: no line.
    assert "house" not in lines and "take part" not in lines
    # A head that is not an English word the n-gram model knows is left out.
    assert "zzqxv" not in lines


def test_keeps_the_most_probable_heads_and_two_to_four_alternatives():
    built = build_agreement_dictionary(_sources(), default_ngram(), lines=1, seed=0)
    assert [line[0] for line in built.lines] == ["said"]  # far more frequent than "reiterated"
    for seed in range(5):
        again = build_agreement_dictionary(_sources(), default_ngram(), lines=2, seed=seed)
        assert all(2 <= len(line) - 1 <= 4 for line in again.lines)
        assert (
            again.lines
            == build_agreement_dictionary(_sources(), default_ngram(), lines=2, seed=seed).lines
        )


def test_phrases_come_first():
    sources = _sources()
    for source in sources[:2]:
        source.lines.append(["take part", "participate", "join"])
    built = build_agreement_dictionary(sources, default_ngram(), lines=10, seed=0)
    assert built.lines[0][0] == "take part"


@pytest.mark.slow
def test_realsize_by_name_has_the_shape_of_a_real_dictionary():
    from unspin.resources import available_lexical

    if not set(REALSIZE_SOURCES) <= set(available_lexical()):
        pytest.skip("realsize needs the WordNet, MyThes and Moby thesauri")
    realsize = load_spinner_dictionary("realsize")
    assert realsize.name == "realsize"
    assert len(realsize) == 12_000
    assert all(2 <= len(line) - 1 <= 4 for line in realsize.lines)
    heads = {line[0] for line in realsize.lines}
    assert {"said", "government", "announced"} <= heads
