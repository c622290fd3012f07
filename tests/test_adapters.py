"""The datatrove, NeMo Curator and dolma adapters, each run through its real library.

Each library is an optional extra: a test skips (with the reason) when its library is missing.
The engine is the real one with the tortured-phrase list, a user spinner dictionary and no causal
LM, so it builds in under a second.
"""

from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import pytest

SPUN = (
    "The team trained a profound learning model and compared it with an irregular woodland "
    "baseline. Counterfeit consciousness systems were evaluated on 12 benchmarks."
)
CLEAN = (
    "The city council of Springfield approved the budget on Tuesday after a long debate. "
    "Officials said the plan adds 30 new buses."
)


@pytest.fixture(scope="module")
def engine_options(tmp_path_factory: pytest.TempPathFactory) -> dict:
    dictionary = tmp_path_factory.mktemp("dict") / "paper-mill.txt"
    dictionary.write_text(
        "deep learning|profound learning\n"
        "artificial intelligence|counterfeit consciousness\n"
        "random forest|irregular woodland\n",
        encoding="utf-8",
    )
    return {"model": None, "lexical": ["pps"], "dictionaries": [str(dictionary)]}


@pytest.fixture(scope="module")
def engine(engine_options: dict):
    from unspin.engine import Engine

    return Engine(**engine_options)


def test_scorer_pickles_without_its_engine(engine_options: dict, engine) -> None:
    from unspin.adapters import SpinningScorer

    scorer = SpinningScorer(engine_options=engine_options, engine=engine)
    clone = pickle.loads(pickle.dumps(scorer))
    assert clone._engine is None and clone.engine_options == engine_options
    assert clone.detect(SPUN).to_dict() == engine.detect(SPUN).to_dict()
    with pytest.raises(ValueError, match="threshold"):
        SpinningScorer(threshold=1.5)


def test_datatrove_filter_drops_spun_documents_with_reason(
    tmp_path: Path, engine_options: dict, engine
) -> None:
    pytest.importorskip("datatrove", reason="datatrove is an optional extra")
    from datatrove.data import Document
    from datatrove.pipeline.writers import JsonlWriter

    from unspin.adapters.datatrove import UnspinFilter

    step = UnspinFilter(
        engine_options=engine_options,
        exclusion_writer=JsonlWriter(str(tmp_path / "dropped"), compression=None),
    )
    docs = [Document(text=SPUN, id="spun"), Document(text=CLEAN, id="clean")]
    kept = list(step.run(iter(docs)))
    assert [d.id for d in kept] == ["clean"]
    assert kept[0].metadata["unspin_spun"] is False
    assert kept[0].metadata["unspin_score"] == engine.detect(CLEAN).score
    dropped = [
        json.loads(line) for path in (tmp_path / "dropped").glob("*.jsonl") for line in path.open()
    ]
    assert [d["id"] for d in dropped] == ["spun"]
    metadata = dropped[0]["metadata"]
    assert metadata["filter_reason"] == "unspin_spun"
    assert metadata["unspin_spans"] == [
        [s.start, s.end, s.confidence] for s in engine.detect(SPUN).spans
    ]
    assert step.stats["dropped_unspin_spun"].total == 1


def test_datatrove_pipeline_end_to_end(tmp_path: Path, engine_options: dict, engine) -> None:
    """Reader -> UnspinFilter -> writer under datatrove's own executor (the step is pickled)."""
    pytest.importorskip("datatrove", reason="datatrove is an optional extra")
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from unspin.adapters.datatrove import UnspinFilter

    source = tmp_path / "in"
    source.mkdir()
    with (source / "pages.jsonl").open("w") as out:
        for doc_id, text in (("spun", SPUN), ("clean", CLEAN)):
            out.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(source)),
            UnspinFilter(engine_options=engine_options),
            JsonlWriter(str(tmp_path / "kept"), compression=None),
        ],
        tasks=1,
        logging_dir=str(tmp_path / "logs"),
    ).run()
    kept = [json.loads(line) for p in (tmp_path / "kept").glob("*.jsonl") for line in p.open()]
    assert [d["id"] for d in kept] == ["clean"]
    assert kept[0]["metadata"]["unspin_score"] == engine.detect(CLEAN).score


def test_nemo_curator_score_filter_keeps_clean_documents(engine_options: dict, engine) -> None:
    pytest.importorskip("nemo_curator", reason="nemo-curator is an optional extra")
    import pandas as pd
    from nemo_curator.stages.text.filters import ScoreFilter
    from nemo_curator.tasks import DocumentBatch

    from unspin.adapters.nemo_curator import UnspinFilter

    document_filter = UnspinFilter(engine_options=engine_options)
    assert document_filter.score_document(SPUN) == engine.detect(SPUN).score
    assert document_filter.keep_document(document_filter.score_document(CLEAN))
    stage = ScoreFilter(document_filter, text_field="text", score_field="unspin_score")
    assert stage.ray_stage_spec()["is_actor_stage"], "the model must load once per actor"
    stage.setup()
    batch = DocumentBatch(
        dataset_name="pages", data=pd.DataFrame({"id": ["spun", "clean"], "text": [SPUN, CLEAN]})
    )
    batch.task_id = "pages-0"
    result = stage.process(batch).to_pandas()
    assert result["id"].tolist() == ["clean"]
    assert result["unspin_score"].tolist() == [engine.detect(CLEAN).score]


