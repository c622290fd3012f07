"""Extract the article from a page or a scraped text dump: title and body paragraphs.

HTML goes through trafilatura (the field's extractor; we do not write our own). What
trafilatura does not do is the job of :func:`clean_text`: content farms save pages as
text dumps, and the same junk leaks into HTML bodies -- tracking and script code
(``fbq(...)`` pixels, ``document.addEventListener`` handlers, also after a CMS curled
their quotes), CMS trailers ("Leave a Reply", "%d bloggers like this:"), credit lines
("Source link" and its spun forms "Supply hyperlink", "Supply link"), share, cookie
and newsletter widgets, a title repeated at the top (the original then the spun one:
both are kept, the pair is evidence) and spintax leftovers (``{hardware}``).

Removal is by recognisable patterns, and for code also by scoring each line for how much
it looks like code (runs of code-like lines go whole, whatever the snippet), never by
guessing that a short paragraph is junk, and every removal is recorded in
:attr:`Article.removed`. The cleaner only ever
deletes: with all whitespace dropped, its output is a subsequence of its input (the
property the hypothesis tests check).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from unspin.text import error_message

if TYPE_CHECKING:
    from unspin.extraction.inputs import Document, DocumentError

__all__ = [
    "Article",
    "CleanedText",
    "ExtractionError",
    "Removed",
    "clean_text",
    "extract",
    "iter_articles",
]

# Longest code block the scanner follows before giving up on finding its end.
_MAX_CODE_CHARS = 50_000
# Characters the code scanner may read per character of input, summed over all its
# scans: unclosed brackets on many lines would otherwise make it quadratic.
_SCAN_BUDGET_FACTOR = 4
# Longest line that a widget / trailer / credit line pattern may match: these are
# one-liners; a long paragraph that merely mentions cookies is body text.
_MAX_WIDGET_LINE = 400


class ExtractionError(ValueError):
    """Nothing usable could be extracted (binary, empty, no text in the page); one-line message."""


@dataclass
class Removed:
    """One piece of the page that is not the article, and why (``kind``)."""

    kind: str  # script, tracking, markup, trailer, credit, share, cookie, newsletter, duplicate-title, spintax
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


@dataclass
class Article:
    """The article of one page: title, body paragraphs, and what was removed to get there."""

    id: str | None
    title: str
    title_variants: list[str]
    text: str  # paragraphs separated by a blank line
    removed: list[Removed]
    format: str  # "html" | "text"
    meta: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # where the page came from (file, file:line, warc#record)

    @property
    def paragraphs(self) -> list[str]:
        return [part for part in self.text.split("\n\n") if part.strip()]

    @property
    def full_text(self) -> str:
        """What ``unspin clean`` prints: the title, a blank line, the paragraphs."""
        if self.title and self.text:
            return f"{self.title}\n\n{self.text}"
        return self.title or self.text

    def to_dict(self) -> dict[str, Any]:
        """Its fields; a record's ``clean`` (``unspin clean --json``) is this less id and text."""
        return {
            "id": self.id,
            "title": self.title,
            "title_variants": list(self.title_variants),
            "text": self.text,
            "removed": [item.to_dict() for item in self.removed],
            "format": self.format,
            "meta": dict(self.meta),
        }


@dataclass
class CleanedText:
    """Result of :func:`clean_text`."""

    title: str
    title_variants: list[str]
    paragraphs: list[str]
    removed: list[Removed]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


# --------------------------------------------------------------------------- extract


def extract(
    page: str | bytes | Document,
    *,
    format: str = "auto",
    id: str | None = None,
) -> Article:
    """The article of an HTML page or a text dump.

    ``page`` is a string, bytes of any encoding, or a :class:`~unspin.extraction.inputs.Document`
    (whose id, format and meta are used). ``format`` is ``"auto"`` (sniffed),
    ``"html"`` or ``"text"``. Raises :class:`ExtractionError` when nothing usable can
    be extracted.
    """
    from unspin.extraction.inputs import Document, decode_bytes, looks_binary, sniff_format

    if format not in ("auto", "html", "text"):
        raise ExtractionError(f"unknown format {format!r} (use auto, html or text)")
    meta: dict[str, Any] = {}
    source = None
    if isinstance(page, Document):
        content = page.content
        id = id if id is not None else page.id
        meta = dict(page.meta)
        source = page.source
        if format == "auto":
            format = page.format
    elif isinstance(page, bytes | bytearray):
        if looks_binary(bytes(page)):
            raise ExtractionError("binary data, not text or HTML")
        content = decode_bytes(bytes(page))
    elif isinstance(page, str):
        content = page
    else:
        raise ExtractionError(
            f"cannot extract from {type(page).__name__}; give str, bytes or Document"
        )
    if not content.strip():
        raise ExtractionError("empty document")
    if "\x00" in content[:8192]:
        raise ExtractionError("binary data, not text or HTML")
    if format == "auto":
        format = sniff_format(content)
    if format == "html":
        return _extract_html(content, id=id, meta=meta, source=source)
    # A title known from the input (a JSONL "title" field) is used like HTML's <title>.
    known_title = meta.get("title") if isinstance(meta.get("title"), str) else ""
    cleaned = clean_text(content, title=" ".join(known_title.split()))
    return _article(cleaned, id=id, format="text", meta=meta, source=source)


def _article(
    cleaned: CleanedText, *, id: str | None, format: str, meta: dict[str, Any], source: str | None
) -> Article:
    if not cleaned.paragraphs and not cleaned.title:
        kinds = sorted({item.kind for item in cleaned.removed})
        detail = f" (everything matched: {', '.join(kinds)})" if kinds else ""
        raise ExtractionError(f"no article text found{detail}")
    return Article(
        id=id,
        title=cleaned.title,
        title_variants=cleaned.title_variants,
        text=cleaned.text,
        removed=cleaned.removed,
        format=format,
        meta=meta,
        source=source,
    )


