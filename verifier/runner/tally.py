"""What a batch remembers of its rows: counts by outcome, the rows that need a reader's eye
(one line each: file, model, note), the slowest few and the time spent checking.  The rows
themselves stream past to their sinks (`--json`, `--herd`, pictures): a batch of 100,000
pairs holds no more than this in the parent."""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field

from verifier.reports.rows import Row

# The outcomes whose rows are listed in the summary, with their titles.
LISTED = (("mismatches", "fail"), ("errors", "error"), ("unsupported", "unsupported"), ("unknown", "unknown"))
# How many listed rows of one outcome are kept (the --json file has them all).
LISTED_CAP = 200


@dataclass
class WorkerLoad:
    """One worker's share: pairs, seconds busy, peak resident memory (MB)."""

    pairs: int = 0
    busy: float = 0.0
    peak_mb: float = 0.0


@dataclass
class Tally:
    slowest_n: int = 5
    counts: Counter[str] = field(default_factory=Counter)
    listed: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    slowest: list[tuple[float, str, str]] = field(default_factory=list)  # a min-heap of the slowest
    checking_seconds: float = 0.0
    workers: dict[str, WorkerLoad] = field(default_factory=dict)  # by worker: as many as there are workers

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, row: Row, *, worker: str | None = None, busy: float = 0.0, rss_mb: float = 0.0) -> None:
        """Count `row`; `worker`: the worker that ran it, `busy` seconds, leaving `rss_mb`
        resident (rows from a resumed file or the parent have none)."""
        if worker is not None:
            load = self.workers.setdefault(worker, WorkerLoad())
            load.pairs += 1
            load.busy += busy
            load.peak_mb = max(load.peak_mb, rss_mb)
        outcome = str(row.get("outcome"))
        self.counts[outcome] += 1
        if outcome in {o for _, o in LISTED}:
            lines = self.listed.setdefault(outcome, [])
            if len(lines) < LISTED_CAP:
                lines.append((str(row.get("file")), str(row.get("model")), str(row.get("note"))))
        seconds = row.get("seconds")
        if isinstance(seconds, (int, float)):
            self.checking_seconds += float(seconds)
            item = (float(seconds), str(row.get("file")), str(row.get("model")))
            if len(self.slowest) < self.slowest_n:
                heapq.heappush(self.slowest, item)
            elif item > self.slowest[0]:
                heapq.heapreplace(self.slowest, item)
