"""trace(): spun copies found among the originals and hard distractors, passages line up,
unrelated pages get no match; the `unspin index` / `unspin trace` commands end to end."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from unspin.tracing import DEFAULT_THRESHOLD, TraceResult, align_passages, trace
from unspin.tracing.index import SourceIndex

REPO_ROOT = Path(__file__).resolve().parent.parent

# Articles kept out of the index: the "clean unrelated" pages (checked by hand to
# share no text with any other article of the corpus).
HELD_OUT = 12


def _load_distractors():
    spec = importlib.util.spec_from_file_location(
        "distractors", REPO_ROOT / "benchmarks" / "distractors.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def crude_spin(text: str, vocabulary: list[str], rng: random.Random) -> str:
    """Replace a random third of all words (names and function words included) with
    random corpus words: harsher than a thesaurus spinner, and tuned to none."""

    def replace(match: re.Match[str]) -> str:
        if rng.random() >= 1 / 3:
            return match.group()
        word = rng.choice(vocabulary)
        return word.capitalize() if match.group()[0].isupper() else word

    return re.sub(r"[A-Za-z]+", replace, text)


def full_text(article: dict) -> str:
    return f"{article['title']}\n\n{article['text']}"


@pytest.fixture(scope="module")
def corpus(wikinews_articles):
    held_out = wikinews_articles[-HELD_OUT:]
    indexed = wikinews_articles[:-HELD_OUT]
    return indexed, held_out


@pytest.fixture(scope="module")
def index(corpus, tmp_path_factory):
    indexed, _ = corpus
    distractors = _load_distractors()
    path = tmp_path_factory.mktemp("trace") / "index.db"
    with SourceIndex(path) as built:
        built.add(indexed)
        built.add(distractors.generate(1000, seed=7, pool=indexed))
        yield built


@pytest.fixture(scope="module")
def vocabulary(wikinews_articles):
    return sorted({w for a in wikinews_articles for w in re.findall(r"[a-z]+", a["text"])})


def test_spun_copies_trace_to_their_source(corpus, index, vocabulary):
    indexed, _ = corpus
    rng = random.Random(5)
    for article in rng.sample(indexed, 40):
        page = crude_spin(full_text(article), vocabulary, rng)
        result = trace(page, index)
        assert result.matches, article["id"]
        best = result.matches[0]
        assert best.source_id == article["id"]
        assert DEFAULT_THRESHOLD <= best.score <= 1
        assert best.title == article["title"] and best.url == article["url"]
        source = index.get(best.source_id).full_text
        assert best.passages
        for passage in best.passages:
            assert 0 <= passage.page_start < passage.page_end <= len(page)
            assert 0 <= passage.source_start < passage.source_end <= len(source)
            assert 0 < passage.similarity <= 1
        # Passages are in page order and cover most of a full copy.
        starts = [p.page_start for p in best.passages]
        assert starts == sorted(starts)
        covered = sum(p.page_end - p.page_start for p in best.passages)
        assert covered > 0.7 * len(page)


def test_unrelated_articles_get_no_match(corpus, index):
    _, held_out = corpus
    results = [trace(full_text(article), index) for article in held_out]
    assert [r.matches for r in results] == [[] for _ in held_out]
    fiction = (
        "Glassworks strike ends in Orvieto\n\n"
        "Workers at the Vetreria Campani glassworks in Orvieto returned on Thursday after a "
        "strike of 41 days. The union FILCAMS said the 312 employees won a 6.5 percent raise. "
        "Plant manager Ilaria Bessone said kilns would be relit by 14 March."
    )
    assert trace(fiction, index).matches == []


def test_top_k_limits_and_validates(corpus, index):
    indexed, _ = corpus
    page = full_text(indexed[3])
    assert len(trace(page, index, top_k=1).matches) == 1
    with pytest.raises(ValueError, match="top_k"):
        trace(page, index, top_k=0)


def test_page_without_anchors_has_no_match(index):
    result = trace("it was a quiet day and nothing much happened at all.", index)
    assert result == TraceResult([], 0)
    assert trace("", index).matches == []


def test_partial_copy_passages_point_at_the_copied_paragraphs(corpus, index, vocabulary):
    indexed, _ = corpus
    rng = random.Random(11)
    article = max(indexed, key=lambda a: len(a["text"].split("\n\n")))
    paragraphs = article["text"].split("\n\n")
    copied = "\n\n".join(paragraphs[:4])
    intro = "Subscribe to our newsletter for the latest headlines and more every day.\n\n"
    page = intro + crude_spin(copied, vocabulary, rng)
    result = trace(page, index, top_k=1)
    assert result.matches and result.matches[0].source_id == article["id"]
    passages = result.matches[0].passages
    source = index.get(article["id"]).full_text
    copied_start = source.index(paragraphs[0])
    copied_end = source.index(paragraphs[3]) + len(paragraphs[3])
    assert min(p.page_start for p in passages) >= len(intro)
    for passage in passages:
        assert copied_start <= passage.source_start < passage.source_end <= copied_end
    assert sum(p.page_end - p.page_start for p in passages) > 0.7 * (len(page) - len(intro))


def test_align_passages_pairs_sentences_in_order():
    source = (
        "Title here\n\nAlpha Kestrel met Brono Vale on Monday. They spoke for an hour.\n\n"
        "Later the council of Harrowgate voted 12 to 3 to approve the plan."
    )
    page = (
        "Alpha Kestrel met Brono Vale on Monday. They talked for an hour.\n\n"
        "Later the board of Harrowgate voted 12 to 3 to approve the scheme."
    )
    passages = align_passages(page, source)
    assert [(p.page_start, p.source_start) for p in passages] == [
        (0, source.index("Alpha")),
        (page.index("Later"), source.index("Later")),
    ]
    assert passages[0].page_end == page.index("\n\n")
    assert passages[1].source_end == len(source)


def test_to_dict_has_the_documented_shape(corpus, index):
    indexed, _ = corpus
    result = trace(full_text(indexed[0]), index, top_k=2)
    data = json.loads(json.dumps(result.to_dict()))
    match = data["matches"][0]
    assert {"source_id", "score", "title", "url", "passages"} <= set(match)
    assert set(match["passages"][0]) == {
        "page_start",
        "page_end",
        "source_start",
        "source_end",
        "similarity",
    }


def test_distractors_are_deterministic_and_never_contain_an_original(wikinews_articles):
    distractors = _load_distractors()
    pool = wikinews_articles[:50]
    first = list(distractors.generate(60, seed=3, pool=pool))
    assert first == list(distractors.generate(60, seed=3, pool=pool))
    assert first != list(distractors.generate(60, seed=4, pool=pool))
    assert len({d["id"] for d in first}) == 60
    for document in first:
        for article in pool:
            assert article["text"] not in document["text"]
            sentences = [s for s in re.split(r"(?<=[.!?])\s+", article["text"]) if len(s) > 40]
            inside = sum(s in document["text"] for s in sentences)
            assert inside <= max(1, len(sentences) // 2)


def _unspin(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "unspin", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )


@pytest.mark.slow
def test_cli_index_and_trace(wikinews_articles, tmp_path, vocabulary):
    originals = tmp_path / "originals.jsonl"
    with originals.open("w") as out:
        for article in wikinews_articles[:30]:
            out.write(json.dumps(article) + "\n")
        out.write("{not json\n")
    db = str(tmp_path / "index.db")
    added = _unspin("index", "add", "--db", db, str(originals))
    assert added.returncode == 2  # the bad line is reported, the rest indexed
    assert "invalid JSON" in added.stderr
    again = _unspin("index", "add", "--db", db, str(originals))  # same ids: replaced
    assert again.returncode == 2
    stats = _unspin("index", "stats", "--db", db, "--json")
    assert stats.returncode == 0
    assert json.loads(stats.stdout)["documents"] == 30

    rng = random.Random(2)
    pages = tmp_path / "pages.jsonl"
    with pages.open("w") as out:
        for article in wikinews_articles[:3]:
            spun = crude_spin(full_text(article), vocabulary, rng)
            out.write(json.dumps({"id": "copy-of-" + article["id"], "text": spun}) + "\n")
        out.write(json.dumps({"id": "unrelated", "text": wikinews_articles[-1]["text"]}) + "\n")
    traced = _unspin("trace", "--db", db, str(pages))
    assert traced.returncode == 1, traced.stderr
    lines = [json.loads(line) for line in traced.stdout.splitlines()]
    assert [line["id"] for line in lines] == [
        *("copy-of-" + a["id"] for a in wikinews_articles[:3]),
        "unrelated",
    ]
    for line, article in zip(lines, wikinews_articles[:3], strict=False):
        assert line["trace"]["matches"][0]["source_id"] == article["id"]
        assert line["trace"]["matches"][0]["passages"]
    assert lines[-1]["trace"]["matches"] == []

    plain = _unspin(
        "trace", "--db", db, "-", stdin=crude_spin(full_text(wikinews_articles[4]), vocabulary, rng)
    )
    assert plain.returncode == 1
    assert wikinews_articles[4]["id"] in plain.stdout and "score" in plain.stdout

    missing = _unspin("trace", "--db", str(tmp_path / "nope.db"), str(pages))
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0 and "no index" in missing.stderr
    not_index = _unspin("trace", "--db", str(originals), str(pages))
    assert not_index.returncode == 2 and "not an unspin source index" in not_index.stderr


_TRACE_ONE = """
import json, sys
from unspin.tracing.index import SourceIndex
from unspin.tracing import trace
with SourceIndex(sys.argv[1], create=False) as index:
    page = open(sys.argv[2], encoding="utf-8").read()
    print(json.dumps(trace(page, index).to_dict()))
