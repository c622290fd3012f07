"""The spinner simulator: matching rules, consistency, offsets, determinism, CLI, dev sets."""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
from pathlib import Path

import pytest

from unspin.bench.spinner import SpunDocument, spin
from unspin.cli import main
from unspin.resources.dictionary import SpinnerDictionary

REPO_ROOT = Path(__file__).resolve().parent.parent


def dictionary(*lines: str, name: str = "test") -> SpinnerDictionary:
    return SpinnerDictionary.loads("\n".join(lines), name=name, format="pipe")


def assert_offsets_consistent(document: SpunDocument) -> None:
    rebuilt = []
    cursor = 0
    previous_end = -1
    for sub in document.substitutions:
        assert document.original[sub.original_start : sub.original_end] == sub.original
        assert document.text[sub.spun_start : sub.spun_end] == sub.spun
        assert sub.original_start >= previous_end  # sorted, not overlapping
        previous_end = sub.original_end
        rebuilt.append(document.original[cursor : sub.original_start])
        rebuilt.append(sub.spun)
        cursor = sub.original_end
    rebuilt.append(document.original[cursor:])
    assert "".join(rebuilt) == document.text


def test_lines_apply_in_file_order_so_a_phrase_listed_first_wins():
    text = "The foreign minister met a foreign guest."
    phrase_first = dictionary("foreign minister|international minister", "foreign|overseas")
    spun = spin(text, phrase_first)
    assert spun.text == "The international minister met a overseas guest."
    word_first = dictionary("foreign|overseas", "foreign minister|international minister")
    assert spin(text, word_first).text == "The overseas minister met a overseas guest."


def test_every_occurrence_gets_the_same_choice():
    alternatives = [f"alt{i}" for i in range(20)]
    spinner = dictionary("|".join(["said", *alternatives]))
    text = " ".join(["He said it."] * 30)
    for seed in range(10):
        spun = spin(text, spinner, seed=seed)
        assert len(spun.substitutions) == 30
        assert len({sub.spun for sub in spun.substitutions}) == 1
        assert spun.substitutions[0].spun in alternatives


def test_choice_is_always_another_entry_of_the_line():
    spinner = dictionary("big|large|huge")
    choices = {spin("a big dog", spinner, seed=seed).substitutions[0].spun for seed in range(40)}
    assert choices == {"large", "huge"}


def test_lower_case_and_capitalised_forms_match_and_keep_their_case():
    spinner = dictionary("general|common")
    spun = spin("General rules. A general rule. GENERAL. generally.", spinner)
    assert spun.text == "Common rules. A common rule. GENERAL. generally."


def test_matches_are_whole_words_only():
    spinner = dictionary("art|craft")
    spun = spin("Art, start, artist, art-deco and art.", spinner)
    assert spun.text == "Craft, start, artist, craft-deco and craft."
    assert [sub.original for sub in spun.substitutions] == ["Art", "art", "art"]


def test_phrase_heads_match_across_any_whitespace():
    spinner = dictionary("source link|supply hyperlink")
    spun = spin("Source  link\nsource\nlink", spinner)
    assert spun.text == "Supply hyperlink\nsupply hyperlink"


def test_single_entry_line_leaves_spintax_behind():
    spinner = dictionary("hardware", "navy|naval force")
    spun = spin("Hardware for the navy hardware", spinner, seed=1)
    assert spun.text == "{Hardware} for the naval force {hardware}"
    assert [sub.spun for sub in spun.substitutions] == ["{Hardware}", "naval force", "{hardware}"]
    assert_offsets_consistent(spun)


def test_replaced_text_is_never_replaced_again():
    spinner = dictionary("big|large", "large|huge")
    assert spin("big and large", spinner).text == "large and huge"


def test_seed_makes_output_deterministic():
    spinner = dictionary(*[f"w{i}|" + "|".join(f"v{i}x{j}" for j in range(8)) for i in range(50)])
    text = " ".join(f"w{i}" for i in range(50))
    assert spin(text, spinner, seed=7) == spin(text, spinner, seed=7)
    assert spin(text, spinner, seed=7).text != spin(text, spinner, seed=8).text
    assert spin(text, spinner, seed="7:doc").text == spin(text, spinner, seed="7:doc").text


def test_offsets_hold_for_random_texts_and_dictionaries():
    rng = random.Random(0)
    vocabulary = ["cat", "dog", "big dog", "red", "Red", "car", "red car", "sky", "é"]
    for trial in range(200):
        lines = []
        for head in rng.sample(vocabulary, 5):
            alternatives = [rng.choice(["x", "longer word", "", "Y y y", "zz"]) for _ in range(3)]
            lines.append("|".join([head, *[alt for alt in alternatives if alt]]))
        words = [rng.choice([*vocabulary, "the", ",", "\n", "dogs"]) for _ in range(40)]
        text = " ".join(words)
        for mode in ("dictionary", "random"):
            spun = spin(text, dictionary(*lines), seed=trial, mode=mode, rate=0.5)
            assert spun.original == text
            assert_offsets_consistent(spun)


