"""Write a bench run as JSON, Markdown (appendable to docs/benchmarks.md) and self-contained HTML.

The HTML embeds its plots as inline SVG drawn by matplotlib (the `bench` extra);
without matplotlib the page still carries every table and says how to get the plots.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PROTOCOL_ORDER = {"unseen": 0, "seen": 1}


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _rate(value: float | None) -> str:
    """Documents per second with enough digits to tell slow stages apart."""
    if value is None:
        return "–"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def _sorted_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        rows,
        key=lambda r: (
            PROTOCOL_ORDER.get(r["protocol"], 9),
            r["dictionary"] == "all",
            r["dictionary"],
            r["system"] != "unspin",
            r["system"],
        ),
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def tables(data: dict[str, Any]) -> dict[str, tuple[list[str], list[list[str]]]]:
    """The report's tables as (header, rows) of strings, shared by Markdown and HTML."""
    rows = _sorted_rows(data["results"])
    result: dict[str, tuple[list[str], list[list[str]]]] = {}
    result["Sets"] = (
        ["set", "documents", "changed by the spinner", "substitutions"],
        [
            [name, str(s["documents"]), str(s["with_substitutions"]), str(s["substitutions"])]
            for name, s in data["sets"].items()
        ],
    )
    detection = [r for r in rows if "detection" in r]
    if detection:
        result["Documents"] = (
            [
                "protocol",
                "set",
                "system",
                "spun / clean",
                "AUROC",
                "F1 at threshold",
                "FPR at threshold",
                "FPR at 95% recall",
                "FPR at 99% recall",
                "ECE",
            ],
            [
                [
                    r["protocol"],
                    r["dictionary"],
                    r["system"],
                    f"{r['detection']['positives']} / {r['detection']['negatives']}",
                    _num(r["detection"]["auroc"]),
                    _num(r["detection"]["f1"]),
                    _pct(r["detection"]["fpr_at_threshold"]),
                    _pct(r["detection"]["fpr_at_recall_95"]),
                    _pct(r["detection"]["fpr_at_recall_99"]),
                    _num(r["detection"]["ece"]),
                ]
                for r in detection
            ],
        )
        result["Spans"] = (
            ["protocol", "set", "system", "precision", "recall", "F1"],
            [
                [
                    r["protocol"],
                    r["dictionary"],
                    r["system"],
                    _num(r["spans"]["precision"]),
                    _num(r["spans"]["recall"]),
                    _num(r["spans"]["f1"]),
                ]
                for r in detection
            ],
        )
    restoration = [r for r in rows if "restoration" in r]
    if restoration:
        result["Restoration"] = (
            [
                "protocol",
                "set",
                "system",
                "sites",
                "restored exactly",
                "untouched tokens changed",
                "ED reduction",
                "clean: edits / 1k tokens",
                "clean: docs changed",
            ],
            [
                [
                    r["protocol"],
                    r["dictionary"],
                    r["system"],
                    str(r["restoration"]["sites"]),
                    _pct(r["restoration"]["exact_share"]),
                    _pct(r["restoration"]["untouched_changed_share"], 2),
                    _num(r["restoration"]["distance_reduction"]),
                    _num(r["clean"]["edits_per_1000_tokens"], 2),
                    f"{r['clean']['documents_changed']} / {r['clean']['documents']}",
                ]
                for r in restoration
            ],
        )
    if data.get("tracing"):
        tracing = data["tracing"]
        result["Tracing"] = (
            ["set", "documents", "top-1", "MRR", "not found"],
            [
                [name, str(s["documents"]), _pct(s["top1"]), _num(s["mrr"]), str(s["not_found"])]
                for name, s in tracing["sets"].items()
            ],
        )
    speed_rows = []
    for entry in data["speed"]:
        for stage, timing in entry["stages"].items():
            speed_rows.append(
                [
                    entry["system"],
                    entry["protocol"],
                    stage,
                    str(timing["documents"]),
                    _rate(timing["docs_per_s"]),
                    _num(timing["ms_per_doc"], 1),
                    _num(entry["load_seconds"] / max(entry["builds"], 1), 1),
                    _num(entry["peak_rss_mb"], 0),
                ]
            )
    if data.get("tracing"):
        for stage in ("index_build", "trace"):
            timing = data["tracing"][stage]
            speed_rows.append(
                [
                    "tracing",
                    "–",
                    stage.replace("_", " "),
                    str(timing["documents"]),
                    _rate(timing["docs_per_s"]),
                    _num(timing["ms_per_doc"], 1),
                    "–",
                    "–",
                ]
            )
    result["Speed"] = (
        [
            "system",
            "protocol",
            "stage",
            "documents",
            "docs/s",
            "ms/doc",
            "load s (per build)",
            "peak RSS MB (process, so far)",
        ],
        speed_rows,
    )
    return result


