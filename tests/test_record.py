"""One record: `unspin.process`, its JSON Schema, and the CLI, batch and HTTP outputs that share it.

The same hand-spun page goes through the real CLI (`unspin.cli.main`), a real local batch run on a
tmp folder and the real FastAPI app on 127.0.0.1; every output must validate against
unspin/data/record.schema.json and agree on keys, text, detection and restoration. Engines are the
n-gram engine (`model=None`) to stay fast.
"""

from __future__ import annotations

import json

import pytest

from unspin.pipeline import RECORD_FIELDS, SCHEMA_PATH, Record, load_schema, process

jsonschema = pytest.importorskip("jsonschema")

SPUN_TEXT = (
    "Counterfeit consciousness helps the deputy International Minister\n\n"
    "The deputy International Minister mentioned the US positions got here as no shock. "
    "The Secretary Common said the navy {hardware} would be moved next month, and that "
    "counterfeit consciousness and profound learning were used to plan the route."
)
ORIGINAL_TITLE = "Artificial intelligence helps the deputy Foreign Minister"
ORIGINAL_BODY = (
    "The deputy Foreign Minister said the US positions came as no surprise. "
    "The Secretary General said the navy hardware would be moved next month, and that "
    "artificial intelligence and deep learning were used to plan the route."
)


@pytest.fixture(scope="module")
def validator():
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def engine():
    from unspin.engine import Engine

    return Engine(model=None)


@pytest.fixture(scope="module")
def index_path(tmp_path_factory):
    from unspin.tracing.index import SourceIndex

    path = tmp_path_factory.mktemp("index") / "sources.db"
    with SourceIndex(path) as index:
        index.add([{"id": "hand/original", "title": ORIGINAL_TITLE, "text": ORIGINAL_BODY}])
    return path


def _errors(validator, record: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(record)]


# ------------------------------------------------------------------ the schema itself


def test_schema_ships_in_the_package_and_describes_every_field():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["required"] == list(RECORD_FIELDS)
    for name in RECORD_FIELDS:
        assert schema["properties"][name]["description"], name


def test_evidence_is_typed_data(validator):
    span = {"start": 0, "end": 4, "text": "Spun", "suggestion": "Orig", "confidence": 0.9}
    edit = {"start": 0, "end": 4, "before": "Spun", "after": "Orig", "confidence": 0.9}
    typed = {
        "source": "thesaurus",
        "relation": "inverse",
        "resources": ["moby", "wordnet"],
        "detail": "thesaurus: moby, wordnet",
        "weight": -2.25,
    }

    def record_with(evidence: list) -> dict:
        return {
            **{name: None for name in RECORD_FIELDS},
            "text": "Spun text.",
            "detection": {"spun": True, "score": 0.9, "family": None, "family_share": None,
                          "spans": [{**span, "evidence": evidence}]},
            "restoration": {"text": "Orig text.",
                            "edits": [{**edit, "evidence": evidence, "alternatives": []}]},
        }  # fmt: skip

    assert _errors(validator, record_with([typed, {**typed, "weight": None}])) == []
    assert _errors(validator, record_with([{**typed, "weight": "heavy"}])), "weight: number"
    assert _errors(validator, record_with(["n-gram gain 3.1"])), "evidence is data, not text"
    assert _errors(validator, record_with([{**typed, "relation": "synonym:forward"}]))
    record = record_with([typed])
    del record["error"]
    assert _errors(validator, record), "every record field is always present"


# ------------------------------------------------------------------ process()


def test_process_fills_what_was_asked_and_one_analysis_serves_both(engine, validator):
    both = process(SPUN_TEXT, ("detect", "restore"), engine=engine, format="text", id="p")
    assert (both.id, both.source, both.error, both.clean, both.trace) == (
        "p",
        None,
        None,
        None,
        None,
    )
    assert both.text == SPUN_TEXT.replace("{hardware}", "hardware")
    alone = process(SPUN_TEXT, ("detect",), engine=engine, format="text")
    assert alone.restoration is None
    assert both.detection == alone.detection == engine.detect(both.text)
    assert both.restoration == engine.restore_and_explain(both.text)
    data = both.to_dict()
    assert list(data) == list(RECORD_FIELDS) and _errors(validator, data) == []


def test_process_takes_an_extracted_article_and_a_reader_error(engine):
    from unspin.extraction import extract
    from unspin.extraction.inputs import DocumentError

    article = extract(SPUN_TEXT, format="text", id="a1")
    record = process(article, ("clean",))
    assert record.id == "a1" and record.clean is article and record.text == article.full_text
    failed = process(DocumentError("x", "docs.jsonl:3", "invalid JSON: Expecting value"))
    assert failed.to_dict() == {
        **{name: None for name in RECORD_FIELDS},
        "id": "x",
        "source": "docs.jsonl:3",
        "error": "invalid JSON: Expecting value",
    }


