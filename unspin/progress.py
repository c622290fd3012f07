"""The progress bar of runs over many documents: `unspin batch` (local and Ray engines) and
the per-document commands (clean, detect, restore, trace, learn) on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["Progress"]


class Progress:
    """A tqdm bar on stderr with documents/s and the error count (off when not wanted)."""

    @classmethod
    def on_terminal(cls, description: str) -> Progress:
        """A bar only when stderr is a terminal: pipes and logs get no control characters."""
        isatty = getattr(sys.stderr, "isatty", None)
        return cls(bool(isatty and isatty()), description)

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

    def write(self, message: str) -> None:
        """A line on stderr that does not tear the bar."""
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