def _extract_html(
    html: str, *, id: str | None, meta: dict[str, Any], source: str | None
) -> Article:
    """trafilatura for the main text and metadata, then the text cleaner on its output."""
    import trafilatura

    text = ""
    title = ""
    try:
        result = trafilatura.bare_extraction(
            html,
            url=meta.get("url"),
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_recall=True,
        )
        if result is not None:
            text = result.text or ""
            title = result.title or ""
            for key in ("author", "date", "sitename", "url"):
                value = getattr(result, key, None)
                if value and key not in meta:
                    meta[key] = value
        if not text.strip():
            # Short or unusual pages: trafilatura's baseline takes all visible paragraphs.
            _, text, _ = trafilatura.baseline(html)
    except (RecursionError, MemoryError) as exc:
        raise ExtractionError(
            f"HTML too deeply nested or too large to parse ({type(exc).__name__})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - lxml/trafilatura raise many types on broken markup
        raise ExtractionError(
            f"could not parse HTML: {' '.join(str(exc).split()) or type(exc).__name__}"
        ) from None
    if not text.strip():
        raise ExtractionError("no article text found in the HTML")
    # trafilatura puts one paragraph a line.
    if not title and isinstance(meta.get("title"), str):
        title = meta["title"]
    cleaned = clean_text(text, title=" ".join(title.split()))
    return _article(cleaned, id=id, format="html", meta=meta, source=source)


# --------------------------------------------------------------------------- patterns

_QUOTES = "'\"`\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u2032\u2033"
_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b\u2032"
_DOUBLE_QUOTES = '"\u201c\u201d\u201e\u2033'
_Q = "['\"\u2018\u2019\u201c\u201d]"  # any quote in a regex, straight or curled by a CMS

# Starts of code that never occur in prose: matched anywhere in a line.
_CODE_ANYWHERE = re.compile(
    # The lookahead on first characters lets the regex engine skip most positions fast.
    r"(?=!f|fb|_[fgp]|gt|go|ga|wi|do|da|jQ|\(|tw|FB)(?:!function\s*\(|\bfbq\s*\(|\b_fbq\b|\bgtag\s*\(|\b_gaq\b|\b_paq\.push\s*\(|"
    r"\bwindow\.dataLayer\b|\bdataLayer\.push\s*\(|"
    r"\b(?:document|window)\.(?:addEventListener|getElementById|getElementsBy\w+|querySelector(?:All)?|"
    r"createElement|write|cookie|location|onload|fbAsyncInit|_wpemojiSettings)\b|"
    r"\bgoogletag\.|\(\s*adsbygoogle\b|\bjQuery\s*\(|\(\s*function\s*\(|"
    rf"\bga\s*\(\s*{_Q}(?:create|send|set|require){_Q}|\btwttr\.|\bFB\.init\s*\()"
)
# Every _CODE_ANYWHERE match contains one of these.
_CODE_ANYWHERE_HINTS = (
    "!function", "fbq", "gtag", "_gaq", "_paq", "dataLayer", "document.", "window.", "googletag",
    "adsbygoogle", "jQuery", "function", "ga(", "ga (", "twttr.", "FB.init",
)  # fmt: skip
# Starts of code recognisable only at the start of a line (and checked to look like code).
_CODE_LINE_START = re.compile(
    r"(?m)^[ \t]*(?:"
    r"(?:var|let|const)\s+[A-Za-z_$][\w$]*\s*=(?!=)|"
    r"function\s*[\w$]*\s*\([^)\n]{0,200}\)\s*\{|"
    r"\$\s*\(|"
    r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+\s*(?:\(|=(?!=))|"
    r"if\s*\([^\n]{0,300}\)\s*\{|try\s*\{|\}\s*(?:else|catch|finally)\b"
    r")"
)
# Same starts, to continue a run of statements after a removed one on the same line.
_CODE_CONTINUATION = re.compile(
    r"[ \t]*(?:"
    r"(?:var|let|const)\s+[A-Za-z_$][\w$]*\s*=(?!=)|function\s*[\w$]*\s*\(|"
    r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+\s*(?:\(|=(?!=))|[A-Za-z_$][\w$]*\(|[;})\]]"
    r")"
)
_CLOSING_LINE = re.compile(r"(?m)^[ \t]*[})\]][})\];, \t]*$")
_TRACKING = re.compile(
    r"fbq|_fbq|fbevents|facebook\.com/tr|gtag|_gaq|_paq|dataLayer|google-analytics|googletagmanager|"
    r"analytics|pixel|matomo|piwik|hotjar|clarity|quantserve|scorecardresearch|adsbygoogle|googletag|\bga\s*\(",
    re.I,
)
# Leaked markup in text dumps: an opener, then (found with str.find, linear time) its closer.
_HTML_LEAK_OPENER = re.compile(r"<(script|noscript|style)\b[^<>]{0,2000}>|<!--", re.I)
_HTML_LEAK_TAGS = re.compile(
    r"<(?:img|iframe)\b[^<>]{0,2000}(?:facebook\.com/tr|googletagmanager|google-analytics|doubleclick)"
    r"[^<>]{0,2000}>(?:\s*</iframe>)?|</(?:script|noscript|style)\s*>",
    re.I,
)
_SPINTAX = re.compile(r"\{([A-Za-z][A-Za-z0-9'\u2019 .,&-]{0,79})((?:\|[^{}|\n]{0,80})*)\}")

_NETWORKS = (
    r"facebook|twitter|x|whatsapp|linkedin|pinterest|reddit|telegram|tumblr|pocket|skype|messenger|"
    r"viber|vk|flipboard|mix|threads|mastodon|bluesky|email|e-mail|mail|print|copy link|gmail|sms"
)


def _full(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{pattern})[\s.:!*]*", re.I)


# Lines after which the rest of the page is a trailer (comment form, related posts).
_HARD_TRAILER = _full(
    r"(?:leave|post|add|write|submit|go away|depart|depart from) (?:a|your|an?) "
    r"(?:reply|comment|remark|response|respond)(?: cancel reply| cancel)?|"
    r"(?:%d|\d+) bloggers? (?:like|liked) this|comments are closed|"
    r"(?:related|associated)(?: posts| articles| stories| news| content| items| put up| posts)?|"
    r"(?:you (?:may|might) (?:also )?like|recommended(?: for you)?|more stories|read next|also read|"
    r"trending(?: now)?|most popular|popular posts|recent posts|latest posts|more from .{1,40})|"
    r"post navigation|about the author"
)
_LINE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "credit",
        _full(
            r"(?:source|supply|origin|sources|provide)\s*(?:link|hyperlink|hyper-link|hyper link|url|"
            r"links|hyperlinks|hyper hyperlink)?|"
            r"(?:source|supply|origin)\s*:\s*(?:[A-Z0-9][\w&'.-]*(?: (?:[A-Z0-9][\w&'.-]*|of|the|and|for|on|de|la))"
            r"{0,6}|[\w-]+(?:\.[\w-]+)+(?:/\S*)?)|"
            r"(?:read|learn|browse|view|see|study) (?:the )?(?:original|unique|authentic|full|complete|entire) "
            r"(?:article|story|post|put up|submit|publish)(?: here| (?:at|on|in) (?:[\w.&'-]+ ?){1,5})?|"
            r"(?:this|the) (?:article|story|post|text|piece|content|article article) (?:was|is|has been) "
            r"(?:originally|initially|first|initially) (?:published|printed|revealed|posted|appeared|printed) "
            r"(?:on|at|by|in) [^\n]{1,120}|"
            r"originally (?:published|posted|appeared) (?:on|at|in|by) [^\n]{1,120}|"
            r"the (?:post|put up|submit|publish|publish) [^\n]{1,250} "
            r"(?:appeared first on|first appeared on|appeared on|seems first on|appeared first at|"
            r"first appeared at|seemed first on) [^\n]{1,120}"
        ),
    ),
    (
        "share",
        _full(
            r"(?:click (?:on )?(?:here )?to )?(?:share|email|e-mail|print|tweet|pin|post)(?: (?:this|it|a link))?"
            r"(?: (?:article|story|post))?(?: (?:on|to|via|with))? (?:" + _NETWORKS + r"|a friend)"
            r"(?: \((?:opens|open|opens up) in (?:a )?new (?:window|tab)\))?|"
            r"share(?: (?:this|the|it))?(?: (?:article|story|post|page))?(?: (?:on|via))?|"
            r"(?:(?:" + _NETWORKS + r"|tweet|pin it|share|like|more)(?:\s*[|,/·•]\s*|\s+))*"
            r"(?:" + _NETWORKS + r"|tweet|pin it)|"
            r"like this|like loading(?:\.{3}|…)?|loading(?:\.{3}|…)|\d+ shares?|"
            r"(?:follow|like|join) us on (?:facebook|twitter|instagram|x|google news|telegram|whatsapp|linkedin)"
            r"(?: [^\n]{0,60})?"
        ),
    ),
    (
        "trailer",
        _full(
            r"your (?:e-?mail|e mail|electronic mail) (?:address|handle|tackle|deal with|deal) "
            r"(?:will not|won't|won’t|will never|is not going to|isn't going to|isn’t going to|shall not|won't ever) "
            r"be (?:published|printed|revealed|shared|made public|posted)(?:[.\s]+required fields are "
            r"(?:marked|indicated|noted|denoted)(?: \*)?)?|"
            r"required fields are (?:marked|indicated|noted|denoted)(?: \*)?|"
            r"save my (?:name|identify|title)[,\s]+(?:e-?mail|e mail)[,\s]+and (?:website|web site|site|web page) "
            r"in this browser for the (?:next|following|subsequent) time i (?:comment|remark)|"
            r"(?:post|submit|publish|add) (?:comment|remark|reply)|cancel reply|"
            r"notify me of (?:follow-?up comments|new posts|new comments|followup comments) (?:by|via) e-?mail|"
            r"this site uses akismet to reduce spam\.[^\n]{0,120}|Δ|"
            r"you must be (?:logged in|logged-in) to post a comment|"
            r"(?:comment|remark|name|identify|e-?mail|website|web site|url)\s*\*|"
            r"\d+ (?:comments?|responses?|replies)|no comments(?: yet)?|"
            r"be the first to (?:comment|remark)(?: on [^\n]{0,100})?|"
            r"(?:previous|next|prev) (?:post|article|story|put up|submit)s?(?::[^\n]{0,150})?|"
            r"tags?\s*:[^\n]{0,300}|(?:posted|filed) (?:in|under)\s*:[^\n]{0,200}|"
            # "Posted in World, Asia": a list of capitalised category names, not a sentence.
            r"(?:posted|filed) (?:in|under) (?:(?-i:[A-Z&])[\w&'-]*(?: (?-i:[A-Z&])[\w&'-]*){0,3}(?:\s*[,|]\s*)?){1,10}|"
            r"categor(?:y|ies)\s*:[^\n]{0,200}|advertisement|advertisment|sponsored(?: content)?|"
            r"(?:copyright\s*)?(?:©|\(c\)|copyright)\s*(?:\d{4}|[^\n]{0,20}\d{4})[^\n]{0,150}|"
            r"all rights reserved|skip to (?:main )?content|"
            r"(?:continue reading|read more|read full (?:article|story)|proceed (?:reading|studying))"
            r"(?:\s*[:»›→…]+\s*[^\n]{0,100}|\s*[»›→…]+)?"
        ),
    ),
]
# Cookie banners and newsletter boxes: phrases that only such widgets use (searched in
# lines up to _MAX_WIDGET_LINE), and short labels (whole line) that prose never is.
_COOKIE = re.compile(
    r"\bwe use cookies|this (?:web ?site|site) uses cookies|uses cookies to (?:improve|ensure|give|provide|enhance)|"
    r"by (?:continuing to )?(?:use|using|browse|browsing) (?:this|our) (?:site|website)|"
    r"you (?:agree|consent) to (?:the|our) use of cookies|if you continue to use this site we will assume",
    re.I,
)
_COOKIE_LABEL = _full(
    r"(?:accept|reject|allow|decline) (?:all )?cookies|cookie (?:policy|settings|preferences|consent|notice)|"
    r"manage (?:consent|cookies)|privacy (?:&|and) cookies? policy"
)
_COOKIE_BUTTON = _full(
    r"accept(?: all)?(?: cookies)?|reject(?: all)?|ok|okay|got it|i agree|agree|decline|allow(?: all)?|"
    r"manage (?:options|services|vendors|preferences)|cookie settings|privacy policy|customi[sz]e|"
    r"functional|statistics|marketing|preferences|save preferences|close"
)
_NEWSLETTER = re.compile(
    r"subscribe to (?:our|the) (?:[\w-]+ ){0,2}(?:newsletter|e-newsletter|mailing list)|"
    r"sign up (?:for|to) (?:our|the) (?:[\w-]+ ){0,2}(?:newsletter|e-newsletter|mailing list)|"
    r"join (?:our|the) (?:[\w-]+ )?(?:mailing list|newsletter|mailing checklist)|"
    r"get (?:the|our) (?:latest|best|top)[^\n]{0,60}(?:delivered )?(?:to|in) your inbox|"
    r"enter your e-?mail(?: address)?|thank you for subscribing|by (?:subscribing|signing up),? you agree",
    re.I,
)
_NEWSLETTER_LABEL = _full(
    r"(?:(?:our|the) )?(?:daily|weekly|free) (?:e-?)?newsletter|never miss a (?:story|thing|post)"
)
_NEWSLETTER_BUTTON = _full(r"subscribe|sign up|submit|e-?mail address|your e-?mail|join|\*")


