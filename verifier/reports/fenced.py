"""The fenced test as a developer would write it: the input file's own text, edited.

`verifier fences --write DIR` hands over the file a test was parsed from and the knobs
synthesis chose (`analyses.knobs.Knob`); this module makes each knob's change in the text,
in the file's dialect, and leaves every other character as it was (comments, layout, the
YAML around a `program:` or `test:` block):

- kernel C: a fence is a new line `smp_mb();` after the line where the anchor's statement
  ends, indented like the anchor's line; an upgrade rewrites the call at the anchor
  (`READ_ONCE(*x)` -> `smp_load_acquire(x)`, `xchg_relaxed(` -> `xchg(`);
- herd's assembly table (X86, AArch64): a fence is a new row after the anchor's row with the
  instruction in the thread's column; an upgrade changes the mnemonic (`LDR` -> `LDAR`).

Edits are computed on the original text and spliced in one pass, so that no edit moves
another's position.  A knob that cannot be written faithfully raises `ValueError`: a file
that silently says something else than the program synthesis checked would be worse than
none.  The positions in a knob are file positions (the YAML front end maps them back into
the `.litmus.yaml` file), with columns counted in characters (a tab is one).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import yaml

from verifier.analyses.knobs import Knob, apply, instructions, private_location
from verifier.errors import Pos
from verifier.program.ast import Assign, Fence, If, Instr, Litmus, Written
from verifier.program.primitives import Access, primitives

# Kernel C primitives come from the one table (`program/primitives.py`): a fence knob names a
# barrier primitive, an upgrade names the primitive an access becomes.  Assembly upgrades:
# option -> (class before, class after); the knob must agree (else a stale menu).
UPGRADES = {
    "AArch64": {"LDAR": ("R.plain", "R.acquire"), "STLR": ("W.plain", "W.release")},
}
_AARCH64_MNEMONIC = {"LDAR": "LDR", "STLR": "STR"}  # option -> the mnemonic it replaces
_IDENT = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] by `text` (an insertion when start == end); `order` keeps
    insertions at one offset in knob order."""

    start: int
    end: int
    text: str
    order: int
    new_line_after: int = 0  # a whole line inserted after this file line (0: none)


def fenced_text(
    text: str, test: Litmus, knobs: Sequence[Knob], reparse: Callable[[str], Litmus] | None = None
) -> str:
    """`text` (the file `test` was parsed from) with the knobs' changes made.

    `reparse` (e.g. `lambda s: parse_text(s, path)`: this stage may not import the front
    ends) re-reads the result; it must then be the program `knobs.apply` makes, up to
    positions and up to a fence's place among register moves, else `ValueError`."""
    src = _Source(text)
    edits: list[Edit] = []
    for n, k in enumerate(knobs):
        if k.kind == "fence":
            edits.extend(_c_fence(src, _written(test, k), k, n) if test.arch == "C" else _asm_fence(src, test, k, n))
        elif k.kind == "upgrade":
            edits.extend(_c_upgrade(src, _written(test, k), k, n) if test.arch == "C" else _asm_upgrade(src, test, k, n))
        else:
            raise ValueError(f"{_who(k)}: a {k.kind!r} knob is not a change to write into the test")
    if _is_yaml(test.path):
        edits.extend(_shift_fence_sites(text, [e.new_line_after for e in edits if e.new_line_after]))
    out = _splice(text, edits)
    if test.arch != "C":
        out = _realign(text, out, len(test.threads))
    if reparse is not None:
        _check(out, test, knobs, reparse)
    return out


def _who(k: Knob) -> str:
    return f"knob {k.index} ({k.describe()})"


# --------------------------------------------------------------------------- text positions