def test_a_failed_stage_keeps_the_earlier_ones_and_names_itself(engine, validator):
    """Hand-written failures: trace without an index after detect; a custom task that raises."""
    record = process(SPUN_TEXT, ("clean", "detect", "trace"), engine=engine, format="text")
    assert record.error.startswith("trace: no source index")
    assert record.clean is not None and record.detection is not None and record.trace is None

    def probe(article):
        raise RuntimeError("probe broke\non two lines")

    record = process(SPUN_TEXT, ("clean", "probe"), functions={"probe": probe}, format="text")
    assert record.error == "probe: RuntimeError: probe broke on two lines"
    assert record.clean is not None
    empty = process("   \n", ("clean", "detect"), engine=engine)
    assert empty.error == "clean: empty document" and empty.text is None
    for failed in (record, empty):
        assert _errors(validator, failed.to_dict()) == []
    with pytest.raises(ValueError, match="empty document"):
        process("", ("clean",), raise_errors=True)


def test_custom_task_results_sit_beside_the_record_fields():
    record = process("A short text.", ("clean", "length"), functions={"length": len_of})
    data = record.to_dict()
    assert data["length"] == len("A short text.")
    assert list(data)[-2:] == ["length", "error"]
    with pytest.raises(ValueError, match="record field"):
        process("A short text.", ("text",), functions={"text": len_of})


def len_of(article) -> int:
    return len(article.full_text)


def test_lazy_exports():
    import unspin

    assert unspin.process is process and unspin.Record is Record


# ------------------------------------------------------------------ the three outputs


def _cli_records(capsys, *argv: str) -> list[dict]:
    from unspin.cli import main

    code = main([*argv])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    return [json.loads(line) for line in captured.out.splitlines() if line.strip()]


@pytest.mark.slow  # two CLI engines, a batch worker's engine and a server
def test_cli_batch_and_api_write_the_same_record(tmp_path, capsys, engine, index_path, validator):
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("fastapi")
    from unspin.batch import BatchJob, run_batch
    from unspin.server.app import create_app, running_server

    folder = tmp_path / "pages"
    folder.mkdir()
    page = folder / "spun.txt"
    page.write_text(SPUN_TEXT, encoding="utf-8")
    doc_id = str(page)

    # The CLI: each command fills its own part.
    cli = {}
    for command, extra in [
        ("clean", []),
        ("detect", ["--model", "none"]),
        # With the index the source's wording is restored, as batch and the server do.
        ("restore", ["--model", "none", "--db", str(index_path)]),
        ("trace", ["--db", str(index_path)]),
    ]:
        (cli[command],) = _cli_records(capsys, command, "--json", *extra, str(page))

    # A real local batch run on the folder, all four tasks in one record.
    output = tmp_path / "out.jsonl"
    job = BatchJob(
        inputs=(str(folder),),
        output=output,
        tasks=("clean", "detect", "restore", "trace"),
        db=index_path,
        engine_options={"model": None},
    )
    run_batch(job, workers=1, progress=False)
    (batched,) = [json.loads(line) for line in output.read_text().splitlines()]

    # The real app on 127.0.0.1.
    api = {}
    app = create_app(engine=engine, db=index_path, max_concurrent=2)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=120) as http:
        for endpoint in ("clean", "detect", "restore", "trace", "analyze"):
            response = http.post(f"/api/{endpoint}", json={"text": SPUN_TEXT, "id": doc_id})
            assert response.status_code == 200, response.text
            api[endpoint] = response.json()

    every = [*cli.values(), batched, *api.values()]
    for record in every:
        assert _errors(validator, record) == []
        assert set(record) - {"sources"} == set(RECORD_FIELDS)
        assert record["id"] == doc_id and record["error"] is None
        assert record["text"] == batched["text"]
    assert set(api["analyze"]) == set(RECORD_FIELDS) | {"sources"}
    assert cli["detect"]["source"] == batched["source"] == str(page)

    for part, command in [
        ("clean", "clean"),
        ("detection", "detect"),
        ("restoration", "restore"),
        ("trace", "trace"),
    ]:
        assert batched[part] is not None
        assert cli[command][part] == batched[part] == api[command][part] == api["analyze"][part]
        others = [p for p in ("clean", "detection", "restoration", "trace") if p != part]
        assert all(cli[command][p] is None and api[command][p] is None for p in others)
    assert batched["detection"]["spans"] and batched["restoration"]["edits"]
    assert batched["trace"]["matches"][0]["source_id"] == "hand/original"