# --------------------------------------------------------------------------- cleaner


def clean_text(text: str, *, title: str = "") -> CleanedText:
    """Remove leaked code, widgets, trailers and credits; repair spintax; find the title.

    ``title`` is a title known from elsewhere (the HTML metadata); repeats of it at the
    top of the text become the title and its variants. Without one, a short
    title-like first line is the title. Never raises for any string input.
    """
    removed: list[Removed] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    original = text
    paragraph_mode = "block" if re.search(r"\n[ \t]*\n", text.strip()) else "line"
    text = _remove_html_leaks(text, removed)
    text = _remove_code(text, removed)
    text = _repair_spintax(text, removed)
    lines = [" ".join(line.split()) if line.strip() else "" for line in text.split("\n")]
    keep = [bool(line) for line in lines]
    _remove_trailer(lines, keep, removed)
    _remove_widget_lines(lines, keep, removed)
    found_title, variants = _find_title(lines, keep, removed, title, paragraph_mode)
    paragraphs = _paragraphs(lines, keep, paragraph_mode)
    return CleanedText(found_title, variants, paragraphs, _in_page_order(removed, original))


def _in_page_order(removed: list[Removed], original: str) -> list[Removed]:
    """Removals sorted by where they were in the page (stages find them in another order)."""
    if len(removed) < 2 or len(removed) > 1000:
        return removed
    flat = " ".join(original.split())
    positions = {}
    for item in removed:
        key = " ".join(item.text.split())[:80]
        if key not in positions:
            found = flat.find(key)
            positions[key] = found if found >= 0 else len(flat)
    return sorted(removed, key=lambda item: positions[" ".join(item.text.split())[:80]])


