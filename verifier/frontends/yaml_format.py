"""The project's own litmus format: a YAML mapping around a herd-format test (`*.litmus.yaml`).

herd's format has nowhere to put what a library of kernel protocols needs (why the test exists,
the commits and threads it comes from, the answer expected per model, named fence sites), so
this format wraps it: either `program` (a kernel C body: init block and threads) with
`condition`, `locations` and `filter` as keys, or `test` (a whole herd test in any dialect).
The wrapped text is parsed by the existing front ends; every position they report (errors,
and the positions kept in the `Litmus`) is mapped back into the YAML file, so messages name
the line and column the user wrote.  See docs/litmus-format.md.

YAML is read only through PyYAML's SafeLoader (compose, to keep marks; construction only to
refuse tags such as `!!python/object`): a litmus file is data and never runs anything.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from verifier.errors import InputError, Pos
from verifier.frontends.c import parse_c, strip_comments
from verifier.frontends.common import header, pos_of
from verifier.frontends.condition import find_tail
from verifier.program.ast import Litmus

WORDS = ("Never", "Sometimes", "Always")
TOP_KEYS = ("name", "description", "provenance", "family", "program", "test",
            "condition", "locations", "filter", "expected", "fences")
PROVENANCE_KEYS = ("commits", "threads", "functions", "notes")
FENCE_KEYS = ("name", "thread", "after_line")
_TAG = "tag:yaml.org,2002:"
_EXPECTED = "'expected' must map model names to Never, Sometimes or Always"
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # what PyYAML's marks count as lines

T = TypeVar("T")
# Per line of a text handed to a front end: (line in the YAML file, column shift).
LineMap = list[tuple[int, int]]


@dataclass(frozen=True)
class Provenance:
    """Where the protocol comes from: commits, list threads (URLs), kernel functions, notes."""

    commits: tuple[str, ...] = ()
    threads: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    notes: str | None = None


@dataclass(frozen=True)
class FenceSite:
    """A named place where a fence may go (for fence synthesis): after line `after_line` of
    the program text (line 1 is its first line), inside thread `thread`'s body."""

    name: str
    thread: int
    after_line: int
    pos: Pos
    # The same line counted in the YAML file (where the test's instructions say they are).
    file_line: int = 0


@dataclass(frozen=True)
class YamlTest:
    """Everything a `.litmus.yaml` file says; `litmus` is what the analyses check."""

    litmus: Litmus
    description: str
    provenance: Provenance
    family: str | int | None
    fences: tuple[FenceSite, ...]
    style: Literal["program", "test"]
    body: str  # the `program` or `test` text as written


def parse_yaml(text: str, path: str) -> Litmus:
    """The test alone: what `parse_file` and the analyses need (the rest is `read_yaml`'s)."""
    return read_yaml(text, path).litmus


