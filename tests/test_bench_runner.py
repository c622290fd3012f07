"""`unspin bench` end to end on a tiny dev set the test writes (baselines, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unspin.bench.report import to_markdown
from unspin.bench.runner import (
    BenchConfig,
    BenchError,
    SystemSpec,
    load_devsets,
    run_bench,
    run_system,
    summarise,
)
from unspin.cli import main
from unspin.detection import Detection
from unspin.restoration import Edit, Restoration

ORIGINALS = [
    (
        "Deep learning for image recognition\n\nResearchers applied deep learning to image "
        "recognition and reported a lower error rate on the benchmark. The team said the "
        "results were useful for hospitals in Leeds. Amara Okafor of Leeds General Infirmary "
        "said 1,200 scans from 2019 were checked by Northgate Labs."
    ),
    (
        "Minister visits Lagos\n\nThe foreign minister said the talks in Lagos were useful. "
        "She met the secretary general on Tuesday and discussed trade, roads and schools. "
        "Chidi Balogun of ECOWAS put the cost at 45 million naira for Ikeja and Apapa."
    ),
    (
        "River flood warning\n\nOfficials said the river rose by two metres overnight in "
        "Bremen. Residents were told to move cars away from the banks before Friday. "
        "Mayor Lena Vogt of Bremen said 3,400 homes in Findorff and Walle lost power."
    ),
]
PPS_SWAPS = [
    [("deep learning", "profound learning"), ("image recognition", "picture acknowledgment")],
    [("said", "stated")],
    [],  # nothing PPS-listed: the spinner leaves this article unchanged
]
THESAURUS_SWAPS = [
    [("applied", "utilized"), ("useful", "helpful")],
    [("said", "mentioned"), ("useful", "helpful")],
    [("rose", "rised"), ("move", "shift")],
]


def spin(original: str, swaps: list[tuple[str, str]]) -> tuple[str, list[dict]]:
    """Replace each phrase's next occurrence, left to right; record offsets as the spinner does."""
    text = original
    substitutions = []
    search_original = search_spun = 0
    for before, after in swaps:
        o_start = original.index(before, search_original)
        s_start = text.index(before, search_spun)
        text = text[:s_start] + after + text[s_start + len(before) :]
        substitutions.append(
            {
                "original": before,
                "spun": after,
                "original_start": o_start,
                "original_end": o_start + len(before),
                "spun_start": s_start,
                "spun_end": s_start + len(after),
            }
        )
        search_original = o_start + len(before)
        search_spun = s_start + len(after)
    return text, substitutions