def _remove_html_leaks(text: str, removed: list[Removed]) -> str:
    """Script, style and noscript elements, comments and tracking pixels left as text."""
    if "<" not in text:
        return text
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    missing: set[str] = set()  # closers known to be absent after some point: never search again
    position = 0
    while match := _HTML_LEAK_OPENER.search(text, position):
        tag = (match.group(1) or "").lower()
        closer = f"</{tag}" if tag else "-->"
        close = -1 if closer in missing else lowered.find(closer, match.end())
        if close < 0:
            missing.add(closer)
            spans.append((match.start(), match.end()))  # a lone opener: remove the tag only
        else:
            close_end = lowered.find(">", close) + 1 if tag else close + 3
            spans.append((match.start(), close_end or len(text)))
        position = spans[-1][1]
    spans.extend(match.span() for match in _HTML_LEAK_TAGS.finditer(text))
    if not spans:
        return text
    spans.sort()
    pieces = []
    last = 0
    for start, end in spans:
        if start < last:
            continue  # inside a block already removed
        snippet = text[start:end]
        kind = (
            "tracking"
            if _TRACKING.search(snippet)
            else "markup"
            if snippet.startswith("<!--")
            else "script"
        )
        removed.append(Removed(kind, snippet.strip()))
        pieces.append(text[last:start])
        pieces.append("\n" if "\n" in snippet else " ")
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _remove_code(text: str, removed: list[Removed]) -> str:
    """Remove leaked code: whole runs of code-like lines, then statements inside prose lines.

    Two passes that feed one list of spans (merged and recorded the same way): the line
    scorer (:func:`_code_line_runs`) finds blocks of code whatever the snippet, one
    statement a line or minified; the statement scanner then finds known code starts
    (``fbq(``, ``document.addEventListener(``...) inside lines that are otherwise prose
    and follows their brackets.
    """
    spans: list[tuple[int, int]] = _code_line_runs(text)
    runs = list(spans)  # the scanner skips over these
    run_index = 0
    position = 0
    length = len(text)
    # The next match of each pattern, searched again only once passed: linear time.
    upcoming: dict[re.Pattern[str], re.Match[str] | None] = {}
    budget = [_SCAN_BUDGET_FACTOR * length + 100_000]
    if not any(hint in text for hint in _CODE_ANYWHERE_HINTS):
        upcoming[_CODE_ANYWHERE] = None  # substring tests are far faster than the regex
    while position < length:
        for pattern in (_CODE_ANYWHERE, _CODE_LINE_START, _CLOSING_LINE):
            cached = upcoming.get(pattern, False)
            if cached is False or (cached is not None and cached.start() < position):
                upcoming[pattern] = pattern.search(text, position)
        strict = upcoming[_CODE_ANYWHERE]
        loose = upcoming[_CODE_LINE_START]
        closing = upcoming[_CLOSING_LINE]
        candidates = [m for m in (strict, loose, closing) if m is not None]
        if not candidates:
            break
        match = min(candidates, key=lambda m: (m.start(), m is not strict))
        while run_index < len(runs) and runs[run_index][1] <= match.start():
            run_index += 1
        if run_index < len(runs) and runs[run_index][0] <= match.start():
            position = runs[run_index][1]  # inside a run of code lines, removed already
            continue
        if match is strict and match.start() > 0 and text[match.start() - 1] in ".$":
            # ``f._fbq``: a member name, not the start of a statement; cutting there split
            # the line in two (issue 12). The line scorer judges such lines whole.
            position = match.end()
            continue
        if match is closing:
            spans.append((match.start(), match.end()))
            position = match.end()
            continue
        start = match.start()
        if match is loose:
            start += len(match.group(0)) - len(match.group(0).lstrip())
        if budget[0] <= 0:
            break  # pathological input: leave the rest as it is rather than stall
        end = _scan_statements(text, start, budget)
        # Tracking snippets are never prose; other starts (document.cookie, jQuery(...)) may be
        # named in an article about the web, so what follows them must look like code too.
        tracking_start = match is strict and (
            match.group(0).startswith("!function") or _TRACKING.search(match.group(0)) is not None
        )
        if tracking_start:
            if end is None:  # never closed: take the rest of its line only
                newline = text.find("\n", start)
                end = length if newline < 0 else newline
            if start > 0 and text[start - 1] == "(" and match.group(0).startswith("function"):
                start -= 1
            spans.append((start, end))
            position = max(end, start + 1)
        elif (
            end is not None
            and _at_statement_start(text, start)
            and _looks_like_code(text[start:end])
        ):
            spans.append((start, end))
            position = max(end, start + 1)
        else:
            newline = text.find("\n", match.end())
            position = length if newline < 0 else newline + 1
    if not spans:
        return text
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and not text[merged[-1][1] : start].strip():
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces = []
    last = 0
    for start, end in merged:
        code = text[start:end]
        removed.append(Removed("tracking" if _TRACKING.search(code) else "script", code.strip()))
        pieces.append(text[last:start])
        pieces.append("\n" if "\n" in code else " ")
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


