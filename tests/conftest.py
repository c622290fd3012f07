"""Shared fixtures: the development corpus beside the checkout, skipped cleanly when absent."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
WIKINEWS = Path(
    os.environ.get("UNSPIN_WIKINEWS", REPO_ROOT.parent / "shared/data/wikinews/articles.jsonl")
)


@pytest.fixture(scope="session")
def wikinews_path() -> Path:
    """Path of the 294 CC BY 2.5 Wikinews articles (../shared), or skip the test."""
    if not WIKINEWS.is_file():
        pytest.skip(f"development corpus not found at {WIKINEWS}")
    return WIKINEWS


@pytest.fixture(scope="session")
def wikinews_articles(wikinews_path: Path) -> list[dict]:
    with wikinews_path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
