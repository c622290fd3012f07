"""Restoration with hand-written spun sentences (fast n-gram engine; causal LM tests marked)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unspin.engine import Engine, EngineConfig, PageState
from unspin.engine.candidates import Candidate, apply_case_style, case_style, wants_an
from unspin.engine.decoding import Decision, is_typical_rule_edit, prior
from unspin.engine.protect import is_headline, name_mask, term_mask
from unspin.restoration import Edit, Restoration, apply_edits, restore, restore_and_explain
from unspin.text import inflect_like, match_case, sentences, tokenize


@pytest.fixture(scope="module")
def engine() -> Engine:
    """The n-gram-only engine with every installed thesaurus (fast; no causal LM)."""
    return Engine(model=None)


def edits_of(result: Restoration) -> dict[str, str]:
    return {edit.before: edit.after for edit in result.edits}


# ---------------------------------------------------------------- building blocks


def test_tokenize_keeps_offsets() -> None:
    text = "Co-operation isn't {navy|sea} 1,000 times."
    for token in tokenize(text):
        assert text[token.start : token.end] == token.text
    assert [t.text for t in tokenize(text)][:3] == ["Co-operation", "isn't", "{navy|sea}"]


def test_sentences_split_at_ends_and_blank_lines() -> None:
    text = "Title here\n\nFirst one. Second one? third stays."
    assert [" ".join(t.text for t in s) for s in sentences(text)] == [
        "Title here",
        "First one .",
        "Second one ? third stays .",
    ]


@pytest.mark.parametrize(
    ("candidate", "spun", "expected"),
    [
        ("say", "mentioned", "said"),
        ("hold", "maintained", "held"),
        ("hold", "maintain", "hold"),
        ("meeting", "gatherings", "meetings"),
        ("partner", "accomplice", "partner"),
    ],
)
def test_inflect_like_keeps_tense_and_number(candidate: str, spun: str, expected: str) -> None:
    assert expected in inflect_like(candidate, spun)


def test_match_case() -> None:
    assert match_case("foreign", "International") == "Foreign"
    assert match_case("secretary general", "Secretary Common") == "Secretary General"
    assert match_case("nato", "OTAN") == "NATO"
    assert match_case("came", "got here") == "came"


def test_phrase_cache_keeps_recent_phrases_within_its_bound() -> None:
    from unspin.engine.sources import PhraseCache

    calls: list[str] = []

    def compute(phrase: str) -> list[str]:
        calls.append(phrase)
        return [phrase.upper()] if phrase.startswith("w") else []

    cache: PhraseCache[str] = PhraseCache(limit=2)
    for phrase in ["word", "x", "y", "word", "z", "q", "word", "r", "s", "word", "t"]:
        expected = [phrase.upper()] if phrase.startswith("w") else []
        assert cache.get(phrase, compute) == expected
        assert len(cache._entries) <= 2 and len(cache._older) <= 2
    # "word", asked every few phrases, survives the rotations (a full clear at the bound
    # would have computed it again); each one-off phrase is computed once.
    assert calls.count("word") == 1
    assert len(calls) == 8


def test_case_style_of_a_span_gives_match_case_for_every_candidate() -> None:
    # gather works out the spun span's capitalisation once and applies it to every proposal:
    # it must agree with match_case on each kind of span.
    spans = [
        "International",
        "Secretary Common",
        "OTAN",
        "got here",
        "a",
        "I",
        "McDonald",
        "the Foreign Office",
        "U.S.",
        "{said|told}",
        "iPhone",
        "Prime 10",
        "É",
    ]
    candidates = ["foreign", "secretary general", "nato", "came", "x", "take up", "ébène"]
    for spun in spans:
        style = case_style(spun)
        for candidate in candidates:
            assert apply_case_style(candidate, style) == match_case(candidate, spun), (
                spun,
                candidate,
            )


def test_apply_edits_checks_its_input() -> None:
    text = "a b c"
    assert apply_edits(text, [Edit(2, 3, "b", "x", 1.0)]) == "a x c"
    with pytest.raises(ValueError):
        apply_edits(text, [Edit(2, 3, "z", "x", 1.0)])
    with pytest.raises(ValueError):
        apply_edits(text, [Edit(0, 3, "a b", "x", 1.0), Edit(2, 3, "b", "y", 1.0)])


# ---------------------------------------------------------------- the cases spinners produce


def test_single_words_with_capitals(engine: Engine) -> None:
    result = engine.restore(
        "Deputy International Minister Sergei Ryabkov mentioned the US positions came as no shock."
    )
    edits = edits_of(result)
    assert edits["International"] == "Foreign"  # capital kept
    assert edits["shock"] == "surprise"
    assert "Sergei" not in edits and "Ryabkov" not in edits and "US" not in edits


def test_inflection_kept_on_past_tense(engine: Engine) -> None:
    result = engine.restore("The minister mentioned that the talks were productive.")
    assert edits_of(result).get("mentioned") == "said"


def test_capitalised_common_word_inside_a_title(engine: Engine) -> None:
    result = engine.restore("The Secretary Common of the United Nations spoke in Geneva.")
    assert result.text == "The Secretary General of the United Nations spoke in Geneva."


def test_multi_word_function_swap(engine: Engine) -> None:
    # Spinners spin whole pages; a single odd phrase in clean prose is left alone (gate).
    result = engine.restore(
        "Deputy International Minister Sergei Ryabkov mentioned the US positions got here as "
        "no shock to the diplomats."
    )
    assert edits_of(result).get("got here") == "came"


def test_spintax_leftover(engine: Engine) -> None:
    result = engine.restore("Navy {hardware} was moved to the border.")
    assert "{" not in result.text and "hardware was moved" in result.text


def test_gathering_becomes_meeting(engine: Engine) -> None:
    result = engine.restore("He will attend a gathering with the delegation on Monday.")
    assert edits_of(result).get("gathering") == "meeting"


def test_names_numbers_and_clean_prose_untouched(engine: Engine) -> None:
    clean = (
        "President Vladimir Putin flew to Magnitogorsk on Monday. The 1973 building was home to "
        "over 1,000 people; 48 apartments were damaged. Rescuers recovered at least ten "
        "survivors from the debris."
    )
    result = engine.restore(clean)
    assert result.text == clean
    assert result.edits == []


def test_quotes_that_are_unusual_are_left_alone(engine: Engine) -> None:
    text = '"We shall fight on the beaches," Churchill said in 1940.'
    assert engine.restore(text).text == text


def test_explained_edits_carry_evidence(engine: Engine) -> None:
    result = engine.restore_and_explain("The Secretary Common of the United Nations spoke.")
    (edit,) = result.edits
    assert any(e.source == "thesaurus" and "thesaurus" in e.detail for e in edit.evidence)
    # Evidence is data all the way out: typed fields in the JSON form too.
    (record,) = result.to_dict()["edits"]
    assert {"source", "relation", "resources", "detail", "weight"} <= set(record["evidence"][0])
    assert 0.5 <= edit.confidence <= 1.0
    assert result.to_dict()["edits"][0]["after"] == "General"


def test_module_functions_take_an_engine(engine: Engine) -> None:
    text = "The Secretary Common of the United Nations spoke in Geneva."
    assert restore(text, engine=engine).text == restore_and_explain(text, engine=engine).text


def test_clean_wikinews_articles_barely_change(engine: Engine, wikinews_articles) -> None:
    """False edits are worse than missed ones: on clean originals edits must be rare."""
    words = 0
    edits = 0
    for article in wikinews_articles[:3]:
        text = article["title"] + "\n\n" + article["text"]
        result = engine.restore(text)
        assert apply_edits(text, result.edits) == result.text
        words += len(text.split())
        edits += len(result.edits)
    assert edits / words < 0.01


@pytest.mark.slow
def test_agreeing_resources_restore_more_on_a_spun_page(wikinews_articles) -> None:
    """On a page judged spun, candidates two resources agree on get a smaller margin and those
    only one resource knows a larger one: more sites restored, no more untouched words
    changed than with uniform priors (unseen protocol: WordNet or MyThes spins, is not loaded)."""
    from unspin.bench.metrics import Site, score_restoration
    from unspin.bench.spinner import spin
    from unspin.resources import available_lexical
    from unspin.resources.dictionary import load_spinner_dictionary

    if not {"wordnet", "mythes", "moby"} <= set(available_lexical()):
        pytest.skip("needs the WordNet, MyThes and Moby resources")
    counts = {}
    for weighted in (True, False):
        config = (
            EngineConfig()
            if weighted
            else EngineConfig(spun_agreement_bonus=0.0, spun_single_source_cost=0.0)
        )
        total = None
        for name in ("wordnet", "mythes"):
            unseen = Engine(model=None, exclude=[name], config=config)
            dictionary = load_spinner_dictionary(name)
            for article in wikinews_articles[:2]:
                text = article["title"] + "\n\n" + article["text"]
                document = spin(text, dictionary, seed=0, rate=0.6)
                sites = [Site.from_dict(vars(s)) for s in document.substitutions]
                result = unseen.restore(document.text)
                scored = score_restoration(document.text, document.original, sites, result.edits)
                total = scored if total is None else total + scored
        counts[weighted] = total
    assert counts[True].exact > counts[False].exact
    # Measured 156 vs 132 exact of 596 sites, 16 vs 16 untouched words changed; two words of
    # slack for other versions of the thesaurus data.
    assert counts[True].untouched_changed <= counts[False].untouched_changed + 2


@pytest.mark.slow
def test_agreement_weighting_is_off_with_a_user_dictionary(tmp_path, wikinews_articles) -> None:
    """With a spinner dictionary loaded its prior decides: the agreement weighting, tuned
    without one, made the seen protocol worse (54.0% -> 51.9% exact, more false edits)."""
    from unspin.bench.spinner import spin
    from unspin.resources.dictionary import load_spinner_dictionary

    path = tmp_path / "gather.txt"
    path.write_text("meeting|gathering\nsaid|mentioned\nsurprise|shock\n", encoding="utf-8")
    engine = Engine(model=None, dictionaries=[path])
    article = wikinews_articles[0]
    text = article["title"] + "\n\n" + article["text"]
    spun = spin(text, load_spinner_dictionary("mythes"), seed=1, rate=0.6).text
    weighted = engine.restore(spun)
    assert weighted.edits, "the spun page should be restored at all"
    uniform = Engine(
        model=None,
        dictionaries=[path],
        config=EngineConfig(spun_agreement_bonus=0.0, spun_single_source_cost=0.0),
    )
    assert uniform.restore(spun).text == weighted.text


# ---------------------------------------------------------------- issue 4: hand-written cases
# Edits are made only on a page that looks spun as a whole (SPUN_GATE), so each sentence is
# restored after a spun lead sentence, as a real spun page would have it.

SPUN_LEAD = (
    "Deputy International Minister Sergei Ryabkov mentioned the US positions got here as no "
    "shock to the diplomats. "
)


def edits_after_lead(engine: Engine, sentence: str) -> dict[str, str]:
    """The edits the engine makes in `sentence` when it follows the spun lead."""
    result = engine.restore(SPUN_LEAD + sentence)
    return {e.before: e.after for e in result.edits if e.start >= len(SPUN_LEAD)}


@pytest.mark.parametrize(
    ("sentence", "spun", "original"),
    [
        ("The two leaders maintained talks in Geneva on Monday.", "maintained", "held"),
        ("He met his business accomplice in London.", "accomplice", "partner"),
        ("The worth of oil rose sharply after the announcement.", "worth", "price"),
        (
            "The government will give attention to the economy next year.",
            "give attention to",
            "focus on",
        ),
        ("The place does the money go, asked the opposition leader.", "The place", "Where"),
        ("The company is now not part of the group.", "now not", "no longer"),
        ("The new bridge will likely be opened next month.", "will likely be", "will be"),
        ("The storm killed a few 200 people in the region.", "a few", "about"),
    ],
)
def test_words_and_phrases_on_a_spun_page(
    engine: Engine, sentence: str, spun: str, original: str
) -> None:
    """Single words in any inflection, and multi-word swaps: a multi-word rule wins as a
    whole against single-word synonyms inside it ("give" -> "pay"), since on a page judged
    spun a matched rule counts like a listed phrase."""
    assert edits_after_lead(engine, sentence).get(spun) == original


def test_a_few_is_about_only_before_a_number(engine: Engine) -> None:
    from unspin.resources.rules import phrase_rules

    (rule,) = [r for r in phrase_rules()["a few"] if r.original == "about"]
    assert rule.applies("200") and rule.applies("twenty")
    assert not rule.applies("people") and not rule.applies(None)
    assert "A few" not in edits_after_lead(engine, "A few people were hurt in the storm.")


def test_article_agreement_is_evidence(engine: Engine) -> None:
    """ "a excessive" is grammar the spinner broke: "a high" restores agreement."""
    assert wants_an("excessive") and wants_an("hour") and not wants_an("high")
    assert not wants_an("university") and wants_an("NATO") is None
    result = engine.restore_and_explain(
        SPUN_LEAD + "The region faces a excessive risk of flooding."
    )
    (edit,) = [e for e in result.edits if e.before == "excessive"]
    assert edit.after == "high"
    (agreement,) = [e for e in edit.evidence if e.source == "agreement"]
    assert agreement.detail.startswith("article agreement") and agreement.weight == 3.0


def test_candidates_that_break_article_agreement_pay(engine: Engine) -> None:
    text = "She has an excessive workload."
    plain_text = "excessive workload"
    (sentence,) = engine.candidates(text)
    (plain_sentence,) = engine.candidates(plain_text)
    by_text = {c.text: c for c in sentence if c.first == 3}
    plain = {c.text: c for c in plain_sentence if c.first == 0}
    # "an heavy workload" breaks agreement; "an inordinate" keeps it.
    weight = engine.config.article_agreement
    assert by_text["heavy"].prior == plain["heavy"].prior - weight
    assert by_text["inordinate"].prior == plain["inordinate"].prior


def test_listed_tortured_phrase_restored_as_a_whole(engine: Engine) -> None:
    if "pps" not in engine.lexical_names:
        pytest.skip("needs the PPS tortured-phrase list")
    edits = edits_after_lead(
        engine, "We propose a classifier based on profound learning for the images."
    )
    assert edits.get("profound learning") == "deep learning"


def test_only_one_way_listings_of_the_same_shape_count_as_terms(engine: Engine) -> None:
    """PPS lists "profound learning" under "deep learning" only; Moby lists "low tide" and
    "high tide" under each other, which says nothing about which was the original (it was
    a false edit on the dev sets when every same-shape phrase counted)."""
    if not {"pps", "moby"} <= set(engine.lexical_names):
        pytest.skip("needs the PPS list and Moby")
    thesaurus = next(s for s in engine.sources if s.name == "thesaurus")
    terms = {f.text: f.listed_term for f in thesaurus.forms("profound learning")}
    assert terms["deep learning"] is True
    terms = {f.text: f.listed_term for f in thesaurus.forms("low tide")}
    assert terms.get("high tide") is False


def test_rule_bonus_only_for_typical_rules_on_spun_pages(engine: Engine) -> None:
    config = engine.config
    typical = Candidate(0, 2, "focus on", prior=-1.0, rule_words=3)
    ordinary = Candidate(0, 2, "by", prior=-2.5, rule_words=3)  # "by way of" is English
    clean, spun = PageState(), PageState(page_spun=True)
    assert prior(typical, clean, config) == -1.0 and prior(ordinary, clean, config) == -2.5
    assert prior(typical, spun, config) == -1.0 + 2 * config.phrase_bonus
    assert prior(ordinary, spun, config) == -2.5


def test_unlisted_tortured_variant_reached_through_a_synonym(engine: Engine) -> None:
    """ "irregular woodland" is in no list; "woodland" -> "forest" reaches the listed
    "irregular forest", whose original is "random forest".  Such indirect candidates are
    weighed only on pages already judged spun."""
    if "pps" not in engine.lexical_names:
        pytest.skip("needs the PPS tortured-phrase list")
    variants = next(s for s in engine.sources if s.name == "variant")
    forms = variants.forms("irregular woodland")
    found = [(f.text, f.evidence.detail) for f in forms]
    assert ("random forest", "thesaurus: pps via 'irregular forest'") in found
    cand = Candidate(0, 1, "random forest", hop=True, prior=forms[0].prior, resources=1)
    # A clean-looking page never takes it.
    assert prior(cand, PageState(), engine.config) < -20
    assert prior(cand, PageState(page_spun=True), engine.config) == forms[0].prior


# A lead whose only spinning is thesaurus swaps: judged spun, but no phrase rule fired.
THESAURUS_LEAD = (
    "Deputy International Minister Sergei Ryabkov mentioned the US positions arrived as no "
    "shock to the diplomats. "
)


@pytest.mark.parametrize(
    ("sentence", "spun", "original"),
    [
        (
            "Police said they were in search of two men seen near the bank.",
            "in search of",
            "seeking",
        ),
        ("Right here, the river floods every spring.", "Right here", "Here"),
    ],
)
def test_rule_forms_on_a_page_spun_with_phrase_rules(
    engine: Engine, sentence: str, spun: str, original: str
) -> None:
    """After "got here" -> "came" the page is known to come from a spinner that uses phrase
    rules; "in search of" and "right here" are then restored.  After a lead spun with
    thesaurus swaps only, the same sentences are left alone: both are ordinary English."""
    assert edits_after_lead(engine, sentence).get(spun) == original
    result = engine.restore(THESAURUS_LEAD + sentence)
    assert result.edits, "the thesaurus-spun lead is judged spun and restored"
    assert spun not in {e.before for e in result.edits}


def test_rule_family_bonus_only_after_a_typical_rule_edit(engine: Engine) -> None:
    config = engine.config
    rule = Candidate(0, 2, "seeking", prior=-1.5, rule_words=3)
    ordinary = Candidate(0, 1, "were", prior=-3.0, rule_words=2)  # "had been" -> "were"
    plain, family = PageState(), PageState(rule_family=True)
    assert prior(rule, family, config) == prior(rule, plain, config) + config.rule_family_bonus
    assert prior(ordinary, family, config) == prior(ordinary, plain, config)

    def decided(spun: str, original: str) -> Decision:
        """An edit as the engine makes it: the candidate carries the best matching rule."""
        from unspin.resources.rules import phrase_rules

        priors = [r.log_prior for r in phrase_rules().get(spun, ()) if r.original == original]
        cand = Candidate(
            0,
            spun.count(" "),
            original,
            rule_words=spun.count(" ") + 1,
            rule_prior=max(priors) if priors else None,
        )
        return Decision(0, len(spun), spun, original, 6.0, 0.9, [], candidate=cand)

    assert is_typical_rule_edit(decided("got here", "came"), config)
    assert not is_typical_rule_edit(decided("had been", "were"), config)
    assert not is_typical_rule_edit(decided("shock", "surprise"), config)


def test_term_spun_word_by_word_is_reassembled(engine: Engine) -> None:
    """ "counterfeit consciousness" is in no list; Moby relates each word to one of
    "artificial intelligence", an original of the PPS list (and, one word kept, "blunder
    rate" to "error rate").  Only term-list originals are
    reassembled: every two-word thesaurus phrase turned "apply counterfeit" into "touch
    base"."""
    if "pps" not in engine.lexical_names or "moby" not in engine.lexical_names:
        pytest.skip("needs the PPS tortured-phrase list and Moby")
    terms = engine.terms
    assert "artificial intelligence" in [f.text for f in terms.forms("counterfeit consciousness")]
    # One word kept, the other a synonym: "error rate" is a listed original.
    assert [f.text for f in terms.forms("blunder rate")] == ["error rate"]
    assert terms.forms("apply counterfeit") == []
    assert terms.forms("deep learning") == []  # a listed phrase is not reassembled
    edits = edits_after_lead(
        engine, "The authors apply counterfeit consciousness to diagnose the disease."
    )
    assert edits.get("counterfeit consciousness") == "artificial intelligence"


def test_technical_terms_are_left_alone(engine: Engine) -> None:
    """A phrase a term list has as an original ("loss function") is a technical term: never
    edited, even on a page judged spun (the news trigram turned it into "loss go")."""
    if "pps" not in engine.lexical_names:
        pytest.skip("needs the PPS tortured-phrase list")
    sentence = "The approach using loss function outperforms the baselines on three datasets."
    words = [t for t in tokenize(sentence) if t.text[:1].isalnum()]
    mask = term_mask(words, engine.terms.terms)
    assert mask[3:5] == [True, True]
    assert not any(mask[:3] + mask[5:])
    assert "function" not in edits_after_lead(engine, sentence)


def test_title_before_a_two_word_name_is_protected(engine: Engine) -> None:
    """ "Governor Bill Richardson": "Bill" is a common word, so the name is only recognised
    from "Richardson"; the title before the given name is protected too (it was restored
    to "Dad" by way of a thesaurus entry for "governor")."""

    def names(words, text):
        return name_mask(words, engine.relations, text)

    text = "Governor Bill Richardson mentioned the state will give attention to schools."
    words = [t for t in tokenize(text) if t.text[:1].isalnum()]
    assert names(words, text)[:3] == [True, True, True]
    demo = "Governor Alexander Pimentel instructed CNN Philippines the cities broken."
    words = [t for t in tokenize(demo) if t.text[:1].isalnum()]
    assert names(words, demo)[:4] == [True, True, True, False]
    edits = edits_after_lead(engine, text)
    assert edits.get("mentioned") == "said"
    assert not {"Governor", "Bill", "Richardson"} & set(edits)
    # A name of two unknown words still leaves the title before its neighbour open.
    lead = [t for t in tokenize(SPUN_LEAD) if t.text[:1].isalnum()]
    assert names(lead, SPUN_LEAD)[:3] == [False, False, True]
    # So does an unknown given name before a common-word surname: "United States President
    # Donald Trump" spun as "Unified Says Chair Donald Scoop" keeps "Unified Says" open.
    spun = "Unified Says Chair Donald Scoop averred on Friday."
    words = [t for t in tokenize(spun) if t.text[:1].isalnum()]
    assert names(words, spun)[:5] == [False, False, True, True, True]


def test_headlines_get_the_quotation_margin() -> None:
    text = "Earthquake injures 25 people\n\nIt struck at night. Rescuers came\nlater.\n\nEnd"
    verdicts = [is_headline(text, s) for s in sentences(text)]
    assert verdicts == [True, False, False, False, True]


# ---------------------------------------------------------------- the edit property

WORDS = st.sampled_from(
    [
        "the",
        "minister",
        "mentioned",
        "said",
        "got",
        "here",
        "came",
        "a",
        "gathering",
        "meeting",
        "shock",
        "surprise",
        "International",
        "Foreign",
        "Secretary",
        "Common",
        "General",
        "navy",
        "{hardware}",
        ".",
        ",",
        "2",
        "people",
        "right",
        "here",
        "will",
        "likely",
        "be",
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(WORDS, min_size=1, max_size=25), st.sampled_from([" ", "  ", "\n\n", " \n"]))
def test_edits_reproduce_the_restored_text(engine: Engine, words: list[str], gap: str) -> None:
    text = gap.join(words)
    result = engine.restore(text)
    assert result.original == text
    assert apply_edits(text, result.edits) == result.text
    for edit in result.edits:
        assert text[edit.start : edit.end] == edit.before


# ---------------------------------------------------------------- with the causal LM


@pytest.fixture(scope="module")
def causal_engine() -> Engine:
    from unspin.resources.lm import ModelUnavailable

    try:
        return Engine()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.model
@pytest.mark.slow
def test_causal_engine_restores_and_leaves_clean_text(causal_engine: Engine) -> None:
    spun = "The US positions got here as no shock, the Deputy International Minister mentioned."
    result = causal_engine.restore(spun)
    assert edits_of(result).get("got here") == "came"
    assert "Foreign" in result.text
    clean = "The building was evacuated and over 1,000 rescuers responded on Monday."
    assert causal_engine.restore(clean).text == clean


@pytest.mark.model
@pytest.mark.slow
def test_causal_engine_leaves_headline_and_title_before_a_name(causal_engine: Engine) -> None:
    """`make demo` showed "injures" -> "gets" in the unspun headline and "Governor" -> "Dad"
    before "Alexander Pimentel"; the headline margin and the name rule remove both."""
    from pathlib import Path

    from unspin.extraction import extract

    page = Path(__file__).resolve().parents[1] / "examples" / "spun-page.html"
    if not page.is_file():
        pytest.skip("the bundled example page is absent")
    article = extract(page.read_text(encoding="utf-8"))
    result = causal_engine.restore(article.full_text)
    edits = edits_of(result)
    assert "injures" not in edits and "Governor" not in edits
    assert edits.get("mentioned") == "said"  # the page is still restored


@pytest.mark.model
@pytest.mark.slow
def test_causal_engine_restores_phrases_the_trigram_misses(causal_engine: Engine) -> None:
    """The news trigram prefers "a second woodland" to "a random forest" and "right here"
    to "here"; the causal LM, which sees a phrase over the words of the n-gram's proposal
    as a variant of its own, restores them."""
    if "pps" not in causal_engine.lexical_names:
        pytest.skip("needs the PPS tortured-phrase list")
    # ("in search of" -> "seeking" is left to the n-gram engine's rule-family test: the float32
    # SmolLM2 of the transformers backend prefers "on the lookout for" there, llama.cpp's
    # Q4_1 "seeking"; both are candidates, and the page reads well either way.)
    cases = [
        ("We use a irregular woodland to classify the samples.", "irregular woodland"),
        ("The summit will be held right here in Geneva next year.", "right here"),
    ]
    expected = ["random forest", "here"]
    for (sentence, spun), original in zip(cases, expected, strict=True):
        result = causal_engine.restore(SPUN_LEAD + sentence)
        after = {e.before: e.after for e in result.edits if e.start >= len(SPUN_LEAD)}
        assert after.get(spun) == original, sentence
