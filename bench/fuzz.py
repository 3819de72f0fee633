"""Mutants of the project's litmus tests and models by the thousand (a report, not a test).

    python bench/fuzz.py --count 10000 [--jobs N] [--seed S] [--keep DIR] [--fresh]

Makes COUNT mutants with tests/mutants.py (a fifth of them models, or --models F, the rest tests from
litmus/ and tests/litmus/), writes them into a folder (a temporary one, kept when something
fails, or --keep DIR), and runs:

- `verifier check --timeout 10` on every mutant: a test under `--model sc,x86-tso,armv8`
  (each model that applies to its dialect), a model as `--model X.cat` on a small test of
  tests/mutants.MODEL_TESTS;
- `verifier batch -j 1` on every model mutant (one small test: a bad model is refused up
  front, as `check` refuses it, or gives one row);
- one `verifier batch --json` over the whole folder of test mutants, whose rows must hold a
  row per (file, model) and none saying `internal error`.

The checks run on --jobs worker processes that call `verifier.cli.main.main` in-process (no
interpreter start per mutant; a worker is replaced every 300 mutants and whenever one passes
the wall bound); `--fresh` starts `python -m verifier` per mutant instead.  Prints the count
of each failure class (goal: 0 in every one) with a few examples, and exits 0 (a report;
`--strict`: 1 when a class is not empty).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import random
import re
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import mutants  # noqa: E402

MODELS = "sc,x86-tso,armv8"
TIMEOUT = "10"
RECYCLE = 300  # mutants per worker process before a fresh one
CLASSES = (
    ("traceback", "a traceback (or an exception out of main)"),
    ("internal", "the text 'internal error'"),
    ("status", "an exit status outside 0-3"),
    ("unpositioned", "exit 2 without file:line:col"),
    ("hang", "no answer within the wall bound"),
    ("batch-missing", "batch: a (file, model) pair without its row"),
    ("batch-internal", "batch: a row saying 'internal error'"),
    ("batch-crash", "batch: the run itself failed (status, traceback)"),
)


@dataclass
class Job:
    """One command on one mutant, and what it should blame when it refuses the input."""

    ident: str
    argv: list[str]
    blamed: list[str]
    mutant: str
    origin: str  # source file and steps: how to make the mutant again
    json_out: str | None = None  # batch runs: the rows file


@dataclass
class Outcome:
    status: int | None
    out: str
    err: str
    seconds: float
    escaped: str | None = None  # a traceback of an exception main() let out (in-process)
    hung: bool = False


@dataclass
class Report:
    failures: dict[str, list[str]] = field(default_factory=lambda: collections.defaultdict(list))
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, cls: str, what: str) -> None:
        with self.lock:
            self.failures[cls].append(what)


# --------------------------------------------------------------------------- mutants


def make_mutants(count: int, seed: int, folder: Path, most: int = 3, models: float = 0.2) -> list[Job]:
    tests, cats = mutants.litmus_sources(), mutants.model_sources()
    (folder / "tests").mkdir(parents=True, exist_ok=True)
    (folder / "models").mkdir(parents=True, exist_ok=True)
    jobs: list[Job] = []
    for i in range(count):
        rng = random.Random(f"{seed}:{i}")
        mseed = rng.getrandbits(48)
        steps = mutants.steps_of(mseed, most)
        if rng.random() < models:
            source = rng.choice(cats)
            folder_i = folder / "models" / f"{i:05d}"
            folder_i.mkdir(exist_ok=True)
            path = folder_i / "X.cat"
            path.write_bytes(mutants.apply(source.read_bytes(), steps))
            litmus, target = rng.choice(mutants.MODEL_TESTS)
            argv = ["--model", str(path), str(ROOT / litmus)] + (["--target", target] if target else [])
            origin = f"{source.relative_to(ROOT)} {steps} on {litmus} target {target}"
            # an error may be in a model the mutant includes (a name it no longer defines)
            blamed = [str(path), str(ROOT / litmus), *(str(c) for c in cats)]
            jobs.append(Job(f"{i:05d}", ["check", "--timeout", TIMEOUT, *argv], blamed, str(path), origin))
            rows = str(folder_i / "rows.json")
            jobs.append(Job(f"{i:05d}b", ["batch", "-j", "1", "-q", "--timeout", TIMEOUT, "--json", rows, *argv],
                            blamed, str(path), origin, json_out=rows))
        else:
            source = rng.choice(tests)
            path = folder / "tests" / f"{i:05d}-{source.name[:-len(mutants.suffix(source))]}{mutants.suffix(source)}"
            path.write_bytes(mutants.apply(source.read_bytes(), steps))
            origin = f"{source.relative_to(ROOT)} {steps}"
            jobs.append(Job(f"{i:05d}", ["check", "--timeout", TIMEOUT, "--model", MODELS, str(path)],
                            [str(path)], str(path), origin))
    return jobs


# --------------------------------------------------------------------------- workers


def worker_loop() -> None:
    """`--worker`: read a JSON job per line on stdin, run it in-process, answer on the
    original stdout (fd 1 itself goes to /dev/null: nothing Z3 prints can garble it)."""
    from verifier.analyses.registry import resolve_model
    from verifier.cli.main import main

    cap = 4096 << 20  # a backstop over check's own --memory (2048): a runaway mutant fails alone
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    answers = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    for line in sys.stdin:
        argv = json.loads(line)
        out, err = io.StringIO(), io.StringIO()
        escaped = None
        start = time.monotonic()
        status: int | None = None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as e:
                status = e.code if isinstance(e.code, int) else 2
            except BaseException:  # noqa: BLE001 - what the report counts
                escaped = traceback.format_exc()
        resolve_model.cache_clear()
        answers.write(json.dumps({"status": status, "out": clip(out.getvalue()), "err": clip(err.getvalue()),
                                  "seconds": time.monotonic() - start, "escaped": escaped}) + "\n")
        answers.flush()


def clip(text: str, keep: int = 20000) -> str:
    """A long output's head and tail (a message may quote a 100 KB line; its position comes first)."""
    return text if len(text) <= 2 * keep else text[:keep] + "\n...\n" + text[-keep:]


