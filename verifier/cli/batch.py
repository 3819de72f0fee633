"""`verifier batch`: litmus trees against their recorded expectations, in parallel, for CI.

Rows stream to every sink as they finish: the JSON-lines file (flushed per row, so a killed
batch loses nothing and `--resume` picks up where it stopped), herd's format on stdout,
Graphviz pictures, and the progress display.  The JUnit file and the summary come last.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from verifier.analyses.registry import AUTO, DIALECT_MODELS, ModelSpec, dialect_model, resolve_model
from verifier.cli.options import megabytes, seconds
from verifier.errors import InputError, UsageError
from verifier.reports.dot import picture_stem, write_dot
from verifier.reports.herd import herd_block
from verifier.reports.junit import junit_xml
from verifier.reports.rows import OUTCOMES, Row, problem_row
from verifier.runner.dask_exec import execute_dask
from verifier.runner.discover import Discovered, discover
from verifier.runner.memory import peak_rss_mb
from verifier.runner.run import Key, default_workers, execute, iter_rows, key_of, longest_first, plan
from verifier.runner.tally import LISTED, Tally

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_UNKNOWN = 0, 1, 2, 3


def add_parser(sub: argparse._SubParsersAction, model_help: str) -> None:  # type: ignore[type-arg]
    b = sub.add_parser("batch", help="check litmus trees against their recorded expectations, in parallel")
    b.add_argument("paths", nargs="+", metavar="PATH", help="files, directories (recursively: *.litmus, *.litmus.yaml) or globs")
    b.add_argument("--model", default=AUTO, help=model_help)
    b.add_argument("--target", default=None, help="with a .cat file: how C tests compile (a kernel-c.tbl column)")
    b.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help="worker processes (default: one per core)")
    b.add_argument("--unroll", type=int, default=None, metavar="N",
                   help="times a backward jump may be taken (herd7's -unroll; default 2)")
    b.add_argument("--timeout", type=seconds, default=120.0, metavar="S",
                   help="wall-clock seconds per (file, model); Unknown past it (default 120; 0: none)")
    b.add_argument("--memory", type=megabytes, default=2048, metavar="MB",
                   help="address-space cap per worker; Unknown past it (default 2048; 0: none)")
    b.add_argument("--json", metavar="FILE", help="stream one JSON row per (file, model) to FILE")
    b.add_argument("--junit", metavar="FILE", help="write JUnit XML to FILE at the end")
    b.add_argument("--resume", metavar="FILE",
                   help="skip the (file, model) pairs FILE already holds (default --json FILE: append to it)")
    b.add_argument("--executor", choices=("local", "dask", "dask-local"), default="local",
                   help="where pairs run: local worker processes (default), a Dask cluster (--scheduler), or a "
                        "Dask LocalCluster of -j processes; the rows are the same (pip install 'verifier[dask]')")
    b.add_argument("--scheduler", metavar="ADDRESS", help="with --executor dask: the scheduler, e.g. tcp://host:8786")
    b.add_argument("--history", metavar="FILE",
                   help="rows of an earlier batch (--json FILE): the files that took longest there run first, "
                        "so the workers finish together (without it, with several workers, the files predicted "
                        "longest, by events x threads, run first)")
    b.add_argument("--herd", action="store_true", help="print herd7's output format on stdout (implies --states); "
                   "with several models each block is preceded by a line 'Model NAME'")
    b.add_argument("--herd-out", nargs="?", const="", default=None, metavar="DIR",
                   help="write herd7's output of each test to T.litmus.out beside it, as the kernel's "
                        "checkalllitmus.sh does, or under DIR (DIR/path/T.litmus.out); with several models "
                        "T.litmus.MODEL.out (implies --states)")
    b.add_argument("--states", action="store_true", help="enumerate every reachable final state")
    b.add_argument("--dot-dir", metavar="DIR", help="write a Graphviz picture of each witness into DIR")
    b.add_argument("-q", "--quiet", action="store_true", help="no per-test progress, only the summary")
    b.add_argument("--progress", action="store_true",
                   help="the rate (pairs/s) and the time left instead of a line per pair (a line every 5 s "
                        "off a terminal)")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except UsageError as e:
        print(f"verifier: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:  # a folder for pictures, say (outputs are checked before the run)
        print(f"verifier: {e.filename}: {e.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT


def models_of(spec: str, target: str | None) -> list[tuple[str, ModelSpec]]:
    """The models a comma-separated list names, each with the name it was given by; `auto`:
    every dialect's model (`applicable` then keeps a test's own)."""
    names = [m.strip() for m in spec.split(",")]
    if AUTO in names:
        if len([n for n in names if n]) > 1:
            raise UsageError(f"--model {AUTO} picks each test's model; it does not combine with others")
        names = sorted(set(DIALECT_MODELS.values()))
    out = []
    for name in names:
        if name:
            try:
                out.append((name, resolve_model(name, target)))
            except InputError as e:
                raise UsageError(str(e)) from None
    if not out:
        raise UsageError("--model names no model")
    return out


def applicable(models: Sequence[ModelSpec], arch: str, auto: bool) -> list[ModelSpec]:
    """The models a test of this dialect is checked under: its dialect's with `auto`; else
    those that apply, when several were named (one command checks a mixed library), or the
    one named (it is then an error if it does not apply)."""
    if auto:
        return [m for m in models if m.name == dialect_model(arch)]
    return [m for m in models if m.applies_to(arch)] if len(models) > 1 else list(models)


def unlisted_rows(found: Discovered, models: Sequence[tuple[str, ModelSpec]], done: set[Key]) -> list[Row]:
    """An `error` row per model for each folder that cannot be listed: the tests in it are not
    checked, and the batch must not pass as if they were."""
    return [problem_row(folder, spec.name, "error", f"{folder}: cannot list the folder: {why}")
            for folder, why in found.unlisted for _, spec in models if (folder, spec.name) not in done]


def writable(path: str, option: str) -> None:
    """Refuse an output path before any work is done (a bad `--junit` path used to be found
    only after the whole run, and the summary was lost with it).  Nothing is left behind: an
    existing file is opened for appending, untouched; a new one is created and removed."""
    if os.path.isdir(path):
        raise UsageError(f"cannot write {path} ({option}): it is a folder")
    try:
        if os.path.exists(path):
            open(path, "a").close()  # noqa: SIM115 - opened and closed at once
        else:
            open(path, "x").close()  # noqa: SIM115
            os.remove(path)
    except OSError as e:
        raise UsageError(f"cannot write {path} ({option}): {e.strerror}") from None


class _JsonLines:
    """The `--json` file, one flushed line per row.  A write that fails (a full disk,
    `/dev/full`) is a usage error naming the file; Python's own error names no file."""

    def __init__(self, path: str, *, append: bool) -> None:
        self.path = path
        try:
            self.out: IO[str] = open(path, "a" if append else "w")  # noqa: SIM115 - closed in close()
        except OSError as e:
            raise UsageError(f"cannot write {path} (--json): {e.strerror}") from None

    def write(self, row: Row) -> None:
        try:
            self.out.write(json.dumps(row) + "\n")
            self.out.flush()
        except OSError as e:
            raise UsageError(f"cannot write {self.path} (--json): {e.strerror}") from None

    def close(self) -> None:
        try:
            self.out.close()
        except OSError:
            pass  # the failed write was reported already


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (a link to the resumed file must be appended to, not
    rewritten: opening it for writing would empty the rows being resumed)."""
    if os.path.abspath(a) == os.path.abspath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    models = models_of(args.model, args.target)
    found = discover(args.paths)
    if found.missing:
        raise UsageError(f"no litmus files at {', '.join(found.missing)}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("-j needs at least 1")
    if (args.executor == "dask") != (args.scheduler is not None):
        raise UsageError("--executor dask needs --scheduler ADDRESS, and --scheduler needs --executor dask")
    json_path = args.json or args.resume
    appending = args.resume is not None and _same_file(json_path, args.resume)
    # The resumed rows stream past: their keys (to skip), their counts, and for --junit the rows.
    tally = Tally()
    done: set[Key] = set()
    rows: list[Row] | None = [] if args.junit else None  # rows are kept only for --junit (written at the end)
    for r in iter_rows(args.resume, repair=appending) if args.resume else ():
        done.add(key_of(r))
        tally.add(r)
        if rows is not None:
            rows.append(r)
    resumed = tally.total
    if args.junit:
        writable(args.junit, "--junit")
    try:
        pictures = _Pictures(Path(args.dot_dir)) if args.dot_dir else None
    except OSError as e:
        raise UsageError(f"cannot write {args.dot_dir} (--dot-dir): {e.strerror}") from None
    timeout = args.timeout or None
    memory = args.memory or None
    several = len(models) > 1 and args.model != AUTO  # auto checks each test under one model
    herd_files = _HerdFiles(args.herd_out, several=several) if args.herd_out is not None else None
    tasks = plan(found, models, target=args.target, states=args.states or args.herd or herd_files is not None,
                 timeout=timeout, memory_mb=memory, done=done, unroll=args.unroll, auto=args.model == AUTO)
    first = unlisted_rows(found, models, done)
    workers = args.jobs or default_workers()
    # Longest first only pays with several workers (one worker takes as long in any order,
    # and keeps the order the files were given in).
    if args.history or workers > 1 or args.executor == "dask":
        history = iter_rows(args.history, repair=False, option="--history") if args.history else None
        tasks = longest_first(tasks, history)

    json_out = _JsonLines(json_path, append=appending) if json_path else None
    info = sys.stderr
    summary_out = sys.stderr if args.herd else sys.stdout
    progress = Progress(len(tasks) + len(first), info, quiet=args.quiet, rate=args.progress)
    try:
        if json_out is not None and not appending and args.resume:
            for r in iter_rows(args.resume, repair=False):  # a fresh --json file holds the whole batch
                json_out.write(r)
        if args.executor == "local":
            rows_out = execute(tasks, workers=workers, timeout=timeout, memory_mb=memory)
        else:
            rows_out = execute_dask(tasks, scheduler=args.scheduler if args.executor == "dask" else None,
                                    workers=workers, timeout=timeout, memory_mb=memory)
        for row, ran in itertools.chain(((r, None) for r in first), ((r.row, r) for r in rows_out)):
            if json_out is not None:
                json_out.write(row)
            if args.herd:
                block = herd_block(row)
                if block and several:
                    block = f"Model {row.get('model')}\n" + block
                sys.stdout.write(block)
                sys.stdout.flush()
            if herd_files is not None:
                herd_files.write(row)
            if pictures is not None:
                pictures.add(row)
            if ran is None or ran.worker is None:
                tally.add(row)
            else:
                tally.add(row, worker=ran.worker, busy=ran.seconds, rss_mb=ran.rss_mb)
            if rows is not None:
                rows.append(row)
            progress.add(row)
    except KeyboardInterrupt:
        progress.close()
        print("verifier: interrupted; the rows so far are kept (use --resume to go on)", file=sys.stderr)
        return 130
    finally:
        if json_out is not None:
            json_out.close()
    progress.close()
    elapsed = time.monotonic() - started
    if pictures is not None and pictures.notes:
        more = len(pictures.notes) - 1
        print(pictures.notes[0] + (f" (and {more} more like it)" if more else ""), file=info)
    # a cluster's workers are the ones that answered, not -j
    shown = len(tally.workers) if args.executor == "dask" and tally.workers else workers
    print(summary(tally, elapsed=elapsed, workers=shown, resumed=resumed, parent_mb=peak_rss_mb()),
          file=summary_out, flush=True)
    if args.junit:
        try:
            Path(args.junit).write_text(junit_xml(rows or [], seconds=elapsed))
        except OSError as e:
            raise UsageError(f"cannot write {args.junit} (--junit): {e.strerror}") from None
    return exit_status(tally)


def exit_status(rows: Sequence[Row] | Tally) -> int:
    """0: every judged test matches; 1: a mismatch or an error row; 3: otherwise unknowns
    (or unsupported tests) remain."""
    counts = rows.counts if isinstance(rows, Tally) else Counter(str(r.get("outcome")) for r in rows)
    if counts["fail"] or counts["error"]:
        return EXIT_FAIL
    if counts["unknown"] or counts["unsupported"]:
        return EXIT_UNKNOWN
    return EXIT_OK


class _HerdFiles:
    """`--herd-out`: herd7's block of each (test, model) in its own file, where the kernel's
    scripts look for it: `T.litmus.out` beside the test, or under a folder (their
    LKMM_DESTDIR); `T.litmus.MODEL.out` when several models are checked."""

    def __init__(self, folder: str, *, several: bool) -> None:
        self.folder = Path(folder) if folder else None
        self.several = several

    def path(self, row: Row) -> Path:
        test = Path(str(row["file"]))
        name = f"{test.name}.{row.get('model')}.out" if self.several else f"{test.name}.out"
        if self.folder is None:
            return test.with_name(name)
        relative = test.parent if not test.is_absolute() else Path(*test.parent.parts[1:])
        return self.folder / relative / name

    def write(self, row: Row) -> None:
        block = herd_block(row)
        if not block:
            return
        target = self.path(row)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block)
        except OSError as e:
            raise UsageError(f"cannot write {target} (--herd-out): {e.strerror}") from None


# --------------------------------------------------------------------------- progress


class Progress:
    """A bar on a terminal; a plain line per row otherwise (CI logs).  `rate`: instead of a
    line per row, the rate and the estimated time left (on a terminal in the bar, elsewhere a
    line every few seconds), for batches too big to read row by row."""

    def __init__(self, total: int, out: IO[str], *, quiet: bool, rate: bool = False) -> None:
        self.total, self.out, self.quiet, self.rate = total, out, quiet, rate
        self.tty = out.isatty()
        self.counts: Counter[str] = Counter()
        self.start = time.monotonic()
        self.last_draw = 0.0

    def add(self, row: Row) -> None:
        self.counts[str(row.get("outcome"))] += 1
        if self.quiet:
            return
        now = time.monotonic()
        if not self.tty and not self.rate:
            print(row_line(row), file=self.out, flush=True)
            return
        finished = sum(self.counts.values()) == self.total
        if not self.tty:
            if now - self.last_draw > 5.0 or finished:
                self.last_draw = now
                print(f"progress: {self._rate_text(now)}", file=self.out, flush=True)
            return
        if now - self.last_draw > 0.1 or finished:
            self.last_draw = now
            self._draw(now)

    def _rate_text(self, now: float) -> str:
        done, spent = sum(self.counts.values()), now - self.start
        rate = done / spent if spent > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else 0.0
        return f"{done}/{self.total} pairs, {rate:.1f} pairs/s, {_clock(left)} left"

    def _draw(self, now: float) -> None:
        done = sum(self.counts.values())
        width = 24
        filled = width * done // max(1, self.total)
        bar = "=" * filled + (">" if filled < width else "") + " " * max(0, width - filled - 1)
        c = self.counts
        extra = f"  {self._rate_text(now).split(', ', 1)[1]}" if self.rate else ""
        self.out.write(f"\r[{bar}] {done}/{self.total}  pass {c['pass'] + c['forgiven']}  fail {c['fail']}"
                       f"  unknown {c['unknown']}  error {c['error'] + c['unsupported']}  {now - self.start:.1f}s{extra} ")
        self.out.flush()

    def close(self) -> None:
        if self.tty and not self.quiet and self.total:
            self.out.write("\n")
            self.out.flush()


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def row_line(row: Row) -> str:
    outcome = str(row.get("outcome"))
    what = row.get("observation") or ""
    if row.get("expected") is not None:
        what += f" (expected {row['expected']})"
    if outcome in ("error", "unsupported", "unknown") and row.get("note"):
        what = f"{what} {row['note']}".strip()
    return f"{outcome.upper():<11} {row['model']:<8} {row['file']}  {what}  {row.get('seconds', 0):.3f}s"


# --------------------------------------------------------------------------- summary


def summary(tally: Tally, *, elapsed: float, workers: int, resumed: int, parent_mb: float = 0.0) -> str:
    counts = tally.counts
    checked = tally.total - resumed
    rate = f", {checked / elapsed:.1f} pairs/s" if elapsed > 0 and checked > 0 else ""
    # utilisation: the time spent checking over the time the workers were there for
    spent = sum(w.busy for w in tally.workers.values()) if tally.workers else tally.checking_seconds
    busy = f", workers busy {min(100.0, 100 * spent / (elapsed * workers)):.0f}%" if (
        elapsed > 0 and checked > 0 and (tally.workers or not resumed)) else ""
    lines = [f"batch: {tally.total} (file, model) pairs in {elapsed:.1f}s on {workers} worker(s){rate}{busy}"
             + (f"; {resumed} from the resumed file" if resumed else "")]
    lines.append("  " + "  ".join(f"{o} {counts[o]}" for o in OUTCOMES))
    for title, outcome in LISTED:
        bad = sorted(tally.listed.get(outcome, []))
        if bad:
            lines.append(f"{title}:")
            lines.extend(f"  {f} [{m}]: {note}" for f, m, note in bad)
            if counts[outcome] > len(bad):
                lines.append(f"  ... and {counts[outcome] - len(bad)} more (the --json rows have them all)")
    if tally.slowest:
        lines.append("slowest:")
        lines.extend(f"  {s:8.3f}s  {f} [{m}]" for s, f, m in sorted(tally.slowest, reverse=True))
    if len(tally.workers) > 1 and elapsed > 0:
        lines.extend(worker_lines(tally, elapsed=elapsed, parent_mb=parent_mb))
    return "\n".join(lines)


# How many workers the summary lists one by one (a cluster's others are summed up).
WORKERS_LISTED = 16


def worker_lines(tally: Tally, *, elapsed: float, parent_mb: float) -> list[str]:
    """Each worker's pairs, the share of the batch's time it was busy, and its peak memory;
    the parent's peak memory (what `batch` itself holds: counts, not rows)."""
    def natural(name: str) -> list[tuple[int, str]]:  # "2" before "10", tcp://h2:1 before tcp://h10:1
        return [(int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"(\d+)", name)]

    names = sorted(tally.workers, key=natural)
    width = max(len(n) for n in names[:WORKERS_LISTED])
    lines = ["workers:"]
    for name in names[:WORKERS_LISTED]:
        w = tally.workers[name]
        memory = f"  peak {w.peak_mb:.0f} MB" if w.peak_mb else ""
        lines.append(f"  {name:<{width}}  {w.pairs:>7} pairs  busy {min(100.0, 100 * w.busy / elapsed):3.0f}%{memory}")
    if len(names) > WORKERS_LISTED:
        rest = [100 * tally.workers[n].busy / elapsed for n in names[WORKERS_LISTED:]]
        lines.append(f"  ... and {len(rest)} more, busy {min(rest):.0f}% to {min(100.0, max(rest)):.0f}%")
    if parent_mb:
        lines.append(f"  parent: peak {parent_mb:.0f} MB")
    return lines


# --------------------------------------------------------------------------- pictures


class _Pictures:
    """One Graphviz file per witness, named after the test and model."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.used: set[str] = set()
        self.notes: list[str] = []

    def add(self, row: Row) -> None:
        if row.get("witness") is None:
            return
        stem = picture_stem(row)
        name, n = stem, 1
        while name in self.used:
            n += 1
            name = f"{stem}-{n}"
        self.used.add(name)
        self.notes.extend(write_dot(row, self.folder / f"{name}.dot"))