def read_yaml(text: str, path: str) -> YamlTest:
    """Read and check a `.litmus.yaml` file; any problem is an `InputError` at its position."""
    doc = _Doc(text, path)
    root = doc.root()
    top, at = doc.mapping(root, "the file", TOP_KEYS), doc.pos(root)
    for key in (k for k in ("name", "description", "expected") if k not in top):
        raise InputError(at, f"missing required key {key!r}")
    if "program" in top and "test" in top:
        raise doc.error(top["test"][0], "'program' and 'test' cannot both be given: use one of them")
    if "program" not in top and "test" not in top:
        raise InputError(at, "missing required key 'program' (or 'test' for a whole herd-format test)")
    name_node = top["name"][1]
    name = doc.string(name_node, "name")
    if not name.strip() or "\n" in name or "(*" in name or name != name.strip():
        raise doc.error(name_node, "'name' must be one line without surrounding spaces or '(*'")
    description = doc.string(top["description"][1], "description")
    provenance = _provenance(doc, top["provenance"][1]) if "provenance" in top else Provenance()
    family = _family(doc, top["family"][1]) if "family" in top else None
    expected, expected_at = _expected(doc, top["expected"][1])
    style: Literal["program", "test"] = "program" if "program" in top else "test"
    body_node = top[style][1]
    if style == "program" and "condition" not in top:
        raise doc.error(top["program"][0], "missing required key 'condition' (a 'program' needs its final condition)")
    for key in (k for k in ("condition", "locations", "filter") if style == "test" and k in top):
        raise doc.error(top[key][0], f"{key!r} is not allowed with 'test' (the embedded test has its own)")
    if style == "program":
        lines, where, first = _program_text(doc, name, name_node, top)
    else:
        (lines, where), first = doc.block(body_node, "test"), 1
    synth = "\n".join(lines)
    test = _parse(doc, synth, where, style)
    if test.expected:  # one source of truth: a `Result:` comment inside would be ignored
        m = re.search(r"Result(\([\w.-]+\))?\s*:\s*(Never|Sometimes|Always|DEADLOCK|Maybe)\b", synth)
        raise InputError(_mover(doc.path, where)(pos_of(synth, m.start() if m else 0, doc.path)),
                         f"a 'Result' comment inside the {style}: record expectations under 'expected' "
                         "(the kernel's plain 'Result:' is LKMM's answer: 'lkmm: ...')")
    if style == "test" and test.name != name:
        raise doc.error(name_node, f"'name' is {name!r} but the embedded test's header says {test.name!r}")
    test = dataclasses.replace(test, expected=expected, expected_at=expected_at)
    fences = _fences(doc, top["fences"][1], test, synth, first, _mover(doc.path, where)) if "fences" in top else ()
    return YamlTest(test, description, provenance, family, fences, style, str(body_node.value))


# --------------------------------------------------------------------------- YAML nodes


class _Unreadable(Exception):
    """A scalar its explicit tag cannot read (`!!int x`): PyYAML raises without a mark."""


class _Doc:
    """The composed document with its marks: typed access to nodes, errors at their place."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.src = _LINE_BREAK.split(text)

    def root(self) -> Node:
        root = self._compose(lambda: yaml.compose(self.text, Loader=yaml.SafeLoader))
        if root is None:
            raise InputError(Pos(self.path, 1, 1), "empty file: expected a mapping with "
                             "'name', 'description', 'expected' and 'program' or 'test'")
        try:
            # Construction refuses what SafeLoader does not know (`!!python/object...`).
            self._compose(lambda: yaml.SafeLoader("").construct_document(root))
        except _Unreadable as e:
            raise self.error(_culprit(root, set()) or root, f"invalid YAML value: {e}") from None
        return root

    def _compose(self, step: Callable[[], Any]) -> Any:
        """Run a PyYAML step; its errors become `InputError`s at their mark."""
        try:
            return step()
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            where = Pos(self.path, mark.line + 1, mark.column + 1) if mark else Pos(self.path, 1, 1)
            context = f" ({e.context})" if e.context and e.problem else ""
            raise InputError(where, f"invalid YAML: {e.problem or e.context}{context}") from None
        except yaml.reader.ReaderError as e:
            where = pos_of(self.text, e.position, self.path)
            raise InputError(where, f"invalid YAML: unacceptable character #x{e.character:04x}") from None
        except (yaml.YAMLError, RecursionError) as e:
            why = "nested too deeply" if isinstance(e, RecursionError) else str(e)
            raise InputError(Pos(self.path, 1, 1), f"invalid YAML: {why}") from None
        except Exception as e:  # noqa: BLE001 - a value its explicit tag cannot read (`!!int x`)
            raise _Unreadable(f"{type(e).__name__}: {e}") from None

    def pos(self, node: Node) -> Pos:
        return Pos(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def error(self, node: Node, message: str) -> InputError:
        return InputError(self.pos(node), message)

    def mapping(self, node: Node, what: str, allowed: tuple[str, ...]) -> dict[str, tuple[Node, Node]]:
        """key -> (key node, value node); unknown and repeated keys are errors."""
        if not isinstance(node, MappingNode):
            raise self.error(node, f"{what} must be a mapping with keys {', '.join(allowed)}; found {_kind(node)}")
        out: dict[str, tuple[Node, Node]] = {}
        for k, v in node.value:
            key = self.string(k, "a key")
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"
                raise self.error(k, f"unknown key {key!r}{hint}")
            if key in out:
                raise self.error(k, f"duplicate key {key!r}")
            out[key] = (k, v)
        return out

    def string(self, node: Node, what: str) -> str:
        if isinstance(node, ScalarNode) and node.tag == _TAG + "str":
            return str(node.value)
        raise self.error(node, f"{_quote(what)} must be a string; found {_kind(node)}")

    def integer(self, node: Node, what: str) -> int:
        if isinstance(node, ScalarNode) and node.tag == _TAG + "int":
            value = yaml.SafeLoader("").construct_object(node)
            assert isinstance(value, int)
            return value
        raise self.error(node, f"{_quote(what)} must be an integer; found {_kind(node)}")

    def strings(self, node: Node, what: str) -> tuple[str, ...]:
        if not isinstance(node, SequenceNode):
            raise self.error(node, f"{_quote(what)} must be a list of strings; found {_kind(node)}")
        return tuple(self.string(item, f"each item of {_quote(what)}") for item in node.value)

    def block(self, node: Node, what: str) -> tuple[list[str], LineMap]:
        """A string's lines and where each is in the file.  Multi-line text must be a literal
        block scalar (`key: |`), the only style that keeps herd's line structure."""
        value = self.string(node, what)
        lines = value.split("\n")
        if value.endswith("\n"):
            lines.pop()
        m = node.start_mark
        style = getattr(node, "style", None)
        if len(lines) > 1 and style != "|":  # folding would lose the lines' numbers
            raise self.error(node, f"{_quote(what)} spans several lines: write it as a literal block "
                             "scalar ('|' and the text indented on the lines below)")
        if style not in ("|", ">"):
            return lines, [(m.line + 1, m.column + (1 if style in ('"', "'") else 0))]
        where: LineMap = []
        indent = 0
        for k, line in enumerate(lines):
            src = self.src[m.line + 1 + k] if m.line + 1 + k < len(self.src) else ""
            if line and src.endswith(line):
                indent = len(src) - len(line)
            where.append((m.line + 2 + k, indent))
        return lines, where