def write_set(path: Path, dictionary: str | None, swaps: list[list[tuple[str, str]]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for number, (original, doc_swaps) in enumerate(zip(ORIGINALS, swaps, strict=True)):
            text, substitutions = spin(original, doc_swaps)
            source_id = f"test/{number:04d}"
            out.write(
                json.dumps(
                    {
                        "id": f"{source_id}#{dictionary or 'clean'}",
                        "source_id": source_id,
                        "dictionary": dictionary,
                        "original": original,
                        "text": text,
                        "substitutions": substitutions,
                    }
                )
                + "\n"
            )


@pytest.fixture
def dev_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "dev"
    directory.mkdir()
    write_set(directory / "pps.jsonl", "pps", PPS_SWAPS)
    write_set(directory / "thesaurus.jsonl", "thesaurus", THESAURUS_SWAPS)
    write_set(directory / "clean.jsonl", None, [[], [], []])
    return directory


def rows_by(data: dict, system: str, dictionary: str) -> dict:
    (row,) = [r for r in data["results"] if r["system"] == system and r["dictionary"] == dictionary]
    return row


def test_baselines_end_to_end(dev_dir: Path, tmp_path: Path):
    config = BenchConfig(
        sets_dir=dev_dir, out_dir=tmp_path / "out", engine=False, tasks=("detect", "restore")
    )
    data = run_bench(config)
    assert data["sets"]["pps"] == {"documents": 3, "with_substitutions": 2, "substitutions": 3}

    lookup_pps = rows_by(data, "tortured-lookup", "pps")
    assert lookup_pps["protocol"] == "seen"  # the lookup uses the list that spun the set
    assert lookup_pps["unchanged_by_spinner"] == 1
    detection = lookup_pps["detection"]
    assert (detection["positives"], detection["negatives"]) == (2, 3)
    # Only the first article holds listed phrases; "stated" is no tortured phrase.
    assert detection["recall"] == 0.5 and detection["fpr_at_threshold"] == 0.0
    assert detection["auroc"] == 0.75  # one positive above all negatives, one tied with them
    restoration = lookup_pps["restoration"]
    assert restoration["sites"] == 3 and restoration["exact"] == 2
    assert restoration["untouched_changed"] == 0
    assert lookup_pps["spans"]["precision"] == 1.0
    assert lookup_pps["clean"]["edits"] == 0

    lookup_thesaurus = rows_by(data, "tortured-lookup", "thesaurus")
    assert lookup_thesaurus["protocol"] == "unseen"

    no_op = rows_by(data, "no-op", "all")
    assert no_op["protocol"] == "unseen"
    assert no_op["restoration"]["exact"] == 0
    assert no_op["restoration"]["distance_reduction"] == 0.0
    assert no_op["detection"]["auroc"] == 0.5  # every score tied
    assert no_op["clean"]["edits_per_1000_tokens"] == 0.0
    assert no_op["detection"]["negatives"] == 3  # the clean run is counted once, not per set


def test_cli_writes_three_reports_that_parse(dev_dir: Path, tmp_path: Path, capsys):
    out = tmp_path / "report"
    code = main(["bench", "--sets", str(dev_dir), "--no-engine", "--out", str(out), "--limit", "2"])
    assert code == 0
    data = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    assert data["meta"]["limit"] == 2
    assert data["sets"]["clean"]["documents"] == 2
    markdown = (out / "bench.md").read_text(encoding="utf-8")
    assert markdown.startswith("## unspin bench")
    assert "| protocol | set | system |" in markdown
    page = (out / "bench.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert page.count("<svg") >= 3  # histograms, ROC + reliability, accuracy by dictionary
    assert "Reliability diagram" in page
    assert "<script src" not in page and "<link" not in page  # self-contained
    assert str(out / "bench.json") in capsys.readouterr().out
    records = [json.loads(line) for line in (out / "documents.jsonl").open(encoding="utf-8")]
    # two baselines x (2 pps + 2 thesaurus + 2 clean documents)
    assert len(records) == 12
    assert {r["system"] for r in records} == {"no-op", "tortured-lookup"}


def test_trace_task_ranks_the_source_first(dev_dir: Path, tmp_path: Path):
    pytest.importorskip("unspin.tracing")
    config = BenchConfig(
        sets_dir=dev_dir, out_dir=tmp_path / "out", engine=False, baselines=True, tasks=("trace",)
    )
    data = run_bench(config)
    tracing = data["tracing"]
    assert tracing is not None, data["notes"]
    assert tracing["indexed"] == 3
    # The third pps copy is unchanged (the original itself) and is not traced.
    for name, documents in (("pps", 2), ("thesaurus", 3)):
        assert tracing["sets"][name] == {
            "documents": documents,
            "top1": 1.0,
            "mrr": 1.0,
            "not_found": 0,
        }
    assert tracing["trace"]["documents"] == 5
    assert "Tracing" in to_markdown(data)


def test_missing_sets_give_one_line_error(tmp_path: Path, capsys):
    code = main(["bench", "--sets", str(tmp_path / "nope"), "--no-engine", "--out", str(tmp_path)])
    assert code == 2
    error = capsys.readouterr().err
    assert "build_devsets.py" in error
    assert error.count("\n") == 1 and "Traceback" not in error


def test_unknown_set_and_broken_offsets_are_reported(dev_dir: Path, tmp_path: Path):
    with pytest.raises(BenchError, match="no set 'moby'"):
        load_devsets(dev_dir, ["moby"])
    line = json.loads((dev_dir / "pps.jsonl").read_text(encoding="utf-8").splitlines()[0])
    line["substitutions"][0]["spun_start"] += 1
    (dev_dir / "broken.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(BenchError, match="broken.jsonl:1"):
        load_devsets(dev_dir, ["broken"])


class FailsOnLagos:
    """A restorer that raises on one document: the run records it and goes on."""

    name = "fragile"

    def detect(self, text: str):
        if "Lagos" in text:
            raise RuntimeError("cannot read this one")
        return Detection(spun=False, score=0.0, spans=[])

    def restore(self, text: str):
        return Restoration(text=text, original=text, edits=[])


def test_a_failing_document_is_recorded_not_fatal(dev_dir: Path):
    sets = load_devsets(dev_dir)
    run = run_system(
        SystemSpec("fragile", FailsOnLagos, ["thesaurus"]), sets, ["detect", "restore"]
    )
    errors = [r for results in run.results.values() for r in results if r.error]
    assert len(errors) == 2  # the Lagos article, spun and clean
    assert "cannot read this one" in errors[0].error
    row = summarise(run.results["thesaurus"], run.results["clean"], ["detect", "restore"])
    assert row["errors"] == 2
    assert row["detection"]["positives"] == 2 and row["detection"]["negatives"] == 2


@pytest.mark.slow
def test_engine_unseen_end_to_end_without_causal_model(dev_dir: Path, tmp_path: Path):
    """The real Engine (n-gram only, for speed) through the runner: rows, no errors."""
    pytest.importorskip("unspin.engine")
    config = BenchConfig(
        sets_dir=dev_dir,
        out_dir=tmp_path / "out",
        dictionaries=["thesaurus"],
        baselines=False,
        model=None,
        tasks=("detect", "restore"),
    )
    data = run_bench(config)
    assert data["notes"] == []
    row = rows_by(data, "unspin", "thesaurus")
    assert row["protocol"] == "unseen" and row["errors"] == 0
    assert row["restoration"]["sites"] == 6
    assert row["detection"]["positives"] == 3 and row["detection"]["negatives"] == 3
    assert 0.0 <= row["detection"]["auroc"] <= 1.0
    (speed,) = data["speed"]
    assert speed["stages"]["detect"]["documents"] == 6
    assert data["systems"][0]["settings"]["exclude"] == ["thesaurus"]


def test_seen_protocol_exports_the_spinning_dictionary(tmp_path: Path):
    pytest.importorskip("unspin.resources.dictionary")
    from unspin.bench.runner import export_dictionary
    from unspin.resources import load_lexical

    path = export_dictionary("pps", tmp_path / "seen" / "pps.txt")
    dictionary = load_lexical(path)
    assert dictionary.name == "pps"
    assert "profound learning" in dictionary.alternatives("deep learning")


def test_held_out_split_counts_as_seen_by_its_parent_and_is_swapped_out_unseen():
    from unspin.bench.runner import _unseen_settings

    spec = SystemSpec(
        "tortured-lookup",
        object,
        ["pps_heldout", "moby"],
        resources=frozenset({"pps"}),
        set_dictionaries={"pps_heldout": "pps-heldout", "moby": "moby"},
    )
    assert spec.protocol_for("pps_heldout") == "seen"
    assert spec.protocol_for("moby") == "unseen"
    assert _unseen_settings("moby") == {"exclude": ["moby"]}
    lexical = _unseen_settings("pps-heldout")["lexical"]
    assert "pps" not in lexical and "pps-train" in lexical


class ScoresOutOfRange:
    """Returns a score that is no probability, and edits that do not match the text."""

    name = "broken"

    def detect(self, text: str):
        return Detection(spun=True, score=1.5, spans=[])

    def restore(self, text: str):
        bad = Edit(0, 4, "nope", "This", 1.0)
        return Restoration(text="This" + text[4:], original=text, edits=[bad])


def test_invalid_scores_and_edits_are_errors(dev_dir: Path):
    sets = load_devsets(dev_dir, ["thesaurus"])
    run = run_system(SystemSpec("broken", ScoresOutOfRange, ["thesaurus"]), sets, ["detect"])
    assert all("not a probability" in r.error for r in run.results["thesaurus"])
    run = run_system(SystemSpec("broken", ScoresOutOfRange, ["thesaurus"]), sets, ["restore"])
    assert all("does not match" in r.error for r in run.results["thesaurus"])


def test_problems_give_exit_1_with_the_reports_written(dev_dir: Path, tmp_path: Path, capsys):
    pytest.importorskip("unspin.resources.dictionary")
    out = tmp_path / "out"
    # "thesaurus" is no built-in dictionary, so the seen engine cannot be given it.
    code = main(
        [
            "bench",
            "--sets",
            str(dev_dir),
            "--dict",
            "thesaurus",
            "--protocol",
            "seen",
            "--tasks",
            "detect",
            "--out",
            str(out),
        ]
    )
    assert code == 1
    assert "1 problem(s)" in capsys.readouterr().err
    data = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    assert "seen protocol for thesaurus skipped" in data["notes"][0]
    assert {r["system"] for r in data["results"]} == {"no-op", "tortured-lookup"}


def test_realsize_is_restored_without_the_thesauri_it_was_drawn_from():
    # Every realsize pair is listed by two of WordNet, MyThes and Moby: an engine holding any
    # of them has seen the spinner, so the unseen protocol leaves all three out.
    from unspin.bench.runner import unseen_exclusions

    assert unseen_exclusions("realsize") == ["realsize", "wordnet", "mythes", "moby"]
    assert unseen_exclusions("wordnet") == ["wordnet"]
