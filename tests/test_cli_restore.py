"""`unspin restore --show-edits`: the edits shown in place, as the quick-start demo prints them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unspin.cli import main
from unspin.restoration import Edit, Restoration, apply_edits


def test_marked_shows_every_edit_in_place_and_keeps_the_rest() -> None:
    original = "The deputy International Minister mentioned it."
    edits = [
        Edit(11, 24, "International", "Foreign", 0.9),
        Edit(34, 43, "mentioned", "said", 0.8),
    ]
    restoration = Restoration(apply_edits(original, edits), original, edits)
    assert restoration.marked() == (
        "The deputy [International \u2192 Foreign] Minister [mentioned \u2192 said] it."
    )


def test_marked_without_edits_is_the_input() -> None:
    assert Restoration("Plain text.", "Plain text.", []).marked() == "Plain text."


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "spun-page.html"


def test_cli_show_edits_prints_the_json_edits_in_place(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["restore", "--json", "--model", "none", str(EXAMPLE)]) == 0
    record = json.loads(capsys.readouterr().out)["restoration"]
    assert record["edits"], "the spun example should get at least one edit"
    assert main(["clean", str(EXAMPLE)]) == 0
    cleaned = capsys.readouterr().out.rstrip("\n")
    expected = cleaned
    for edit in sorted(record["edits"], key=lambda e: e["start"], reverse=True):
        mark = f"[{edit['before']} \u2192 {edit['after']}]"
        expected = expected[: edit["start"]] + mark + expected[edit["end"] :]

    assert main(["restore", "--show-edits", "--model", "none", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.rstrip("\n") == expected


ORIGINAL = EXAMPLE.with_name("spun-page.original.txt")


def test_restore_with_the_source_in_the_index_gives_back_its_wording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`restore --db`: the example's source is indexed, so every substitution inside the
    copied passages takes the source's words (evidence "source"), including those the
    engine alone misses ("individuals", "officers", "12 months", "inflicting")."""
    db = str(tmp_path / "originals.db")
    assert main(["index", "add", "--quiet", "--db", db, str(ORIGINAL)]) == 0
    assert main(["clean", str(ORIGINAL)]) == 0
    original = capsys.readouterr().out.rstrip("\n")
    assert main(["restore", "--json", "--model", "none", "--db", db, str(EXAMPLE)]) == 0
    record = json.loads(capsys.readouterr().out)
    restoration = record["restoration"]
    assert record["trace"] is None, "trace was not asked for: its part stays null"
    by_source = {e["before"]: e["after"] for e in restoration["edits"]
                 if [x["source"] for x in e["evidence"]] == ["source"]}  # fmt: skip
    for spun, source in [("individuals", "people"), ("officers", "officials"),
                         ("12 months", "year"), ("inflicting", "causing"), ("native", "local")]:  # fmt: skip
        assert by_source.get(spun) == source
    # Every aligned substitution is restored: the page reads as its source, but for the
    # farm's typographic apostrophe.
    assert restoration["text"].replace("\u2019", "'") == original.replace("\u2019", "'")


def test_restore_with_an_index_that_lacks_the_source_keeps_the_engine_edits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "other.db"
    other = tmp_path / "other.txt"
    other.write_text(
        "Council approves new park\n\nThe city council approved a new park on Tuesday, "
        "after a long debate about its cost and the trees it will replace.\n",
        encoding="utf-8",
    )
    assert main(["index", "add", "--quiet", "--db", str(db), str(other)]) == 0
    assert main(["restore", "--json", "--model", "none", str(EXAMPLE)]) == 0
    alone = json.loads(capsys.readouterr().out)["restoration"]
    assert main(["restore", "--json", "--model", "none", "--db", str(db), str(EXAMPLE)]) == 0
    assert json.loads(capsys.readouterr().out)["restoration"] == alone


def test_restore_with_a_missing_index_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope.db")
    assert main(["restore", "--model", "none", "--db", missing, str(EXAMPLE)]) == 2
    error = capsys.readouterr().err
    assert "nope.db" in error and "Traceback" not in error
