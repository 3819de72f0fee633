"""`verifier-herd7`: herd7's command line and output, so that scripts written for herd7 run
on the verifier unchanged (the kernel's tools/memory-model/scripts: `HERD=verifier-herd7`).

    verifier-herd7 -conf linux-kernel.cfg T.litmus > T.litmus.out

What it does as herd7 does (herd/herd.ml, herd/top_herd.ml):
- options are single-dash words, `-opt VALUE` or `-opt=VALUE`; a `.cfg` file given by
  `-conf` is read first and the command line's -model/-bell/-macros/-variant then win;
- files are litmus tests, `@FILE` an index of test names (one per line, `#` comments,
  relative to the index's folder); with none, test names are read from stdin;
- each test prints herd7's block on stdout (reports/herd.py); a test that cannot be read is
  a warning on stderr and the run goes on; a test past `-timeout` prints nothing (herd7's
  interval timer drops the test); the exit status is 0 unless the command line is wrong;
- model files are looked for as given, then in the -I folders.  herd7 also looks in its own
  library folder; ours holds our own equivalents of the models it ships, by herd7's names:
  `linux-kernel.cfg` is lkmm, `x86tso.cat` x86-tso, `aarch64.cat` armv8, `sc.cat` sc.

Where the output differs (docs/herd7-dropin.md): no `Hash=` line (herd7's digest is of its
own pretty-printed parse trees), Positive/Negative count final states, not executions.
Options that would change the answer and that the engine does not follow are refused by
name; options that only change herd7's pictures or diagnostics are accepted.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from verifier.analyses.check import check
from verifier.analyses.registry import ModelSpec, dialect_model, herd_model, resolve_model
from verifier.cat.herd_files import HerdConfig, load_cfg
from verifier.errors import InputError, Pos, UsageError
from verifier.frontends import parse_file
from verifier.reports.dot import write_dot
from verifier.reports.herd import herd_block
from verifier.reports.rows import verdict_json
from verifier.runner.memory import memory_cap

# herd7's library models, by the names herd7's scripts use, and our model of each.
LIBRARY_MODELS: dict[str, str] = {
    "linux-kernel.cfg": "lkmm", "sc.cat": "sc", "x86tso.cat": "x86-tso", "x86tso-mixed.cat": "x86-tso",
    "x86-tso.cat": "x86-tso", "aarch64.cat": "armv8",
}

# Options with a value.  Those we follow are named by their field; the others change only
# herd7's pictures, its diagnostics or its speed, and are read and ignored.
_VALUED = {"-conf": "conf", "-model": "model", "-cat": "model", "-bell": "bell", "-macros": "macros",
           "-I": "includes", "-variant": "variants", "-unroll": "unroll", "-timeout": "timeout", "-o": "out_dir"}
_VALUED_IGNORED = frozenset({
    "-show", "-graph", "-showevents", "-view", "-doshow", "-unshow", "-nshow", "-dotmode", "-dotcom",
    "-dotheader", "-fontname", "-fontsize", "-edgefontsizedelta", "-penwidth", "-arrowsize", "-edgeattr",
    "-splines", "-margin", "-pad", "-sep", "-scale", "-xscale", "-yscale", "-dsiy", "-siwidth", "-ptscale",
    "-boxscale", "-shift", "-threadposy", "-overlap", "-squished", "-showinitrf", "-showfinalrf", "-showpo",
    "-showinitwrites", "-showlegend", "-showkind", "-shortlegend", "-showthread", "-showobserved",
    "-showraw", "-oneinit", "-symetric", "-edgemerge", "-labelinit", "-fixedsize", "-extrachars",
    "-brackets", "-initrfpos", "-finalrfpos", "-initpos", "-mono", "-relabel", "-withbox", "-labelbox",
    "-movelabel", "-suffix", "-debug", "-verbose", "-showflag", "-showone",
})
_FLAGS_IGNORED = frozenset({"-gv", "-evince", "-preview", "-v", "-noid", "-tikz"})
# herd7 options that change which executions count or what is printed: not followed, so refused.
_REFUSED = frozenset({
    "-through", "-skipcheck", "-skipchecks", "-strictskip", "-speedcheck", "-restrict", "-throughflag",
    "-badexecs", "-badflag", "-optace", "-initwrites", "-kinds", "-conds", "-candidates", "-cycles",
    "-dumpes", "-machsize", "-endian", "-hexa", "-maxphantom", "-archcheck", "-switch", "-checkfilter",
    "-statelessrc11", "-dumpallfaults", "-outcomereads", "-c11", "-web", "-exit", "-classes",
})


@dataclass(frozen=True)
class HerdOptions:
    """A herd7 command line, as far as it bears on the answer."""

    files: tuple[str, ...] = ()
    conf: str | None = None
    model: str | None = None
    bell: str | None = None
    macros: str | None = None
    includes: tuple[str, ...] = ()
    variants: frozenset[str] = frozenset()
    unroll: int | None = None
    timeout: float | None = None
    out_dir: str | None = None
    quiet: bool = False
    version: bool = False
    help: bool = False


def parse_options(argv: Sequence[str]) -> HerdOptions:
    """herd7's command line (UsageError on what herd7 would not take, or we do not follow)."""
    opts = HerdOptions()
    args = list(argv)
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("-") or a == "-":
            if a == "-":
                raise UsageError("'-' as a file: herd7 reads test names from stdin when no file is given")
            opts = replace(opts, files=(*opts.files, a))
            continue
        name, eq, value = a.partition("=")
        if name in ("-q",):
            opts = replace(opts, quiet=True)
        elif name in ("-version", "-help", "--help"):
            opts = replace(opts, version=name == "-version", help=name != "-version")
        elif name in _FLAGS_IGNORED:
            pass  # accepted: it changes only herd7's pictures or diagnostics
        elif name in _VALUED or name in _VALUED_IGNORED:
            if not eq:
                if i >= len(args):
                    raise UsageError(f"option '{name}' needs a value")
                value, i = args[i], i + 1
            if name in _VALUED:  # the others change only herd7's pictures or diagnostics
                opts = _set(opts, _VALUED[name], name, value)
        elif name in _REFUSED:
            raise UsageError(f"unsupported herd7 option '{name}' (it changes which executions count or what is "
                             "printed, and verifier-herd7 does not follow it)")
        else:
            raise UsageError(f"unknown herd7 option '{name}'")
    return opts


