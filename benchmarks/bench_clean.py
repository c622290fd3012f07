"""Benchmark `unspin clean` on HTML content-farm pages against calling trafilatura directly.

Pages are made from the Wikinews development corpus: each article is wrapped in realistic
content-farm boilerplate (cookie banner, navigation, the title twice at the top of the post,
a Facebook pixel leaked into the body text with CMS-curled quotes, a spintax leftover, a
"Supply hyperlink" credit, share/like widgets, related posts, a "Leave a Reply" form, a
sidebar with a newsletter box, footer, scripts), plus two multi-line code leaks of other
shapes (`LEAK_SHAPES`: a pixel one statement a line in a consent check with curled quotes,
Google Tag Manager, inline CSS, JSON-LD, a consent-manager callback, a minified loader) leaked
as paragraph text. The article text itself is the clean
original, so what comes out can be scored exactly:

* time: per page, for trafilatura.extract() with its defaults, trafilatura.bare_extraction()
  with the options unspin uses, and unspin.extract(); all three run on the same pages in
  the same process, interleaved page by page, so their ratio holds on a noisy machine;
* body recall: share of the article's sentences found in the output;
* junk: share of pages whose output still contains leaked code (any line of the multi-line
  leaks counts), the credit line, widget lines or the comment form; also the leak lines left
  in all, and the share of pages with the repeated title.

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
# Multi-line leaks of other shapes, as themes leak them (issue 12): none needs to match a
# known snippet. Two are put in each page and dump, at random places; "junk left" counts a
# page whose output keeps any line of them.
LEAK_SHAPES = {
    # A Facebook pixel one statement a line inside a consent-manager check, curled quotes.
    "pixel-in-consent-check": """window.addEventListener(\u2018CookiebotOnAccept\u2019, function (e) {
  if (Cookiebot.consent.marketing) {
    !function(f, b, e, v, n, t, s)
    {
      if (f.fbq) return;
      n = f.fbq = function() {
        n.callMethod ?
          n.callMethod.apply(n, arguments) : n.queue.push(arguments)
      };
      if (!f._fbq) f._fbq = n;
      n.push = n;
      n.loaded = !0;
      n.version = \u20192.0\u2032;
      n.queue = [];
      t = b.createElement(e);
      t.async = !0;
      t.src = v;
      s = b.getElementsByTagName(e)[0];
      s.parentNode.insertBefore(t, s)
    }(window, document, \u2018script\u2019,
      \u2018https://connect.facebook.net/en_US/fbevents.js\u2019);
    fbq(\u2018init\u2019, \u2018{pixel}\u2019);
    fbq(\u2018track\u2019, \u2018PageView\u2019);
  }
}, false);""",
    # Google Tag Manager's snippet, broken over lines as in its install instructions.
    "google-tag-manager": """(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-{pixel}');""",
    # A theme's inline CSS, one declaration a line.
    "inline-css": """.entry-content p { margin: 0 0 1.5em; }
#cookie-notice {
  position: fixed;
  bottom: 0;
  background: #222;
  color: #fff;
  font-family: Georgia, serif;
}
@media (max-width: 600px) {
  .site-title { font-size: 18px; }
}""",
    # Structured data, curled quotes on its first key.
    "json-ld": """{
  \u201c@context\u201d: \u201chttps://schema.org\u201d,
  "@type": "NewsArticle",
  "datePublished": "2024-03-01T08:00:00+00:00",
  "author": {"@type": "Person", "name": "Jane Doe"},
  "publisher": {
    "@type": "Organization",
    "logo": {"@type": "ImageObject", "url": "https://example.net/logo.png"}
  }
}""",
    # A consent manager's callback.
    "consent-callback": """function OptanonWrapper() {
  if (OnetrustActiveGroups.indexOf(\u2018C0004\u2019) > -1) {
    loadAds();
    OneTrust.OnConsentChanged(function () {
      location.reload();
    });
  }
}""",
    # An unknown loader, minified on one line.
    "minified": '_linkedin_partner_id="{pixel}";window._linkedin_data_partner_ids=window._linkedin_data_partner_ids||[];'
    "window._linkedin_data_partner_ids.push(_linkedin_partner_id);",
}
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


def pick_leaks(rng: random.Random) -> list[str]:
    """Two leak shapes for one page, with a fresh id in each."""
    names = rng.sample(sorted(LEAK_SHAPES), 2)
    return [LEAK_SHAPES[name].replace("{pixel}", str(rng.randrange(10**12))) for name in names]


def code_lines(leaks: list[str]) -> list[str]:
    """The lines of the leaks, whitespace collapsed: what must not be in the output."""
    return [" ".join(line.split()) for leak in leaks for line in leak.split("\n") if line.strip()]


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


def farm_page(article: dict, rng: random.Random, leaks: list[str]) -> str:
    """One content-farm page around the article's clean paragraphs, ``leaks`` leaked as text."""
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
    # The theme's leaks: one as a paragraph of <br> lines, one as a paragraph a line.
    escaped_leaks = [
        [html.escape(line, quote=False) for line in leak.split("\n")] for leak in leaks
    ]
    body.insert(rng.randrange(len(body) + 1), "<p>" + "<br>\n".join(escaped_leaks[0]) + "</p>")
    body.insert(
        rng.randrange(len(body) + 1), "".join(f"<p>{line}</p>" for line in escaped_leaks[1])
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


def farm_dump(article: dict, rng: random.Random, leaks: list[str]) -> str:
    """The article as a crawler's text dump of a farm page: one paragraph a line, junk leaked
    (``leaks`` too: the first with its indentation, the second flush left)."""
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
    leak_blocks = [leaks[0], "\n".join(line.strip() for line in leaks[1].split("\n"))]
    for block in leak_blocks:
        lines.insert(rng.randrange(3, len(lines) + 1), block)
    lines += [rng.choice(CREDITS), "Share this:", "Twitter", "Facebook", "Like this:", "Like Loading...",
              rng.choice(["Related", "Associated"]), *RELATED, *rng.choice(TRAILERS), "%d bloggers like this:"]  # fmt: skip
    return "\n".join(lines) + "\n"


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", flatten(text)) if len(s) > 20]


def leaked_lines_left(output: str, leaks: list[str]) -> int:
    """Lines of the multi-line leaks still in the output: as a whole line, or (long ones) anywhere."""
    output_lines = {" ".join(line.split()) for line in output.split("\n")}
    flat = flatten(output)
    return sum(
        1
        for line in code_lines(leaks)
        if line in output_lines or (len(line) >= 15 and line in flat)
    )


def score(output: str, article: dict, leaks: list[str]) -> tuple[float, bool, bool, int]:
    """(body recall, any junk left, repeated title left, leak lines left) for one output text."""
    flat = flatten(output)
    wanted = sentences(article["text"])
    recall = sum(1 for s in wanted if s in flat) / len(wanted) if wanted else 1.0
    left = leaked_lines_left(output, leaks)
    junk = left > 0 or any(marker in output for marker in JUNK_MARKERS)
    variant = spun_title(article["title"])
    repeated = variant != article["title"] and variant in output
    return recall, junk, repeated, left


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
    from unspin.bench.spinner import spin
    from unspin.extraction import article as extraction
    from unspin.resources.dictionary import SpinnerDictionary
    from unspin.resources.lexical import load_builtin

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
    page_leaks = [pick_leaks(rng) for _ in articles]
    pages = [
        farm_page(article, rng, leaks) for article, leaks in zip(articles, page_leaks, strict=True)
    ]

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
    from unspin.extraction import article as extraction

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

    dump_leaks = [pick_leaks(rng) for _ in articles]
    dumps = [
        farm_dump(article, rng, leaks) for article, leaks in zip(articles, dump_leaks, strict=True)
    ]
    leak_total = sum(len(code_lines(leaks)) for leaks in page_leaks)
    dump_leak_total = sum(len(code_lines(leaks)) for leaks in dump_leaks)
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
        "| method | ms/page (median round) | time vs trafilatura same options | body recall | pages with junk left | leaked code lines left | pages with repeated title |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in methods:
        per_page = statistics.median(times[name]) / len(pages) * 1000
        scored = [
            score(text, article, leaks)
            for text, article, leaks in zip(outputs[name], articles, page_leaks, strict=True)
        ]
        recall = statistics.mean(s[0] for s in scored)
        junk = sum(s[1] for s in scored) / len(scored)
        repeated = sum(s[2] for s in scored) / len(scored)
        lines_left = sum(s[3] for s in scored)
        ratio = statistics.median(times[name]) / statistics.median(times[baseline])
        results[name] = {
            "ms_per_page": per_page,
            "ratio": ratio,
            "recall": recall,
            "junk": junk,
            "leak_lines_left": lines_left,
            "leak_lines": leak_total,
            "repeated_title": repeated,
        }
        print(
            f"| {name} | {per_page:.1f} | {ratio:.2f}x | {recall:.3f} | {junk:.0%} | "
            f"{lines_left} of {leak_total} | {repeated:.0%} |"
        )
    total_kb = sum(len(dump) for dump in dumps) / 1000
    print(f"\n{len(dumps)} text dumps (mean {total_kb / len(dumps):.1f} kB)\n")
    print(
        "| method | ms/dump (median round) | kB/s | body recall | dumps with junk left | leaked code lines left | dumps with repeated title |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in dump_methods:
        seconds = statistics.median(dump_times[name])
        scored = [
            score(text, article, leaks)
            for text, article, leaks in zip(dump_outputs[name], articles, dump_leaks, strict=True)
        ]
        recall = statistics.mean(s[0] for s in scored)
        junk = sum(s[1] for s in scored) / len(scored)
        repeated = sum(s[2] for s in scored) / len(scored)
        lines_left = sum(s[3] for s in scored)
        speed = total_kb / seconds if seconds else float("inf")
        results[name] = {
            "ms_per_doc": seconds / len(dumps) * 1000,
            "kb_per_s": speed,
            "recall": recall,
            "junk": junk,
            "leak_lines_left": lines_left,
            "leak_lines": dump_leak_total,
            "repeated_title": repeated,
        }
        print(
            f"| {name} | {seconds / len(dumps) * 1000:.2f} | {speed:,.0f} | {recall:.3f} | {junk:.0%} | "
            f"{lines_left} of {dump_leak_total} | {repeated:.0%} |"
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
