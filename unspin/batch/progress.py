"""The progress bar of a batch run, shared by the local and the Ray engine."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["Progress"]


class Progress:
    """A tqdm bar on stderr with documents/s and the error count (off when not wanted)."""

    def __init__(self, enabled: bool, description: str = "unspin batch") -> None:
        self.bar = None
        self.errors = 0
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(desc=description, unit="doc", file=sys.stderr, dynamic_ncols=True)

    def update(self, records: Sequence[dict]) -> None:
        """Count finished records (local engine: one at a time, as they come back)."""
        self.add(len(records), sum(1 for r in records if r.get("error") is not None))

    def add(self, documents: int, errors: int = 0) -> None:
        """Count `documents` finished, `errors` of them with an error (Ray: a shard at a time)."""
        self.errors += errors
        if self.bar is not None:
            self.bar.update(documents)
            if errors:
                self.bar.set_postfix(errors=self.errors, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