def _set(opts: HerdOptions, key: str, name: str, value: str) -> HerdOptions:
    if key == "includes":
        return replace(opts, includes=(*opts.includes, value))
    if key == "variants":
        return replace(opts, variants=opts.variants | {v for v in value.replace(",", " ").split() if v})
    if key == "unroll":
        if not value.lstrip("-").isdigit():
            raise UsageError(f"option '{name}' needs a number, found {value!r}")
        return replace(opts, unroll=max(0, int(value)))
    if key == "timeout":
        try:
            seconds = float(value)
        except ValueError:
            raise UsageError(f"option '{name}' needs a number of seconds, found {value!r}") from None
        return replace(opts, timeout=seconds if seconds > 0 else None)
    if key == "conf":
        return replace(opts, conf=value)
    if key == "model":
        return replace(opts, model=value)
    if key == "bell":
        return replace(opts, bell=value)
    if key == "macros":
        return replace(opts, macros=value)
    return replace(opts, out_dir=value)


def find(name: str, includes: Sequence[str]) -> Path | None:
    """herd7's lookup of a file named on its command line: as given, then in each -I folder."""
    for candidate in (Path(name), *(Path(d) / name for d in includes)):
        if candidate.is_file():
            return candidate
    return None


def model_of(opts: HerdOptions) -> ModelSpec | None:
    """The model the options name (None: each test under its dialect's, as herd7 picks one by
    the test's architecture)."""
    includes = tuple(Path(d) for d in opts.includes)
    base: HerdConfig | None = None
    builtin: str | None = None
    if opts.conf is not None:
        path = find(opts.conf, opts.includes)
        if path is not None:
            try:
                base = load_cfg(path, includes)
            except InputError as e:
                raise UsageError(str(e)) from None
        elif Path(opts.conf).name in LIBRARY_MODELS:
            builtin = LIBRARY_MODELS[Path(opts.conf).name]
        else:
            raise UsageError(_not_found("configuration file", opts.conf, opts.includes))
    files: dict[str, Path] = {}
    for key, what in (("model", "model file"), ("bell", "bell file"), ("macros", "macro file")):
        name = getattr(opts, key)
        if name is None:
            continue
        path = find(name, opts.includes)
        if path is None:
            if key == "model" and Path(name).name in LIBRARY_MODELS and not (opts.bell or opts.macros):
                builtin, base = LIBRARY_MODELS[Path(name).name], None
                continue
            raise UsageError(_not_found(what, name, opts.includes))
        files[key] = path
    if builtin is not None and not files and not opts.variants:
        return resolve_model(builtin)
    if builtin is not None:
        raise UsageError(f"{opts.conf or opts.model} is herd7's own library file, which verifier-herd7 knows "
                         f"as its model {builtin!r}; it cannot be combined with -bell, -macros or -variant "
                         "(give the file itself, with -I its folder)")
    if base is None and "model" not in files:
        if files:
            raise UsageError("-bell and -macros need a -model (or a -conf naming one)")
        return None
    if base is None:
        base = HerdConfig(files["model"], files["model"], None, None, frozenset())
    cfg = HerdConfig(base.path, files.get("model", base.model), files.get("bell", base.bell),
                     files.get("macros", base.macros), base.variants | opts.variants)
    if cfg.bell is None and cfg.macros is None:
        try:
            return resolve_model(str(cfg.model)) if not opts.variants else herd_model(
                cfg, name=cfg.model.stem, search=includes)
        except InputError as e:
            raise UsageError(str(e)) from None
    try:
        return herd_model(cfg, name=(base.path if opts.conf else cfg.model).stem, search=includes)
    except InputError as e:
        raise UsageError(str(e)) from None