def test_random_mode_roughly_respects_the_rate():
    spinner = dictionary("word|term|expression")
    text = " ".join(["word"] * 2000)
    for rate in (0.1, 0.3, 0.7):
        spun = spin(text, spinner, mode="random", rate=rate, seed=3)
        assert abs(len(spun.substitutions) / 2000 - rate) < 0.05
        assert {sub.spun for sub in spun.substitutions} == {"term", "expression"}
    assert spin(text, spinner, mode="random", rate=0.0).substitutions == []


def test_dictionary_mode_rate_applies_whole_lines():
    spinner = dictionary(*[f"w{i}|v{i}" for i in range(400)])
    text = " ".join(f"w{i} w{i}" for i in range(400))
    spun = spin(text, spinner, rate=0.5, seed=1)
    replaced = {sub.original for sub in spun.substitutions}
    assert 150 < len(replaced) < 250
    assert len(spun.substitutions) == 2 * len(replaced)  # both occurrences or neither


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="mode"):
        spin("x", dictionary("x|y"), mode="spinbot")
    with pytest.raises(ValueError, match="rate"):
        spin("x", dictionary("x|y"), rate=1.5)


def test_record_round_trips_through_json():
    spun = spin("A big dog.", dictionary("big|large"), id="doc#test", source_id="doc")
    record = json.loads(json.dumps(spun.to_dict()))
    assert list(record) == ["id", "source_id", "dictionary", "original", "text", "substitutions"]
    assert record["dictionary"] == "test"
    assert SpunDocument.from_dict(record) == spun
    assert spun.substituted_word_fraction() == pytest.approx(1 / 3)


# ----------------------------------------------------------------------- CLI