def to_markdown(data: dict[str, Any]) -> str:
    """A Markdown section (level-2 heading) that can be appended to docs/benchmarks.md."""
    meta = data["meta"]
    lines = [
        f"## unspin bench, {meta['created']}",
        "",
        f"Command: `{meta['command']}`" if meta.get("command") else "",
        "",
        f"Sets: `{meta['sets_dir']}`"
        + (f", first {meta['limit']} documents of each" if meta.get("limit") else "")
        + f"; tasks: {', '.join(meta['tasks'])};"
        + (f" engine model: {meta['model']};" if meta.get("model") else " engine not run;")
        + f" Python {meta['python']} on {meta['cpus']} CPU(s)"
        + (f", n-gram hot path {meta['ngram_path']}" if meta.get("ngram_path") else "")
        + ". Peak RSS of the whole run:"
        f" {data['peak_rss_mb']:.0f} MB.",
        "",
        "**unseen**: the system does not use the dictionary that spun the set (the number that"
        " counts); **seen**: it does. Documents the spinner left unchanged count as neither"
        " spun nor clean.",
        "",
    ]
    for title, (header, rows) in tables(data).items():
        lines += [f"### {title}", "", *_table(header, rows), ""]
    if data.get("notes"):
        lines += ["### Notes", "", *[f"- {note}" for note in data["notes"]], ""]
    return "\n".join(lines).replace("\n\n\n", "\n\n")


# --------------------------------------------------------------------------- plots


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prologue: the SVG is inlined in HTML


