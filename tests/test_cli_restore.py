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
