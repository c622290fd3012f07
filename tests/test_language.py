"""Pages not in English are not analysed by the English models (`unspin.engine.language`).

Found on the public article-extraction benchmark: 17 of its 20 non-English pages were judged
spun, and a German one got English "restorations".  Every text here is hand-written.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from unspin.bench.spinner import spin
from unspin.engine import Engine
from unspin.engine.language import text_language
from unspin.resources.dictionary import SpinnerDictionary
from unspin.text import FUNCTION_WORDS

GERMAN = (
    "Die Digitalisierung zieht sich bereits heute durch fast alle Branchen, sei es im "
    "Finanzbereich, in der Industrie oder im Gesundheitswesen. Die Regierung sagte am Montag, "
    "dass die neue Regelung im kommenden Jahr in Kraft treten soll. Viele Krankenhäuser haben "
    "noch keine elektronische Akte, und die Ärzte warten seit Jahren auf eine Lösung."
)
PORTUGUESE = (
    "O professor apresenta, neste vídeo, uma loja incrível nos Estados Unidos, repleta de "
    "materiais didáticos, livros e uma quantidade enorme de recursos educativos para crianças."
)
SPUN_ENGLISH = (
    "Russia's deputy International Minister mentioned the US positions got here as no shock. "
    "NATO Secretary Common mentioned the alliance would reply to the navy build-up."
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(model=None)


def test_languages_are_told_apart() -> None:
    assert text_language(GERMAN) == "de"
    assert text_language(PORTUGUESE) == "pt"
    assert text_language(SPUN_ENGLISH) == "en"


def test_short_texts_are_not_guessed() -> None:
    # Too short to tell: analysed as English, as before the check.
    assert text_language("Supply hyperlink") is None
    assert text_language("") is None


def test_a_german_page_is_not_judged_spun_nor_edited(engine: Engine) -> None:
    detection = engine.detect(GERMAN)
    assert (detection.spun, detection.score, detection.spans) == (False, 0.0, [])
    assert detection.language == "de"
    assert detection.to_dict()["language"] == "de"
    restoration = engine.restore(GERMAN)
    assert restoration.text == GERMAN
    assert restoration.edits == []
    assert restoration.language == "de"


def test_english_pages_are_analysed_as_before(engine: Engine) -> None:
    detection = engine.detect(SPUN_ENGLISH)
    assert detection.language == "en"
    assert detection.spun
    assert detection.spans


def test_a_spinner_dictionary_does_not_make_a_german_page_english(tmp_path: Path) -> None:
    # Even with the farm's own (German) dictionary the spinner model would need a German
    # language model to choose among lines: the page is left as it is, and says why.
    lines = (
        "Regierung|Verwaltung|Staatsführung\n"
        "sagte|erklärte|äußerte\n"
        "Krankenhäuser|Kliniken|Spitäler\n"
        "Ärzte|Mediziner|Doktoren\n"
    )
    path = tmp_path / "deutsch.txt"
    path.write_text(lines, encoding="utf-8")
    spun = spin(GERMAN, SpinnerDictionary.loads(lines, name="deutsch", format="pipe"), seed=1)
    assert len(spun.substitutions) >= 4
    engine = Engine(model=None, dictionaries=[str(path)])
    restoration = engine.restore(spun.text)
    assert (restoration.text, restoration.language) == (spun.text, "de")
    assert not engine.detect(spun.text).spun


def test_cli_says_why_a_page_was_not_analysed(tmp_path: Path) -> None:
    page = tmp_path / "seite.txt"
    page.write_text(GERMAN, encoding="utf-8")
    run = [sys.executable, "-m", "unspin"]
    detect = subprocess.run(
        [*run, "detect", "--model", "none", str(page)], capture_output=True, text=True
    )
    assert detect.returncode == 0, detect.stderr
    assert "not analysed: the text is in 'de', not English" in detect.stdout
    restore = subprocess.run(
        [*run, "restore", "--model", "none", str(page)], capture_output=True, text=True
    )
    assert restore.returncode == 0, restore.stderr
    assert restore.stdout.strip() == GERMAN
    assert "the text is in 'de', not English: left as it is" in restore.stderr


def test_english_is_told_without_the_identifier_and_lists_still_reach_it() -> None:
    # Prose is recognised by its function words; a text with few of them (a list of names
    # and numbers) is left to py3langid, which still says English.
    from unspin.engine.language import ENGLISH_FUNCTION_SHARE

    listing = (
        "Results: Salina South 409.30, Trinity Academy 388.15, Wichita Heights 371.40, "
        "Andover Central 366.85, Maize South 350.20, Goddard Eisenhower 341.05, McPherson "
        "Bulldogs 330.10, Newton Railers 322.75, Derby Panthers 318.60."
    )
    assert text_language(listing) == "en"
    words = re.findall(r"[^\W\d_]+", listing.lower())
    assert sum(w in FUNCTION_WORDS for w in words) < ENGLISH_FUNCTION_SHARE * len(words)