class _Source:
    """The text with its line starts, to turn a knob's (line, column) into an offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def offset(self, k: Knob) -> int:
        line, col = k.anchor.line, k.anchor.col
        if not 1 <= line <= len(self.starts) or col < 1 or self.starts[line - 1] + col - 1 > self.line_end(line):
            raise ValueError(f"{_who(k)}: its position {line}:{col} is not in the file")
        return self.starts[line - 1] + col - 1

    def at(self, pos: Pos) -> int:
        """The offset of a position the front end recorded (a column is a character)."""
        if not 1 <= pos.line <= len(self.starts):
            raise ValueError(f"position {pos.line}:{pos.col} is not in the file")
        return self.starts[pos.line - 1] + pos.col - 1

    def line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def line_end(self, line: int) -> int:
        """The offset of the line's terminator (its '\\r' for CRLF), or the text's end."""
        end = self.text.find("\n", self.starts[line - 1])
        end = len(self.text) if end < 0 else end
        return end - 1 if end > 0 and self.text[end - 1] == "\r" else end

    def line(self, line: int) -> str:
        return self.text[self.starts[line - 1] : self.line_end(line)]

    def indent(self, line: int) -> str:
        body = self.line(line)
        return body[: len(body) - len(body.lstrip(" \t"))]

    def newline(self, line: int) -> str:
        return "\r\n" if self.text.startswith("\r\n", self.line_end(line)) else "\n"

    def insert_after(self, line: int, content: str, order: int) -> Edit:
        """A new line `content` after file line `line` (the last line may lack its newline)."""
        if line < len(self.starts):  # the line has its newline: the new one goes after it
            return Edit(self.starts[line], self.starts[line], content + self.newline(line), order, line)
        nl = "\r\n" if "\r\n" in self.text else "\n"
        return Edit(len(self.text), len(self.text), nl + content, order, line)


def _splice(text: str, edits: list[Edit]) -> str:
    """All edits made on the original text; overlapping replacements are refused."""
    out: list[str] = []
    at = 0
    for e in sorted(edits, key=lambda e: (e.start, e.end > e.start, e.order)):
        if e.start < at:
            raise ValueError(f"two changes overlap at offset {e.start} of the file (two upgrades of one access?)")
        out.append(text[at : e.start])
        out.append(e.text)
        at = e.end
    out.append(text[at:])
    return "".join(out)


# --------------------------------------------------------------------------- kernel C


def _written(test: Litmus, k: Knob) -> Written:
    """Where the knob's instruction is written, as the C front end recorded it."""
    thread = next((t for t in test.threads if t.tid == k.tid), None)
    instrs = instructions(thread) if thread is not None else []
    i = instrs[k.slot] if 0 <= k.slot < len(instrs) else None
    w = getattr(i, "written", None)
    if not isinstance(w, Written):
        raise ValueError(f"{_who(k)}: the C front end did not record where this instruction is written")
    return w


def _c_fence(src: _Source, w: Written, k: Knob, order: int) -> list[Edit]:
    p = primitives().get(k.name)
    if p is None or p.params or len(p.accesses) != 1 or f"F.{p.single.cls}" != k.cls or p.single.form != "__fence":
        raise ValueError(f"{_who(k)}: no kernel C barrier {k.name!r} of class {k.cls} to write")
    if w.statement_end is None:  # `if (READ_ONCE(*x))`: no statement boundary to put a fence at
        raise ValueError(f"{_who(k)}: the access is inside a condition or expression, not a "
                         "statement of its own; no place to insert a fence after it")
    if w.braceless:  # a new line after it would fall outside the branch knobs.apply puts it in
        raise ValueError(f"{_who(k)}: the statement at line {k.anchor.line} is the body of an if/else without "
                         "braces; add the braces to place a fence after it")
    text = src.text
    semi = src.at(w.statement_end)
    line = src.line_of(semi)
    rest = text[semi + 1 : src.line_end(line)]
    call = f"{k.name}();"
    if _only_comment(rest):
        return [src.insert_after(line, src.indent(k.anchor.line) + call, order)]
    # Another statement follows on the same line: the fence must go between the two.
    return [Edit(semi + 1, semi + 1, " " + call, order)]


def _only_comment(rest: str) -> bool:
    """Whether the rest of a line holds nothing but blanks and comments that end on it."""
    s = rest.strip()
    if not s or s.startswith("//"):
        return True
    if s.startswith("/*"):
        end = s.find("*/", 2)
        return end >= 0 and _only_comment(s[end + 2 :])
    return False


