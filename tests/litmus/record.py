"""Record herd7's answers for the conformance set under tests/litmus/ (a development aid).

    python tests/litmus/record.py [FILE_OR_DIR ...]     (default: every test under tests/litmus)

Runs herd7 (on PATH, or $HERD7) on each test with the invocation that made
../shared/reference/verdicts.jsonl for the same dialect and model, and rewrites
tests/litmus/herd7.jsonl: one line per (file, model) with herd7's observation and every final
state as herd7 prints it, or, when herd7 refuses the test, its message (`herd_error`).
tests/test_herd_set.py compares the verifier with these lines; neither it nor CI needs herd7.

Models per dialect: AArch64 under `armv8` (`-model aarch64.cat`) and `sc` (`-model sc.cat`);
X86 under `x86-tso` (`-model x86tso.cat`) and `sc`; X86_64 under `x86-tso`
(`-model x86tso-mixed.cat`) and `sc`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "herd7.jsonl"
MODELS = {
    "AArch64": {"armv8": ["-model", "aarch64.cat"], "sc": ["-model", "sc.cat"]},
    "X86": {"x86-tso": ["-model", "x86tso.cat"], "sc": ["-model", "sc.cat"]},
    "X86_64": {"x86-tso": ["-model", "x86tso-mixed.cat"], "sc": ["-model", "sc.cat"]},
}


def _state(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in line.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def herd(path: Path, args: list[str], extra: list[str], timeout: float = 600) -> dict[str, object]:
    exe = os.environ.get("HERD7", "herd7")
    try:
        r = subprocess.run([exe, *args, *extra, str(path)], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"herd_error": f"herd7 did not answer in {timeout:g} s"}
    lines = r.stdout.splitlines()
    warn = [w for w in (r.stdout + r.stderr).splitlines() if "Warning" in w or "error" in w.lower()]
    obs = next((m for m in (re.match(r"^Observation \S+ (Never|Sometimes|Always) ", x) for x in lines) if m), None)
    if obs is None:
        msg = warn[-1] if warn else (r.stdout + r.stderr).strip()[-300:]
        return {"herd_error": re.sub(r'File "[^"]*"', "File", msg)}
    i = next(k for k, x in enumerate(lines) if x.startswith("States "))
    n = int(lines[i].split()[1])
    return {"observation": obs.group(1), "states": [_state(x) for x in lines[i + 1 : i + 1 + n]]}


def main(argv: list[str]) -> int:
    targets = [Path(a) for a in argv] or [HERE]
    files = sorted({f for t in targets for f in ([t] if t.is_file() else t.rglob("*.litmus"))})
    old = [json.loads(x) for x in OUT.read_text().splitlines()] if OUT.exists() else []
    keep = {(r["file"], r["model"]): r for r in old}
    for f in files:
        rel = f.resolve().relative_to(HERE).as_posix()
        first = f.read_text().lstrip().split(None, 1)[0]
        extra: list[str] = []
        m = re.search(r"^\(\* herd7: (.*) \*\)$", f.read_text(), re.M)
        if m:
            extra = m.group(1).split()  # e.g. -unroll 3
        for model, args in MODELS.get(first, {}).items():
            rec = {"file": rel, "arch": first, "model": model, "herd_args": [*args, *extra], **herd(f, args, extra)}
            keep[(rel, model)] = rec
            print(rel, model, rec.get("observation", rec.get("herd_error")))
    OUT.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for _, r in sorted(keep.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