def _quote(what: str) -> str:
    return what if what.startswith(("a ", "each ", "the ")) else repr(what)


def _kind(node: Node) -> str:
    names = {"str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean",
             "null": "nothing (null)", "timestamp": "a date", "map": "a mapping", "seq": "a list"}
    return names.get(str(node.tag).removeprefix(_TAG), f"a value tagged {node.tag}")


def _culprit(node: Node, seen: set[int]) -> Node | None:
    """The first scalar whose explicit tag cannot read its value (for the error's position)."""
    if id(node) in seen:  # an alias: already looked at
        return None
    seen.add(id(node))
    if isinstance(node, ScalarNode):
        try:
            yaml.SafeLoader("").construct_object(node)
        except Exception:  # noqa: BLE001 - this is the one being looked for
            return node
        return None
    kids = [n for kv in node.value for n in kv] if isinstance(node, MappingNode) else list(node.value)
    return next((c for c in (_culprit(k, seen) for k in kids) if c is not None), None)


# --------------------------------------------------------------------------- schema parts


def _provenance(doc: _Doc, node: Node) -> Provenance:
    keys = doc.mapping(node, "'provenance'", PROVENANCE_KEYS)
    lists = {k: doc.strings(keys[k][1], f"provenance.{k}") if k in keys else () for k in PROVENANCE_KEYS[:3]}
    notes = doc.string(keys["notes"][1], "provenance.notes") if "notes" in keys else None
    return Provenance(lists["commits"], lists["threads"], lists["functions"], notes)


def _family(doc: _Doc, node: Node) -> str | int:
    if node.tag not in (_TAG + "int", _TAG + "str"):
        raise doc.error(node, f"'family' must be a string or an integer; found {_kind(node)}")
    return doc.integer(node, "family") if node.tag == _TAG + "int" else doc.string(node, "family")