# --------------------------------------------------------------------------- code lines
#
# Leaked code need not match a known pattern (themes leak their own loaders, CSS, JSON-LD,
# consent-manager callbacks), so each line is also scored for how much it looks like code,
# and whole runs of code-like lines are removed. Words are told from code by their shape
# (camelCase, dotted names, calls, sigils) rather than by a dictionary: lemminflect or the
# n-gram vocabulary would add a load of about a second to a stage that takes a millisecond a
# page, and they know the words code is made of ("function", "window", "document", "return",
# "if") as English words, so they do not separate a line of code from a sentence any better.

# String literals: double-quoted of any content; single-quoted (straight or curled) only
# where the quote is not an apostrophe (no letter before the opener or after the closer).
_LINE_STRING = re.compile(
    r"\"[^\"\n]{0,300}\"|[\u201c\u201d\u201e\u2033][^\u201c\u201d\u201e\u2033\n]{0,300}[\u201c\u201d\u2033]|"
    r"(?<![A-Za-z])['\u2018\u2019\u201a\u2032][^'\u2018\u2019\u201a\u2032\n]{0,300}['\u2018\u2019\u2032](?![A-Za-z])|"
    r"`[^`\n]{0,300}`"
)
# A literal without whitespace (an identifier, event name, URL, version) is code; a quoted
# phrase is not evidence either way.
_TOKEN_LITERAL = re.compile(r"\S{1,300}")
# Marks of code, each counted once per occurrence.
_CODE_MARK = re.compile(
    r"===?|!==?|=>|[-+*/|&]=|&&|\|\||(?<![=!<>])=(?![=>])|[{};]|"  # operators, braces, ;
    r"(?<=[\w$)\]])\[|\[\]|"  # a[0], f()[0], [] (not an editor's [sic] in prose)
    r"[A-Za-z_$][\w$]*\(|"  # a call: name(
    r"(?<![\w$.])[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]+|"  # a.b (once a chain; not "U.S." or "e.g.")
    r"(?<![\w$])![\w$(]|"  # !0, !f
    r"\s\?(?:\s|$)|"  # ternary ?
    r"\x00:|"  # "key": (JSON)
    r"(?<![\w-])[a-z]+-[a-z-]+\s*:|#[0-9a-fA-F]{3,6}\b|\b\d+(?:\.\d+)?(?:px|em|rem|vh|vw)\b|@media\b"  # CSS
)
# A word of prose: letters only, not part of a dotted name or a call.
_PLAIN_WORD = re.compile(
    r"(?<![\w$.@#\x00-])[A-Za-z][a-z]+(?:['\u2019][a-z]+)?(?![\w$(\x00-]|\.[A-Za-z_$])"
)
# Words of code that English also has: neither prose nor code evidence on their own.
_CODE_WORDS = frozenset(
    ("var", "let", "const", "function", "return", "if", "else", "for", "while", "do", "new",
     "typeof", "instanceof", "this", "true", "false", "null", "undefined", "void", "try", "catch",
     "finally", "window", "document", "arguments", "async", "await")
)  # fmt: skip
_PROSE_RUN = re.compile(r"(?:\b[A-Za-z]+\b,? +){5}\b[A-Za-z]+\b")  # (f,b,e,v,n,t) is not one
_SENTENCE_LIKE = re.compile(
    r"^[\"\u201c\u2018'(]?[A-Z][a-z]+ [a-z]|[A-Za-z][.!?][\"\u201d\u2019')]*$"
)
_CODE_CHARS = re.compile(r"[{};=()\[\]?:]")
_ANY_QUOTE = re.compile(r"[\"'`\u2018\u2019\u201a\u201c\u201d\u201e\u2032\u2033]")
# A line scored CODE stands on its own (a minified snippet) when it is this sure.
_LONE_CODE_MARKS = 4
_WEAK_LINE_MAX = 80

_NOT_CODE, _WEAK, _CODE = 0, 1, 2


