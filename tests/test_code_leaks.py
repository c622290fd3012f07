"""Leaked code blocks of any shape are removed whole; prose that mentions code is kept (issue 12)."""

from __future__ import annotations

import pytest

from unspin.extraction import clean_text, extract

ARTICLE = [
    "Hundreds of residents fled their homes on Tuesday as a storm battered the coast.",
    "The mayor said that emergency shelters had been opened in three schools.",
    "Forecasters expect the wind to ease by Thursday, according to the weather service.",
]

# The real page of issue 12, as closely as known: a Facebook pixel loader one statement a
# line, inside a consent-manager check, quotes curled by the CMS, the opening brace of the
# loader on a line of its own (the shape that split `if (!f._fbq) f._fbq = n;` in two).
PIXEL_IN_CONSENT = """\
window.addEventListener(\u2018CookiebotOnAccept\u2019, function (e) {
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
    fbq(\u2018init\u2019, \u2018123456789012345\u2019);
    fbq(\u2018track\u2019, \u2018PageView\u2019);
  }
}, false);"""

GOOGLE_TAG_MANAGER = """\
(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-AB12CD3');"""

INLINE_CSS = """\
.entry-content p { margin: 0 0 1.5em; }
#cookie-notice {
  position: fixed;
  bottom: 0;
  background: #222;
  color: #fff;
  font-family: Georgia, serif;
}
@media (max-width: 600px) {
  .site-title { font-size: 18px; }
}"""

JSON_LD = """\
{
  \u201c@context\u201d: \u201chttps://schema.org\u201d,
  "@type": "NewsArticle",
  "headline": "Storm batters coastal villages as hundreds flee",
  "datePublished": "2024-03-01T08:00:00+00:00",
  "author": {"@type": "Person", "name": "Jane Doe"},
  "publisher": {
    "@type": "Organization",
    "name": "The Daily Headlines Hub"
  }
}"""

CONSENT_CALLBACK = """\
function OptanonWrapper() {
  if (OnetrustActiveGroups.indexOf(\u2018C0004\u2019) > -1) {
    loadAds();
    OneTrust.OnConsentChanged(function () {
      location.reload();
    });
  }
}"""

MINIFIED = [
    # Unknown loaders: no fbq, gtag or dataLayer to recognise them by.
    '_linkedin_partner_id="4312";window._linkedin_data_partner_ids=window._linkedin_data_partner_ids||[];'
    "window._linkedin_data_partner_ids.push(_linkedin_partner_id);",
    'var _0x3f=["load","script"];self[_0x3f[0]]=function(){var s=self.document.createElement(_0x3f[1]);'
    's.src="//cdn.adnet.example/a.js";self.document.head.appendChild(s)};',
    "(function(h,o,t,j,a,r){h.hj=h.hj||function(){(h.hj.q=h.hj.q||[]).push(arguments)};"
    "h._hjSettings={hjid:1234,hjsv:6};a=o.getElementsByTagName('head')[0];})"
    "(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');",
]

LEAKS = {
    "pixel-in-consent-check": PIXEL_IN_CONSENT,
    "pixel-flush-left": "\n".join(line.strip() for line in PIXEL_IN_CONSENT.split("\n")),
    "google-tag-manager": GOOGLE_TAG_MANAGER,
    "inline-css": INLINE_CSS,
    "json-ld": JSON_LD,
    "consent-callback": CONSENT_CALLBACK,
    **{f"minified-{number}": code for number, code in enumerate(MINIFIED)},
}


def code_lines(code: str) -> list[str]:
    return [" ".join(line.split()) for line in code.split("\n") if line.strip()]


def assert_only_article_left(output: str, code: str) -> None:
    lines = [" ".join(line.split()) for line in output.split("\n") if line.strip()]
    assert lines == ARTICLE
    for line in code_lines(code):
        assert line not in output