class Worker:
    """A `bench/fuzz.py --worker` process, replaced when it hangs or has done RECYCLE jobs."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.done = 0

    def _start(self) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"], cwd=ROOT,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, bufsize=1)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def run(self, argv: list[str], wall: float) -> Outcome:
        if self.proc is None or self.done >= RECYCLE:
            self.stop()
            self.proc, self.done = self._start(), 0
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.done += 1
        start = time.monotonic()
        self.proc.stdin.write(json.dumps(argv) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], wall)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            code = self.proc.poll()
            self.stop()
            if code is None:
                return Outcome(None, "", "", time.monotonic() - start, hung=True)
            return Outcome(code, "", f"the worker died (status {code})", time.monotonic() - start)
        r = json.loads(line)
        return Outcome(r["status"], r["out"], r["err"], r["seconds"], r["escaped"])


def run_fresh(argv: list[str], wall: float) -> Outcome:
    start = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-m", "verifier", *argv], cwd=ROOT, capture_output=True,
                           text=True, errors="replace", timeout=wall)
    except subprocess.TimeoutExpired:
        return Outcome(None, "", "", time.monotonic() - start, hung=True)
    return Outcome(p.returncode, p.stdout, p.stderr, time.monotonic() - start)


# --------------------------------------------------------------------------- judging


def last_line(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= 300 else line[:200] + f" ... ({len(line)} characters)"


def judge(job: Job, o: Outcome, report: Report, wall: float) -> None:
    what = f"{job.mutant} [{job.argv[0]}] ({job.origin})"
    if o.hung:
        report.add("hang", f"{what}: no answer within {wall:.0f}s")
        return
    report.statuses[f"{job.argv[0]} {o.status}"] += 1
    with report.lock:
        report.slowest.append((o.seconds, f"{job.mutant} [{job.argv[0]}]"))
        report.slowest[:] = sorted(report.slowest, reverse=True)[:5]
    if o.escaped is not None or "Traceback" in o.out or "Traceback" in o.err:
        report.add("traceback", f"{what}: {last_line(o.escaped or o.err)}")
    for text in (o.out, o.err):
        if "internal error" in text:
            line = next(x for x in text.splitlines() if "internal error" in x)
            report.add("internal", f"{what}: {last_line(line)}")
            break
    if o.escaped is None and o.status not in (0, 1, 2, 3):
        report.add("status", f"{what}: exit {o.status}: {last_line(o.err)}")
    if o.status == 2:
        where = "|".join(re.escape(b) for b in job.blamed)
        if not re.search(rf"(?:{where}):\d+:\d+: ", o.err):
            report.add("unpositioned", f"{what}: {last_line(o.err)}")
    if job.json_out is not None and o.status != 2:
        rows = read_rows(Path(job.json_out))
        if len(rows) != 1:
            report.add("batch-missing", f"{what}: {len(rows)} rows, not 1")


def read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def applies(path: str, model: str) -> bool | None:
    """Whether `model` applies to the dialect of the file at `path` (None: no dialect can be
    read from it, so batch owes it an error row).  A batch that does not write `skipped`
    rows leaves the other pairs out."""
    from verifier.analyses.registry import resolve_model
    from verifier.errors import InputError
    from verifier.frontends import herd_dialect, parse_file, read_text

    try:
        arch = parse_file(path).arch
    except InputError:
        try:
            arch = herd_dialect(read_text(path), path)
        except InputError:
            return None
    except Exception:  # noqa: BLE001 - the check commands report it
        return None
    return resolve_model(model).applies_to(arch)


def batch_folder(folder: Path, jobs: int, count: int, report: Report, wall: float) -> float:
    """One `verifier batch --json` over every test mutant: a row per (file, model), none
    an internal error."""
    out = folder / "batch.json"
    files = sorted(str(p) for p in (folder / "tests").iterdir())
    start = time.monotonic()
    budget = max(600.0, 4 * wall * count / max(1, jobs))
    try:
        p = subprocess.run([sys.executable, "-m", "verifier", "batch", str(folder / "tests"), "--model", MODELS,
                            "--timeout", TIMEOUT, "--json", str(out), "-q", "-j", str(jobs)],
                           cwd=ROOT, capture_output=True, text=True, errors="replace", timeout=budget)
    except subprocess.TimeoutExpired:
        report.add("batch-crash", f"batch over {folder / 'tests'}: no end within {budget:.0f}s")
        return time.monotonic() - start
    seconds = time.monotonic() - start
    report.statuses[f"batch-folder {p.returncode}"] += 1
    if p.returncode not in (0, 1, 3) or "Traceback" in p.stderr:
        report.add("batch-crash", f"batch over {folder / 'tests'}: exit {p.returncode}: {last_line(p.stderr)}")
    rows = read_rows(out)
    seen = collections.Counter((os.path.realpath(str(r.get("file"))), str(r.get("model"))) for r in rows)
    for f in files:
        for m in MODELS.split(","):
            if not seen[(os.path.realpath(f), m)]:
                if applies(f, m) is False:
                    report.statuses["batch-folder unlisted skip"] += 1  # counted in its summary, no row
                else:
                    report.add("batch-missing", f"{f} [{m}]: no row")
    for r in rows:
        if "internal error" in json.dumps(r):
            report.add("batch-internal", f"{r.get('file')} [{r.get('model')}]: {str(r.get('note'))[:300]}")
    return seconds


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000, help="mutants to make (default 1000)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    ap.add_argument("--seed", type=int, default=0, help="the run's seed (default 0): the same seed, the same mutants")
    ap.add_argument("--steps", type=int, default=3, metavar="N",
                    help="at most N mutation operators per mutant (default 3)")
    ap.add_argument("--models", type=float, default=0.2, metavar="F",
                    help="the share of mutants that are models (default 0.2)")
    ap.add_argument("--wall", type=float, default=60.0, help="wall-clock bound per command (default 60 s)")
    ap.add_argument("--keep", metavar="DIR", help="write the mutants into DIR (kept) instead of a temporary folder")
    ap.add_argument("--fresh", action="store_true", help="a `python -m verifier` process per mutant")
    ap.add_argument("--no-batch", action="store_true", help="skip the batch run over the folder")
    ap.add_argument("--examples", type=int, default=5, help="examples listed per failure class (default 5)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a failure class is not empty")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker_loop()
        return 0

    started = time.monotonic()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="verifier-fuzz-"))
    jobs = make_mutants(args.count, args.seed, folder, args.steps, args.models)
    print(f"fuzz: {args.count} mutants (seed {args.seed}) in {folder}: {len(jobs)} commands on {args.jobs} "
          f"worker(s)", file=sys.stderr, flush=True)
    report = Report()
    local = threading.local()
    workers: list[Worker] = []
    done = [0]

    def one(job: Job) -> None:
        if args.fresh:
            o = run_fresh(job.argv, args.wall)
        else:
            if not hasattr(local, "worker"):
                local.worker = Worker()
                with report.lock:
                    workers.append(local.worker)
            o = local.worker.run(job.argv, args.wall)
        judge(job, o, report, args.wall)
        with report.lock:
            done[0] += 1
            if done[0] % 500 == 0:
                print(f"  {done[0]}/{len(jobs)} commands, {time.monotonic() - started:.0f}s", file=sys.stderr,
                      flush=True)

    try:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for f in [pool.submit(one, j) for j in jobs]:
                f.result()
    finally:
        for w in workers:
            w.stop()
    checked = time.monotonic() - started
    batch_seconds = None
    if not args.no_batch and any((folder / "tests").iterdir()):
        batch_seconds = batch_folder(folder, args.jobs, args.count, report, args.wall)

    total = time.monotonic() - started
    print(f"\n{args.count} mutants, seed {args.seed}, {args.jobs} job(s): checks {checked:.0f}s"
          + (f", batch {batch_seconds:.0f}s" if batch_seconds is not None else "") + f", total {total:.0f}s")
    print("exit statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(report.statuses.items())))
    print("slowest: " + ", ".join(f"{what} {sec:.1f}s" for sec, what in report.slowest))
    print(f"\n{'failure class':<16} {'count':>6}  meaning")
    for cls, meaning in CLASSES:
        print(f"{cls:<16} {len(report.failures.get(cls, [])):>6}  {meaning}")
    bad = any(report.failures.values())
    for cls, _ in CLASSES:
        found = report.failures.get(cls, [])
        if found:
            print(f"\n{cls} ({len(found)}):")
            for x in sorted(found)[:args.examples]:
                print(f"  {x}")
    if bad or args.keep:
        print(f"\nthe mutants are in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if bad and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
