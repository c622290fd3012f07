"""Extraction: trafilatura on HTML, and the text cleaner on what content farms leak."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unspin.extraction import Article, ExtractionError, clean_text, extract
from unspin.extraction.inputs import Document

ORIGINAL_TITLE = "Deputy Foreign Minister says US positions came as no surprise"
SPUN_TITLE = "Deputy International Minister says US positions got here as no shock"
BODY = [
    "The deputy International Minister mentioned the US positions got here as no shock, in line with state media.",
    "He added that the navy hardware would be moved to the border region within days.",
    "The Secretary Common of the organisation made a statement on Tuesday.",
]
FB_PIXEL = (
    "!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?"
    "n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;"
    "n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;"
    "t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window, document,"
    "'script','https://connect.facebook.net/en_US/fbevents.js'); fbq('init', '1234567890'); "
    "fbq('track', 'PageView');"
)
LISTENER = """document.addEventListener("DOMContentLoaded", function() {
  var share = document.querySelector(".share-buttons");
  if (share) { share.style.display = "none"; }
});"""


def curl(code: str) -> str:
    """What WordPress' texturize does to quotes in post text."""
    code = re.sub(r"'([^']*)'", "\u2018\\1\u2019", code)
    return re.sub(r'"([^"]*)"', "\u201c\\1\u201d", code)


def dump(*parts: str) -> str:
    return "\n".join(parts) + "\n"


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def is_subsequence(small: str, big: str) -> bool:
    remaining = iter(big)
    return all(char in remaining for char in small)


