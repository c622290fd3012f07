"""The learned lexicon's page model (`LexiconModel`): hand-written pages and counts."""

from __future__ import annotations

import pytest

from unspin.engine.lexicon_model import LexiconModel
from unspin.resources.lexicon import Lexicon
from unspin.resources.lm import default_ngram


def _lexicon() -> Lexicon:
    """Counts as `unspin learn` would have them from a farm's traced pages."""
    lexicon = Lexicon(pages=40)
    for spun, original, count in [
        ("agency", "firm", 12),
        ("stated", "said", 30),
        ("told", "said", 6),
        ("told", "informed", 2),
        ("large", "big", 9),
        ("purchased", "bought", 7),
        ("with", "to", 3),  # alignment noise: spinners leave function words alone
        ("trump", "best", 4),
        ("Weekday", "Monday", 3),
    ]:
        lexicon.add_pair(spun, original, count)
    for form, count in [("told", 25), ("Trump", 30), ("with", 4000), ("firm", 1), ("said", 2)]:
        lexicon.add_unchanged(form, count)
    return lexicon


@pytest.fixture(scope="module")
def model() -> LexiconModel:
    return LexiconModel(_lexicon(), default_ngram())


SPUN = (
    "The large agency purchased a new office on Weekday. The agency stated that the move "
    "was planned. Staff at the agency stated they were pleased with the large building."
)


def test_a_spun_form_gets_one_original_throughout_the_page(model):
    analysis = model.analyse(SPUN)
    agency = [edit for edit in analysis.edits if edit.before.lower() == "agency"]
    assert len(agency) == 3 and {edit.after for edit in agency} == {"firm"}
    assert "same form restored 3 times" in agency[0].evidence.constraints
    assert analysis.restored_text == (
        "The big firm bought a new office on Monday. The firm said that the move "
        "was planned. Staff at the firm said they were pleased with the big building."
    )


def test_one_line_writes_one_form_a_page(model):
    # "stated" and "told" both stood for "said"; a spinner's "said" line chose once, so
    # only the better-supported form gets it.
    text = "The agency stated the deal was done. A large crowd was told the agency purchased it."
    edits = {edit.before: edit.after for edit in model.analyse(text).edits}
    assert edits["stated"] == "said"
    assert edits.get("told") != "said"


def test_an_original_left_standing_weighs_against_its_line():
    lexicon = Lexicon(pages=10)
    for spun, original, count in [
        ("agency", "firm", 8),
        ("agency", "bureau", 8),
        ("large", "big", 20),
        ("purchased", "bought", 20),
        ("stated", "said", 20),
    ]:
        lexicon.add_pair(spun, original, count)
    model = LexiconModel(lexicon, default_ngram())
    assert model.skip_cost["firm"] < 0  # "firm" was always replaced on the traced pages
    rest = (
        " The agency purchased a large plot, officials stated. Later a large crowd saw the"
        " agency's new land, and the mayor stated that it was good."
    )
    without = "The large agency purchased a shop." + rest
    with_firm = "The large agency purchased the firm." + rest
    assert {e.after for e in model.analyse(without).edits if e.before == "agency"} == {"firm"}
    # "firm" stands in this page: the spinner's "firm" line was skipped here, so "agency"
    # came from another line.
    assert {e.after for e in model.analyse(with_firm).edits if e.before == "agency"} == {"bureau"}


def test_function_words_and_names_are_not_sites(model):
    assert "with" not in model.forms
    # "Trump" inside a sentence was seen unchanged (a name): not the spun "best".
    text = "The large agency purchased land. Officials said Trump stated it. It was trump."
    sites = {edit.before for edit in model.analyse(text).edits}
    assert "Trump" not in sites
    assert "trump" in sites


def test_a_clean_page_is_left_alone(model):
    clean = (
        "The big firm bought a new office on Monday. The firm said that the move was "
        "planned. Staff at the firm said they were pleased with the big building."
    )
    analysis = model.analyse(clean)
    assert analysis.edits == []
    assert analysis.page_log_odds < model.page_margin


def test_a_form_seen_mostly_unchanged_is_left(model):
    # "told" stood for "said" 6 times but for itself 25 times on the traced pages.
    assert model.forms["told"].unchanged == 25
    text = (
        "The large agency purchased a new office on Weekday. Reporters were told about "
        "the large deal at the agency, which purchased the site."
    )
    edits = {edit.before: edit.after for edit in model.analyse(text).edits}
    assert edits["agency"] == "firm" and "told" not in edits


def test_restore_with_a_learned_lexicon_file_uses_the_page_model(tmp_path):
    from unspin.engine import Engine

    path = tmp_path / "farm.lexicon.tsv"
    _lexicon().write(path)
    engine = Engine(lexical=[], dictionaries=[path], model=None)
    restoration = engine.restore_and_explain(SPUN)
    assert restoration.text.startswith("The big firm bought a new office on Monday.")
    kinds = {getattr(item, "source", item) for edit in restoration.edits for item in edit.evidence}
    assert kinds == {"spinner-model"}


def test_other_inflections_of_a_seen_pair_are_implied(model):
    # "purchased" -> "bought" was seen; "purchases" -> "buys" is the same spinner line's
    # other inflection, with half the count; a form seen spun keeps only its own pairs.
    assert model.forms["purchases"].originals == {"buys": 3}
    assert "purchases" in model.inflected and "purchased" not in model.inflected
    assert model.forms["agencies"].originals == {"firms": 6}
    text = SPUN + " It purchases two more sites every year."
    edits = {edit.before: edit.after for edit in model.analyse(text).edits}
    assert edits["purchases"] == "buys"
    off = LexiconModel(_lexicon(), default_ngram(), inflect=False)
    assert "purchases" not in off.forms