def _not_found(what: str, name: str, includes: Sequence[str]) -> str:
    where = "".join(f", {d}" for d in includes)
    known = ", ".join(f"{k} ({v})" for k, v in LIBRARY_MODELS.items())
    return (f"cannot find the {what} {name!r} (looked in .{where}); herd7's own library files that "
            f"verifier-herd7 knows: {known}")


def litmus_names(files: Sequence[str], stdin: Iterator[str]) -> Iterator[str]:
    """herd7's list of tests: the arguments, `@FILE` expanded, or stdin's lines if none."""
    if not files:
        yield from _lines(stdin, Path("."))
        return
    for f in files:
        yield from _expand(f)


def _expand(name: str) -> Iterator[str]:
    path = Path(name)
    if not path.name.startswith("@"):
        yield name
        return
    index = path.with_name(path.name[1:]) if not path.is_file() else path
    try:
        text = index.read_text(errors="replace")
    except OSError as e:
        raise UsageError(f"cannot read the test index {name}: {e.strerror}") from None
    yield from _lines(iter(text.splitlines()), index.parent)


def _lines(lines: Iterator[str], folder: Path) -> Iterator[str]:
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            yield from _expand(str(folder / line) if folder != Path(".") else line)


def run(opts: HerdOptions) -> int:
    stdout = sys.stdout
    if opts.version:
        print("verifier-herd7: herd7's command line (7.58) on the verifier's engine")
        return 0
    if opts.help:
        print(__doc__)
        return 0
    spec = model_of(opts)
    for name in litmus_names(opts.files, iter(sys.stdin)):
        block = _one(name, spec, opts)
        if block:
            stdout.write(block)
            stdout.flush()
    return 0


def _one(name: str, spec: ModelSpec | None, opts: HerdOptions) -> str:
    try:
        with memory_cap(None):
            test = parse_file(name)
        model = spec or resolve_model(dialect_model(test.arch))
        if not model.applies_to(test.arch):
            raise InputError(Pos(name, 1, 1), f"the model {model.name} does not apply to {test.arch} tests")
        v = check(test, model, want_states=True, timeout=opts.timeout, unroll=opts.unroll)
    except InputError as e:
        _warn(f"Warning: {e} (User error)")
        return ""
    except (OSError, UsageError) as e:
        _warn(f"Warning: File \"{name}\": {getattr(e, 'strerror', None) or e} (User error)")
        return ""
    row = verdict_json(v)
    if row.get("observation") == "Unknown":
        _warn(f"{name}: no answer within -timeout {opts.timeout} (herd7 prints nothing for it)")
        return ""
    if opts.out_dir is not None and row.get("witness") is not None:
        write_dot(row, Path(opts.out_dir) / f"{Path(name).stem}.dot")
    return herd_block(row)


def _warn(text: str) -> None:
    """A warning on stderr; herd7's -q silences its diagnostics, not these (nor do we)."""
    print(text, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        opts = parse_options(sys.argv[1:] if argv is None else argv)
        return run(opts)
    except UsageError as e:
        print(f"verifier-herd7: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