def normalised(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- text dumps


@pytest.mark.parametrize("quotes", ["straight", "curly"])
def test_text_dump_with_leaked_code_trailer_credit_and_titles(quotes):
    pixel, listener = (
        (FB_PIXEL, LISTENER) if quotes == "straight" else (curl(FB_PIXEL), curl(LISTENER))
    )
    page = dump(
        ORIGINAL_TITLE,
        SPUN_TITLE,
        pixel,
        BODY[0],
        listener,
        BODY[1],
        BODY[2],
        "Supply hyperlink",
        "Share this:",
        "Twitter",
        "Facebook",
        "Like this:",
        "Like Loading...",
        "Leave a Reply Cancel reply",
        "Your email address will not be published. Required fields are marked *",
        "Comment *",
        "Name *",
        "Email *",
        "Website",
        "Save my name, email, and website in this browser for the next time I comment.",
        "Δ",
        "%d bloggers like this:",
    )
    article = extract(page)
    assert article.format == "text"
    assert article.title == ORIGINAL_TITLE
    assert article.title_variants == [SPUN_TITLE]
    assert article.paragraphs == BODY
    assert article.full_text == "\n\n".join([ORIGINAL_TITLE, *BODY])
    kinds = {item.kind for item in article.removed}
    assert {"tracking", "script", "credit", "share", "trailer", "duplicate-title"} <= kinds
    tracking = [item.text for item in article.removed if item.kind == "tracking"]
    assert tracking == [pixel.strip()]
    assert [item.text for item in article.removed if item.kind == "script"] == [listener]
    assert "Website" in next(item.text for item in article.removed if item.kind == "trailer")


@pytest.mark.parametrize(
    "credit",
    [
        "Source link",
        "Supply hyperlink",
        "Supply link",
        "Source hyperlink",
        "Source",
        "Source:",
        "Supply: Reuters",
        "Read the original article.",
        "Learn the unique article here.",
        "This article was originally published on The Conversation.",
    ],
)
def test_credit_lines_and_their_spun_forms(credit):
    article = extract(dump(*BODY, credit))
    assert article.paragraphs == BODY
    assert [(item.kind, item.text) for item in article.removed] == [("credit", credit)]


def test_wordpress_feed_credit_spun():
    line = "The put up Quake hits town appeared first on Daily Information Farm."
    article = extract(dump(*BODY, line))
    assert article.paragraphs == BODY and article.removed[0].kind == "credit"


def test_share_cookie_and_newsletter_widgets():
    page = dump(
        BODY[0],
        "We use cookies to ensure that we give you the best experience on our website.",
        "Accept",
        "Reject all",
        BODY[1],
        "Subscribe to our daily newsletter",
        "Enter your email address",
        "Subscribe",
        "Click to share on Twitter (Opens in new window)",
        "Facebook | Twitter | WhatsApp",
        BODY[2],
    )
    article = extract(page)
    assert article.paragraphs == BODY
    assert [item.kind for item in article.removed] == [
        "cookie", "cookie", "cookie", "newsletter", "newsletter", "newsletter", "share", "share",
    ]  # fmt: skip


def test_spintax_is_repaired_and_recorded():
    article = extract("The navy {hardware} was sent to the {border|frontier|boundary} on {Monday}.")
    assert article.text == "The navy hardware was sent to the border on Monday."
    assert [(item.kind, item.text) for item in article.removed] == [
        ("spintax", "{hardware}"),
        ("spintax", "{border|frontier|boundary}"),
        ("spintax", "{Monday}"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "the {{w|neuroplasticity|plasticity}} of the brain",
        "the {w|neuroplasticity|plasticity}} of the brain",  # a broken wiki template in wikinews/0222
        r"a formula \emph{word} in LaTeX",
        "a template ${name} here",
    ],
)
def test_template_braces_are_not_spintax(text):
    assert clean_text(text).text == text


def test_title_with_different_numbers_is_not_a_duplicate():
    # wikinews/0166 opens with a list of parties: similar lines, different numbers.
    page = "██ Conservative Party - 365 seats\n\n██ Labour Party - 203 seats\n\nThe election was held on Thursday."
    cleaned = clean_text(page)
    assert cleaned.title == "██ Conservative Party - 365 seats"
    assert cleaned.paragraphs == [
        "██ Labour Party - 203 seats",
        "The election was held on Thursday.",
    ]
    assert cleaned.removed == []


def test_exact_repeated_title_is_removed_without_variant():
    cleaned = clean_text(dump(ORIGINAL_TITLE, ORIGINAL_TITLE, *BODY))
    assert cleaned.title == ORIGINAL_TITLE and cleaned.title_variants == []
    assert cleaned.paragraphs == BODY
    assert [item.kind for item in cleaned.removed] == ["duplicate-title"]


def test_first_line_of_a_wrapped_paragraph_is_not_a_title():
    page = "At 4:42 local time on Saturday an earthquake\nstruck the province, officials said.\n\nSecond paragraph here."
    cleaned = clean_text(page)
    assert cleaned.title == ""
    assert normalised(cleaned.text) == normalised(page)


def test_trailer_marker_before_a_long_article_does_not_cut_the_article():
    page = dump("Leave a Reply", *BODY, *BODY)
    article = extract(page)
    assert normalised(article.full_text) == normalised("\n".join(["Leave a Reply", *BODY, *BODY]))
    assert article.removed == []


def test_related_posts_after_the_article_are_cut():
    page = dump(*BODY, "Related", "Storm hits town", "Minister resigns after vote")
    article = extract(page)
    assert article.paragraphs == BODY
    assert article.removed[0].kind == "trailer"
    assert article.removed[0].text == "Related\nStorm hits town\nMinister resigns after vote"


@pytest.mark.parametrize(
    "prose",
    [
        "He looked out of the window. Location data showed the car nearby.",
        "The site www.bbc.co.uk (BBC) reported it first.",
        "Dr. Who (BBC)",
        "Mr.Smith said the function of the office had changed; it was new.",
        "A survey asked whether people accept cookies, and most said they did not read the banner at all before clicking.",
        "Source: the police said that three people were hurt in the crash on Monday.",
        "Related stories were published by the agency on Friday, the minister said.",
        "var is not a word that appears in news, but x = 1 sometimes does.",
        "Filed under seal, the documents were released.",
        "Read more about the case in the report.",
        "See the full report at the agency website.",
        "The paper's daily newsletter reported the story first, on Monday morning.",
        "Browsers expose the document.cookie property so that sites can store data.",
        "In 2006 the jQuery (a library) was released by John Resig in New York.",
    ],
)
def test_prose_that_resembles_junk_is_kept(prose):
    article = extract(dump(*BODY, prose))
    assert normalised(article.full_text) == normalised("\n".join([*BODY, prose]))
    assert article.removed == []


def test_code_inline_with_prose_is_cut_out_and_prose_kept():
    line = "Officials confirmed the news. fbq('track', 'PageView'); Officials (from the ministry) said more."
    cleaned = clean_text(line)
    assert cleaned.text == "Officials confirmed the news. Officials (from the ministry) said more."
    assert [(item.kind, item.text) for item in cleaned.removed] == [
        ("tracking", "fbq('track', 'PageView');")
    ]


def test_leaked_script_elements_and_gtag():
    page = dump(
        BODY[0],
        '<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>',
        "<script>",
        "  window.dataLayer = window.dataLayer || [];",
        "  function gtag(){dataLayer.push(arguments);}",
        "  gtag('js', new Date());",
        "</script>",
        BODY[1],
        "var _gaq = _gaq || []; _gaq.push(['_setAccount', 'UA-1']);",
        "(adsbygoogle = window.adsbygoogle || []).push({});",
        BODY[2],
    )
    article = extract(page, format="text")
    assert article.paragraphs == BODY
    assert {item.kind for item in article.removed} == {"tracking"}


def test_unbalanced_code_removes_only_its_own_line():
    page = dump("fbq('init', '123'", *BODY)
    cleaned = clean_text(page)
    assert cleaned.paragraphs == BODY


# --------------------------------------------------------------------------- HTML

FARM_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{SPUN_TITLE} – Daily Information Farm</title>
<meta property="og:title" content="{SPUN_TITLE}">
<script>{FB_PIXEL}</script>
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/politics">Politics</a></nav>
<article>
<h1>{ORIGINAL_TITLE}</h1>
<h1>{SPUN_TITLE}</h1>
<p>{curl(FB_PIXEL)}</p>
{"".join(f"<p>{paragraph}</p>" for paragraph in BODY)}
<p>Supply hyperlink</p>
<div class="sharedaddy"><h3>Share this:</h3><ul><li><a href="#">Twitter</a></li><li><a href="#">Facebook</a></li></ul></div>
</article>
<div id="respond"><h3>Leave a Reply <small>Cancel reply</small></h3>
<form><p>Your email address will not be published. Required fields are marked *</p>
<p><label>Comment *</label><textarea></textarea></p></form></div>
<footer><p>Copyright © 2024 Daily Information Farm. All rights reserved.</p></footer>
</body></html>"""


def test_html_content_farm_page():
    article = extract(FARM_PAGE)
    assert article.format == "html"
    assert article.title == ORIGINAL_TITLE
    assert article.title_variants == [SPUN_TITLE]
    assert article.paragraphs == BODY
    assert {"tracking", "credit", "duplicate-title"} <= {item.kind for item in article.removed}


def test_html_bytes_of_another_encoding_and_a_document():
    page = "<html><head><title>Café news</title></head><body><p>Le café était fermé à midi, a dit le maire.</p></body></html>"
    article = extract(page.encode("cp1252"))
    assert "café était fermé à midi" in article.text
    document = Document("d1", page, "html", "file", "page.html", {"url": "https://x/page"})
    article = extract(document)
    assert (article.id, article.source, article.meta["url"]) == (
        "d1",
        "page.html",
        "https://x/page",
    )


def test_format_can_be_forced():
    html = "<p>one paragraph here</p><p>two</p><div>three</div>"
    assert extract(html, format="text").text == html
    assert extract(html, format="html").format == "html"
    with pytest.raises(ExtractionError):
        extract(html, format="pdf")


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("", "empty document"),
        ("   \n\t ", "empty document"),
        (b"\x00\x01\x02\x03binary\x00" * 100, "binary data, not text or HTML"),
        ("<div>" * 5000 + "<p>Deep.</p>" + "</div>" * 5000, "no article text found in the HTML"),
        ("Source link\nShare this:\n", "no article text found (everything matched: credit, share)"),
    ],
)
def test_unusable_input_raises_one_line_extraction_error(page, message):
    with pytest.raises(ExtractionError) as caught:
        extract(page)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_article_dict_schema():
    article = Article("x", "T", ["T2"], "a\n\nb", [], "text", {"url": "u"})
    assert article.to_dict() == {
        "id": "x",
        "title": "T",
        "title_variants": ["T2"],
        "text": "a\n\nb",
        "removed": [],
        "format": "text",
        "meta": {"url": "u"},
    }
    assert article.full_text == "T\n\na\n\nb"
    assert Article(None, "", [], "a", [], "text").full_text == "a"


# --------------------------------------------------------------------------- properties

JUNK_PIECES = [
    "fbq(", "fbq('track', 'PageView');", "!function(f,b,e,v,n,t,s){", "}", "{", ")", "(", ";", "|",
    "{a|b}", "{word}", "‘", "’", "“", "”", '"', "'", "\n", "\n\n", " ", "Leave a Reply\n", "Source link\n",
    "Supply hyperlink\n", "document.addEventListener(", "var x = ", "<script>", "</script>", "<!--", "-->",
    "Share this:\n", "We use cookies to improve this site.\n", "Related\n", "%d bloggers like this:\n",
    "window.a = 1;", "if (x) {", "//", "/*", "Δ", "\\", "\r\n",
    "n.callMethod ?\n", "}(window, document, ‘script’,\n", "font-size: 18px;\n", '"@type": "NewsArticle",\n',
    "if (!f._fbq) f._fbq = n;\n",
]  # fmt: skip
junk_text = st.lists(st.sampled_from(JUNK_PIECES) | st.text(max_size=20), max_size=40).map("".join)

WORDS = [
    "the",
    "minister",
    "said",
    "officials",
    "police",
    "city",
    "government",
    "report",
    "people",
    "year",
    "source",
    "share",
    "reply",
    "comment",
    "cookies",
    "email",
    "function",
    "document",
    "window",
    "link",
    "related",
    "like",
    "new",
    "local",
    "national",
    "court",
    "agency",
    "would",
    "could",
    "after",
    "before",
    "during",
    "market",
    "price",
    "company",
    "election",
    "vote",
    "party",
    "leader",
]
sentence = st.lists(st.sampled_from(WORDS), min_size=4, max_size=14).map(
    lambda words: " ".join(words).capitalize() + "."
)
paragraph = st.lists(sentence, min_size=1, max_size=4).map(" ".join)
prose = st.tuples(st.lists(paragraph, min_size=1, max_size=6), st.sampled_from(["\n\n", "\n"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text() | junk_text)
def test_cleaner_never_raises_and_never_adds_text(text):
    cleaned = clean_text(text)
    output = (cleaned.title + "\n\n" if cleaned.title else "") + cleaned.text
    # "Never adds text": with all whitespace removed, the output is a subsequence of the input.
    assert is_subsequence(compact(output), compact(text))
    for variant in cleaned.title_variants:
        assert is_subsequence(compact(variant), compact(text))


@settings(max_examples=200, deadline=None)
@given(prose)
def test_cleaner_keeps_every_sentence_of_clean_prose(generated):
    paragraphs, separator = generated
    text = separator.join(paragraphs)
    cleaned = clean_text(text)
    assert cleaned.removed == []
    assert normalised(cleaned.text) == normalised(text)


def test_cleaner_keeps_every_sentence_of_wikinews_articles(wikinews_articles):
    for record in wikinews_articles:
        for text in (record["text"], record["title"] + "\n\n" + record["text"]):
            cleaned = clean_text(text)
            full = normalised((cleaned.title + "\n\n" if cleaned.title else "") + cleaned.text)
            assert full == normalised(text), record["id"]
            assert all(item.kind != "spintax" for item in cleaned.removed), record["id"]


# --------------------------------------------------------------------------- bundled examples

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("name", ["spun-page.html", "spun-dump.txt"])
def test_bundled_examples_yield_the_spun_article_of_the_original(name):
    original = (
        (EXAMPLES / "spun-page.original.txt").read_text(encoding="utf-8").strip().split("\n\n")
    )
    article = extract((EXAMPLES / name).read_bytes(), id=name)
    assert article.title == original[0]
    assert article.title_variants == ["Earthquake injures 25 individuals in southern Philippines"]
    assert len(article.paragraphs) == len(original) - 1
    for spun, source in zip(article.paragraphs, original[1:], strict=True):
        # Spinning swaps about one word in six: the paragraphs still pair up in order.
        spun_words, source_words = set(spun.lower().split()), set(source.lower().split())
        assert len(spun_words & source_words) >= 0.6 * len(source_words)
    kinds = {item.kind for item in article.removed}
    assert {"tracking", "spintax", "duplicate-title"} <= kinds
    assert "fbq" not in article.full_text and "{" not in article.full_text


def test_title_field_of_a_jsonl_record_is_the_known_title():
    document = Document(
        "w1", "\n\n".join(BODY), "text", "jsonl", "docs.jsonl:1", {"title": ORIGINAL_TITLE}
    )
    article = extract(document)
    assert article.title == ORIGINAL_TITLE and article.paragraphs == BODY
    repeated = Document(
        "w2",
        "\n\n".join([SPUN_TITLE, *BODY]),
        "text",
        "jsonl",
        "docs.jsonl:2",
        {"title": ORIGINAL_TITLE},
    )
    article = extract(repeated)
    assert (article.title, article.title_variants, article.paragraphs) == (
        SPUN_TITLE,
        [ORIGINAL_TITLE],
        BODY,
    )


def test_spun_comment_form_and_related_block_are_cut():
    page = dump(
        *BODY,
        "Associated",
        "Storm batters coastal villages",
        "Go away a Reply Cancel reply",
        "Your e mail handle won't be printed. Required fields are marked *",
        "Remark *",
        "Identify *",
        "Save my identify, e mail, and web site on this browser for the following time I remark.",
    )
    article = extract(page)
    assert article.paragraphs == BODY
    assert [item.kind for item in article.removed] == ["trailer"]
    assert article.removed[0].text.startswith("Associated\nStorm batters") and article.removed[
        0
    ].text.endswith("remark.")


def test_spun_form_lines_are_recognised_without_a_marker():
    page = dump(
        *BODY, "Your e mail handle won't be printed. Required fields are marked *", "Identify *"
    )
    article = extract(page)
    assert article.paragraphs == BODY and [item.kind for item in article.removed] == [
        "trailer",
        "trailer",
    ]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        # Widget sentences spun with a thesaurus the patterns were not written for (Moby).
        ("Your email marksmanship will not be broke the news.", "trailer"),
        (
            "Befriend my nickname, email, and website in this browser for the next spell I critique.",
            "trailer",
        ),
        (
            "We second nature cookies to assure that we donate you the outdo sense on our website.",
            "cookie",
        ),
        (
            "Enter your email address to undersign to this blog and take in notifications of new posts by email.",
            "newsletter",
        ),
    ],
)
def test_spun_widget_sentences_keep_their_skeleton(line, kind):
    article = extract(dump(*BODY, line))
    assert article.paragraphs == BODY
    assert [(item.kind, item.text) for item in article.removed] == [(kind, line)]


@pytest.mark.parametrize(
    "prose",
    [
        "Your letter will not be published in the paper, the editor said.",
        "The website said the results will not be published until Monday, officials said.",
        "Investigators said the email was sent from a browser in the capital on the next day.",
        "The company said it uses cookies to track visitors, which regulators say breaks the law.",
    ],
)
def test_prose_with_widget_words_is_kept(prose):
    article = extract(dump(*BODY, prose))
    assert article.removed == [] and article.paragraphs == [*BODY, prose]
