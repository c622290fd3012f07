"""Crawl-scale batch runs (`unspin batch`); see unspin.batch.local for now."""

from unspin.batch.local import *  # noqa: F403
from unspin.batch.local import run_batch  # noqa: F401
