"""Benchmark `unspin clean` on HTML content-farm pages against calling trafilatura directly.

Pages are made from the Wikinews development corpus: each article is wrapped in realistic
content-farm boilerplate (cookie banner, navigation, the title twice at the top of the post,
a Facebook pixel leaked into the body text with CMS-curled quotes, a spintax leftover, a
"Supply hyperlink" credit, share/like widgets, related posts, a "Leave a Reply" form, a
sidebar with a newsletter box, footer, scripts). The article text itself is the clean
original, so what comes out can be scored exactly:

* time: per page, for trafilatura.extract() with its defaults, trafilatura.bare_extraction()
  with the options unspin uses, and unspin.extract(); all three run on the same pages in
  the same process, interleaved page by page, so their ratio holds on a noisy machine;
* body recall: share of the article's sentences found in the output;
* junk: share of pages whose output still contains leaked code, the credit line, widget
  lines, the comment form or the repeated title.

    python benchmarks/bench_clean.py --limit 100 --repeat 3
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared/data/wikinews/articles.jsonl"

PIXEL = (
    "!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?"
    "n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;n.push=n;"
    "n.loaded=!0;n.version=&#8216;2.0&#8217;;n.queue=[];t=b.createElement(e);t.async=!0;"
    "t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window, document,"
    "&#8216;script&#8217;,&#8216;https://connect.facebook.net/en_US/fbevents.js&#8217;); "
    "fbq(&#8216;init&#8217;, &#8216;{pixel}&#8217;); fbq(&#8216;track&#8217;, &#8216;PageView&#8217;);"
)
CREDITS = ["Supply hyperlink", "Source link", "Supply link"]
SITES = [
    "The Daily Headlines Hub",
    "World News Today 24",
    "Breaking Updates Network",
    "Global Times Digest",
]
RELATED = [
    "Storm batters coastal villages as hundreds flee",
    "Markets rally after central bank holds charges",
    "Minister resigns after vote of no confidence",
]
# What must not survive cleaning (checked case-sensitively in the output).
JUNK_MARKERS = [
    "fbq(", "!function", "Supply hyperlink", "Source link", "Supply link", "Share this:", "Like this:",
    "Leave a Reply", "Your email address will not be published", "We use cookies", "Subscribe to our",
    "Copyright ©", "{the}",
]  # fmt: skip


def spun_title(title: str) -> str:
    """A near copy of the title, as the farm's second headline (only its evidence role matters here)."""
    swaps = {"people": "individuals", "says": "mentioned", "said": "mentioned", "after": "after",
             "year": "12 months", "city": "metropolis", "kills": "kills", "new": "new"}  # fmt: skip
    words = title.split()
    changed = [swaps.get(word, word) for word in words]
    # Otherwise inflect one word (spinners leave numbers alone).
    candidates = [i for i, word in enumerate(words) if i > 0 and word.isalpha() and len(word) > 3]
    if changed == words and candidates:
        i = candidates[0]
        changed[i] = changed[i] + "s" if not changed[i].endswith("s") else changed[i][:-1]
    return " ".join(changed)


