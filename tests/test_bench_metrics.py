"""The bench scorer on hand-made cases whose right figures are known."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unspin.bench.baselines import (
    NoOpRestorer,
    TorturedEntry,
    TorturedPhraseLookup,
    parse_pps_line,
)
from unspin.bench.metrics import (
    PRF,
    DocumentScores,
    Site,
    TextEdit,
    apply_edits,
    auroc,
    binary_prf,
    expected_calibration_error,
    fpr_at_recall,
    reliability,
    roc_points,
    score_restoration,
    span_overlap,
    token_edit_distance,
    tokenize,
)


def spin_by_hand(original: str, swaps: list[tuple[str, str]]) -> tuple[str, list[Site]]:
    """Replace the first occurrence of each word (left to right) and record the true sites."""
    spun = original
    sites = []
    search_original = search_spun = 0
    for before, after in swaps:
        o_start = original.index(before, search_original)
        s_start = spun.index(before, search_spun)
        spun = spun[:s_start] + after + spun[s_start + len(before) :]
        sites.append(
            Site(s_start, s_start + len(after), o_start, o_start + len(before), before, after)
        )
        search_original = o_start + len(before)
        search_spun = s_start + len(after)
    return spun, sites


def edit(text: str, before: str, after: str, start_at: int = 0) -> TextEdit:
    start = text.index(before, start_at)
    return TextEdit(start, start + len(before), after)


ORIGINAL = "The minister said the talks were useful."
SPUN, SITES = spin_by_hand(ORIGINAL, [("said", "stated"), ("useful", "helpful")])


def test_hand_spinning_matches_offsets():
    assert SPUN == "The minister stated the talks were helpful."
    for site in SITES:
        assert SPUN[site.spun_start : site.spun_end] == site.spun
        assert ORIGINAL[site.original_start : site.original_end] == site.original


# --------------------------------------------------------------------------- restoration


def test_perfect_restoration():
    edits = [edit(SPUN, "stated", "said"), edit(SPUN, "helpful", "useful")]
    assert apply_edits(SPUN, edits) == ORIGINAL
    counts = score_restoration(SPUN, ORIGINAL, SITES, edits)
    assert counts.sites == 2
    assert counts.exact_share == 1.0
    assert counts.untouched_tokens == 6  # The minister the talks were .
    assert counts.untouched_changed == 0
    assert counts.distance_spun == 2
    assert counts.distance_reduction == 1.0


def test_no_op_restoration():
    counts = score_restoration(SPUN, ORIGINAL, SITES, [])
    assert counts.exact == 0
    assert counts.exact_share == 0.0
    assert counts.untouched_changed_share == 0.0
    assert counts.distance_reduction == 0.0
    assert counts.edits == 0
    assert counts.changed_documents == 0


def test_over_eager_restoration_is_negative():
    # Restores nothing and rewrites an untouched word: worse than doing nothing.
    edits = [edit(SPUN, "talks", "discussions")]
    counts = score_restoration(SPUN, ORIGINAL, SITES, edits)
    assert counts.exact == 0
    assert counts.untouched_changed == 1
    assert counts.untouched_changed_share == pytest.approx(1 / 6)
    assert counts.distance_spun == 2
    assert counts.distance_restored == 3
    assert counts.distance_reduction == pytest.approx(-0.5)


def test_over_eager_but_right_where_spun():
    edits = [
        edit(SPUN, "The", "A"),
        edit(SPUN, "stated", "said"),
        edit(SPUN, "helpful", "useful"),
    ]
    counts = score_restoration(SPUN, ORIGINAL, SITES, edits)
    assert counts.exact_share == 1.0
    assert counts.untouched_changed == 1
    assert counts.distance_reduction == pytest.approx(0.5)  # ED 2 -> 1


def test_wrong_word_is_not_exact_but_capitals_do_not_matter():
    counts = score_restoration(SPUN, ORIGINAL, SITES, [edit(SPUN, "stated", "told")])
    assert counts.exact == 0
    counts = score_restoration(
        SPUN, ORIGINAL, SITES, [edit(SPUN, "stated", "SAID"), edit(SPUN, "helpful", "Useful")]
    )
    assert counts.exact == 2


def test_one_edit_restoring_adjacent_sites_together():
    original = "The Secretary General of the Organization for Security spoke."
    spun, sites = spin_by_hand(
        original,
        [("General", "Common"), ("Organization", "Group"), ("Security", "Safety")],
    )
    assert spun == "The Secretary Common of the Group for Safety spoke."
    edits = [edit(spun, "Group for Safety", "Organization for Security")]
    counts = score_restoration(spun, original, sites, edits)
    assert counts.exact == 2  # the two sites the edit covers; "Common" is left
    assert counts.untouched_changed == 0  # "for" inside the edit is aligned, not changed


def test_edit_reaching_into_untouched_text():
    edits = [edit(SPUN, "stated the", "said the")]
    counts = score_restoration(SPUN, ORIGINAL, SITES, edits)
    assert counts.exact == 1
    assert counts.untouched_changed == 0


def test_edit_changing_a_neighbour_makes_the_site_inexact():
    edits = [edit(SPUN, "stated the", "said a")]
    counts = score_restoration(SPUN, ORIGINAL, SITES, edits)
    assert counts.exact == 0
    assert counts.untouched_changed == 1


def test_length_changes_before_a_site_are_mapped():
    original = "A big dog and a big cat met a tiny bird."
    spun, sites = spin_by_hand(original, [("big", "enormous"), ("tiny", "small")])
    # A multi-word rewrite before the second site shifts every offset after it.
    edits = [edit(spun, "enormous", "big"), edit(spun, "small", "tiny")]
    assert apply_edits(spun, edits) == original
    assert score_restoration(spun, original, sites, edits).exact == 2
    edits = [edit(spun, "enormous", "big"), edit(spun, "small", "little")]
    assert score_restoration(spun, original, sites, edits).exact == 1


def test_multi_word_site_and_phrase_restoration():
    original = "They came to focus on the issue."
    spun, sites = spin_by_hand(original, [("came", "got here"), ("focus on", "give attention to")])
    edits = [edit(spun, "got here", "came"), edit(spun, "give attention to", "focus on")]
    counts = score_restoration(spun, original, sites, edits)
    assert counts.exact == 2
    assert counts.distance_reduction == 1.0


def test_inserted_words_outside_sites_count_as_changes():
    counts = score_restoration(SPUN, ORIGINAL, SITES, [TextEdit(0, 0, "Yesterday ")])
    assert counts.untouched_changed == 1


def test_clean_document_edits_per_thousand_tokens():
    clean = "The minister said the talks were useful."
    counts = score_restoration(clean, clean, [], [edit(clean, "useful", "helpful")])
    assert counts.tokens == 8
    assert counts.edits_per_1000_tokens == pytest.approx(125.0)
    assert counts.untouched_changed_share == pytest.approx(1 / 8)
    assert counts.distance_reduction is None  # nothing was spun


def test_counts_pool_before_dividing():
    perfect = score_restoration(
        SPUN, ORIGINAL, SITES, [edit(SPUN, "stated", "said"), edit(SPUN, "helpful", "useful")]
    )
    nothing = score_restoration(SPUN, ORIGINAL, SITES, [])
    pooled = perfect + nothing
    assert pooled.sites == 4
    assert pooled.exact_share == 0.5
    assert pooled.distance_reduction == 0.5
    assert pooled.documents == 2


def test_overlapping_edits_are_rejected():
    with pytest.raises(ValueError, match="overlap"):
        apply_edits("abcdef", [TextEdit(0, 3, "x"), TextEdit(2, 4, "y")])


def test_token_edit_distance():
    assert token_edit_distance(["a", "b", "c"], ["a", "b", "c"]) == 0
    assert token_edit_distance(["a", "b", "c"], ["a", "x", "c"]) == 1
    assert token_edit_distance(["a", "b", "c"], ["a", "c"]) == 1
    assert token_edit_distance([], ["a", "b"]) == 2
    assert token_edit_distance(["kitten"], ["sitting"]) == 1


def test_tokenizer_keeps_hyphens_and_punctuation():
    assert [t for _, _, t in tokenize("Co-operation isn't {hardware}.")] == [
        "Co-operation",
        "isn't",
        "{",
        "hardware",
        "}",
        ".",
    ]


# --------------------------------------------------------------------------- spans


def test_span_overlap_counts_tokens():
    text = "a b c d"
    counts = span_overlap(text, predicted=[(2, 3)], actual=[(2, 5)])
    assert (counts.tp, counts.predicted, counts.actual) == (1, 1, 2)
    assert counts.precision == 1.0
    assert counts.recall == 0.5
    assert counts.f1 == pytest.approx(2 / 3)


def test_span_overlap_partial_token_counts_whole_token():
    counts = span_overlap("hello world", predicted=[(1, 3)], actual=[(0, 5)])
    assert (counts.tp, counts.predicted, counts.actual) == (1, 1, 1)


def test_empty_prf_is_undefined_not_zero():
    assert PRF().precision is None and PRF().recall is None and PRF().f1 is None


# --------------------------------------------------------------------------- documents


def test_auroc_perfect_inverted_tied():
    labels = [True, True, False, False]
    assert auroc([0.9, 0.8, 0.2, 0.1], labels) == 1.0
    assert auroc([0.1, 0.2, 0.8, 0.9], labels) == 0.0
    assert auroc([0.5, 0.5, 0.5, 0.5], labels) == 0.5
    assert auroc([0.8, 0.4, 0.6, 0.2], labels) == 0.75
    assert auroc([0.5, 0.5, 0.1], [True, False, False]) == 0.75  # a tie counts half
    assert auroc([0.3, 0.4], [True, True]) is None


def test_roc_points_run_from_origin_to_corner():
    points = roc_points([0.9, 0.8, 0.3, 0.85, 0.2, 0.1], [True, True, True, False, False, False])
    assert points[0] == (0.0, 0.0)
    assert points[-1] == (1.0, 1.0)
    assert (0.0, 1 / 3) in points


def test_fpr_at_recall():
    scores = [0.9, 0.8, 0.3, 0.85, 0.2, 0.1]
    labels = [True, True, True, False, False, False]
    fpr, threshold = fpr_at_recall(scores, labels, 0.95)
    assert threshold == 0.3 and fpr == pytest.approx(1 / 3)
    fpr, threshold = fpr_at_recall(scores, labels, 0.6)
    assert threshold == 0.8 and fpr == pytest.approx(1 / 3)
    fpr, _ = fpr_at_recall([0.9, 0.8, 0.2, 0.1], [True, True, False, False], 0.99)
    assert fpr == 0.0
    # Tied scores are flagged together: reaching the positive at 0.5 flags the negative too.
    fpr, _ = fpr_at_recall([0.5, 0.5, 0.1], [True, False, False], 0.95)
    assert fpr == 0.5
    assert fpr_at_recall([0.1], [True], 0.95) is None


def test_binary_prf_at_threshold():
    counts = binary_prf([True, True, False, False], [True, False, True, False])
    assert (counts.tp, counts.predicted, counts.actual) == (1, 2, 2)
    assert counts.f1 == 0.5


def test_ece_of_a_perfectly_calibrated_toy_is_zero():
    # 0.2-scored documents are spun one time in five, 0.8-scored four times in five.
    probabilities = [0.2] * 5 + [0.8] * 5
    labels = [True, False, False, False, False] + [True, True, True, True, False]
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.0)


def test_ece_of_an_overconfident_toy():
    assert expected_calibration_error([0.9] * 4, [True, False, True, False]) == pytest.approx(0.4)


def test_reliability_bins_cover_the_ends():
    bins = reliability([0.0, 1.0, 0.55], [False, True, True], bins=10)
    assert len(bins) == 10
    assert bins[0].count == 1 and bins[9].count == 1 and bins[5].count == 1
    assert bins[9].positive_rate == 1.0 and bins[0].positive_rate == 0.0
    assert bins[3].mean_score is None


def test_document_scores_summary():
    scores = DocumentScores()
    for score, flag, label in [
        (0.9, True, True),
        (0.7, True, True),
        (0.6, True, False),
        (0.1, False, False),
    ]:
        scores.add(score, flag, label)
    summary = scores.summary()
    assert summary["auroc"] == 1.0
    assert summary["f1"] == pytest.approx(0.8)
    assert summary["fpr_at_threshold"] == 0.5
    assert summary["fpr_at_recall_95"] == 0.0
    assert len(summary["reliability"]) == 10
    with pytest.raises(ValueError):
        scores.add(math.nan, False, False)


# --------------------------------------------------------------------------- baselines


def test_no_op_baseline_changes_nothing():
    baseline = NoOpRestorer()
    restoration = baseline.restore(SPUN)
    assert restoration.text == SPUN and restoration.edits == []
    assert baseline.detect(SPUN).spun is False
    counts = score_restoration(SPUN, ORIGINAL, SITES, restoration.edits)
    assert counts.exact == 0 and counts.distance_reduction == 0.0


def test_pps_line_parsing():
    assert parse_pps_line("profound learning AND deep learning") == TorturedEntry(
        ("profound", "learning"), "deep learning"
    )
    # A shorter second term is context the PPS query requires, not a correction.
    assert parse_pps_line("thick woods AND learning") == TorturedEntry(
        ("thick", "woods"), None, (("learning",),)
    )
    assert parse_pps_line("counterfeit consciousness") == TorturedEntry(
        ("counterfeit", "consciousness"), None
    )
    assert parse_pps_line("preformation AND (rat OR mouse)") is None
    assert parse_pps_line("Chime labs NOT CHIMe labs Stanford~5") is None
    assert parse_pps_line("Tortured Phrases") is None


def test_lookup_with_context_terms():
    entries = {
        ("thick", "woods"): [TorturedEntry(("thick", "woods"), None, (("learning",),))],
        ("irregular", "woodland"): [TorturedEntry(("irregular", "woodland"), "random forest")],
    }
    lookup = TorturedPhraseLookup(entries)
    assert lookup.detect("We walked in thick woods.").spun is False
    detection = lookup.detect("Thick woods help machine learning.")
    assert detection.spun and detection.spans[0].text == "Thick woods"
    restoration = lookup.restore("An Irregular woodland classifier.")
    assert restoration.text == "An Random forest classifier."
    assert apply_edits("An Irregular woodland classifier.", restoration.edits) == restoration.text


def test_lookup_with_the_shipped_list():
    lookup = TorturedPhraseLookup()
    spun = "We use profound learning for picture acknowledgment in counterfeit consciousness."
    detection = lookup.detect(spun)
    found = {span.text for span in detection.spans}
    assert {"profound learning", "picture acknowledgment", "counterfeit consciousness"} <= found
    assert detection.score > 0.99  # three hits in thirteen tokens
    one_hit = "We use profound learning. " + "The talks went on . " * 119
    assert lookup.detect(one_hit).score == pytest.approx(1 - math.exp(-200 / 600), abs=1e-9)
    restoration = lookup.restore(spun)
    assert "deep learning" in restoration.text
    assert "image recognition" in restoration.text
    assert lookup.detect("The minister said the talks were useful.").spun is False


def test_insertion_just_before_a_site_does_not_spoil_it():
    edits = [
        TextEdit(SITES[0].spun_start, SITES[0].spun_start, "then "),
        edit(SPUN, "stated", "said"),
    ]
    counts = score_restoration(SPUN, ORIGINAL, SITES, edits)
    assert counts.exact == 1
    assert counts.untouched_changed == 1  # the inserted word


WORDS = ["alpha", "beta", "gamma", "delta", "omega", "kappa"]


@given(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(0, 29), st.sampled_from(["X", "Y z", "Q-r"])), max_size=10),
)
def test_inverse_edits_always_restore_every_site(words, swaps):
    """Undoing exactly what the spinner did is a perfect restoration, whatever the layout."""
    original = " ".join(words) + "."
    positions = {index: replacement for index, replacement in swaps if index < len(words)}
    spun_words = [positions.get(i, w) for i, w in enumerate(words)]
    spun = " ".join(spun_words) + "."
    sites, edits = [], []
    o_pos = s_pos = 0
    for i, (before, after) in enumerate(zip(words, spun_words, strict=True)):
        if i in positions:
            sites.append(Site(s_pos, s_pos + len(after), o_pos, o_pos + len(before), before, after))
            edits.append(TextEdit(s_pos, s_pos + len(after), before))
        o_pos += len(before) + 1
        s_pos += len(after) + 1
    assert apply_edits(spun, edits) == original
    counts = score_restoration(spun, original, sites, edits)
    assert counts.exact == len(sites)
    assert counts.untouched_changed == 0
    if counts.distance_spun:
        assert counts.distance_reduction == 1.0
    nothing = score_restoration(spun, original, sites, [])
    assert nothing.exact == 0 and nothing.untouched_changed == 0


@given(
    st.text(alphabet="ab .", max_size=25),
    st.lists(st.tuples(st.integers(0, 25), st.integers(0, 6)), max_size=5),
)
def test_span_overlap_matches_a_brute_force_count(text, raw_ranges):
    """The bisect-based coverage counts the same tokens as checking every token."""
    from unspin.bench.metrics import _overlaps

    ranges = [(min(s, len(text)), min(s + n, len(text))) for s, n in raw_ranges]
    predicted, actual = ranges[::2], ranges[1::2]
    tokens = tokenize(text)
    in_predicted = [any(_overlaps(s, e, a, b) for a, b in predicted) for s, e, _ in tokens]
    in_actual = [any(_overlaps(s, e, a, b) for a, b in actual) for s, e, _ in tokens]
    counts = span_overlap(text, predicted, actual)
    assert counts.predicted == sum(in_predicted)
    assert counts.actual == sum(in_actual)
    assert counts.tp == sum(p and a for p, a in zip(in_predicted, in_actual, strict=True))


@given(
    st.lists(st.sampled_from("abcd"), max_size=12), st.lists(st.sampled_from("abcd"), max_size=12)
)
def test_pure_python_edit_distance_agrees_with_rapidfuzz(a, b):
    import sys

    distance = pytest.importorskip("rapidfuzz.distance")
    expected = distance.Levenshtein.distance(a, b)
    saved = sys.modules.get("rapidfuzz.distance")
    sys.modules["rapidfuzz.distance"] = None  # makes the import fail: the fallback runs
    try:
        assert token_edit_distance(a, b) == expected
    finally:
        sys.modules["rapidfuzz.distance"] = saved