def _c_upgrade(src: _Source, w: Written, k: Knob, order: int) -> list[Edit]:
    """The call at the anchor becomes the table's primitive of the new class: its sibling
    of the same arguments if it has one (`atomic_read` -> `atomic_read_acquire`, `xchg_relaxed`
    -> `xchg`), else the knob's (`READ_ONCE(*x)` -> `smp_load_acquire(x)`)."""
    text, at = src.text, src.offset(k)
    m = _IDENT.match(text, at)
    fn = m.group() if m else ""
    table = primitives()
    p = table.get(fn)
    if m is None or p is None or len(p.accesses) != 1 or _key(p.single) != k.old:
        raise ValueError(f"{_who(k)}: expected a call of class {k.old} at line {k.anchor.line}, "
                         f"found {fn or text[at:at + 12]!r}")
    new_cls = k.cls.partition(".")[2]
    sibling = fn.removesuffix("_relaxed") if p.single.cls == "relaxed" else f"{fn}_{new_cls}"
    q = table.get(sibling)
    if q is not None and len(q.accesses) == 1 and _key(q.single) == k.cls and q.args == p.args:
        return [Edit(at, at + len(fn), sibling, order)]
    q = table.get(k.name)
    if (q is None or len(q.accesses) != 1 or _key(q.single) != k.cls or q.single.form != p.single.form
            or q.args[1:] != p.args[1:] or (p.args[0], q.args[0]) not in (("star", "ptr"), ("ptr", "ptr"))):
        raise ValueError(f"{_who(k)}: {fn} has no form of class {k.cls} to write ({k.name!r} is not one)")
    if p.args[0] == "ptr":
        return [Edit(at, at + len(fn), k.name, order)]
    if w.first_arg is None:
        raise ValueError(f"{_who(k)}: the C front end did not record the arguments of {fn} at line {k.anchor.line}")
    arg_at, arg_end = src.at(w.first_arg[0]), src.at(w.first_arg[1])
    core = text[arg_at:arg_end]
    if core.startswith("*"):
        address = core[1:].lstrip()  # READ_ONCE(*x): x is already the address
    elif re.fullmatch(r"[A-Za-z_][\w.]*(\[[^\]]*\])*", core):
        address = "&" + core  # READ_ONCE(x) on a location named x
    else:
        address = f"&({core})"
    # the name and the first argument change; what lies between (`(`, blanks) stays
    return [Edit(at, at + len(fn), k.name, order), Edit(arg_at, arg_end, address, order)]


def _key(a: Access) -> str:
    """An access's mapping-table key (`R.once`, `RMW.relaxed`)."""
    kind = {"__load": "R", "__store": "W", "__fence": "F"}.get(a.form, "RMW")
    return f"{kind}.{a.cls}"


def _check_upgrade(k: Knob, dialect: str) -> None:
    change = UPGRADES.get(dialect, {}).get(k.name)
    if change is None:
        raise ValueError(f"{_who(k)}: no {dialect} upgrade named {k.name!r} to write")
    if change != (k.old, k.cls):
        raise ValueError(f"{_who(k)}: {k.name} changes {change[0]} to {change[1]}, not {k.old} to {k.cls}")


# --------------------------------------------------------------------------- assembly tables


@dataclass(frozen=True)
class _Row:
    """A program-table row on one line: its cells as (start, end) offsets in the file."""

    line: int
    indent: str
    cells: list[tuple[int, int]]
    cell: int  # the cell holding the anchor