def farm_page(article: dict, rng: random.Random) -> str:
    """One content-farm page around the article's clean paragraphs."""
    site = rng.choice(SITES)
    title = article["title"]
    variant = spun_title(title)
    paragraphs = [p for p in article["text"].split("\n\n") if p.strip()]
    body = [f"<p>{html.escape(p)}</p>" for p in paragraphs]
    # A spintax leftover added to one paragraph: "{word}" around an existing word repairs to itself.
    index = rng.randrange(len(body))
    body[index] = re.sub(r"\b(the)\b", "{the}", body[index], count=1)
    body.insert(
        min(1, len(body)), "<p>" + PIXEL.replace("{pixel}", str(rng.randrange(10**15))) + "</p>"
    )
    escaped_title = html.escape(title)
    escaped_variant = html.escape(variant)
    related = "".join(
        f'<li><a href="/p/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(RELATED)
    )
    return f"""<!DOCTYPE html><html lang="en-US"><head><meta charset="UTF-8">
<title>{escaped_variant} &#8211; {site}</title>
<meta property="og:title" content="{escaped_variant}"><meta property="og:site_name" content="{site}">
<script async src="https://www.googletagmanager.com/gtag/js?id=G-{rng.randrange(10**8)}"></script>
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}} gtag('js', new Date());</script>
</head><body class="single-post">
<div id="cookie-notice"><span>We use cookies to ensure that we give you the best experience on our website.</span> <a href="#">Ok</a></div>
<header><p class="site-title"><a href="/">{site}</a></p><nav><ul><li><a href="/">Home</a></li>
<li><a href="/world/">World</a></li><li><a href="/business/">Business</a></li><li><a href="/tech/">Tech</a></li></ul></nav></header>
<main><article class="post"><header class="entry-header"><span class="posted-on">{article.get("date", "")}</span>
<span class="byline">by <a href="/author/admin/">admin</a></span></header>
<div class="entry-content">
<p>{escaped_title}</p>
<p>{escaped_variant}</p>
{"".join(body)}
<p>{rng.choice(CREDITS)}</p>
<div class="sharedaddy"><h3 class="sd-title">Share this:</h3><ul><li><a href="?share=twitter">Twitter</a></li>
<li><a href="?share=facebook">Facebook</a></li></ul></div>
<div class="sharedaddy"><h3 class="sd-title">Like this:</h3><span>Like</span> <span>Loading...</span></div>
<div class="jp-relatedposts"><h3>Related</h3><ul>{related}</ul></div>
</div></article>
<div id="comments"><div id="respond"><h3>Leave a Reply <small><a href="#respond">Cancel reply</a></small></h3>
<form><p>Your email address will not be published. Required fields are marked *</p>
<p><label>Comment</label><textarea></textarea></p><p><label>Name *</label><input></p>
<p><label>Email *</label><input></p><p><label>Website</label><input></p>
<p><input type="checkbox"> Save my name, email, and website in this browser for the next time I comment.</p>
<p><input type="submit" value="Post Comment"></p></form></div></div></main>
<aside><section><h2>Recent Posts</h2><ul>{related}</ul></section>
<section><h2>Newsletter</h2><p>Subscribe to our daily newsletter and get the latest news delivered to your inbox.</p></section></aside>
<footer><p>Copyright &copy; 2024 {site}. All rights reserved.</p></footer>
<noscript><img height="1" width="1" src="https://www.facebook.com/tr?id=1&ev=PageView&noscript=1"></noscript>
</body></html>"""


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def flatten(text: str) -> str:
    """Whitespace collapsed and zero-width characters dropped (trafilatura drops them)."""
    return " ".join(text.translate(_INVISIBLE).split())


TRAILERS = [
    ["Leave a Reply Cancel reply", "Your email address will not be published. Required fields are marked *",
     "Comment *", "Name *", "Email *", "Website",
     "Save my name, email, and website in this browser for the next time I comment.", "Δ"],
    ["Go away a Reply Cancel reply", "Your e mail handle won't be printed. Required fields are marked *",
     "Remark *", "Identify *", "E mail *", "Web site",
     "Save my identify, e mail, and web site on this browser for the following time I remark.", "Δ"],
]  # fmt: skip
LISTENER = (
    "document.addEventListener(\u201cDOMContentLoaded\u201d, function() {\n"
    "  var box = document.getElementById(\u201cshare-box\u201d);\n"
    "  if (box) { box.style.display = \u201cnone\u201d; }\n});"
)


def farm_dump(article: dict, rng: random.Random) -> str:
    """The article as a crawler's text dump of a farm page: one paragraph a line, junk leaked."""
    paragraphs = [" ".join(p.split()) for p in article["text"].split("\n\n") if p.strip()]
    index = rng.randrange(len(paragraphs))
    paragraphs[index] = re.sub(r"\b(the)\b", "{the}", paragraphs[index], count=1)
    pixel = html.unescape(PIXEL.replace("{pixel}", str(rng.randrange(10**15))))
    lines = [
        article["title"],
        spun_title(article["title"]),
        pixel,
        *paragraphs[:1],
        LISTENER,
        *paragraphs[1:],
    ]
    lines += [rng.choice(CREDITS), "Share this:", "Twitter", "Facebook", "Like this:", "Like Loading...",
              rng.choice(["Related", "Associated"]), *RELATED, *rng.choice(TRAILERS), "%d bloggers like this:"]  # fmt: skip
    return "\n".join(lines) + "\n"


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", flatten(text)) if len(s) > 20]