@pytest.mark.parametrize("name", list(LEAKS))
@pytest.mark.parametrize("where", [1, 3])  # inside the article, and at its end
@pytest.mark.parametrize("separator", ["\n", "\n\n"])  # one paragraph a line, or blank lines
def test_code_leak_in_a_text_dump_is_removed_whole(name, where, separator):
    code = LEAKS[name]
    text = separator.join([*ARTICLE[:where], code, *ARTICLE[where:]]) + "\n"
    cleaned = clean_text(text)
    assert_only_article_left(cleaned.text, code)
    assert {item.kind for item in cleaned.removed} <= {"script", "tracking"}
    assert cleaned.removed, name


def test_the_real_pixel_is_recorded_as_one_tracking_block():
    cleaned = clean_text("\n".join([*ARTICLE, PIXEL_IN_CONSENT]))
    assert [item.kind for item in cleaned.removed] == ["tracking"]
    assert " ".join(cleaned.removed[0].text.split()) == " ".join(PIXEL_IN_CONSENT.split())


def test_member_name_is_not_cut_as_a_statement_start():
    """``if (!f._fbq) f._fbq = n;`` used to be cut after ``f.``, splitting the line in two."""
    cleaned = clean_text("\n".join([ARTICLE[0], "if (!f._fbq) f._fbq = n;", ARTICLE[1]]))
    assert "if (!f." not in cleaned.text
    assert cleaned.paragraphs == ARTICLE[:2]


@pytest.mark.parametrize(
    "name", ["pixel-in-consent-check", "inline-css", "json-ld", "consent-callback", "minified-0"]
)
@pytest.mark.parametrize("markup", ["br", "p"])
def test_code_leak_in_an_html_page_is_removed_whole(name, markup):
    """A theme leaking code as text: one <p> with <br> lines, or one <p> a line."""
    import html

    code = LEAKS[name]
    escaped = [html.escape(line) for line in code.split("\n")]
    leak = (
        "<p>" + "<br>\n".join(escaped) + "</p>"
        if markup == "br"
        else "".join(f"<p>{line}</p>" for line in escaped)
    )
    body = "".join(f"<p>{sentence}</p>" for sentence in ARTICLE[:2]) + leak
    page = (
        "<html><head><title>Storm batters coastal villages</title></head><body><article>"
        f"<h1>Storm batters coastal villages</h1>{body}<p>{ARTICLE[2]}</p></article></body></html>"
    )
    article = extract(page)
    assert_only_article_left(article.text, code)


PROSE_ABOUT_CODE = [
    "To find an element, developers call document.getElementById(\u2018main\u2019) and check the result.",
    "If nothing matches, the function returns null; callers must handle that case.",
    "The tutorial's first example, x = compute(a, b);, prints nothing at all.",
    "Then call list.sort();",
    "Use Array.map() instead.",
    "He wrote \u201cif (ready) { start(); }\u201d on the whiteboard and left the room.",
    "Setting x = 1; then y = 2; gives the wrong total, the report said.",
    "The bug (in version 2.0) was fixed on Friday [citation needed].",
    "The site, example.com, went offline at 9 a.m. on Monday.",
    "Q: What changed? A: The parser now handles (parentheses) and [brackets]; nothing else.",
    "Score: 3-1 (Smith 12', 45'; Jones 80').",
    "((WN)) [Nods].",
    "f(x) = x^2 + 1",
    "g(x) = 2x - f(x)",
    "E = mc2",
]


@pytest.mark.parametrize("separator", ["\n", "\n\n"])
def test_prose_that_mentions_code_passes_through_unchanged(separator):
    text = separator.join([ARTICLE[0], *PROSE_ABOUT_CODE, ARTICLE[1]])
    cleaned = clean_text(text)
    assert cleaned.removed == []
    assert " ".join(cleaned.text.split()) == " ".join(text.split())


def test_wikinews_articles_have_no_code_lines(wikinews_articles):
    for record in wikinews_articles:
        cleaned = clean_text(record["text"])
        assert not [item for item in cleaned.removed if item.kind in ("script", "tracking")]
        full = (cleaned.title + "\n\n" if cleaned.title else "") + cleaned.text
        assert " ".join(full.split()) == " ".join(record["text"].split()), record["id"]