def _code_line_class(line: str) -> tuple[int, int, int]:
    """(class, marks of code, words of prose) of one line.

    The class is _CODE, _WEAK (a short piece of code, kept unless inside a run: ``}``,
    ``n.callMethod ?``, ``body {``) or _NOT_CODE. CODE needs two marks of code, at least
    as many marks as words of prose, and no run of six words outside strings; prose that
    names code ("call document.getElementById('x') to find it") has more words than marks.
    """
    stripped = line.strip()
    if not stripped or not _CODE_CHARS.search(stripped):
        return _NOT_CODE, 0, 0
    masked = stripped
    literals = 0
    if _ANY_QUOTE.search(stripped):
        masked_parts = []
        last = 0
        for match in _LINE_STRING.finditer(stripped):
            masked_parts.append(stripped[last : match.start()])
            inner = match.group(0)[1:-1]
            if inner and _TOKEN_LITERAL.fullmatch(inner):
                literals += 1
            masked_parts.append("\x00")
            last = match.end()
        masked_parts.append(stripped[last:])
        masked = "".join(masked_parts)
    if _PROSE_RUN.search(masked):
        return _NOT_CODE, 0, 0  # six words in a row outside strings: prose
    marks = literals + len(_CODE_MARK.findall(masked))
    if not marks:
        return _NOT_CODE, 0, 0
    words = sum(1 for word in _PLAIN_WORD.findall(masked) if word.lower() not in _CODE_WORDS)
    sentence_like = _SENTENCE_LIKE.search(stripped) is not None
    # A sentence ("Then call list.sort();") must be code twice over.
    needed = 2 * words if sentence_like else words
    if marks >= 2 and marks >= needed:
        return _CODE, marks, words
    if len(stripped) <= _WEAK_LINE_MAX and words <= 2 and not sentence_like:
        return _WEAK, marks, words
    return _NOT_CODE, marks, words


def _code_line_runs(text: str) -> list[tuple[int, int]]:
    """Spans of runs of code-like lines (blank lines inside a run belong to it).

    A run is removed when it holds two CODE lines, or one that is code beyond doubt
    (``_LONE_CODE_MARKS`` marks and three marks a word of prose: a minified snippet); its short
    pieces (``}``, ``n.callMethod ?``) go with it, and never on their own. A run must have
    a ``;``, ``{`` or ``}`` somewhere: lines of formulas (``f(x) = x^2 + 1``) have none. One
    pass over the lines, each scored once: linear time.
    """
    if not _CODE_CHARS.search(text):
        return []
    spans: list[tuple[int, int]] = []
    run_start = run_end = -1
    code_lines = 0
    sure = braced = False

    def close() -> None:
        if run_start >= 0 and braced and (code_lines >= 2 or sure):
            spans.append((run_start, run_end))

    offset = 0
    for line in text.split("\n"):
        line_end = offset + len(line)
        kind, marks, words = _code_line_class(line) if line.strip() else (None, 0, 0)
        if kind is None:
            pass  # a blank line neither starts nor ends a run
        elif kind == _NOT_CODE:
            close()
            run_start = -1
        else:
            if run_start < 0:
                run_start, code_lines, sure = offset + len(line) - len(line.lstrip()), 0, False
                braced = False
            run_end = line_end
            braced = braced or any(char in line for char in ";{}")
            if kind == _CODE:
                code_lines += 1
                if marks >= _LONE_CODE_MARKS and 3 * words <= marks:
                    sure = True
        offset = line_end + 1
    close()
    return spans


def _at_statement_start(text: str, start: int) -> bool:
    """Whether code found at ``start`` begins a statement: at the start of its line, or after
    a sentence or statement ends. "developers call document.getElementById('x') to..." names
    code in a sentence: it is not removed."""
    line_start = text.rfind("\n", 0, start) + 1
    before = text[max(line_start, start - 200) : start].rstrip()
    return not before or before[-1] in ".!?;{}"


def _scan_statements(text: str, start: int, budget: list[int]) -> int | None:
    """End of the run of statements starting at ``start``; None if brackets never balance."""
    end = _scan_statement(text, start, budget)
    while end is not None:
        follow = _CODE_CONTINUATION.match(text, end)
        if follow is None or follow.end() == end:
            return end
        next_start = end + len(follow.group(0)) - len(follow.group(0).lstrip())
        if text[next_start] in ";})]":
            # Leftover punctuation of the same code.
            stop = next_start
            while stop < len(text) and text[stop] in ";})] \t":
                stop += 1
            end = stop
            continue
        following = _scan_statement(text, next_start, budget)
        if following is None or not _looks_like_code(text[next_start:following]):
            return end
        end = following
    return None


def _scan_statement(text: str, start: int, budget: list[int]) -> int | None:
    """End (exclusive) of one JavaScript statement; None if its brackets never close."""
    limit = min(len(text), start + _MAX_CODE_CHARS, start + max(budget[0], 0))
    end = _scan_statement_within(text, start, limit)
    budget[0] -= (limit if end is None else end) - start + 1
    return end


def _scan_statement_within(text: str, start: int, limit: int) -> int | None:
    depth = 0
    index = start
    while index < limit:
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                return index
            if depth == 0:
                after = index + 1
                while after < limit and text[after] in " \t":
                    after += 1
                if after < limit and (text[after].isalnum() or text[after] in _QUOTES):
                    return index + 1  # code ended, prose follows on the same line
        elif char in _QUOTES:
            close = _string_end(text, index, limit)
            if close is not None:
                index = close + 1
                continue
        elif char == "/" and index + 1 < limit and text[index + 1] in "/*" and depth > 0:
            if text[index + 1] == "/":
                newline = text.find("\n", index)
                index = limit if newline < 0 else newline
            else:
                close_comment = text.find("*/", index + 2, limit)
                index = limit if close_comment < 0 else close_comment + 2
            continue
        elif char == ";" and depth == 0:
            return index + 1
        elif char == "\n" and depth == 0:
            return index
        index += 1
    if depth > 0:
        return None
    return index


def _string_end(text: str, start: int, limit: int) -> int | None:
    """Index of the quote closing the string literal opened at ``start`` (same line)."""
    opener = text[start]
    if opener in _SINGLE_QUOTES:
        closers = _SINGLE_QUOTES
    elif opener in _DOUBLE_QUOTES:
        closers = _DOUBLE_QUOTES
    else:
        closers = "`"
    index = start + 1
    while index < limit:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "\n" and opener != "`":
            return None
        if char in closers:
            return index
        index += 1
    return None


def _looks_like_code(segment: str) -> bool:
    """A statement found by a line-start pattern: code punctuation and no run of prose."""
    stripped = segment.strip()
    if not stripped or stripped[-1] not in ";{})],":
        return False
    without_strings = re.sub(
        r"'[^'\n]*'|\"[^\"\n]*\"|[\u2018\u2019][^\u2018\u2019\n]*[\u2018\u2019]|"
        r"[\u201c\u201d][^\u201c\u201d\n]*[\u201c\u201d]",
        "''",
        stripped,
    )
    if not re.search(r"[;{=]|[\w$]\(", without_strings):
        return False
    return not re.search(r"(?:\b[A-Za-z]+\b[ ,]+){5}\b[A-Za-z]+\b", without_strings)