def _expected(doc: _Doc, node: Node) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, Pos], ...]]:
    if not isinstance(node, MappingNode) or not node.value:
        found = "an empty mapping" if isinstance(node, MappingNode) else _kind(node)
        raise doc.error(node, f"{_EXPECTED} (e.g. 'sc: Never'); found {found}")
    words: dict[str, str] = {}
    at: list[tuple[str, Pos]] = []
    for k, v in node.value:
        if not (isinstance(k, ScalarNode) and k.tag == _TAG + "str"):
            raise doc.error(k, f"{_EXPECTED}; found {_kind(k)} as a model name")
        model = str(k.value)
        if model in words:
            raise doc.error(k, f"duplicate key {model!r} in 'expected'")
        if not (isinstance(v, ScalarNode) and v.tag == _TAG + "str" and v.value in WORDS):
            found = repr(v.value) if isinstance(v, ScalarNode) else _kind(v)
            raise doc.error(v, f"{_EXPECTED}; found {found} for {model!r}")
        words[model] = str(v.value)
        at.append((model, doc.pos(k)))
    return tuple(sorted(words.items())), tuple(at)


def _program_text(
    doc: _Doc, name: str, name_node: Node, top: dict[str, tuple[Node, Node]]
) -> tuple[list[str], LineMap, int]:
    """The herd text of a `program` test, its line map, and the line the program starts on:
    `C <name>`, the program (an empty init block first if it has none), `locations [...]`,
    `filter ...` and the condition, each line mapped back to where it was written."""
    at = doc.pos(name_node)
    lines, where = ["C " + name], [(at.line, at.col + (1 if getattr(name_node, "style", None) else 0) - 3)]
    prog, pmap = doc.block(top["program"][1], "program")
    try:
        stripped = strip_comments("\n".join(lines + prog), len(lines[0]), doc.path)
    except InputError as e:  # an unterminated comment
        raise InputError(_mover(doc.path, where + pmap)(e.pos), e.message) from None
    body = stripped[len(lines[0]):]
    if not body.lstrip().startswith("{"):
        lines.append("{}")
        where.append(pmap[0])
    first = len(lines) + 1
    tail = find_tail(body, 0)
    if tail < len(body):
        k = body.count("\n", 0, tail) - 1
        word = body[tail:].split(None, 1)[0]
        raise InputError(Pos(doc.path, pmap[k][0], 1 + pmap[k][1] + tail - (body.rfind("\n", 0, tail) + 1)),
                         f"the program contains {word!r}: put the final condition under 'condition' "
                         "(and 'locations', 'filter' under their keys)")
    lines += prog
    where += pmap
    if "locations" in top:  # one line per item, so that each keeps its position
        key, node = top["locations"]
        doc.strings(node, "locations")
        items = [doc.block(n, "each item of 'locations'") for n in node.value]
        for n, (text, _) in zip(node.value, items, strict=True):
            if len(text) != 1:
                raise doc.error(n, "each item of 'locations' must be one line, e.g. 'x' or '1:r0'")
        lines += ["locations ["] + [t[0] + ";" for t, _ in items[:-1]] + [t[0] for t, _ in items[-1:]] + ["]"]
        where += [(doc.pos(key).line, 0)] + [m[0] for _, m in items] + [(doc.pos(key).line, 0)]
    if "filter" in top:
        text, fmap = doc.block(top["filter"][1], "filter")
        lines += ["filter " + text[0]] + text[1:]
        where += [(fmap[0][0], fmap[0][1] - 7)] + fmap[1:]
    cond_node = top["condition"][1]
    text, cmap = doc.block(cond_node, "condition")
    if not re.match(r"\s*(exists|~\s*exists|forall)\b", "\n".join(text)):
        raise doc.error(cond_node, "'condition' must start with 'exists', '~exists' or 'forall'")
    return lines + text, where + cmap, first


def _parse(doc: _Doc, synth: str, where: LineMap, style: str) -> Litmus:
    """Parse the herd text with the existing front ends; map every position back."""
    from verifier.frontends import parse_herd  # here: the package imports this module

    move = _mover(doc.path, where)

    try:
        test = parse_c(synth, doc.path) if style == "program" else parse_herd(synth, doc.path)
    except InputError as e:  # messages may name lines too: "the '{' of line 7"
        message = re.sub(r"\bline (\d+)\b", lambda m: f"line {move(Pos(doc.path, int(m[1]), 1)).line}", e.message)
        raise type(e)(move(e.pos), message) from None
    return _remap(test, move)


