"""The page end to end in real headless Chromium (Debian's, driven by Playwright).

A real uvicorn server on 127.0.0.1 with the real n-gram engine and a real SQLite source index;
the browser submits spun articles and hostile pages the way a person would.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
sync_api = pytest.importorskip("playwright.sync_api")

from unspin.server.app import create_app, running_server  # noqa: E402

CHROMIUM = Path(os.environ.get("UNSPIN_CHROMIUM", "/usr/bin/chromium"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set UNSPIN_CHROMIUM)",
    ),
]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SPUN_TEXT = (
    "Counterfeit consciousness helps the deputy International Minister\n\n"
    "The deputy International Minister mentioned the US positions got here as no shock. "
    "The Secretary Common said the navy {hardware} would be moved next month, and that "
    "counterfeit consciousness and profound learning were used to plan the route.\n\n"
    "Officials said the committee would meet again on Tuesday in the capital to review "
    "the plan and its costs."
)
ORIGINAL_TITLE = "Artificial intelligence helps the deputy Foreign Minister"
ORIGINAL_BODY = (
    "The deputy Foreign Minister said the US positions came as no surprise. "
    "The Secretary General said the navy hardware would be moved next month, and that "
    "artificial intelligence and deep learning were used to plan the route.\n\n"
    "Officials said the committee would meet again on Tuesday in the capital to review "
    "the plan and its costs."
)

HOSTILE_TEXT = (
    "The minister mentioned the plan <script>alert(1)</script> got here late.\n\n"
    'A picture <img src=x onerror="alert(2)"> was attached and <svg onload=alert(3)> too.'
)

HOSTILE_HTML = """<!doctype html>
<html><head><title>Deputy International Minister <script>alert('title')</script></title>
<script>alert('head')</script></head>
<body onload="alert('body')">
<article>
<h1>Deputy International Minister mentioned the talks</h1>
<p>The deputy International Minister mentioned the US positions got here as no shock.</p>
<p>A photo <img src="x" onerror="alert('img')"> and a frame <iframe src="javascript:alert('frame')"></iframe>.</p>
<p>Details <a href="javascript:alert('link')">here</a> &lt;script&gt;alert('escaped')&lt;/script&gt; and
<svg onload="alert('svg')"><circle r="4"/></svg> more text about the meeting.</p>
<script>alert('body script')</script>
</article></body></html>"""


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def engine():
    from unspin.engine import Engine

    return Engine(model=None)


@pytest.fixture(scope="module")
def server(tmp_path_factory, engine):
    from unspin.tracing.index import SourceIndex

    originals = [
        {
            "id": "hand/original",
            "title": ORIGINAL_TITLE,
            "text": ORIGINAL_BODY,
            "url": "https://example.org/original",
        }
    ]
    example = EXAMPLES / "spun-page.original.txt"
    if example.is_file():
        title, body = example.read_text(encoding="utf-8").split("\n\n", 1)
        originals.append({"id": "wikinews/example", "title": title.strip(), "text": body.strip()})
    index_path = tmp_path_factory.mktemp("browser-index") / "sources.db"
    with SourceIndex(index_path) as index:
        index.add(originals)
    app = create_app(engine=engine, db=index_path)
    with running_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def small_server(engine):
    with running_server(create_app(engine=engine, max_body=2000)) as url:
        yield url


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


class Watched:
    """A page with every dialog and every request it makes recorded."""

    def __init__(self, context, server: str) -> None:
        self.page = context.new_page()
        self.server = server
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page.on("request", lambda request: self.requests.append(request.url))

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.server)]


@pytest.fixture
def watched(browser_context, server):
    watched = Watched(browser_context, server)
    watched.page.goto(server + "/")
    yield watched
    watched.page.close()


def _analyse_text(page, text: str, page_format: str = "text") -> None:
    page.fill("#page-input", text)
    page.select_option("#format-select", page_format)
    page.click("#analyze-button")
    page.wait_for_selector("#results:not([hidden])")
    page.wait_for_function("document.getElementById('status').textContent === 'Done.'")


def _visible_text(page, selector: str) -> str:
    """What a reader sees in an element: no tooltips, no struck-out words, no screen-reader text."""
    return page.evaluate(
        """(selector) => {
            const copy = document.querySelector(selector).cloneNode(true);
            copy.querySelectorAll('.tip, del, .sr-only').forEach((node) => node.remove());
            return copy.textContent;
        }""",
        selector,
    )


def test_spun_article_is_highlighted_with_tooltips_and_restored_view(watched, server):
    page = watched.page
    _analyse_text(page, SPUN_TEXT)
    expected = httpx.post(
        server + "/api/analyze", json={"text": SPUN_TEXT, "format": "text"}
    ).json()

    assert page.text_content("#score-value").endswith("%")
    marks = page.locator("#article-text mark")
    assert marks.count() == len(expected["detection"]["spans"]) > 0
    assert _visible_text(page, "#article-text") == expected["text"]
    first_span = sorted(expected["detection"]["spans"], key=lambda span: span["start"])[0]
    assert marks.first.text_content() == first_span["text"]
    classes = marks.first.get_attribute("class")
    assert any(level in classes for level in ("conf-high", "conf-medium", "conf-low"))

    # Focus shows the suggestion (the tooltip is tied to the mark by aria-describedby).
    tip_id = marks.first.get_attribute("aria-describedby")
    tip = page.locator(f"#{tip_id}")
    assert not tip.is_visible()
    marks.first.focus()
    assert tip.is_visible()
    assert "Suggested original" in tip.text_content()
    assert first_span["suggestion"] in tip.text_content()
    page.keyboard.press("Escape")
    assert not tip.is_visible()

    # Hover shows it too.
    page.mouse.move(0, 0)
    last = marks.last
    last_tip = page.locator("#" + last.get_attribute("aria-describedby"))
    last.hover()
    assert last_tip.is_visible()

    # The restored view: the toggle is a pressed button and changes are marked.
    toggle = page.locator("#toggle-restored")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.focus()
    page.keyboard.press("Space")
    assert toggle.get_attribute("aria-pressed") == "true"
    assert page.locator("#article-text ins").count() == len(expected["restoration"]["edits"])
    assert page.locator("#article-text del").count() >= 1
    assert _visible_text(page, "#article-text") == expected["restoration"]["text"]
    assert page.text_content("#article-heading") == "Article restored"
    page.keyboard.press("Space")
    assert toggle.get_attribute("aria-pressed") == "false"
    assert page.locator("#article-text mark").count() == marks.count()

    # The traced source beside the article, with aligned passages.
    assert page.locator("#source-panel").is_visible()
    assert ORIGINAL_TITLE in page.text_content("#source-panel")
    assert page.locator("#source-panel .passage").count() >= 1
    source_excerpts = " ".join(page.locator("#source-panel .source-excerpt").all_text_contents())
    assert "came as no surprise" in source_excerpts

    # Focusing a passage outlines the same stretch of the article (CSS Custom Highlight API).
    passage = expected["trace"]["matches"][0]["passages"][0]
    page.locator("#source-panel .passage").first.focus()
    outlined = page.evaluate(
        """() => {
            if (!CSS.highlights.has('passage')) return null;
            const contents = [...CSS.highlights.get('passage')][0].cloneContents();
            contents.querySelectorAll('.tip, .sr-only').forEach((node) => node.remove());
            return contents.textContent;
        }"""
    )
    assert outlined == expected["text"][passage["page_start"] : passage["page_end"]]
    page.locator("#toggle-restored").focus()
    assert page.evaluate("CSS.highlights.has('passage')") is False
    assert watched.dialogs == [] and watched.foreign_requests() == []


def test_keyboard_alone_reaches_every_control_and_phrase(watched):
    page = watched.page
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "page-input"
    page.keyboard.insert_text(SPUN_TEXT)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#results:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "results"
    page.keyboard.press("Tab")
    if page.evaluate("document.activeElement.id") == "removed-summary":
        page.keyboard.press("Enter")  # the list of removed boilerplate opens by keyboard
        assert page.locator("#removed-list").is_visible()
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "toggle-restored"
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "[document.activeElement.tagName, document.activeElement.getAttribute('aria-describedby')]"
    )
    assert focused[0] == "MARK"
    assert page.locator("#" + focused[1]).is_visible()


def test_pasted_markup_is_shown_as_text_and_never_runs(watched):
    page = watched.page
    _analyse_text(page, HOSTILE_TEXT)
    text = _visible_text(page, "#article-text")
    # (the cleaner drops the leaked <script> element as junk; the rest stays, as text)
    assert '<img src=x onerror="alert(2)">' in text
    assert "<svg onload=alert(3)>" in text
    assert page.locator("#results script, #results img, #results svg, #results iframe").count() == 0
    page.wait_for_timeout(300)
    assert watched.dialogs == []
    assert watched.foreign_requests() == []


def test_a_page_in_another_language_says_it_was_not_analysed(watched):
    # 17 of the 20 non-English pages of the article-extraction benchmark were judged spun.
    page = watched.page
    german = (
        "Die Regierung sagte am Montag, dass die neue Regelung im kommenden Jahr in Kraft "
        "treten soll. Viele Krankenhäuser haben noch keine elektronische Akte, und die Ärzte "
        "warten seit Jahren auf eine Lösung für dieses Problem."
    )
    _analyse_text(page, german)
    assert page.text_content("#verdict") == "no sign of spinning"
    assert "not analysed: the text is in 'de'" in page.text_content("#summary-details")
    assert page.locator("#article-text mark").count() == 0


def test_uploaded_hostile_page_opens_no_dialog(watched, tmp_path):
    page = watched.page
    hostile = tmp_path / "hostile.html"
    hostile.write_text(HOSTILE_HTML, encoding="utf-8")
    page.set_input_files("#file-input", str(hostile))
    page.click("#analyze-button")
    page.wait_for_selector("#results:not([hidden])")
    page.wait_for_timeout(300)
    assert "deputy International Minister" in _visible_text(page, "#article-text")
    dangerous = "#results script, #results img, #results svg, #results iframe, #results a"
    assert page.locator(dangerous).count() == 0
    # Also after switching views and focusing every highlighted phrase.
    page.click("#toggle-restored")
    for mark in page.locator("#article-text ins").all():
        mark.focus()
    page.click("#toggle-restored")
    for mark in page.locator("#article-text mark").all():
        mark.focus()
    page.wait_for_timeout(200)
    assert watched.dialogs == []
    assert watched.foreign_requests() == []


def test_bundled_content_farm_page_end_to_end(watched):
    """The example page: boilerplate removed and listed, both titles shown, spun phrases marked,
    and the Wikinews original found beside it."""
    page_file = EXAMPLES / "spun-page.html"
    if not page_file.is_file():
        pytest.skip("examples/spun-page.html not found")
    page = watched.page
    page.set_input_files("#file-input", str(page_file))
    page.click("#analyze-button")
    page.wait_for_selector("#results:not([hidden])")
    text = _visible_text(page, "#article-text")
    assert text.startswith("Earthquake injures 25 people in southern Philippines")
    assert "fbq(" not in text and "Leave a Reply" not in text
    assert page.locator("#title-variants").is_visible()
    assert "individuals" in page.text_content("#title-variants")
    page.click("#removed-details summary")
    kinds = page.locator("#removed-list .removed-kind").all_text_contents()
    assert "tracking" in kinds
    assert page.locator("#article-text mark").count() >= 3
    assert page.locator("#source-panel").is_visible()
    first_match = page.text_content("#source-panel .match h4")
    assert first_match == "1. Earthquake injures 25 people in southern Philippines"
    assert page.locator("#results script, #results img, #results iframe").count() == 0
    assert watched.dialogs == [] and watched.foreign_requests() == []


def test_server_limits_are_shown_as_readable_errors(browser_context, small_server):
    watched = Watched(browser_context, small_server)
    page = watched.page
    try:
        page.goto(small_server + "/")
        page.fill("#page-input", SPUN_TEXT * 10)
        page.click("#analyze-button")
        error = page.locator("#error")
        error.wait_for(state="visible")
        assert "larger than this server accepts" in error.text_content()
        assert page.locator("#results").is_hidden()
        assert not page.locator("#analyze-button").is_disabled()
    finally:
        page.close()


def test_empty_submission_shows_an_error(watched):
    page = watched.page
    page.click("#analyze-button")
    error = page.locator("#error")
    assert error.is_visible()
    assert "Paste some text" in error.text_content()
    assert page.get_attribute("#error", "role") == "alert"


@pytest.mark.parametrize(
    ("width", "height", "name"), [(1280, 900, "desktop"), (390, 844, "narrow")]
)
def test_layout_at_desktop_and_narrow_widths(watched, tmp_path, width, height, name):
    page = watched.page
    page.set_viewport_size({"width": width, "height": height})
    _analyse_text(page, SPUN_TEXT)
    article = page.locator("#article-panel").bounding_box()
    source = page.locator("#source-panel").bounding_box()
    if width >= 700:
        assert source["x"] > article["x"] + article["width"] - 1  # side by side
    else:
        assert source["y"] >= article["y"] + article["height"] - 1  # stacked
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"horizontal scrolling at {width}px"
    page.locator("#article-text mark").first.focus()
    shot = tmp_path / f"unspin-{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("UNSPIN_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
