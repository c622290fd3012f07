"""Stage 1, extract: the article of a page (HTML, WARC record or text dump), cleaned.

inputs.py   reading files, folders, stdin, WARC, JSONL(.gz), Parquet into Documents
            (sniffed by content, limits held while reading): a new input format goes here
article.py  extract(): trafilatura for HTML, then the cleaner for leaked code, widgets,
            credits, doubled titles and spintax leftovers
"""

from unspin.extraction.article import (
    Article,
    CleanedText,
    ExtractionError,
    Removed,
    clean_text,
    extract,
    iter_articles,
)

__all__ = [
    "Article",
    "CleanedText",
    "ExtractionError",
    "Removed",
    "clean_text",
    "extract",
    "iter_articles",
]