def _mover(path: str, where: LineMap) -> Callable[[Pos], Pos]:
    """Maps a position in the herd text to the YAML file (lines past the end: the last)."""

    def move(pos: Pos) -> Pos:
        if pos.file != path or not where:
            return pos
        line, shift = where[min(max(pos.line, 1), len(where)) - 1]
        return Pos(pos.file, line, max(1, pos.col + shift))

    return move


def _remap(obj: T, move: Callable[[Pos], Pos]) -> T:
    """`obj` with every `Pos` inside it (instructions, nested blocks) passed through `move`."""
    if isinstance(obj, Pos):
        return move(obj)  # type: ignore[return-value]
    if isinstance(obj, tuple):
        return tuple(_remap(x, move) for x in obj)  # type: ignore[return-value]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: _remap(getattr(obj, f.name), move) for f in dataclasses.fields(obj)}
        return dataclasses.replace(obj, **changes)  # type: ignore[return-value]
    return obj


def _fences(
    doc: _Doc, node: Node, test: Litmus, synth: str, first: int, move: Callable[[Pos], Pos]
) -> tuple[FenceSite, ...]:
    """Fence sites: names, and a thread and program line that exist (checked here, so that
    fence synthesis can trust them)."""
    if test.arch != "C":
        raise doc.error(node, f"'fences' need a kernel C program (this test is {test.arch})")
    if not isinstance(node, SequenceNode):
        raise doc.error(node, f"'fences' must be a list of mappings with keys {', '.join(FENCE_KEYS)}; found {_kind(node)}")
    spans = _thread_spans(synth, doc.path)
    out: list[FenceSite] = []
    for i, item in enumerate(node.value):
        keys = doc.mapping(item, f"each item of 'fences' (fences[{i}])", FENCE_KEYS)
        for key in (k for k in FENCE_KEYS if k not in keys):
            raise doc.error(item, f"missing required key {key!r} in fences[{i}]")
        name = doc.string(keys["name"][1], f"fences[{i}].name")
        if any(f.name == name for f in out):
            raise doc.error(keys["name"][1], f"duplicate fence name {name!r}")
        tid = doc.integer(keys["thread"][1], f"fences[{i}].thread")
        line = doc.integer(keys["after_line"][1], f"fences[{i}].after_line")
        if tid not in spans:
            raise doc.error(keys["thread"][1], f"fence {name!r}: no thread P{tid} in the program "
                            f"(threads are P0..P{len(test.threads) - 1})")
        lo, hi = (s - first + 1 for s in spans[tid])
        if not lo <= line < hi:
            inside = f"lines {lo} to {hi - 1}" if hi > lo else "none: its body is on one line"
            raise doc.error(keys["after_line"][1], f"fence {name!r}: line {line} of the program is not inside "
                            f"the body of P{tid} (after_line may be {inside})")
        out.append(FenceSite(name, tid, line, doc.pos(item), move(Pos(doc.path, line + first - 1, 1)).line))
    return tuple(out)


def _thread_spans(synth: str, path: str) -> dict[int, tuple[int, int]]:
    """Per thread: the lines (of the herd text) of the '{' opening its body and of the '}'
    closing it.  The text has parsed, so its braces balance."""
    text = strip_comments(synth, header(synth, path)[2], path)
    spans: dict[int, tuple[int, int]] = {}
    for m in re.finditer(r"\bP(\d+)\s*\(", text):
        if text.count("{", 0, m.start()) != text.count("}", 0, m.start()):
            continue  # inside the init block or a body
        open_at = text.find("{", text.find(")", m.end()))
        depth, i = 0, open_at
        while i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        spans[int(m.group(1))] = (text.count("\n", 0, open_at) + 1, text.count("\n", 0, i) + 1)
    return spans