def _repair_spintax(text: str, removed: list[Removed]) -> str:
    """``{a|b|c}`` -> ``a`` and ``{word}`` -> ``word`` (innermost first, for nesting)."""
    if "{" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        before = match.string[match.start() - 1 : match.start()]
        after = match.string[match.end() : match.end() + 1]
        if before == "{" or (after == "}" and before != "|"):
            return match.group(0)  # wiki/template syntax {{name|...}}, not spintax
        if before and (before in "\\$%_" or before.isalnum()):
            return match.group(0)  # LaTeX \\cmd{x}, templates ${x} %{x}, code name{x}
        removed.append(Removed("spintax", match.group(0)))
        return match.group(1)

    for _ in range(5):
        repaired = _SPINTAX.sub(replace, text)
        if repaired == text:
            break
        text = repaired
    return text


def _remove_trailer(lines: list[str], keep: list[bool], removed: list[Removed]) -> None:
    """Cut everything from a 'Leave a Reply'-style marker on, if what follows is short.

    The guard (the tail, less lines recognised as widgets, must be shorter than the
    article above it) keeps a marker that a page shows *before* its article from
    costing the body.
    """
    total = sum(len(line) for line, kept in zip(lines, keep, strict=True) if kept)
    above = 0
    for index, line in enumerate(lines):
        if not keep[index]:
            continue
        if len(line) <= 80 and _HARD_TRAILER.fullmatch(line):
            tail = [i for i in range(index, len(lines)) if keep[i]]
            tail_length = sum(len(lines[i]) for i in tail if _line_kind(lines[i]) is None)
            if above > 0 and tail_length < above:
                removed.append(Removed("trailer", "\n".join(lines[i] for i in tail)))
                for i in tail:
                    keep[i] = False
                return
        above += len(line)
        if above > total:
            return


# Cheap tests that rule most body lines out before the (slower) widget regexes run.
_CREDIT_FIRST_WORDS = frozenset(
    [
        "source",
        "supply",
        "origin",
        "sources",
        "provide",
        "read",
        "learn",
        "browse",
        "view",
        "see",
        "study",
        "this",
        "the",
        "originally",
    ]
)
_COOKIE_HINTS = ("cookie", "continu", "using this", "using our", "browsing", "consent")
_NEWSLETTER_HINTS = (
    "newsletter",
    "mailing",
    "inbox",
    "e-mail",
    "email",
    "subscrib",
    "signing up",
    "never miss",
)


@lru_cache(maxsize=16384)  # boilerplate lines repeat across the pages of a site
def _line_kind(line: str) -> str | None:
    """The kind of widget, trailer or credit line ``line`` is, or None for body text."""
    if len(line) > _MAX_WIDGET_LINE:
        return None
    return _pattern_line_kind(line) or _spun_widget_kind(line)


def _pattern_line_kind(line: str) -> str | None:
    lower = line.lower()
    first_word = re.sub(r"[^a-z-]", "", lower.split(None, 1)[0]) if lower else ""
    for kind, pattern in _LINE_PATTERNS:
        if kind == "credit" and first_word not in _CREDIT_FIRST_WORDS:
            continue
        if pattern.fullmatch(line):
            return kind
    if any(hint in lower for hint in _COOKIE_HINTS) and (
        _COOKIE.search(line) or _COOKIE_LABEL.fullmatch(line)
    ):
        return "cookie"
    if any(hint in lower for hint in _NEWSLETTER_HINTS) and (
        _NEWSLETTER.search(line) or _NEWSLETTER_LABEL.fullmatch(line)
    ):
        return "newsletter"
    return None


# Canonical widget sentences. Spinners rewrite them ("Save my identify, e mail, and web site
# on this browser for the following time I remark.") with whatever thesaurus they use, so
# besides the regexes above, which know the common spun forms, a line is also a widget line
# when it keeps the template's skeleton: spinners replace content words but leave function
# words, and the anchor words below (email, website, cookies...) mostly survive.
_WIDGET_TEMPLATES: list[tuple[str, str]] = [
    ("trailer", "Your email address will not be published."),
    ("trailer", "Your email address will not be published. Required fields are marked *"),
    ("trailer", "Save my name, email, and website in this browser for the next time I comment."),
    ("trailer", "Notify me of follow-up comments by email."),
    ("trailer", "Notify me of new posts by email."),
    ("trailer", "This site uses Akismet to reduce spam. Learn how your comment data is processed."),
    ("trailer", "You must be logged in to post a comment."),
    ("cookie", "We use cookies to ensure that we give you the best experience on our website."),
    ("cookie", "If you continue to use this site we will assume that you are happy with it."),
    (
        "cookie",
        "We use cookies to ensure that we give you the best experience on our website. "
        "If you continue to use this site we will assume that you are happy with it.",
    ),
    ("cookie", "This website uses cookies to improve your experience."),
    ("cookie", "We'll assume you're ok with this, but you can opt-out if you wish."),
    ("cookie", "By continuing to use this website, you agree to their use."),
    ("newsletter", "Subscribe to our newsletter and get the latest news delivered to your inbox."),
    (
        "newsletter",
        "Enter your email address to subscribe to this blog and receive notifications of new posts by email.",
    ),
    ("newsletter", "Sign up for our newsletter to get the latest news."),
    ("share", "Click to share on Twitter (Opens in new window)"),
    ("share", "Click to share on Facebook (Opens in new window)"),
]
_ANCHORS = frozenset(
    ("email", "site", "cookies", "cookie", "browser", "comment", "comments", "newsletter",
     "subscribe", "inbox", "spam", "akismet", "posts", "twitter", "facebook", "window", "opt",
     "experience")
)  # fmt: skip