def test_cli_spins_jsonl_one_line_per_input_with_ids(tmp_path, capsys):
    dict_path = tmp_path / "mine.txt"
    dict_path.write_text("said|stated\nbig|large\n", encoding="utf-8")
    inputs = tmp_path / "docs.jsonl"
    inputs.write_text(
        json.dumps({"id": "a", "text": "She said it was big."})
        + "\n"
        + json.dumps({"id": "b", "text": "Nothing to change here."})
        + "\n",
        encoding="utf-8",
    )
    assert main(["spin", str(inputs), "--dict", str(dict_path), "--seed", "4"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [record["id"] for record in records] == ["a#mine", "b#mine"]
    assert [record["source_id"] for record in records] == ["a", "b"]
    assert records[0]["text"] == "She stated it was large."
    assert records[1]["substitutions"] == []
    for record in records:
        assert_offsets_consistent(SpunDocument.from_dict(record))


def test_cli_plain_text_in_spun_text_out(tmp_path, capsys):
    dict_path = tmp_path / "mine.csv"
    dict_path.write_text("said,stated\n", encoding="utf-8")
    page = tmp_path / "page.txt"
    page.write_text("She said so.\n", encoding="utf-8")
    assert main(["spin", str(page), "--dict", str(dict_path)]) == 0
    assert capsys.readouterr().out == "She stated so.\n"


def test_cli_exported_builtin_loads_back_and_spins_the_same(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("UNSPIN_CACHE_DIR", str(tmp_path / "cache"))
    exported = tmp_path / "pps.txt"
    assert main(["spin", "--dict", "pps", "--export-dict", str(exported)]) == 0
    assert exported.read_text(encoding="utf-8").count("\n") > 100
    page = tmp_path / "paper.jsonl"
    page.write_text(
        json.dumps({"id": "p", "text": "We train deep learning models on image features."}) + "\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    outputs = []
    for name in ("pps", str(exported)):
        assert main(["spin", str(page), "--dict", name, "--seed", "1"]) == 0
        outputs.append(json.loads(capsys.readouterr().out)["text"])
    assert outputs[0] == outputs[1]
    assert "picture highlights" in outputs[0]


def test_cli_lists_builtins_and_reports_bad_dictionary(tmp_path, capsys):
    assert main(["spin", "--list-dicts"]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"^moby\s+installed", listing, re.M)
    assert re.search(r"^pps\s+installed", listing, re.M)
    bad = tmp_path / "bad.txt"
    bad.write_text("{a|b}\n{c|{d}}\n", encoding="utf-8")
    assert main(["spin", "-", "--strict", "--dict", str(bad)]) == 2
    error = capsys.readouterr().err
    assert "bad.txt:2" in error and "Traceback" not in error
    # Without --strict the malformed line is skipped and said once.
    page = tmp_path / "page.txt"
    page.write_text("a b c\n", encoding="utf-8")
    assert main(["spin", str(page), "--dict", str(bad)]) == 0
    error = capsys.readouterr().err
    assert error.count("skipped 1 malformed line (line 2: not a spintax group") == 1
    assert main(["spin", "-", "--dict", "no-such-dict"]) == 2
    assert main(["spin", "-", "--dict", str(bad.with_name("x.txt")), "--rate", "2"]) == 2


# ------------------------------------------------------------------- dev sets


def _build_devsets_module():
    spec = importlib.util.spec_from_file_location(
        "build_devsets", REPO_ROOT / "benchmarks" / "build_devsets.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_devsets"] = module
    spec.loader.exec_module(module)
    return module


def test_devsets_schema_on_a_few_wikinews_articles(wikinews_path, tmp_path, monkeypatch):
    """Dev sets from two articles with pps (fast) plus clean negatives and the held-out file."""
    monkeypatch.setenv("UNSPIN_CACHE_DIR", str(tmp_path / "cache"))
    build = _build_devsets_module()
    out = tmp_path / "dev"
    summary = build.build(
        wikinews_path, out, limit=2, seed=0, dictionaries=["pps"], heldout_sentences=2
    )
    clean = [json.loads(line) for line in (out / "clean.jsonl").read_text().splitlines()]
    spun = [json.loads(line) for line in (out / "pps.jsonl").read_text().splitlines()]
    assert [record["id"] for record in clean] == ["wikinews/0000", "wikinews/0001"]
    assert [record["id"] for record in spun] == ["wikinews/0000#pps", "wikinews/0001#pps"]
    for record in clean:
        assert record["dictionary"] is None
        assert record["text"] == record["original"] and record["substitutions"] == []
    for record, negative in zip(spun, clean, strict=True):
        assert record["original"] == negative["original"]
        assert record["source_id"] == negative["id"]
        assert_offsets_consistent(SpunDocument.from_dict(record))
    heldout = [json.loads(line) for line in (out / "pps_heldout.jsonl").read_text().splitlines()]
    assert heldout and all(record["substitutions"] for record in heldout)
    for record in heldout:
        assert_offsets_consistent(SpunDocument.from_dict(record))
    assert summary["pps"]["documents"] == 2


def test_devset_originals_are_what_unspin_spin_sees(wikinews_articles, tmp_path, capsys):
    """The dev sets' originals equal the text `unspin clean`/`unspin spin` extract."""
    build = _build_devsets_module()
    records = wikinews_articles[:4]
    page = tmp_path / "four.jsonl"
    page.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    assert main(["spin", str(page), "--dict", "pps"]) == 0
    spun = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [record["original"] for record in spun] == [
        build.article_original(record) for record in records
    ]


@pytest.mark.slow
def test_builtin_moby_spins_news_at_a_realistic_rate(wikinews_articles):
    from unspin.resources.dictionary import load_spinner_dictionary

    moby = load_spinner_dictionary("moby")
    fractions = []
    for article in wikinews_articles[:5]:
        spun = spin(article["title"] + "\n\n" + article["text"], moby, seed=0, rate=0.6)
        assert_offsets_consistent(spun)
        fractions.append(spun.substituted_word_fraction())
    assert 0.15 < sum(fractions) / len(fractions) < 0.4


def test_token_lookup_finds_exactly_what_the_head_pattern_finds():
    """The spinner's fast path (token lookup, anchored matches) equals a full pattern scan."""
    from unspin.bench.spinner import _head_spans
    from unspin.text import SPINNER_WORD_RE as _WORD

    spinner = dictionary(
        "art|x",
        "well-known|x",
        "red car|x",
        "Red Car Club|x",
        ".22 caliber|x",
        "e-mail|x",
        "bye bye|x",
    )
    rng = random.Random(5)
    pieces = [
        "art",
        "Art",
        "ART",
        "well-known",
        "Well-known",
        "red",
        "Red",
        "car",
        "Car",
        "Club",
        ".22",
        "caliber",
        "e-mail",
        "E-mail",
        "start",
        "-",
        " ",
        "  ",
        "\n",
        ",",
        "bye",
        "Bye",
    ]
    texts = ["bye bye bye", "Bye bye bye bye", "Red Car Club red car", "a .22 caliber art"]
    for _ in range(300):
        texts.append("".join(rng.choice(pieces) + rng.choice([" ", "\n", "-"]) for _ in range(30)))
    for text in texts:
        tokens: dict[str, list[tuple[int, int]]] = {}
        for match in _WORD.finditer(text):
            tokens.setdefault(match.group(), []).append(match.span())
        for number in range(len(spinner)):
            expected = [m.span() for m in spinner.head_pattern(number).finditer(text)]
            assert _head_spans(text, tokens, spinner, number) == expected, (number, text)