def _row(src: _Source, test: Litmus, k: Knob) -> _Row:
    at = src.offset(k)
    line = k.anchor.line
    start, body = src.starts[line - 1], src.line(line)
    indent = src.indent(line)
    semi = body.find(";")
    rest = body[semi + 1 :].strip() if semi >= 0 else ""
    if semi < 0 or (rest and not rest.startswith(("(*", "//"))):
        raise ValueError(f"{_who(k)}: line {line} is not one row of the program table ending in ';'")
    cells: list[tuple[int, int]] = []
    lo = start + len(indent)
    for part in body[len(indent) : semi].split("|"):
        cells.append((lo, lo + len(part)))
        lo += len(part) + 1
    cell = next((n for n, (a, b) in enumerate(cells) if a <= at < b), -1)
    if len(cells) != len(test.threads) or cell != k.tid:
        raise ValueError(f"{_who(k)}: the anchor at {line}:{k.anchor.col} is not in P{k.tid}'s column of "
                         f"a {len(test.threads)}-column row")
    return _Row(line, indent, cells, cell)


def _asm_fence(src: _Source, test: Litmus, k: Knob, order: int) -> list[Edit]:
    text = k.name
    if test.arch == "X86" and k.name == "LOCK ADD" and k.cls == "RMW.locked":
        # Linux's smp_mb() on x86: a locked add of 0 to a location only this thread touches.
        text = f"LOCK ADD [{private_location(test, k.tid)}],$0"
    else:
        if test.arch in ("X86", "X86_64"):
            known = k.name == "MFENCE"
        else:
            known = test.arch == "AArch64" and re.fullmatch(
                r"DMB (SY|LD|ST|ISH|ISHLD|ISHST|OSH|OSHLD|OSHST)|ISB", k.name) is not None
        if not known or k.cls != "F." + k.name.lower().replace(" ", "."):
            raise ValueError(f"{_who(k)}: no {test.arch} fence {k.name!r} of class {k.cls} to write")
    row = _row(src, test, k)
    # The instruction goes where the anchor's mnemonic starts (after any label), padded so
    # that the '|' separators stay under the anchor row's.
    lead = src.offset(k) - row.cells[row.cell][0]
    cells: list[str] = []
    for n, (a, b) in enumerate(row.cells):
        if n != row.cell:
            cells.append(" " * (b - a))
            continue
        cell = (" " * lead + text).ljust(b - a)
        cells.append(cell if cell.endswith(" ") else cell + " ")
    return [src.insert_after(row.line, row.indent + "|".join(cells) + ";", order)]


def _asm_upgrade(src: _Source, test: Litmus, k: Knob, order: int) -> list[Edit]:
    _check_upgrade(k, test.arch)
    row = _row(src, test, k)
    at = src.offset(k)
    m = re.compile(r"[A-Za-z]+").match(src.text, at)
    old = _AARCH64_MNEMONIC[k.name]
    if m is None or m.group().upper() != old:
        found = m.group() if m else src.text[at : at + 8]
        raise ValueError(f"{_who(k)}: expected {old} at {k.anchor.line}:{k.anchor.col}, found {found!r}")
    new = k.name.lower() if m.group().islower() else k.name
    edits = [Edit(at, m.end(), new, order)]
    # The mnemonic grows by one letter: take one of the cell's trailing blanks (keeping one)
    # so that the row's separators stay aligned with the other rows.
    end = row.cells[row.cell][1]
    if src.text[end - 2 : end] == "  ":
        edits.append(Edit(end - 1, end, "", order))
    return edits


_HEADER = re.compile(r"^[ \t]*P0[ \t]*(\|[ \t]*P\d+[ \t]*)*;")


def _table(lines: list[str], threads: int) -> tuple[int, int]:
    """The lines [first, last) of the program table: its header row and the rows after it."""
    first = next((n for n, line in enumerate(lines) if _HEADER.match(line)), len(lines))
    last = first
    while last < len(lines) and lines[last].count("|") == threads - 1 and ";" in lines[last]:
        last += 1
    return first, last


def _separators(line: str) -> list[int]:
    """Where a row's '|' separators and its ';' are."""
    body = line[: line.index(";") + 1]
    return [n for n, c in enumerate(body) if c in "|;"]


