"""Run restorers over the development sets and collect every figure of the bench report.

A *system* is anything with `detect(text)` and `restore(text)`: the unspin Engine
or a baseline. Each run is labelled by protocol: **unseen** when the system does
not use the dictionary that spun the set (the number that counts, because real
spinners' dictionaries are unknown), **seen** when it does.
"""

from __future__ import annotations

import json
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from unspin.bench.metrics import (
    PRF,
    DocumentScores,
    RestorationCounts,
    Site,
    apply_edits,
    roc_points,
    score_restoration,
    span_overlap,
)

TASKS = ("detect", "restore", "trace")
PROTOCOLS = ("unseen", "seen")
CLEAN = "clean"
BUILD_HINT = "build them with `python benchmarks/build_devsets.py`"


class BenchError(Exception):
    """A problem with the bench's input or setup; the message is one line for the user."""


# --------------------------------------------------------------------------- dev sets


@dataclass
class DevDocument:
    id: str
    source_id: str
    dictionary: str | None
    original: str
    text: str
    sites: list[Site]


@dataclass
class DevSets:
    """Spun sets by dictionary name, and the clean negatives."""

    directory: Path
    spun: dict[str, list[DevDocument]]
    clean: list[DevDocument]

    def dictionary_of(self, set_name: str) -> str:
        """The dictionary that spun a set, as its documents record it (else the file stem)."""
        for document in self.spun.get(set_name, []):
            if document.dictionary:
                return str(document.dictionary)
        return set_name

    def describe(self) -> dict[str, Any]:
        described = {}
        for name, documents in [*self.spun.items(), (CLEAN, self.clean)]:
            described[name] = {
                "documents": len(documents),
                "with_substitutions": sum(1 for d in documents if d.sites),
                "substitutions": sum(len(d.sites) for d in documents),
            }
        return described


def _read_document(line: str, where: str) -> DevDocument:
    try:
        data = json.loads(line)
        document = DevDocument(
            id=str(data["id"]),
            source_id=str(data.get("source_id") or data["id"]),
            dictionary=data.get("dictionary"),
            original=data["original"],
            text=data["text"],
            sites=[Site.from_dict(s) for s in data.get("substitutions") or []],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"{where}: not a dev-set document ({exc})") from exc
    if not isinstance(document.text, str) or not isinstance(document.original, str):
        raise BenchError(f"{where}: 'text' and 'original' must be strings")
    for site in document.sites:
        # The offsets are the ground truth; a set whose offsets do not hold would be scored wrongly.
        if (
            document.text[site.spun_start : site.spun_end] != site.spun
            or document.original[site.original_start : site.original_end] != site.original
        ):
            raise BenchError(
                f"{where}: substitution {site.original!r} -> {site.spun!r} does not match its offsets"
            )
    return document


def _read_set(path: Path, limit: int | None) -> list[DevDocument]:
    documents = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            if limit is not None and len(documents) >= limit:
                break
            documents.append(_read_document(line, f"{path}:{number}"))
    return documents


def available_sets(directory: Path) -> list[str]:
    """Spun-set names in a dev-set directory (file stems, `clean` and held-out files excluded)."""
    return sorted(
        path.stem
        for path in directory.glob("*.jsonl")
        if path.stem != CLEAN and "heldout" not in path.stem
    )


