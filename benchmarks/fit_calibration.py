"""Fit the document-level spin probability (unspin/data/calibration.json) on the dev sets.

Unseen protocol: the features of documents spun with dictionary D (and of the clean
originals they are paired with) are computed by an engine that does NOT load resource D.
The logistic model is then evaluated leave-one-dictionary-out (fit on the other
dictionaries, score the held-out one) so the reported AUROC / FPR are honest; the
coefficients written to the package are fitted on all dictionaries pooled.

Usage:
    python benchmarks/fit_calibration.py [--limit 40] [--sets moby,wordnet,mythes]
        [--offset 0] [--dev benchmarks/data/dev] [--write] [--report docs/bench/calibration.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from unspin.engine import Engine  # noqa: E402
from unspin.engine.calibration import FEATURES, features  # noqa: E402


def read(path: Path, limit: int, offset: int = 0) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        docs = [json.loads(line) for line in lines if line.strip()]
    return docs[offset : offset + limit]


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, float]:
    """Newton-Raphson logistic regression with an L2 penalty (no sklearn dependency)."""
    mean, std = x.mean(0), x.std(0) + 1e-9
    z = (x - mean) / std
    a = np.hstack([z, np.ones((len(z), 1))])
    w = np.zeros(a.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(a @ w)))
        grad = a.T @ (p - y) + l2 * np.r_[w[:-1], 0]
        hess = (a * (p * (1 - p))[:, None]).T @ a + l2 * np.diag(np.r_[np.ones(len(w) - 1), 0])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    weights = w[:-1] / std
    bias = w[-1] - float((w[:-1] * mean / std).sum())
    return weights, bias


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def fpr_at_recall(scores: np.ndarray, labels: np.ndarray, recall: float = 0.95) -> float:
    pos = np.sort(scores[labels == 1])
    threshold = pos[int(math.floor((1 - recall) * len(pos)))]
    return float((scores[labels == 0] >= threshold).mean())


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[dict]:
    rows = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        mask = (probs >= lo) & ((probs < hi) if b < bins - 1 else (probs <= hi))
        if mask.any():
            rows.append(
                {
                    "bin": [lo, hi],
                    "count": int(mask.sum()),
                    "mean_predicted": float(probs[mask].mean()),
                    "fraction_spun": float(labels[mask].mean()),
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=REPO / "benchmarks" / "data" / "dev")
    parser.add_argument("--sets", default="moby,wordnet,mythes")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument(
        "--offset",
        type=int,
        default=0,
        help="skip this many documents of every set (fit on documents the bench does not score)",
    )
    parser.add_argument("--write", action="store_true", help="write unspin/data/calibration.json")
    parser.add_argument("--report", type=Path, default=None)
    parser.add_argument(
        "--features",
        default="edit_rate,score_rate,spintax",
        help="comma-separated features to fit (default: the ones that do not depend on genre)",
    )
    parser.add_argument("--cache", type=Path, default=None, help="JSON cache of computed features")
    parser.add_argument(
        "--full-negatives",
        type=int,
        default=24,
        help="clean articles analysed by the default engine (all resources) added as negatives",
    )
    args = parser.parse_args()
    names = [n for n in args.sets.split(",") if n]
    use = [f for f in args.features.split(",") if f] if args.features else list(FEATURES)
    rows: dict[str, list[tuple[list[float], int]]] = {}
    if args.cache and args.cache.is_file():
        cached = json.loads(args.cache.read_text(encoding="utf-8"))
        rows = {
            name: [(r[0], r[1]) for r in cached[name]]
            for name in [*names, "full"]
            if name in cached
        }
    started = time.perf_counter()
    for name in names:
        if name in rows:
            continue
        engine = Engine(model=None, exclude=[name])
        spun = read(args.dev / f"{name}.jsonl", args.limit, offset=args.offset)
        # Clean negatives: other articles than the spun ones where possible.
        clean = read(args.dev / "clean.jsonl", args.limit, offset=args.offset + args.limit)
        data = []
        for doc, label in [(d, 1) for d in spun] + [(d, 0) for d in clean]:
            analysis = engine.analyse(doc["text"], restore=False)
            values = analysis.verdict_features or features(analysis)
            data.append(([values[f] for f in FEATURES], label))
        rows[name] = data
        print(f"{name}: {len(data)} documents, {time.perf_counter() - started:.0f}s", flush=True)

    if args.full_negatives and "full" not in rows:
        # Clean articles as the default engine (every resource loaded) sees them: it finds
        # more candidate edits than an engine missing one thesaurus, so it must learn them too.
        engine = Engine(model=None)
        clean = read(
            args.dev / "clean.jsonl", args.full_negatives, offset=args.offset + 2 * args.limit
        )
        data = []
        for doc in clean:
            analysis = engine.analyse(doc["text"], restore=False)
            values = analysis.verdict_features or features(analysis)
            data.append(([values[f] for f in FEATURES], 0))
        rows["full"] = data
        print(f"full-engine negatives: {len(data)} documents", flush=True)
    full = rows.pop("full", [])
    if args.cache:
        args.cache.write_text(json.dumps({**rows, "full": full}), encoding="utf-8")
    # Keep only the chosen features (the cache holds all of them, in FEATURES order).
    keep = [FEATURES.index(f) for f in use]
    rows = {n: [([r[0][i] for i in keep], r[1]) for r in data] for n, data in rows.items()}
    full = [([r[0][i] for i in keep], r[1]) for r in full]
    report: dict = {"features": use, "limit": args.limit, "offset": args.offset, "held_out": {}}
    all_probs, all_labels = [], []
    for held in names:
        train = ([r for n in names if n != held for r in rows[n]] or rows[held]) + full
        x = np.array([r[0] for r in train])
        y = np.array([r[1] for r in train], dtype=float)
        weights, bias = fit_logistic(x, y)
        test_x = np.array([r[0] for r in rows[held]])
        test_y = np.array([r[1] for r in rows[held]])
        probs = 1 / (1 + np.exp(-(test_x @ weights + bias)))
        all_probs.extend(probs)
        all_labels.extend(test_y)
        report["held_out"][held] = {
            "auroc": auroc(probs, test_y),
            "fpr_at_95_recall": fpr_at_recall(probs, test_y),
            "accuracy_at_0.5": float(((probs >= 0.5) == test_y).mean()),
            "documents": len(test_y),
        }
        print(held, report["held_out"][held], flush=True)
    report["reliability_held_out"] = reliability(np.array(all_probs), np.array(all_labels))

    pooled = [r for n in names for r in rows[n]] + full
    x = np.array([r[0] for r in pooled])
    y = np.array([r[1] for r in pooled], dtype=float)
    weights, bias = fit_logistic(x, y)
    coefficients = {
        "bias": float(bias),
        "weights": {f: float(w) for f, w in zip(use, weights, strict=True)},
    }
    report["coefficients"] = coefficients
    if args.write:
        target = REPO / "unspin" / "data" / "calibration.json"
        target.write_text(
            json.dumps(
                {
                    "ngram": coefficients,
                    "fitted_on": {
                        "sets": names,
                        "documents_per_set": args.limit,
                        "offset": args.offset,
                    },
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"wrote {target}")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(coefficients))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