# Spellings of the same word (not synonyms): "e-mail", "electronic mail"; "web site", "website".
_SPELLINGS = [
    (re.compile(r"\b(?:e[- ]mail|electronic mail)\b"), "email"),
    (re.compile(r"\b(?:web ?site|internet site|web page|webpage)\b"), "site"),
    (re.compile(r"\bweb browser\b"), "browser"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"),
]


def _skeleton(text: str) -> list[str]:
    lowered = text.lower().replace("\u2019", "'")
    for pattern, replacement in _SPELLINGS:
        lowered = pattern.sub(replacement, lowered)
    return re.findall(r"[a-z0-9]+", lowered.replace("won not", "will not"))


_TEMPLATE_SKELETONS = [(kind, _skeleton(text)) for kind, text in _WIDGET_TEMPLATES]


def _spun_widget_kind(line: str) -> str | None:
    if len(line) > 300:
        return None
    tokens = _skeleton(line)
    present = _ANCHORS.intersection(tokens)
    if not present:
        return None
    for kind, template in _TEMPLATE_SKELETONS:
        if not 0.6 * len(template) <= len(tokens) <= 1.6 * len(template):
            continue
        if not present.intersection(template):
            continue
        matcher = SequenceMatcher(None, template, tokens, autojunk=False)
        matched = sum(block.size for block in matcher.get_matching_blocks())
        if matched >= 0.5 * len(template) and matched >= 0.5 * len(tokens):
            return kind
    return None


def _remove_widget_lines(lines: list[str], keep: list[bool], removed: list[Removed]) -> None:
    kinds: list[str | None] = [
        _line_kind(line) if kept else None for line, kept in zip(lines, keep, strict=True)
    ]
    # Buttons of a cookie banner or newsletter box, next to it.
    for index, kind in enumerate(kinds):
        if kind not in ("cookie", "newsletter"):
            continue
        button = _COOKIE_BUTTON if kind == "cookie" else _NEWSLETTER_BUTTON
        for step in (1, -1):
            neighbour = index + step
            while 0 <= neighbour < len(lines) and (
                not lines[neighbour] or kinds[neighbour] == kind
            ):
                neighbour += step
                if abs(neighbour - index) > 6:
                    break
            while (
                0 <= neighbour < len(lines)
                and keep[neighbour]
                and button.fullmatch(lines[neighbour])
            ):
                kinds[neighbour] = kind
                neighbour += step
    for index, kind in enumerate(kinds):
        if kind is not None and keep[index]:
            keep[index] = False
            removed.append(Removed(kind, lines[index]))


_WORD = re.compile(r"[^\W_]+")


def _title_like(line: str) -> bool:
    words = line.split()
    return (
        0 < len(words) <= 25
        and len(line) <= 250
        and not line.rstrip().endswith((".", ",", ";", ":"))
    )


def _similar_titles(first: str, second: str) -> bool:
    a = [word.lower() for word in _WORD.findall(first)]
    b = [word.lower() for word in _WORD.findall(second)]
    if not a or not b:
        return False
    if sorted(w for w in a if w.isdigit()) != sorted(w for w in b if w.isdigit()):
        return False  # spinners keep numbers: different numbers, different lines
    shorter = min(len(a), len(b))
    if max(len(a), len(b)) > 2.5 * shorter + 2:
        return False
    shared = len(set(a) & set(b))
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    return (shared >= 2 or shorter == 1) and (shared / len(set(a) | set(b)) >= 0.3 or ratio >= 0.45)


def _find_title(
    lines: list[str],
    keep: list[bool],
    removed: list[Removed],
    known_title: str,
    paragraph_mode: str,
) -> tuple[str, list[str]]:
    """The title, and its other versions repeated at the top of the text."""
    top = [index for index, kept in enumerate(keep) if kept][:4]
    if not top:
        return known_title, []
    # Title lines at the top: consecutive title-like lines similar to the first (or to the known title).
    reference = known_title
    repeats: list[int] = []
    for index in top:
        line = lines[index]
        if not _title_like(line):
            break
        if reference and not _similar_titles(reference, line):
            break
        if not reference:
            reference = line
        repeats.append(index)
    if not known_title:
        if not repeats:
            return "", []
        first = repeats[0]
        # A title stands alone: its own paragraph, followed by more text.
        after = [index for index in top if index > repeats[-1]]
        if not after:
            return "", []
        if paragraph_mode == "block":
            following = repeats[-1] + 1
            if following < len(lines) and lines[following] and following not in repeats:
                return "", []  # first line of a wrapped paragraph, not a title
        if len(repeats) == 1 and len(lines[first].split()) < 2:
            return "", []
    if not repeats:
        return known_title, []
    title = lines[repeats[0]]
    variants: list[str] = []
    seen = {title}
    for index in repeats:
        keep[index] = False
        line = lines[index]
        if index != repeats[0]:
            removed.append(Removed("duplicate-title", line))
        if line not in seen:
            variants.append(line)
            seen.add(line)
    if known_title and known_title not in seen:
        variants.append(known_title)
    return title, variants


def _paragraphs(lines: list[str], keep: list[bool], paragraph_mode: str) -> list[str]:
    if paragraph_mode == "line":
        return [line for line, kept in zip(lines, keep, strict=True) if kept]
    paragraphs: list[str] = []
    current: list[str] = []
    for line, kept in zip(lines, keep, strict=True):
        if not line:
            if current:
                paragraphs.append("\n".join(current))
                current = []
        elif kept:
            current.append(line)
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs


# --------------------------------------------------------------------------- many documents
# (moved here from unspin.cli.common: a library function used by the CLI, batch and index)


def iter_articles(
    inputs: Sequence[str], *, text_key: str = "text", id_key: str = "id", format: str = "auto"
) -> Iterator[tuple[Article | None, DocumentError | None, str]]:
    """(article, None, container) or (None, error, container) for every document, in order.

    For code that needs the articles but not a pipeline record (index building, learning
    from a corpus). Extraction failures become DocumentErrors; set ``UNSPIN_DEBUG=1`` to get
    the traceback instead.
    """
    import os

    from unspin.extraction.inputs import DocumentError, read_documents

    for item in read_documents(inputs, text_key=text_key, id_key=id_key):
        if isinstance(item, DocumentError):
            yield None, item, item.container
            continue
        try:
            yield extract(item, format=format), None, item.container
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the run
            if os.environ.get("UNSPIN_DEBUG"):
                raise
            error = DocumentError(item.id, item.source, error_message(exc), item.container)
            yield None, error, item.container