def _attributes_batch(pages: Path, output: Path, engine_options: dict) -> None:
    """`unspin batch --tasks detect --format attributes` on `pages`, into `output`."""
    from unspin.batch import BatchJob, run_batch

    job = BatchJob(
        inputs=(str(pages),),
        output=output,
        tasks=("detect",),
        format="attributes",
        engine_options=engine_options,
    )
    run_batch(job, progress=False)


def test_dolma_tagger_gives_the_batch_attributes(
    tmp_path: Path, engine_options: dict, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("dolma", reason="dolma is an optional extra")
    from dolma.core.data_types import InputSpec
    from dolma.core.registry import TaggerRegistry

    from unspin.adapters.dolma import UnspinTagger
    from unspin.batch import attribute_spans

    assert TaggerRegistry.get("unspin") is UnspinTagger
    monkeypatch.setenv("UNSPIN_MODEL", "none")
    monkeypatch.setenv("UNSPIN_LEXICAL", "pps")
    monkeypatch.setenv("UNSPIN_DICT", engine_options["dictionaries"][0])
    tagger = UnspinTagger()  # as dolma builds it: options from the environment
    output = tagger.tag(InputSpec(id="spun", text=SPUN, source="test"))
    detection = engine.detect(SPUN)
    assert output["spans"] == [(s.start, s.end, round(s.confidence, 5)) for s in detection.spans]
    assert output["document"] == [(0, len(SPUN), round(detection.score, 5))]
    assert output["spun"] == [(0, len(SPUN), 1.0)]
    assert tagger.tag(InputSpec(id="clean", text=CLEAN))["spans"] == []

    # `unspin batch --format attributes` writes the same attributes (experiment "unspin").
    pages = tmp_path / "pages.txt"
    pages.write_text(SPUN, encoding="utf-8")
    out = tmp_path / "attrs"
    _attributes_batch(pages, out, engine_options)
    with gzip.open(out / "documents" / "00000-pages.jsonl.gz", "rt") as lines:
        text = json.loads(lines.readline())["text"]
    with gzip.open(out / "attributes" / "unspin" / "00000-pages.jsonl.gz", "rt") as lines:
        batch_attributes = json.loads(lines.readline())["attributes"]
    tagged = tagger.tag(InputSpec(id="page", text=text))
    for kind in ("document", "spun", "spans"):
        assert [list(v) for v in tagged[kind]] == [
            [start, end, round(score, 5)]
            for start, end, score in batch_attributes[f"unspin__unspin__{kind}"]
        ]
    assert attribute_spans({"text": text, "detection": engine.detect(text).to_dict()}) == (
        batch_attributes
    )


@pytest.mark.slow
def test_the_real_dolma_tag_command_reproduces_the_batch_attributes(
    tmp_path: Path, engine_options: dict
) -> None:
    """`dolma tag --taggers unspin` on batch's documents gives batch's attribute file."""
    pytest.importorskip("dolma", reason="dolma is an optional extra")
    import os
    import shutil
    import subprocess
    import sys

    pages = tmp_path / "pages.jsonl"
    with pages.open("w") as out:
        for doc_id, text in (("spun", SPUN), ("clean", CLEAN)):
            out.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    batch_out = tmp_path / "batch"
    _attributes_batch(pages, batch_out, engine_options)
    dolma_root = tmp_path / "dolma"
    shutil.copytree(batch_out / "documents", dolma_root / "documents")
    dolma = Path(sys.executable).with_name("dolma")
    if not dolma.exists():
        pytest.skip("the dolma command is not installed beside this Python")
    environment = dict(
        os.environ,
        UNSPIN_MODEL="none",
        UNSPIN_LEXICAL="pps",
        UNSPIN_DICT=engine_options["dictionaries"][0],
    )
    done = subprocess.run(
        [
            str(dolma),
            "tag",
            "--documents",
            str(dolma_root / "documents" / "*.jsonl.gz"),
            "--experiment",
            "unspin",
            "--taggers",
            "unspin",
            "--tagger_modules",
            "unspin.adapters.dolma",
            "--processes",
            "1",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]

    def attributes(root: Path) -> list[dict]:
        with gzip.open(root / "attributes" / "unspin" / "00000-pages.jsonl.gz", "rt") as lines:
            return [json.loads(line) for line in lines]

    from_batch, from_dolma = attributes(batch_out), attributes(dolma_root)
    assert [a["id"] for a in from_dolma] == [a["id"] for a in from_batch] == ["spun", "clean"]
    for ours, theirs in zip(from_batch, from_dolma, strict=True):
        assert set(ours["attributes"]) == set(theirs["attributes"])
        for name, spans in ours["attributes"].items():
            assert [[s, e, round(v, 4)] for s, e, v in spans] == [
                [s, e, round(v, 4)] for s, e, v in theirs["attributes"][name]
            ]
    assert from_dolma[0]["attributes"]["unspin__unspin__spans"], "the spun page has spans"