"""


@pytest.mark.slow
def test_trace_scores_do_not_depend_on_the_hash_seed(tmp_path, wikinews_articles) -> None:
    """Regression: ties among candidate source sentences were broken in set-iteration order,
    so the same page scored 0.8793 or 0.88 depending on PYTHONHASHSEED."""
    from unspin.bench.spinner import spin
    from unspin.resources.dictionary import load_spinner_dictionary

    article = next(a for a in wikinews_articles if a["id"] == "wikinews/0218")
    original = f"{article['title']}\n\n{article['text']}"
    spun = spin(
        original, load_spinner_dictionary("moby"), seed="0:wikinews/0218:moby", rate=0.6
    ).text
    db = tmp_path / "one.db"
    with SourceIndex(db) as index:
        index.add([{"id": article["id"], "title": article["title"], "text": article["text"]}])
    page = tmp_path / "page.txt"
    page.write_text(spun, encoding="utf-8")
    outputs = set()
    for seed in ("0", "1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _TRACE_ONE, str(db), str(page)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_weak_sentence_right_after_a_copied_one_still_counts():
    # Heavily spun sentences overlap their original only 0.2-0.3; in the source's order,
    # right after a copied sentence, that is a copy, while alone it is not evidence.
    source = (
        "Title\n\nAlpha Kestrel met Brono Vale in Harrowgate on Monday. The two leaders "
        "discussed the new railway line and the cost of the bridge over the river. "
        "The council will vote on the plan in March."
    )
    copied = "Alpha Kestrel met Brono Vale in Harrowgate on Monday."
    spun = (
        "The pair of chiefs debated the new railway route and the price of the span "
        "over the stream."
    )
    last = "The council will vote on the plan in March."
    page = f"{copied} {spun} {last}"
    (passage,) = align_passages(page, source)
    assert (passage.page_start, passage.page_end) == (0, len(page))
    assert 0.6 < passage.similarity < 0.7  # the weak pair is part of the passage's mean

    alone = f"{spun} {last}"
    (passage,) = align_passages(alone, source)
    assert passage.page_start == alone.index(last)  # out of any run: not paired


@pytest.mark.parametrize(
    ("cap", "budget"),
    [
        (1, 8000),  # every anchor is more common than the cap (the 1,000,000-document case)
        (1000, 20),  # only two anchors' postings fit the read budget
    ],
)
def test_short_page_with_only_common_anchors_finds_its_source(tmp_path, monkeypatch, cap, budget):
    # Regression: a page whose anchors all exceeded the lookup cap found no candidate at all
    # (at 1,000,000 documents even verbatim copies were lost).  The rarest anchors are read
    # first, within the budget, and a few are read whatever the cap.
    import unspin.tracing.index as index_module

    names = "Alpha Kestrel, Brono Vale, Carro Dunmere and Delia Fenwick of Harrowgate"
    documents = [
        {
            "id": f"other/{i}",
            "title": f"Report {i}",
            "text": f"{names} appeared at event number {i}. Nothing else was said about the "
            f"weather in district {i} today.",
        }
        for i in range(8)
    ]
    source_text = (
        f"{names} met yesterday to sign the agreement. The signing took place in the old "
        "town hall, which was full of reporters. All five promised to meet again next year."
    )
    documents.append({"id": "source", "title": "Signing", "text": source_text})
    with SourceIndex(tmp_path / "index.db") as index:
        index.add(documents)
        monkeypatch.setattr(index_module, "POSTINGS_LOOKUP_CAP", cap)
        monkeypatch.setattr(index_module, "POSTINGS_READ_BUDGET", budget)
        page = source_text.replace("promised", "pledged").replace("full of", "packed with")
        result = trace(page, index)
    assert result.best is not None and result.best.source_id == "source"
