"""Detection: document verdicts, spans with offsets, --dict families, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from unspin.detection import Detection, Span, detect
from unspin.engine import Engine

SPUN = (
    "Deputy International Minister Sergei Ryabkov mentioned the US positions got here as no "
    "shock. The Secretary Common of the United Nations spoke in Geneva. He will attend a "
    "gathering with the delegation on Monday. Navy {hardware} was moved to the border."
)
CLEAN = (
    "President Vladimir Putin flew to Magnitogorsk on Monday. The 1973 building was home to "
    "over 1,000 people; 48 apartments were damaged. Rescuers recovered at least ten survivors "
    "from the debris."
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(model=None)


def test_spun_text_is_flagged_with_spans(engine: Engine) -> None:
    result = engine.detect(SPUN)
    assert isinstance(result, Detection)
    assert result.spun and result.score >= 0.5
    for span in result.spans:
        assert isinstance(span, Span)
        assert SPUN[span.start : span.end] == span.text
        assert 0.0 <= span.confidence <= 1.0
        assert span.evidence
    found = {span.text: span.suggestion for span in result.spans}
    assert found.get("Common") == "General"
    assert found.get("{hardware}") == "hardware"


def test_clean_text_is_not_flagged(engine: Engine) -> None:
    result = engine.detect(CLEAN)
    assert not result.spun
    assert result.score < 0.5
    assert result.spans == []


def test_a_repeated_credit_line_counts_once_towards_the_verdict(engine: Engine) -> None:
    # Regression: a clean article with a photo credit under each of eight pictures was
    # judged spun (0.98), every "Image: Paul Budd." adding an edit to the page's rate.
    captions = [
        "A volunteer hangs signage before the fair.",
        "A parking sign showing the science centre logo.",
        "A banner for the event.",
        "A large printer installed in a trailer.",
        "Printed objects on display.",
        "The company's banner.",
        "A club for a local school.",
        "Robots built by students.",
    ]
    text = (
        "Wikinews attended the sixth annual fair in Tyler, Texas on Saturday. The event "
        "featured a variety of science, engineering and technology projects.\n\n"
        + "\n\n".join(f"{caption} Image: Paul Budd." for caption in captions)
    )
    assert not engine.detect(text).spun
    assert engine.restore(text).text == text


def test_a_page_judged_clean_gets_no_edit_however_strong(engine: Engine) -> None:
    # Regression: edits 10 nats above the margin used to pass the document gate; on clean
    # articles they were most of the false edits ("operative surgery" -> "surgery").
    text = (
        "The hospital in Madrid said the patient needed operative surgery after the crash on "
        "Monday. Doctors said she was in a stable condition and would be moved to a ward "
        "later in the week."
    )
    assert not engine.detect(text).spun
    assert engine.restore(text).text == text
    # Spintax leftovers are still repaired on such a page.
    assert "{" not in engine.restore(text.replace("ward", "{ward}")).text


def test_repeated_spun_sentences_are_all_restored(engine: Engine) -> None:
    line = "The Secretary Common of the United Nations spoke in Geneva."
    text = f"{SPUN}\n\n{line}\n\n{line}"
    restored = engine.restore(text).text
    assert restored.count("Secretary General") == 3 and "Common" not in restored


def test_detect_function_and_to_dict(engine: Engine) -> None:
    payload = detect(SPUN, engine=engine).to_dict()
    assert set(payload) == {"spun", "score", "spans", "family", "family_share", "language"}
    assert set(payload["spans"][0]) == {
        "start",
        "end",
        "text",
        "suggestion",
        "confidence",
        "evidence",
    }
    json.dumps(payload)  # serialisable


def test_clean_wikinews_articles_are_not_flagged(engine: Engine, wikinews_articles) -> None:
    flagged = 0
    for article in wikinews_articles[:4]:
        if engine.detect(article["title"] + "\n\n" + article["text"]).spun:
            flagged += 1
    assert flagged == 0


def test_user_dictionary_is_a_strong_prior_and_names_the_family(tmp_path: Path) -> None:
    ours = tmp_path / "acme.txt"
    ours.write_text(
        "exploded|went off\nofficials|federals\nsurprise|shock\nsaid|mentioned\n"
        "meeting|gathering\nforeign|international\nminister|priest\n",
        encoding="utf-8",
    )
    other = tmp_path / "other.txt"
    other.write_text("house|dwelling\n", encoding="utf-8")
    engine = Engine(dictionaries=[ours, other], model=None)
    text = (
        "The federals mentioned a bomb went off near the station on Monday. The federals left "
        "the gathering after the blast, which came as no shock to residents. The international "
        "priest mentioned the gathering would resume."
    )
    restored = engine.restore_and_explain(text)
    # The page is explained by acme's spinner model: every form it lists is restored, the
    # same way everywhere, with the line and constraints as evidence.
    assert restored.text.startswith("The officials said a bomb")
    assert "The officials left the meeting" in restored.text
    assert "The foreign minister said the meeting would resume." in restored.text
    (evidence,) = restored.edits[0].evidence
    assert evidence.source == "spinner-model" and evidence.resources == ("acme",)
    # "went off" is fluent English that the page may have had before spinning (the line
    # for "exploded" is applied only on some pages): the n-gram model keeps it.
    assert "went off" in restored.text
    detection = engine.detect(text)
    assert detection.family == "acme"
    # Every restored phrase of this page is one of acme's substitutions.
    assert detection.family_share == 1.0
    # The dictionary does not make a clean page look spun.
    assert engine.restore(CLEAN).text == CLEAN


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "unspin", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_cli_detect_and_restore(tmp_path: Path) -> None:
    pages = tmp_path / "pages.jsonl"
    pages.write_text(
        json.dumps({"id": "spun", "text": SPUN})
        + "\n"
        + json.dumps({"id": "clean", "text": CLEAN})
        + "\n",
        encoding="utf-8",
    )
    detected = run_cli("detect", "--model", "none", str(pages))
    assert detected.returncode == 1, detected.stderr
    lines = [json.loads(line) for line in detected.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["spun", "clean"]
    assert lines[0]["detection"]["spun"] and not lines[1]["detection"]["spun"]

    restored = run_cli("restore", "--model", "none", "--json", str(pages))
    assert restored.returncode == 0, restored.stderr
    first = json.loads(restored.stdout.splitlines()[0])["restoration"]
    assert "Secretary General" in first["text"]
    assert all({"start", "end", "before", "after", "confidence"} <= set(e) for e in first["edits"])

    clean_only = run_cli("detect", "--model", "none", "-", stdin=CLEAN)
    assert clean_only.returncode == 0, clean_only.stderr
    assert "clean" in clean_only.stdout

    missing = run_cli(
        "restore", "--model", "none", "--dict", str(tmp_path / "nope.txt"), "-", stdin=CLEAN
    )
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


def test_evidence_names_the_model_that_decided(engine: Engine) -> None:
    # Regression: n-gram decisions were labelled "causal LM" when both margins were equal.
    result = engine.detect("The Secretary Common of the United Nations spoke in Geneva.")
    evidence = result.spans[0].evidence
    assert any(e.source == "ngram" and e.detail.startswith("n-gram gain") for e in evidence)
    assert not any(e.source == "causal" or "causal" in e.detail for e in evidence)