def score(output: str, article: dict) -> tuple[float, bool, bool]:
    """(body recall, any junk left, repeated title left) for one output text."""
    flat = flatten(output)
    wanted = sentences(article["text"])
    recall = sum(1 for s in wanted if s in flat) / len(wanted) if wanted else 1.0
    junk = any(marker in output for marker in JUNK_MARKERS)
    variant = spun_title(article["title"])
    repeated = variant != article["title"] and variant in output
    return recall, junk, repeated


WIDGET_LINES = [
    "Leave a Reply", "Source link", "Share this:", "Related", "Like this:", "Read the original article.",
    "Subscribe to our newsletter",
]  # fmt: skip


def widget_section(names: list[str], seeds: int, articles: list[dict]) -> dict:
    """Share of widget lines still recognised after spinning them with a thesaurus dictionary.

    The dictionaries are built from the installed thesauri the way auto-spinners' are
    (unspin.resources.dictionary); the cleaner's patterns know a few spun forms from real
    pages but were not written from these dictionaries. Also reported: widget-kind lines
    found among the Wikinews sentences (false positives; every one would be body text lost).
    """
    from unspin import extraction
    from unspin.resources.dictionary import SpinnerDictionary
    from unspin.resources.lexical import load_builtin
    from unspin.spinner import spin

    lines = [text for _, text in extraction._WIDGET_TEMPLATES] + WIDGET_LINES
    results: dict[str, dict] = {}
    print(
        "\n| dictionary | spun widget lines | changed by spinning | recognised (all) | recognised (regexes only) |"
    )
    print("|---|---|---|---|---|")
    for name in names:
        dictionary = SpinnerDictionary.from_resource(load_builtin(name), name=name)
        spun = [spin(line, dictionary, seed=seed).text for line in lines for seed in range(seeds)]
        originals = [line for line in lines for _ in range(seeds)]
        changed = [
            " ".join(text.split())
            for text, line in zip(spun, originals, strict=True)
            if text != line
        ]
        found = sum(extraction._line_kind(text) is not None for text in changed)
        regex_only = sum(extraction._pattern_line_kind(text) is not None for text in changed)
        total = max(len(changed), 1)
        results[name] = {
            "lines": len(spun),
            "changed": len(changed),
            "recognised": found / total,
            "regex_only": regex_only / total,
        }
        print(
            f"| {name} | {len(spun)} | {len(changed)} | {found / total:.0%} | {regex_only / total:.0%} |"
        )
    body = [s for article in articles for p in article["text"].split("\n\n") for s in sentences(p)]
    false = [s for s in body if extraction._line_kind(s) is not None]
    print(f"\nWikinews sentences taken for widget lines: {len(false)} of {len(body)}")
    for sentence in false[:5]:
        print(f"  {sentence[:120]}")
    results["false_positives"] = {"sentences": len(body), "widget_lines": len(false)}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=100, help="articles to use (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="timing rounds (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--widgets",
        default="",
        metavar="NAMES",
        help="also spin the widget lines with these thesauri (e.g. wordnet,mythes,moby) and score recognition",
    )
    parser.add_argument("--widget-seeds", type=int, default=10)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"bench_clean: corpus not found: {args.data}", file=sys.stderr)
        return 2

    import trafilatura

    from unspin.extraction import extract

    articles = [json.loads(line) for line in args.data.open(encoding="utf-8") if line.strip()][
        : args.limit
    ]
    rng = random.Random(args.seed)
    pages = [farm_page(article, rng) for article in articles]

    def traf_default(page: str) -> str:
        return trafilatura.extract(page) or ""

    def traf_same_options(page: str) -> str:
        result = trafilatura.bare_extraction(
            page, with_metadata=True, include_comments=False, include_tables=True, favor_recall=True
        )
        return (result.text or "") if result is not None else ""

    def unspin_clean(page: str) -> str:
        return extract(page).full_text

    methods = {"trafilatura.extract (defaults)": traf_default,
               "trafilatura.bare_extraction (unspin's options)": traf_same_options,
               "unspin clean (extract)": unspin_clean}  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in methods}
    outputs: dict[str, list[str]] = {name: [] for name in methods}
    from unspin import extraction

    for round_number in range(args.repeat):
        # Every round sees the pages as new: no line-kind cache carried over from the last one.
        extraction._line_kind.cache_clear()
        round_times = dict.fromkeys(methods, 0.0)
        for page in pages:
            for name, method in methods.items():  # interleaved: same machine state for all three
                start = time.perf_counter()
                text = method(page)
                round_times[name] += time.perf_counter() - start
                if round_number == 0:
                    outputs[name].append(text)
        for name in methods:
            times[name].append(round_times[name])

    dumps = [farm_dump(article, rng) for article in articles]
    dump_methods = {"text dump as saved (no cleaning)": lambda dump: dump,
                    "unspin clean (extract, text dump)": lambda dump: extract(dump).full_text}  # fmt: skip
    dump_times: dict[str, list[float]] = {name: [] for name in dump_methods}
    dump_outputs: dict[str, list[str]] = {name: [] for name in dump_methods}
    for round_number in range(args.repeat):
        extraction._line_kind.cache_clear()
        for name, method in dump_methods.items():
            start = time.perf_counter()
            texts = [method(dump) for dump in dumps]
            dump_times[name].append(time.perf_counter() - start)
            if round_number == 0:
                dump_outputs[name] = texts

    baseline = "trafilatura.bare_extraction (unspin's options)"
    results = {}
    print(
        f"{len(pages)} pages (mean {statistics.mean(len(p) for p in pages) / 1000:.1f} kB), {args.repeat} rounds\n"
    )
    print(
        "| method | ms/page (median round) | time vs trafilatura same options | body recall | pages with junk left | pages with repeated title |"
    )
    print("|---|---|---|---|---|---|")
    for name in methods:
        per_page = statistics.median(times[name]) / len(pages) * 1000
        scored = [
            score(text, article) for text, article in zip(outputs[name], articles, strict=True)
        ]
        recall = statistics.mean(s[0] for s in scored)
        junk = sum(s[1] for s in scored) / len(scored)
        repeated = sum(s[2] for s in scored) / len(scored)
        ratio = statistics.median(times[name]) / statistics.median(times[baseline])
        results[name] = {
            "ms_per_page": per_page,
            "ratio": ratio,
            "recall": recall,
            "junk": junk,
            "repeated_title": repeated,
        }
        print(
            f"| {name} | {per_page:.1f} | {ratio:.2f}x | {recall:.3f} | {junk:.0%} | {repeated:.0%} |"
        )
    total_kb = sum(len(dump) for dump in dumps) / 1000
    print(f"\n{len(dumps)} text dumps (mean {total_kb / len(dumps):.1f} kB)\n")
    print(
        "| method | ms/dump (median round) | kB/s | body recall | dumps with junk left | dumps with repeated title |"
    )
    print("|---|---|---|---|---|---|")
    for name in dump_methods:
        seconds = statistics.median(dump_times[name])
        scored = [
            score(text, article) for text, article in zip(dump_outputs[name], articles, strict=True)
        ]
        recall = statistics.mean(s[0] for s in scored)
        junk = sum(s[1] for s in scored) / len(scored)
        repeated = sum(s[2] for s in scored) / len(scored)
        speed = total_kb / seconds if seconds else float("inf")
        results[name] = {
            "ms_per_doc": seconds / len(dumps) * 1000,
            "kb_per_s": speed,
            "recall": recall,
            "junk": junk,
            "repeated_title": repeated,
        }
        print(
            f"| {name} | {seconds / len(dumps) * 1000:.2f} | {speed:,.0f} | {recall:.3f} | {junk:.0%} | {repeated:.0%} |"
        )
    if args.widgets:
        results["widgets"] = widget_section(args.widgets.split(","), args.widget_seeds, articles)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"pages": len(pages), "repeat": args.repeat, "results": results}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