def plots(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(caption, inline SVG) for each plot; empty without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    rows = [r for r in _sorted_rows(data["results"]) if "detection" in r]
    # The headline rows: pooled "all" rows where they exist, else each set.
    pooled = {(r["system"], r["protocol"]) for r in rows if r["dictionary"] == "all"}
    headline = sorted(
        (r for r in rows if r["dictionary"] == "all" or (r["system"], r["protocol"]) not in pooled),
        key=lambda r: (PROTOCOL_ORDER.get(r["protocol"], 9), r["system"] != "unspin", r["system"]),
    )
    figures: list[tuple[str, str]] = []
    if headline:
        columns = min(3, len(headline))
        lines = (len(headline) + columns - 1) // columns
        figure, axes = plt.subplots(
            lines, columns, figsize=(4.2 * columns, 3.0 * lines), squeeze=False
        )
        for ax, r in zip(axes.flat, headline, strict=False):
            bins = [i / 20 for i in range(21)]
            ax.hist(r["detection"]["scores_clean"], bins=bins, alpha=0.6, label="clean")
            ax.hist(r["detection"]["scores_spun"], bins=bins, alpha=0.6, label="spun")
            ax.set_title(f"{r['system']} · {r['protocol']} · {r['dictionary']}", fontsize=9)
            ax.set_xlabel("document score")
            ax.legend(fontsize=8)
        for ax in list(axes.flat)[len(headline) :]:
            ax.axis("off")
        figure.tight_layout()
        figures.append(("Score histograms, spun vs clean", _svg(figure)))
        plt.close(figure)

        figure, (roc_ax, rel_ax) = plt.subplots(1, 2, figsize=(10, 4.2))
        for r in headline:
            if r["detection"]["auroc"] is None:
                continue  # spun or clean documents missing: no curve to draw
            label = f"{r['system']} {r['protocol']} {r['dictionary']}"
            fpr, tpr = zip(*r["detection"]["roc"], strict=True)
            roc_ax.plot(fpr, tpr, label=f"{label} (AUROC {_num(r['detection']['auroc'])})")
            bins = [b for b in r["detection"]["reliability"] if b["count"]]
            rel_ax.plot(
                [b["mean_score"] for b in bins],
                [b["positive_rate"] for b in bins],
                "o-",
                label=f"{label} (ECE {_num(r['detection']['ece'])})",
            )
        roc_ax.plot([0, 1], [0, 1], ":", color="grey")
        roc_ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title="ROC")
        rel_ax.plot([0, 1], [0, 1], ":", color="grey")
        rel_ax.set(
            xlabel="mean predicted probability (10 bins)",
            ylabel="share spun",
            title="Reliability diagram",
            xlim=(0, 1),
            ylim=(0, 1),
        )
        for ax in (roc_ax, rel_ax):
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2))
        figure.tight_layout()
        figures.append(("ROC curves and reliability diagram", _svg(figure)))
        plt.close(figure)

    by_set = [
        r for r in _sorted_rows(data["results"]) if "restoration" in r and r["dictionary"] != "all"
    ]
    if by_set:
        sets = sorted({r["dictionary"] for r in by_set})
        systems = sorted({(r["system"], r["protocol"]) for r in by_set})
        figure, ax = plt.subplots(
            figsize=(max(5.0, 1.6 * len(sets) * max(1, len(systems)) / 2), 3.6)
        )
        width = 0.8 / len(systems)
        for k, (system, protocol) in enumerate(systems):
            values = []
            for name in sets:
                match = next(
                    (
                        r
                        for r in by_set
                        if r["dictionary"] == name
                        and r["system"] == system
                        and r["protocol"] == protocol
                    ),
                    None,
                )
                share = match["restoration"]["exact_share"] if match else None
                values.append(100 * share if share is not None else 0.0)
            ax.bar(
                [i + k * width for i in range(len(sets))],
                values,
                width,
                label=f"{system} ({protocol})",
            )
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(sets))], sets)
        ax.set(
            ylabel="sites restored exactly (%)", ylim=(0, 100), title="Restoration by dictionary"
        )
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
        figure.tight_layout()
        figures.append(("Accuracy by dictionary", _svg(figure)))
        plt.close(figure)
    return figures


def to_html(data: dict[str, Any]) -> str:
    """One self-contained page: the tables of the Markdown report and inline SVG plots."""
    meta = data["meta"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>unspin bench {html.escape(meta['created'])}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}figure{margin:1em 0}"
        "figcaption{font-weight:600}svg{max-width:100%;height:auto}</style></head><body>",
        f"<h1>unspin bench, {html.escape(meta['created'])}</h1>",
    ]
    if meta.get("command"):
        parts.append(f"<p>Command: <code>{html.escape(meta['command'])}</code></p>")
    parts.append(
        "<p><b>unseen</b>: the system does not use the dictionary that spun the set (the number"
        " that counts); <b>seen</b>: it does.</p>"
    )
    figures = plots(data)
    if not figures:
        parts.append("<p><i>Plots need matplotlib: pip install 'unspin[bench]'.</i></p>")
    for caption, svg in figures:
        parts.append(f"<figure><figcaption>{html.escape(caption)}</figcaption>{svg}</figure>")
    for title, (header, rows) in tables(data).items():
        parts.append(f"<h2>{html.escape(title)}</h2><table><tr>")
        parts += [f"<th>{html.escape(h)}</th>" for h in header]
        parts.append("</tr>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
        parts.append("</table>")
    if data.get("notes"):
        parts.append("<h2>Notes</h2><ul>")
        parts += [f"<li>{html.escape(note)}</li>" for note in data["notes"]]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_reports(data: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write bench.json, bench.md and bench.html into `out_dir`; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "bench.json", "markdown": out / "bench.md", "html": out / "bench.html"}
    paths["json"].write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    paths["markdown"].write_text(to_markdown(data), encoding="utf-8")
    paths["html"].write_text(to_html(data), encoding="utf-8")
    return paths