def load_devsets(
    directory: str | Path, dictionaries: Sequence[str] | None = None, limit: int | None = None
) -> DevSets:
    """Read `<dictionary>.jsonl` spun sets and `clean.jsonl` from a dev-set directory.

    `limit` keeps the first N documents of every file (the build script writes the
    articles in the same order in each, so the subsets cover the same articles).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise BenchError(f"no development sets at {directory}: {BUILD_HINT}")
    names = list(dictionaries) if dictionaries else available_sets(directory)
    if not names:
        raise BenchError(f"no spun sets (*.jsonl) in {directory}: {BUILD_HINT}")
    spun = {}
    for name in names:
        path = directory / f"{name}.jsonl"
        if not path.is_file():
            known = ", ".join(available_sets(directory)) or "none"
            raise BenchError(f"no set {name!r} in {directory} (sets there: {known})")
        spun[name] = _read_set(path, limit)
    clean_path = directory / f"{CLEAN}.jsonl"
    if not clean_path.is_file():
        raise BenchError(f"no clean negatives ({clean_path}): {BUILD_HINT}")
    return DevSets(directory, spun, _read_set(clean_path, limit))


# --------------------------------------------------------------------------- systems


@dataclass
class SystemSpec:
    """How to build one system and which sets it is run on.

    `resources` names the lexical resources the system uses, which decides the
    seen/unseen label of each set; `protocol` forces the label (the engine is
    built differently per protocol).
    """

    name: str
    factory: Callable[[], Any]
    sets: list[str]
    resources: frozenset[str] = frozenset()
    protocol: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    export: str | None = None  # built-in dictionary to write to settings["dictionaries"][0] first
    set_dictionaries: dict[str, str] = field(default_factory=dict)  # set name -> its dictionary

    def protocol_for(self, set_name: str) -> str:
        if self.protocol:
            return self.protocol
        dictionary = self.set_dictionaries.get(set_name, set_name)
        # "pps-heldout" is part of "pps": a system using pps has seen it.
        family = dictionary.split("-")[0]
        return "seen" if dictionary in self.resources or family in self.resources else "unseen"


def export_dictionary(name: str, path: Path) -> Path:
    """Write the built-in spinner dictionary `name` to `path` (what the seen engine loads),
    exactly as `unspin spin --dict NAME --export-dict PATH` does."""
    from unspin.resources.dictionary import load_spinner_dictionary

    path.parent.mkdir(parents=True, exist_ok=True)
    load_spinner_dictionary(name).save(path)
    return path


# A held-out split's parent resource contains it; the unseen engine swaps the parent for
# its training split (see unspin.resources.lexical.pps_split).
HELD_OUT_SPLITS = {"pps-heldout": ("pps", "pps-train")}


def _ngram_path() -> str:
    from unspin.resources.lm import default_ngram

    return "compiled" if default_ngram().compiled is not None else "python"


def unseen_exclusions(dictionary: str) -> list[str]:
    """What an engine restoring a set spun with `dictionary` must not hold under the unseen
    protocol: that thesaurus, and for realsize the three thesauri its pairs were drawn from
    (every pair of it is in two of them)."""
    from unspin.resources.dictionary import REALSIZE, REALSIZE_SOURCES

    return [dictionary, *REALSIZE_SOURCES] if dictionary == REALSIZE else [dictionary]


def _unseen_settings(dictionary: str) -> dict[str, Any]:
    split = HELD_OUT_SPLITS.get(dictionary)
    if split is None:
        return {"exclude": unseen_exclusions(dictionary)}
    from unspin.resources import available_lexical

    parent, training = split
    return {"lexical": [n for n in available_lexical() if n != parent] + [training]}


def engine_specs(
    sets: DevSets,
    protocols: Sequence[str],
    *,
    model: str | None = "default",
    workdir: Path,
    config: Any = None,
) -> list[SystemSpec]:
    """One Engine per (protocol, set): unseen leaves the spinning resource out, seen adds
    the exact spinner dictionary as a user dictionary."""

    def build(**kwargs: Any) -> Callable[[], Any]:
        def factory() -> Any:
            from unspin.engine import Engine

            return Engine(model=model, config=config, **kwargs)

        return factory

    specs = []
    for protocol in protocols:
        for name in sets.spun:
            dictionary = sets.dictionary_of(name)
            if protocol == "unseen":
                kwargs: dict[str, Any] = _unseen_settings(dictionary)
            else:
                # Named after the dictionary, so the engine's spinner-family verdict reads it.
                path = workdir / "seen" / f"{dictionary}.txt"
                kwargs = {"dictionaries": [str(path)]}
            specs.append(
                SystemSpec(
                    name="unspin",
                    factory=build(**kwargs),
                    sets=[name],
                    protocol=protocol,
                    settings={"model": model, **kwargs},
                    export=dictionary if protocol == "seen" else None,
                    set_dictionaries={name: dictionary},
                )
            )
    return specs


def baseline_specs(sets: DevSets) -> list[SystemSpec]:
    from unspin.bench.baselines import NoOpRestorer, TorturedPhraseLookup

    names = list(sets.spun)
    dictionaries = {name: sets.dictionary_of(name) for name in names}
    return [
        SystemSpec(cls.name, cls, names, resources=cls.resources, set_dictionaries=dictionaries)
        for cls in (NoOpRestorer, TorturedPhraseLookup)
    ]


# --------------------------------------------------------------------------- running


@dataclass
class DocumentResult:
    set: str
    id: str
    label: bool
    score: float | None = None
    flag: bool | None = None
    spans: PRF = field(default_factory=PRF)
    restoration: RestorationCounts | None = None
    error: str | None = None


@dataclass
class StageTime:
    documents: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "seconds": round(self.seconds, 4),
            "docs_per_s": self.documents / self.seconds if self.seconds else None,
            "ms_per_doc": 1000 * self.seconds / self.documents if self.documents else None,
        }


def _edits_of(restoration: Any) -> list[Any]:
    return list(getattr(restoration, "edits", []) or [])


def _run_document(
    system: Any, document: DevDocument, set_name: str, tasks: Sequence[str], times: dict
) -> DocumentResult:
    result = DocumentResult(set=set_name, id=document.id, label=bool(document.sites))
    true_spans = [(s.spun_start, s.spun_end) for s in document.sites]
    try:
        if "detect" in tasks:
            started = time.perf_counter()
            detection = system.detect(document.text)
            times["detect"].seconds += time.perf_counter() - started
            times["detect"].documents += 1
            score = float(detection.score)
            if not 0.0 <= score <= 1.0:  # also rejects NaN
                raise ValueError(f"document score {score!r} is not a probability")
            result.score = score
            result.flag = bool(detection.spun)
            predicted = [(int(s.start), int(s.end)) for s in detection.spans]
            result.spans = span_overlap(document.text, predicted, true_spans)
        if "restore" in tasks:
            started = time.perf_counter()
            restoration = system.restore(document.text)
            times["restore"].seconds += time.perf_counter() - started
            times["restore"].documents += 1
            edits = _edits_of(restoration)
            for edit in edits:
                before = getattr(edit, "before", None)
                if before is not None and document.text[edit.start : edit.end] != before:
                    raise ValueError(f"edit at {edit.start} does not match the text it replaces")
            counts = score_restoration(document.text, document.original, document.sites, edits)
            restored = getattr(restoration, "text", None)
            if restored is not None and apply_edits(document.text, edits) != restored:
                raise ValueError("applying the edits to the input does not give the restored text")
            result.restoration = counts
    except Exception as exc:  # one failing document must not lose the whole run
        result.error = f"{type(exc).__name__}: {exc}"
    return result


@dataclass
class SystemRun:
    spec: SystemSpec
    results: dict[str, list[DocumentResult]]
    times: dict[str, StageTime]
    load_seconds: float
    peak_rss_mb: float
    error: str | None = None


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / (1024 * 1024) if sys.platform == "darwin" else usage / 1024


def _progress(iterable: Sequence[Any], description: str) -> Iterable[Any]:
    from tqdm import tqdm

    # disable=None: a bar on a terminal, silence when stderr is a file or pipe.
    return tqdm(iterable, desc=description, unit="doc", file=sys.stderr, disable=None, leave=False)


def run_system(spec: SystemSpec, sets: DevSets, tasks: Sequence[str]) -> SystemRun:
    """Build one system and run it on its sets plus the clean negatives."""
    times = {stage: StageTime() for stage in ("detect", "restore")}
    started = time.perf_counter()
    try:
        system = spec.factory()
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        return SystemRun(spec, {}, times, time.perf_counter() - started, peak_rss_mb(), message)
    load_seconds = time.perf_counter() - started
    results: dict[str, list[DocumentResult]] = {}
    for set_name in [*spec.sets, CLEAN]:
        documents = sets.clean if set_name == CLEAN else sets.spun[set_name]
        label = f"{spec.name} {spec.protocol_for(set_name)} {set_name}"
        results[set_name] = [
            _run_document(system, document, set_name, tasks, times)
            for document in _progress(documents, label)
        ]
    return SystemRun(spec, results, times, load_seconds, peak_rss_mb())


# --------------------------------------------------------------------------- summaries


def summarise(
    positives: Sequence[DocumentResult],
    negatives: Sequence[DocumentResult],
    tasks: Sequence[str],
) -> dict[str, Any]:
    """Every figure for one row of the report: a spun set (or several) against clean."""
    ok_positive = [r for r in positives if r.error is None]
    ok_negative = [r for r in negatives if r.error is None and not r.label]
    row: dict[str, Any] = {
        "documents": len(positives),
        "unchanged_by_spinner": sum(1 for r in positives if not r.label),
        "errors": sum(1 for r in [*positives, *negatives] if r.error),
    }
    if "detect" in tasks:
        scores = DocumentScores()
        # A "spun" document the spinner left unchanged is indistinguishable from clean
        # text; it counts in neither class.
        for r in [*(r for r in ok_positive if r.label), *ok_negative]:
            if r.score is not None:
                scores.add(r.score, bool(r.flag), r.label)
        row["detection"] = scores.summary()
        row["detection"]["roc"] = roc_points(scores.scores, scores.labels)
        row["detection"]["scores_spun"] = [
            s for s, y in zip(scores.scores, scores.labels, strict=True) if y
        ]
        row["detection"]["scores_clean"] = [
            s for s, y in zip(scores.scores, scores.labels, strict=True) if not y
        ]
        span_counts = sum((r.spans for r in ok_positive), PRF())
        row["spans"] = span_counts.to_dict()
    if "restore" in tasks:
        spun_counts = sum(
            (r.restoration for r in ok_positive if r.restoration), RestorationCounts()
        )
        clean_counts = sum(
            (r.restoration for r in ok_negative if r.restoration), RestorationCounts()
        )
        row["restoration"] = spun_counts.to_dict()
        row["clean"] = {
            "documents": clean_counts.documents,
            "tokens": clean_counts.tokens,
            "edits": clean_counts.edits,
            "edits_per_1000_tokens": clean_counts.edits_per_1000_tokens,
            "tokens_changed_share": clean_counts.untouched_changed_share,
            "documents_changed": clean_counts.changed_documents,
        }
    return row


def _rows_for_run(run: SystemRun, tasks: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    negatives = run.results.get(CLEAN, [])
    for set_name in run.spec.sets:
        positives = run.results.get(set_name, [])
        row = {
            "system": run.spec.name,
            "protocol": run.spec.protocol_for(set_name),
            "dictionary": set_name,
            **summarise(positives, negatives, tasks),
        }
        rows.append(row)
    return rows


def _pooled_rows(runs: Sequence[SystemRun], tasks: Sequence[str]) -> list[dict[str, Any]]:
    """One "all" row per (system, protocol) covering two sets or more: every set of that
    label against the clean negatives of the builds that scored them."""
    pools: dict[tuple[str, str], dict[str, Any]] = {}
    for run in runs:
        labels = {run.spec.protocol_for(name) for name in run.spec.sets}
        for protocol in labels:
            pool = pools.setdefault(
                (run.spec.name, protocol), {"positives": [], "negatives": [], "sets": set()}
            )
            # Each build scores the clean negatives once, whatever number of sets it ran.
            pool["negatives"] += run.results.get(CLEAN, [])
            for name in run.spec.sets:
                if run.spec.protocol_for(name) == protocol:
                    pool["positives"] += run.results.get(name, [])
                    pool["sets"].add(name)
    return [
        {
            "system": system,
            "protocol": protocol,
            "dictionary": "all",
            **summarise(pool["positives"], pool["negatives"], tasks),
        }
        for (system, protocol), pool in pools.items()
        if len(pool["sets"]) >= 2
    ]


def _speed(runs: Sequence[SystemRun]) -> list[dict[str, Any]]:
    speed: dict[tuple[str, str], dict[str, Any]] = {}
    for run in runs:
        key = (run.spec.name, run.spec.protocol or "any")
        entry = speed.setdefault(
            key,
            {
                "system": key[0],
                "protocol": key[1],
                "builds": 0,
                "load_seconds": 0.0,
                "stages": {stage: StageTime() for stage in run.times},
                "peak_rss_mb": 0.0,
            },
        )
        entry["builds"] += 1
        entry["load_seconds"] += run.load_seconds
        entry["peak_rss_mb"] = max(entry["peak_rss_mb"], run.peak_rss_mb)
        for stage, stage_time in run.times.items():
            entry["stages"][stage].documents += stage_time.documents
            entry["stages"][stage].seconds += stage_time.seconds
    return [
        {**entry, "stages": {k: v.to_dict() for k, v in entry["stages"].items() if v.documents}}
        for entry in speed.values()
    ]


# --------------------------------------------------------------------------- tracing


def run_tracing(sets: DevSets, workdir: Path) -> dict[str, Any]:
    """Index the originals, trace every spun copy the spinner changed: top-1 and mean
    reciprocal rank per set."""
    from unspin.tracing import trace
    from unspin.tracing.index import SourceIndex

    originals: dict[str, str] = {}
    for document in [*sets.clean, *(d for docs in sets.spun.values() for d in docs)]:
        originals.setdefault(document.source_id, document.original)
    path = workdir / "trace-index.sqlite"
    for stale in workdir.glob("trace-index.sqlite*"):
        stale.unlink()
    started = time.perf_counter()
    with SourceIndex(path) as index:
        index.add({"id": source_id, "text": text} for source_id, text in originals.items())
        build_seconds = time.perf_counter() - started
        per_set: dict[str, Any] = {}
        timing = StageTime()
        for set_name, documents in sets.spun.items():
            ranks = []
            # A copy the spinner left unchanged is the original itself: nothing to measure.
            changed = [document for document in documents if document.sites]
            for document in _progress(changed, f"trace {set_name}"):
                started = time.perf_counter()
                result = trace(document.text, index)
                timing.seconds += time.perf_counter() - started
                timing.documents += 1
                found = [m.source_id for m in result.matches]
                ranks.append(
                    found.index(document.source_id) + 1 if document.source_id in found else None
                )
            per_set[set_name] = {
                "documents": len(ranks),
                "top1": sum(1 for r in ranks if r == 1) / len(ranks) if ranks else None,
                "mrr": sum(1 / r for r in ranks if r) / len(ranks) if ranks else None,
                "not_found": sum(1 for r in ranks if r is None),
            }
    return {
        "indexed": len(originals),
        "index_build": StageTime(len(originals), build_seconds).to_dict(),
        "trace": timing.to_dict(),
        "sets": per_set,
    }


# --------------------------------------------------------------------------- the bench


@dataclass
class BenchConfig:
    sets_dir: Path
    out_dir: Path
    dictionaries: list[str] | None = None
    limit: int | None = None
    protocols: tuple[str, ...] = ("unseen",)
    tasks: tuple[str, ...] = TASKS
    baselines: bool = True
    engine: bool = True
    model: str | None = "default"
    engine_config: Any = None  # an unspin.engine.EngineConfig; None for the defaults
    command: str | None = None


def _warn(message: str) -> None:
    print(f"unspin bench: {message}", file=sys.stderr)


def run_bench(config: BenchConfig) -> dict[str, Any]:
    """Run every system on the dev sets and return the report data (JSON-ready)."""
    unknown = set(config.tasks) - set(TASKS)
    if unknown:
        raise BenchError(
            f"unknown task(s) {', '.join(sorted(unknown))} (choose from {', '.join(TASKS)})"
        )
    if not config.engine and not config.baselines:
        raise BenchError("nothing to run: both the engine and the baselines are switched off")
    sets = load_devsets(config.sets_dir, config.dictionaries, config.limit)
    config.out_dir.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    specs: list[SystemSpec] = []
    if config.baselines:
        specs += baseline_specs(sets)
    run_tasks = [t for t in config.tasks if t != "trace"]
    with tempfile.TemporaryDirectory(prefix="unspin-bench-") as scratch:
        workdir = Path(scratch)
        if config.engine and run_tasks:
            for spec in engine_specs(
                sets,
                config.protocols,
                model=config.model,
                workdir=workdir,
                config=config.engine_config,
            ):
                if spec.export:
                    try:
                        export_dictionary(spec.export, Path(spec.settings["dictionaries"][0]))
                    except Exception as exc:
                        notes.append(
                            f"seen protocol for {spec.export} skipped: "
                            f"cannot export its dictionary ({type(exc).__name__}: {exc})"
                        )
                        _warn(notes[-1])
                        continue
                specs.append(spec)
        runs = []
        if run_tasks:
            for spec in specs:
                run = run_system(spec, sets, run_tasks)
                described = f"{spec.name} ({spec.protocol or 'per set'}; {', '.join(spec.sets)})"
                if run.error:
                    notes.append(f"{described} could not be built: {run.error}")
                    _warn(notes[-1])
                    continue
                documents = sum(len(results) for results in run.results.values())
                seconds = sum(t.seconds for t in run.times.values())
                # One line per system, so a long run in the background shows its progress.
                _warn(
                    f"{described}: built in {run.load_seconds:.1f} s, "
                    f"{documents} documents in {seconds:.1f} s"
                )
                first_error = next((r for rs in run.results.values() for r in rs if r.error), None)
                if first_error:
                    count = sum(1 for rs in run.results.values() for r in rs if r.error)
                    notes.append(
                        f"{described} failed on {count} document(s), "
                        f"first {first_error.id}: {first_error.error}"
                    )
                    _warn(notes[-1])
                runs.append(run)
        tracing = None
        if "trace" in config.tasks:
            try:
                tracing = run_tracing(sets, config.out_dir)
            except Exception as exc:
                notes.append(f"tracing skipped: {type(exc).__name__}: {exc}")
                _warn(notes[-1])
    _write_documents(runs, config.out_dir / "documents.jsonl")
    rows = [row for run in runs for row in _rows_for_run(run, run_tasks)]
    rows += _pooled_rows(runs, run_tasks)
    return {
        "meta": {
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": config.command,
            "sets_dir": str(config.sets_dir),
            "limit": config.limit,
            "protocols": list(config.protocols),
            "tasks": list(config.tasks),
            "model": (config.model or "none") if config.engine else None,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": _cpu_count(),
            # The engine's speed depends on it (unspin/_trigram.c, or the same code in Python).
            "ngram_path": _ngram_path() if config.engine else None,
        },
        "sets": sets.describe(),
        "results": rows,
        "systems": [
            {
                "system": run.spec.name,
                "protocol": run.spec.protocol,
                "sets": run.spec.sets,
                "settings": run.spec.settings,
            }
            for run in runs
        ],
        "speed": _speed(runs),
        "tracing": tracing,
        "peak_rss_mb": peak_rss_mb(),
        # Every note is a problem: a system not built, documents it failed on, a skipped stage.
        "notes": notes,
    }


def _write_documents(runs: Sequence[SystemRun], path: Path) -> None:
    """One line per (system build, document): what to look at when a figure surprises."""
    with path.open("w", encoding="utf-8") as out:
        for run in runs:
            for set_name, results in run.results.items():
                for r in results:
                    record: dict[str, Any] = {
                        "system": run.spec.name,
                        "protocol": run.spec.protocol_for(set_name)
                        if set_name != CLEAN
                        else run.spec.protocol,
                        "set": set_name,
                        "id": r.id,
                        "spun": r.label,
                        "score": r.score,
                        "flagged": r.flag,
                    }
                    if r.restoration is not None:
                        record.update(
                            sites=r.restoration.sites,
                            exact=r.restoration.exact,
                            untouched_changed=r.restoration.untouched_changed,
                            edits=r.restoration.edits,
                        )
                    if r.error:
                        record["error"] = r.error
                    out.write(json.dumps(record) + "\n")


def _cpu_count() -> int | None:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()