def _realign(before: str, after: str, threads: int) -> str:
    """If the original table's separators lined up and an edit broke that (`LDR` -> `LDAR` in
    a cell with no blank to spare), widen the columns of every row again."""
    old = before.split("\n")
    lo, hi = _table(old, threads)
    if hi - lo < 2 or len({tuple(_separators(line)) for line in old[lo:hi]}) != 1:
        return after  # not aligned to begin with: its layout is the author's
    new = after.split("\n")
    lo, hi = _table(new, threads)
    rows = new[lo:hi]
    for column in range(threads):  # left to right: widening a column moves the later separators
        target = max(_separators(row)[column] for row in rows)
        widened = []
        for row in rows:
            at = _separators(row)[column]
            widened.append(row[:at] + " " * (target - at) + row[at:])
        rows = widened
    new[lo:hi] = rows
    return "\n".join(new)


# --------------------------------------------------------------------------- YAML fence sites


def _is_yaml(path: str) -> bool:
    return path.lower().endswith((".yaml", ".yml"))


def _shift_fence_sites(text: str, inserted_after: list[int]) -> list[Edit]:
    """A `.litmus.yaml` file's `fences:` sites count lines of the program: each new line
    inserted before a site's line moves the site down with it."""
    if not inserted_after:
        return []
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    top = {str(k.value): v for k, v in root.value} if isinstance(root, yaml.MappingNode) else {}
    program, sites = top.get("program"), top.get("fences")
    if program is None or not isinstance(sites, yaml.SequenceNode):
        return []
    edits: list[Edit] = []
    for item in sites.value:
        keys = {str(k.value): v for k, v in item.value} if isinstance(item, yaml.MappingNode) else {}
        node = keys.get("after_line")
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).isdigit():
            continue
        line = int(node.value)
        file_line = program.start_mark.line + 1 + line  # program line 1 is the line after `program: |`
        moved = line + sum(1 for after in inserted_after if after < file_line)
        if moved != line:
            edits.append(Edit(node.start_mark.index, node.end_mark.index, str(moved), -1))
    return edits


# --------------------------------------------------------------------------- self-check


def _check(out: str, test: Litmus, knobs: Sequence[Knob], reparse: Callable[[str], Litmus]) -> None:
    """The written text must be the program synthesis checked (`knobs.apply`)."""
    want = apply(test, tuple(knobs), {k.index for k in knobs})
    try:
        got = reparse(out)
    except Exception as e:  # noqa: BLE001 - whatever the front end says, the text is wrong
        raise ValueError(f"the fenced text does not parse: {e}") from None
    if _normal(got) != _normal(want):
        changes = "; ".join(k.describe() for k in knobs)
        raise ValueError(f"the fenced text does not read back as the intended program ({changes})")


_NOWHERE = Pos("", 0, 0)


def _normal(test: Litmus) -> Litmus:
    """The test without positions, each fence moved before the register moves preceding it
    (where in a statement `r = READ_ONCE(*x) + 1;` the fence goes does not matter)."""
    stripped = _strip(test)
    assert isinstance(stripped, Litmus)
    threads = tuple(dataclasses.replace(t, body=_fences_first(t.body)) for t in stripped.threads)
    # The written file has its own name, and its recorded answers may be changed afterwards.
    return dataclasses.replace(stripped, threads=threads, path="", expected=(), expected_at=(),
                               locations=tuple(sorted(stripped.locations, key=lambda loc: loc.name)))


def _fences_first(body: tuple[Instr, ...]) -> tuple[Instr, ...]:
    out: list[Instr] = []
    for i in body:
        if isinstance(i, If):
            i = dataclasses.replace(i, then=_fences_first(i.then), other=_fences_first(i.other))
        k = len(out)
        while isinstance(i, Fence) and k > 0 and isinstance(out[k - 1], Assign):
            k -= 1
        out.insert(k, i)
    return tuple(out)


def _strip(obj: object) -> object:
    """`obj` with every `Pos` in it (instructions, nested blocks, conditions) made equal."""
    if isinstance(obj, Pos):
        return _NOWHERE
    if isinstance(obj, tuple):
        return tuple(_strip(x) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: _strip(getattr(obj, f.name)) for f in dataclasses.fields(obj)})
    return obj
