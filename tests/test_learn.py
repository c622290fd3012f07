"""`unspin learn`: substitutions mined from aligned (page, source) pairs, unchanged forms
counted, lexicons merged and read back, the command end to end on a real SQLite index,
and the source's wording given back to a traced page (`restore_from_source`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unspin.cli import main
from unspin.learning import learn, mine_aligned, restore_from_source
from unspin.resources import LexicalResource, load_lexical
from unspin.resources.lexicon import HEADER, Lexicon, LexiconError
from unspin.restoration import apply_edits
from unspin.tracing import Passage
from unspin.tracing.index import SourceIndex

# Hand-written originals, each with its own names and numbers (what tracing anchors on).
ORIGINALS = [
    {
        "id": "src-harbour",
        "title": "Council of Vellmar approves the Kastrup harbour plan",
        "text": (
            "The council of Vellmar voted 17 to 4 on Monday to approve the Kastrup harbour "
            "plan. Mayor Anrik Solberg said the firm Nordhavn Works would start building in "
            "March 2025. The plan costs 48 million kroner and was first proposed in 2019.\n\n"
            "Critics from the Green Vellmar party said the firm had not shown how it would "
            "protect the Kastrup wetlands. Solberg said the council would look into the "
            "matter before the next vote in June."
        ),
    },
    {
        "id": "src-bridge",
        "title": "Ostrava bridge reopens after 14 months of repairs",
        "text": (
            "The Zelena bridge in Ostrava reopened on Friday after 14 months of repairs. "
            "Engineer Petra Hruba said the firm Moravia Steel had replaced 312 beams. "
            "The repairs cost 9 million euros, paid by the Ostrava region.\n\n"
            "Drivers had used a detour through Poruba since April 2023. Hruba said the firm "
            "would look into the noise the new joints make."
        ),
    },
    {
        "id": "src-unrelated",
        "title": "Lindqvist wins the Tromsø chess open",
        "text": (
            "Grandmaster Ebba Lindqvist won the Tromsø chess open on Sunday with 7.5 points "
            "from 9 games. She beat Mattias Berg in the last round after 61 moves."
        ),
    },
]

# Spun copies of the first two: firm -> agency, said -> stated, look into -> investigate,
# matter -> issue, Monday -> Weekday (a spinner that also swaps capitalised words).
SPUN_HARBOUR = (
    "Council of Vellmar approves the Kastrup harbour plan\n\n"
    "The council of Vellmar voted 17 to 4 on Weekday to approve the Kastrup harbour plan. "
    "Mayor Anrik Solberg stated the agency Nordhavn Works would start building in March "
    "2025. The plan costs 48 million kroner and was first proposed in 2019.\n\n"
    "Critics from the Green Vellmar party stated the agency had not shown how it would "
    "protect the Kastrup wetlands. Solberg stated the council would investigate the issue "
    "before the next vote in June."
)
SPUN_BRIDGE = (
    "Ostrava bridge reopens after 14 months of repairs\n\n"
    "The Zelena bridge in Ostrava reopened on Friday after 14 months of repairs. Engineer "
    "Petra Hruba stated the agency Moravia Steel had replaced 312 beams. The repairs cost 9 "
    "million euros, paid by the Ostrava region.\n\n"
    "Drivers had used a detour through Poruba since April 2023. Hruba stated the agency "
    "would investigate the noise the new joints make."
)
# Shares no source with the index: must contribute nothing.
UNTRACED = (
    "Storm closes schools in Bergen\n\n"
    "Heavy snow closed 40 schools in Bergen on Tuesday, the agency stated. Teacher Ola "
    "Nygaard stated classes would resume on Thursday."
)


def whole(page: str, source: str) -> list[Passage]:
    return [Passage(0, len(page), 0, len(source), 1.0)]


# ----------------------------------------------------------------- mining one pair


def test_single_word_substitution_is_mined():
    lexicon = mine_aligned("The agency opened a new office.", "The firm opened a new office.")
    assert lexicon.pairs == {"agency": {"firm": 1}}


def test_multi_word_substitution_is_mined_as_a_phrase():
    lexicon = mine_aligned(
        "Police will investigate the fire today.", "Police will look into the fire today."
    )
    assert lexicon.pairs == {"investigate": {"look into": 1}}


def test_sentence_initial_capitals_are_dropped_but_inner_capitals_kept():
    lexicon = mine_aligned(
        "Agency staff met on Weekday in Oslo.", "Firm staff met on Monday in Oslo."
    )
    # "Agency" starts the sentence: lower-cased. "Weekday" inside it: a name, kept.
    assert lexicon.pairs == {"agency": {"firm": 1}, "Weekday": {"Monday": 1}}


def test_adjacent_substitutions_are_counted_as_phrase_and_word_by_word():
    lexicon = mine_aligned("A large agency opened.", "A big firm opened.")
    assert lexicon.pairs == {
        "large agency": {"big firm": 1},
        "large": {"big": 1},
        "agency": {"firm": 1},
    }


def test_replacement_that_keeps_the_original_word_is_mined_both_ways():
    # "federal" -> "federal official": the diff sees one extra word; which neighbour it
    # belongs to is unknown, both readings are counted. Function words never anchor one.
    lexicon = mine_aligned("A federal official judge ruled.", "A federal judge ruled.")
    assert lexicon.pairs == {
        "federal official": {"federal": 1},
        "official judge": {"judge": 1},
    }
    assert mine_aligned("Out of the blue.", "Out the blue.").pairs == {}


def test_numbers_and_long_rewrites_are_not_substitutions():
    lexicon = mine_aligned(
        "It cost 40 euros. Then quite another thing entirely happened here at last.",
        "It cost 48 euros. Then the council voted to approve the plan at last.",
    )
    assert lexicon.pairs == {}
    # A number put in for a word is a swap, and a typographic apostrophe is none.
    swapped = mine_aligned(
        "Earlier this 12 months, the earthquake’s toll rose.",
        "Earlier this year, the earthquake's toll rose.",
    )
    assert swapped.pairs == {"12 months": {"year": 1}}


def test_form_seen_unchanged_is_counted():
    page = "The agency stated the agency would act. The agency of the state said no."
    source = "The firm said the firm would act. The agency of the state said no."
    lexicon = mine_aligned(page, source)
    assert lexicon.pairs["agency"] == {"firm": 2}
    assert lexicon.unchanged["agency"] == 1  # the state agency, a word in its own right
    assert lexicon.unchanged["the state"] == 1  # phrases too
    assert lexicon.share("agency", "firm") == pytest.approx(2 / 3)


# ------------------------------------------------------------------- lexicon file


def test_lexicon_round_trip_and_merge(tmp_path):
    first = Lexicon(
        pairs={"agency": {"firm": 2}, "investigate": {"look into": 1}},
        unchanged={"agency": 1, "the": 9},
        pages=2,
    )
    path = tmp_path / "spinner.tsv"
    first.write(path)
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == HEADER
    assert "agency\tfirm\t2\t1" in text.splitlines()
    assert "the\t\t0\t9" in text.splitlines()
    again = Lexicon.read(path)
    assert (again.pairs, again.unchanged, again.pages) == (first.pairs, first.unchanged, 2)

    again.merge(Lexicon(pairs={"agency": {"firm": 1, "bureau": 1}}, unchanged={"the": 1}, pages=1))
    assert again.pairs["agency"] == {"firm": 3, "bureau": 1}
    assert again.unchanged == {"agency": 1, "the": 10}
    assert again.pages == 3
    assert again.best("agency") == "firm"


def test_lexicon_is_a_lexical_resource_and_exports_pipe(tmp_path):
    lexicon = Lexicon(pairs={"agency": {"firm": 3}, "company": {"firm": 5}, "stated": {"said": 2}})
    lexicon.write(tmp_path / "learned.tsv")
    resource = load_lexical(tmp_path / "learned.tsv")
    assert isinstance(resource, Lexicon) and isinstance(resource, LexicalResource)
    assert list(resource.entries()) == [["firm", "company", "agency"], ["said", "stated"]]
    assert resource.alternatives("Firm") == ["company", "agency"]
    assert lexicon.to_spinner_dictionary().dumps("pipe") == "firm|company|agency\nsaid|stated\n"
    assert list(lexicon.inverse())[0] == ("agency", [("firm", 3)])


def test_bad_lexicon_row_names_its_line():
    with pytest.raises(LexiconError, match=r":4: not a count"):
        Lexicon.loads(
            f"{HEADER}\nspun\toriginal\tcount\tunchanged\nagency\tfirm\t2\t1\nx\ty\tz\t0\n"
        )


# ------------------------------------------------------------ learning from a crawl


@pytest.fixture
def index_path(tmp_path: Path) -> Path:
    path = tmp_path / "sources.db"
    with SourceIndex(path) as index:
        index.add(ORIGINALS)
    return path


def test_learn_mines_traced_pages_and_skips_the_untraced(index_path):
    with SourceIndex(index_path, create=False) as index:
        report = learn([SPUN_HARBOUR, SPUN_BRIDGE, UNTRACED], index)
    assert (report.pages_read, report.pages_traced) == (3, 2)
    lexicon = report.lexicon
    assert lexicon.pages == 2
    assert lexicon.pairs["agency"] == {"firm": 4}
    assert lexicon.pairs["stated"] == {"said": 5}
    assert lexicon.pairs["investigate"] == {"look into": 2}
    assert lexicon.pairs["Weekday"] == {"Monday": 1}
    # The untraced page says "the agency stated" too: neither a pair nor unchanged counts.
    assert "agency" not in lexicon.unchanged
    assert "bergen" not in lexicon.unchanged and "Bergen" not in lexicon.unchanged
    assert lexicon.unchanged["council"] == 3


def test_update_keeps_unchanged_counts_of_words_that_become_spun_forms_later(index_path):
    spun_source = {
        "id": "src-agency",
        "title": "Tax agency of Kastrup hires 30 inspectors",
        "text": "The tax agency of Kastrup said on Monday it hired 30 inspectors in Vellmar. "
        "Director Lise Holm said the agency needed them by May 2025.",
    }
    with SourceIndex(index_path) as index:
        index.add([spun_source])
        # First crawl: "agency" only seen unchanged (it is in the source).
        first = learn([f"{spun_source['title']}\n\n{spun_source['text']}"], index)
        assert "agency" not in first.lexicon.pairs
        assert first.lexicon.unchanged["agency"] == 3  # title and two sentences
        # Second crawl teaches agency -> firm; the first crawl's sightings still count.
        second = learn([SPUN_HARBOUR], index, lexicon=first.lexicon)
    assert second.lexicon.pairs["agency"] == {"firm": 2}
    assert second.lexicon.unchanged["agency"] == 3
    assert second.lexicon.pages == 2


def test_learn_command_end_to_end(tmp_path, index_path, capsys):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "harbour.txt").write_text(SPUN_HARBOUR, encoding="utf-8")
    (pages / "storm.txt").write_text(UNTRACED, encoding="utf-8")
    out = tmp_path / "learned.tsv"
    code = main(["learn", "--db", str(index_path), str(pages), "-o", str(out), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pages_read"] == 2 and summary["pages_traced"] == 1
    assert summary["pairs_mined"] >= 6 and summary["distinct_spun_forms"] >= 4
    assert Lexicon.read(out).pairs["agency"] == {"firm": 2}

    (pages / "bridge.txt").write_text(SPUN_BRIDGE, encoding="utf-8")
    (pages / "harbour.txt").unlink()
    code = main(["learn", "--db", str(index_path), str(pages), "-o", str(out), "--update"])
    assert code == 0
    assert "2 pages read, 1 traced" in capsys.readouterr().out
    merged = Lexicon.read(out)
    assert merged.pages == 2 and merged.pairs["agency"] == {"firm": 4}

    pipe = tmp_path / "learned.txt"
    assert (
        main(["learn", "--db", str(index_path), str(pages), "-o", str(pipe), "--format", "pipe"])
        == 0
    )
    assert "firm|agency" in pipe.read_text(encoding="utf-8").splitlines()


def test_learn_command_refuses_a_missing_index(tmp_path, capsys):
    code = main(["learn", "--db", str(tmp_path / "none.db"), "-o", str(tmp_path / "x.tsv"), "-"])
    assert code == 2
    assert "unspin learn:" in capsys.readouterr().err


# ------------------------------------------------------------ restore from the source


def test_restore_from_source_gives_back_the_source_wording():
    source = "The firm said on Monday that it will look into the matter."
    page = "The agency stated on Weekday that it will investigate the issue."
    edits = restore_from_source(page, source, whole(page, source))
    assert apply_edits(page, edits) == source
    assert all(0 < edit.confidence <= 1 for edit in edits)
    assert all([e.source for e in edit.evidence] == ["source"] for edit in edits)
    assert [(e.before, e.after) for e in edits][-2:] == [
        ("investigate", "look into"),
        ("issue", "matter"),
    ]


def test_restore_from_source_capitalises_a_sentence_start():
    source = "Rescuers worked all night. firm ground was found at dawn near Magnitogorsk."
    page = "Rescuers worked all night. Solid ground was found at dawn near Magnitogorsk."
    edits = restore_from_source(page, source, whole(page, source))
    assert [(e.before, e.after) for e in edits] == [("Solid", "Firm")]


def test_restore_from_source_on_a_traced_page(index_path):
    with SourceIndex(index_path, create=False) as index:
        source = index.get("src-bridge").full_text
    edits = restore_from_source(SPUN_BRIDGE, source)
    restored = apply_edits(SPUN_BRIDGE, edits)
    assert restored == source


def test_restore_from_source_on_the_bundled_example(tmp_path):
    """The example page (`make demo`): every aligned substitution the issue lists as left
    by the engine ("individuals", "officers", "broken", "12 months", "inflicting") comes
    back, and the page becomes its source (typographic apostrophes aside)."""
    from unspin.extraction import extract
    from unspin.extraction.inputs import read_documents
    from unspin.tracing import trace

    examples = Path(__file__).resolve().parent.parent / "examples"
    page = extract(next(iter(read_documents([str(examples / "spun-page.html")])))).full_text
    original = extract(next(iter(read_documents([str(examples / "spun-page.original.txt")]))))
    with SourceIndex(tmp_path / "originals.db") as index:
        index.add([{"id": "original", "title": original.title, "text": original.text}])
        best = trace(page, index, top_k=1).best
        source = index.get("original").full_text
    assert best is not None
    edits = restore_from_source(page, source, best.passages)
    swaps = {(edit.before, edit.after) for edit in edits}
    assert {("native", "local"), ("individuals", "people"), ("officers", "officials")} <= swaps
    assert {("12 months", "year"), ("inflicting", "causing")} <= swaps
    assert apply_edits(page, edits).replace("’", "'") == source


def test_a_learned_lexicon_weighs_each_pair_by_its_counts(tmp_path):
    """A form the spinner always wrote ("agency": 5 times for "firm", never itself) weighs
    more than one mostly seen as itself ("office": once for "bureau", 9 times unchanged)."""
    from unspin.engine import Engine

    lexicon = Lexicon(name="farm")
    lexicon.add_pair("agency", "firm", 5)
    lexicon.add_pair("office", "bureau", 1)
    lexicon.add_unchanged("office", 9)
    path = tmp_path / "farm.lexicon.tsv"
    lexicon.write(path)
    engine = Engine(model=None, lexical=[], dictionaries=[path])
    (candidates,) = engine.candidates("The agency left the office.")
    by_text = {c.text: c for c in candidates}
    firm, bureau = by_text["firm"], by_text["bureau"]
    assert firm.prior + firm.bonus > bureau.prior + bureau.bonus
    (evidence,) = firm.evidence
    assert evidence.source == "lexicon" and evidence.resources == ("farm.lexicon",)
    assert "5 times, for itself 0 times" in evidence.detail
    # Seen as itself more often than spun: weighs less than a pair never seen unchanged.
    (weak,) = bureau.evidence
    assert weak.weight < engine.config.lexicon_prior < evidence.weight
