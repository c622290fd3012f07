"""Spinner-model restoration with a known dictionary (`unspin.engine.spinner_model`).

Every case is a hand-written sentence and a hand-written dictionary, with the real
pocketsphinx n-gram model breaking ties.
"""

from __future__ import annotations

import pytest

from unspin.bench.spinner import spin
from unspin.engine.spinner_model import SpinnerEdit, SpinnerModel, _Decoder
from unspin.resources.dictionary import SpinnerDictionary, load_spinner_dictionary
from unspin.resources.lm import default_ngram

TINY = """\
take part|participate
part|portion
said|stated
says|states
car|automobile
cars|automobiles
big|large
quickly|rapidly
"""


@pytest.fixture(scope="module")
def ngram():
    return default_ngram()


@pytest.fixture(scope="module")
def tiny():
    return SpinnerDictionary.loads(TINY, name="tiny", format="pipe")


def apply(text: str, edits: list[SpinnerEdit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        assert text[edit.start : edit.end] == edit.before
        text = text[: edit.start] + edit.after + text[edit.end :]
    return text


def test_restores_a_page_spun_with_the_dictionary(tiny, ngram):
    spun = (
        "The minister stated that the automobile was stopped rapidly. Police stated the "
        "automobile had no lights, and the driver stated he was sorry."
    )
    edits = SpinnerModel(tiny, ngram).restore(spun)
    assert apply(spun, edits) == (
        "The minister said that the car was stopped quickly. Police said the "
        "car had no lights, and the driver said he was sorry."
    )
    for edit in edits:
        assert 0.5 < edit.confidence <= 1.0
        assert tiny.lines[edit.evidence.line][0] == edit.after.lower()


def test_head_left_standing_rules_its_line_out(tiny, ngram):
    # "big" stands, so the line big|large was skipped: "large" is original text
    # (while "stated" and "automobile" have no standing head and are restored).
    spun = (
        "The minister stated that the automobile was big. Police stated that a large crowd "
        "watched the automobile and the driver stated nothing."
    )
    edits = SpinnerModel(tiny, ngram).restore(spun)
    restored = apply(spun, edits)
    assert "a large crowd" in restored
    assert "the car was big" in restored
    assert all(edit.before != "large" for edit in edits)


def test_same_spun_form_gets_one_original(ngram):
    # "stated" is listed by two lines; whichever is chosen, both occurrences agree.
    dictionary = SpinnerDictionary.loads(
        "said|stated\ndeclared|stated\ncar|automobile\n", name="two", format="pipe"
    )
    spun = (
        "The officer stated that the automobile had been stolen. The owner of the "
        "automobile stated that he saw nothing."
    )
    edits = SpinnerModel(dictionary, ngram).restore(spun)
    stated = [edit for edit in edits if edit.before == "stated"]
    assert len(stated) == 2
    assert stated[0].after == stated[1].after
    assert stated[0].evidence.line == stated[1].evidence.line
    assert any("same form restored 2 times" in c for c in stated[0].evidence.constraints)


def test_multi_word_line_listed_first_wins_over_its_words(ngram):
    original = "Hundreds of runners take part in the race, and part of the road is closed."
    first = SpinnerDictionary.loads("take part|participate\npart|portion\n", format="pipe")
    spun = spin(original, first, seed=1).text
    assert spun == "Hundreds of runners participate in the race, and portion of the road is closed."
    # Two swaps are little evidence that the page is spun at all: no page margin here.
    assert apply(spun, SpinnerModel(first, ngram, page_margin=0.0).restore(spun)) == original

    # Listed after its word, "take part" could not have been matched once "part" was
    # used: restoring both "participate" and "portion" would contradict the spinner.
    last = SpinnerDictionary.loads("part|portion\ntake part|participate\n", format="pipe")
    restored = apply(spun, SpinnerModel(last, ngram, page_margin=0.0).restore(spun))
    assert not ("take part" in restored and "part of the road" in restored)


def test_capitals_are_copied_back(tiny, ngram):
    spun = (
        "Automobiles were parked outside. The automobiles belonged to the minister, who stated so."
    )
    restored = apply(spun, SpinnerModel(tiny, ngram).restore(spun))
    assert restored == "Cars were parked outside. The cars belonged to the minister, who said so."


def test_words_outside_the_dictionary_are_untouched(tiny, ngram):
    spun = "The minister stated that the automobile was stopped rapidly near the old bridge."
    edits = SpinnerModel(tiny, ngram).restore(spun)
    assert {edit.before for edit in edits} <= {"stated", "automobile", "rapidly"}


def test_no_inflection_the_spinner_does_not_do(ngram):
    # The line is for "say" only: the spinner never turns "said" into "stated", so
    # "stated" is no sign of it and "stated" is not restored to "said" (nor to "say").
    dictionary = SpinnerDictionary.loads("say|state\ncar|automobile\n", format="pipe")
    spun = "The officer stated that the automobile had been stolen from the automobile park."
    edits = SpinnerModel(dictionary, ngram).restore(spun)
    assert all(edit.before == "automobile" for edit in edits)


def test_clean_text_is_left_alone(tiny, ngram):
    clean = (
        "The minister said that the car was stopped quickly. Police said the car had no "
        "lights, and the driver said he would take part in the inquiry into the big crash."
    )
    analysis = SpinnerModel(tiny, ngram).analyse(clean)
    assert analysis.edits == []
    assert analysis.restored_text == clean
    assert analysis.page_log_odds < 0


def test_spintax_leftover_of_a_line_without_alternatives(ngram):
    dictionary = SpinnerDictionary.loads("lorry\ncar|automobile\n", format="pipe")
    spun = spin("The lorry hit the car.", dictionary, seed=0).text
    assert spun == "The {lorry} hit the automobile."
    restored = apply(spun, SpinnerModel(dictionary, ngram).restore(spun))
    assert restored == "The lorry hit the car."


def test_round_trip_through_the_simulator(ngram):
    dictionary = SpinnerDictionary.loads(
        """\
police officers|law enforcement officers
said|stated|declared
says|states|declares
car|automobile|vehicle
cars|automobiles|vehicles
fire|blaze
injured|hurt|wounded
people|individuals|persons
building|structure|edifice
quickly|rapidly|swiftly
arrived|got here|came
""",
        name="hand",
        format="pipe",
    )
    original = (
        "Police officers said the fire started in a parked car on Monday night. Three "
        "people were injured when the fire quickly spread to the building, officials said. "
        "Firefighters arrived within minutes, and the injured people were taken to hospital. "
        "Two cars were destroyed, police officers said."
    )
    # Seed 0 picks "wounded" for "injured"; with "hurt" (seeds 3-5) the n-gram model
    # prefers "were hurt when" and keeps it: a tie the spinner model cannot break.
    document = spin(original, dictionary, seed=0)
    assert len(document.substitutions) >= 10
    edits = SpinnerModel(dictionary, ngram).restore(document.text)
    assert apply(document.text, edits) == original


def test_rules_dictionary_reads_the_phrase_rules():
    rules = load_spinner_dictionary("rules")
    by_head = {line[0]: line[1:] for line in rules.lines}
    assert "as a result of" in by_head["because of"]
    assert "got here" in by_head["came"]
    # Multi-word heads come first, as auto-spinners order their files.
    words = [len(line[0].split()) for line in rules.lines]
    assert words == sorted(words, reverse=True)


def test_one_spun_form_from_two_lines(ngram):
    # Two lines chose the same alternative: "had been" stands for "was" and for "were".
    dictionary = SpinnerDictionary.loads(
        "was|had been\nwere|had been\ncar|automobile\ncars|automobiles\n", format="pipe"
    )
    original = (
        "The car was found on Monday. The cars were stolen last week, and the owner "
        "was told that the cars were damaged."
    )
    spun = spin(original, dictionary, seed=0).text
    assert spun.count("had been") == 4
    edits = SpinnerModel(dictionary, ngram, page_margin=0.0).restore(spun)
    assert apply(spun, edits) == original


def test_page_rate_counts_lines_used_against_heads_standing(tiny, ngram):
    # Three lines used (said, car, quickly), one head standing ("big": its line skipped):
    # with one of each added, (3 + 1) / (3 + 1 + 2).
    spun = "The minister stated that the automobile was big and stopped rapidly."
    decoder = _Decoder(SpinnerModel(tiny, ngram, page_margin=0.0), spun)
    decoder.prepare()
    decoder.search()
    assert {tiny.lines[line][0] for line in decoder.used_by} == {"said", "car", "quickly"}
    assert decoder.page_rate() == pytest.approx(4 / 6)


def test_a_page_spun_at_a_low_rate_is_decoded_at_its_own_rate(ngram):
    # Five heads stand and one line was used ("automobile"): this spinner skips most
    # lines. "subsidy" was in the original; the n-gram model likes "grant" a little better,
    # enough at the nominal rate (0.6) to take it for spun, not at the page's own (two lines
    # used, five heads standing: 3/9), where using a line costs more and a standing head less.
    dictionary = SpinnerDictionary.loads(
        "car|automobile\nhouse|home\nbig|large\nsaid|stated\nwon|gained\nawarded|granted\n"
        "grant|subsidy\n",
        format="pipe",
    )
    spun = (
        "The big house was sold, the agent said. The buyer won a prize for the automobile "
        "he built, and was awarded a subsidy."
    )
    nominal = _Decoder(SpinnerModel(dictionary, ngram, page_margin=-100, estimate_rate=False), spun)
    assert "awarded a grant" in nominal.run().restored_text
    adapted = _Decoder(SpinnerModel(dictionary, ngram, page_margin=-100), spun)
    restored = adapted.run().restored_text
    assert adapted.rate == pytest.approx(3 / 9)
    assert restored.endswith("for the car he built, and was awarded a subsidy.")


def test_rate_estimate_keeps_clean_pages_clean(tiny, ngram):
    # The page gate is the nominal rate's: a clean page is never re-decoded at a rate
    # fitted to it (where a skipped line would cost almost nothing).
    clean = (
        "The minister said that the car was stopped quickly. Police said the car had no "
        "lights, and the driver said he would take part in the inquiry into the big crash."
    )
    model = SpinnerModel(tiny, ngram, estimate_rate=True)
    assert model.restore(clean) == []


def test_engine_with_a_spinner_that_explains_the_page_skips_the_generic_decode(tmp_path):
    from unspin.engine.engine import Engine

    path = tmp_path / "tiny.txt"
    path.write_text(TINY, encoding="utf-8")
    engine = Engine(dictionaries=[path], model=None)
    spun = (
        "The minister stated that the automobile was stopped rapidly. Police stated the "
        "automobile had no lights, and the driver stated he was sorry."
    )
    analysis = engine.analyse(spun)
    assert {d.after for d in analysis.decisions} == {"said", "car", "quickly"}
    assert all(d.evidence[0].source == "spinner-model" for d in analysis.decisions)
    assert analysis.probability > 0.99
    assert analysis.verdict_features == {}  # the generic pass did not run
    clean = "The minister said that the car was stopped quickly."
    generic = engine.analyse(clean)
    assert generic.decisions == [] and generic.verdict_features  # the generic pass ran


CATACLYSM = """\
disaster|cataclysm|calamity
earthquake|cataclysm|quake
said|stated
people|persons
killed|slain
"""


class RecordingLM:
    """The real causal LM, recording the texts it is asked to read."""

    def __init__(self, lm) -> None:
        self.lm = lm
        self.bases: list[str] = []

    def variant_gains(self, base, variants, tail_tokens=4):
        self.bases.append(base)
        return self.lm.variant_gains(base, variants, tail_tokens)


@pytest.fixture(scope="module")
def causal():
    from unspin.resources.lm import ModelUnavailable, load_causal_lm

    try:
        return load_causal_lm("default")
    except ModelUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.model
@pytest.mark.slow
def test_causal_lm_decides_a_close_call_with_neighbours_unspun(ngram, causal):
    # "cataclysm" is listed by the lines of "disaster" and of "earthquake"; the trigram
    # model, reading "the ... was the worst", prefers "earthquake". The causal LM reads on
    # to "flood" — and reads its neighbours restored ("said", "people were killed").
    dictionary = SpinnerDictionary.loads(CATACLYSM, format="pipe")
    spun = (
        "The cataclysm was the worst flood in a century, officials stated. Relief workers "
        "stated that 300 persons were slain by the rising water of the river."
    )
    model = SpinnerModel(dictionary, ngram, page_margin=0.0)
    assert apply(spun, model.restore(spun)).startswith("The earthquake was the worst flood")
    recording = RecordingLM(causal)
    restored = apply(spun, model.restore(spun, recording))
    assert restored == (
        "The disaster was the worst flood in a century, officials said. Relief workers "
        "said that 300 people were killed by the rising water of the river."
    )
    assert recording.bases and all("stated" not in base for base in recording.bases)


@pytest.mark.model
@pytest.mark.slow
def test_causal_lm_is_not_asked_about_a_clean_page(tiny, ngram, causal):
    recording = RecordingLM(causal)
    clean = "The minister said that the car was stopped quickly near the big bridge."
    assert SpinnerModel(tiny, ngram).restore(clean, recording) == []
    assert recording.bases == []


def test_a_form_written_by_a_capitalised_line_and_a_lower_case_one(ngram):
    # Found on a learned lexicon exported with its capitals: "Charge" can come from
    # "Bill|Charge" (listed capitalised) but "charge" only from "fee|charge"; grouping both
    # under the first line left the lower-case site without an alternative (KeyError).
    dictionary = SpinnerDictionary.loads("Bill|Charge\nfee|charge\nsaid|stated\n", name="caps")
    spun = (
        "The senate passed the Charge on Monday, he stated. The charge was sent to the "
        "president to sign, officials stated."
    )
    edits = SpinnerModel(dictionary, ngram).restore(spun)
    restored = apply(spun, edits)
    assert "said" in restored and "stated" not in restored
    for edit in edits:
        line = dictionary.lines[edit.evidence.line]
        assert edit.after.lower() == line[0].lower()
        assert edit.before in line[1:] or edit.before.lower() in line[1:]
