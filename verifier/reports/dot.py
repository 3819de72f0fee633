"""A witness (see `rows.py`) as a Graphviz picture, the way `herd7 -show prop -graph columns` draws it.

A counterexample is read fastest as a picture: one column per thread, program order running
down each column, and the communication edges (rf red, co blue, fr orange) crossing between
columns, so a cycle that the model fails to forbid is visible at a glance.  Working from a row
rather than from a `Verdict` lets a batch's saved `--json` output be drawn again later.

Layout: like herd's columns mode, every node is pinned (`pos="x,y!"`, `layout=neato`, which
`dot -Tsvg` obeys): thread n is the n-th column, its events go down in program order, the
initial writes sit in a row above.  Left to dot's own ranking, crossing minimisation reorders
the `cluster_P<n>` columns at will (no invisible-edge or `ordering` trick survives rf edges
between clusters).  Everything is emitted in sorted order: the same row gives the same text.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verifier.reports.rows import Row

Event = Mapping[str, Any]
Edge = tuple[str, str, str]  # (source node, target node, relation)

_STYLE = {
    "rmw": 'color=purple, fontcolor=purple, style=bold',
    "rf": 'color=red, fontcolor=red',
    "co": 'color=blue, fontcolor=blue',
    "fr": 'color=orange, fontcolor=orange',
}


def quote(text: str) -> str:
    """`text` as a DOT quoted string: backslashes and quotes escaped, newlines kept as `\\n`."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _letter(i: int) -> str:
    """a, b, ..., z, aa, ab, ... (herd's event names)."""
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(ord("a") + r) + name
    return name


def _node(ev: Event) -> str:
    return f"e{ev['id']}"


def _event_label(name: str, ev: Event) -> str:
    """`a: atomic_add_return(1024, pincount)` (the instruction as written), then what the
    event is (`R[once] pincount=0`, annotation from its class, then any extra tags) and its line."""
    cls = str(ev["class"])
    notes = [cls.split(".", 1)[1]] if "." in cls else []
    notes += [t for t in ev["tags"] if t.lower() not in (n.lower() for n in notes)]
    body = ev["kind"] + (f"[{','.join(notes)}]" if notes else "")
    if ev["kind"] != "F":
        body += f" {ev['loc']}={ev['value']}"
    line = f" · line {ev['line']}" if ev["line"] is not None else ""
    source = ev.get("source")
    return f"{name}: {source}\n{body}{line}" if source else f"{name}: {body}{line}"


def _comm_edges(w: Mapping[str, Any], init_node: dict[str, str]) -> list[Edge]:
    """rf, co (consecutive writes) and fr (rf^-1;co) edges, as node names.

    A read with no rf source, or whose source is an initial write, reads the initial value: it
    is fr-before every non-initial write of its location.  `init_node` gains a synthetic node
    for a location whose initial write is not among the events but is read from.
    """
    events = {e["id"]: e for e in w["events"]}
    inits = {e["loc"]: e["id"] for e in w["events"] if e["thread"] < 0 and e["kind"] == "W"}
    co: dict[str, list[int]] = {}
    for loc, order in w["co"].items():
        order = [x for x in order if x in events]
        if loc in inits and inits[loc] not in order:
            order.insert(0, inits[loc])  # the initial write is co-first even where co omits it
        co[loc] = order
    edges: list[Edge] = []
    for loc in sorted(co):
        edges += [(f"e{a}", f"e{b}", "co") for a, b in zip(co[loc], co[loc][1:], strict=False)]
    source = {r: s for s, r in w["rf"] if r in events}
    for r in sorted(e["id"] for e in w["events"] if e["kind"] == "R"):
        loc, s = events[r]["loc"], source.get(r)
        from_init = s is None or s not in events or events[s]["thread"] < 0
        if s is not None and s in events:
            edges.append((f"e{s}", f"e{r}", "rf"))
        elif loc is not None:
            init_node.setdefault(loc, f"init_{len(init_node)}")
            edges.append((init_node[loc], f"e{r}", "rf"))
        order = co.get(loc, []) if loc is not None else []
        if from_init:
            later = [x for x in order if events[x]["thread"] >= 0]
            later += sorted(e["id"] for e in w["events"] if e["kind"] == "W" and e["loc"] == loc
                            and e["thread"] >= 0 and e["id"] not in order)
        else:
            later = order[order.index(s) + 1:] if s is not None and s in order else []
        edges += [(f"e{r}", f"e{x}", "fr") for x in later]
    return edges


@dataclass(frozen=True)
class Node:
    """A box at (x, y) inches (y grows upwards, as Graphviz's pos), with its label's lines."""

    name: str
    label: str
    x: float
    y: float
    small: bool = False
    tid: int | None = None  # the thread whose column it is in (None: an initial write)


@dataclass(frozen=True)
class Picture:
    """A witness laid out as herd7's columns: nodes pinned, edges (source, target, relation)
    with relation one of po, rf, co, fr, rmw; `columns` the thread frames (tid, x, top, bottom)."""

    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    columns: tuple[tuple[int, float, float, float], ...]
    dx: float


def layout(row: Row, *, show_init: bool = False, show_rmw_fr: bool = False) -> Picture:
    """The row's witness as a picture.  Initial writes are left out unless `show_init` (a read
    of an initial value says so in its label: `x=0`, and its fr edges still start at it), and so
    is an RMW's fr edge from its own read to its own write (always there; it says nothing)
    unless `show_rmw_fr`.  rmw edges join an RMW's read and write."""
    w: Mapping[str, Any] = row["witness"]
    title = f"Test {row['test']} under {row['model']}: {row['condition']} ({row['observation']})"
    threads: dict[int, list[Event]] = {}
    init_events: list[Event] = []
    for ev in w["events"]:
        (init_events if ev["thread"] < 0 else threads.setdefault(ev["thread"], [])).append(ev)
    init_node = {str(e["loc"]): _node(e) for e in init_events}
    edges = _comm_edges(w, init_node)
    rmw = {(f"e{a}", f"e{b}") for a, b in w.get("rmw", [])}
    init_names = set(init_node.values())
    if not show_init:
        edges = [(a, b, r) for a, b, r in edges if a not in init_names]
    if not show_rmw_fr:
        edges = [(a, b, r) for a, b, r in edges if not (r == "fr" and (a, b) in rmw)]
    init_label = {_node(e): f"init {e['loc']}={e['value']}" for e in init_events}
    names = iter(_letter(i) for i in range(len(w["events"])))
    labels = {_node(e): _event_label(next(names), e) for t in sorted(threads) for e in threads[t]}
    widest = max((len(ln) for lb in labels.values() for ln in lb.split("\n")), default=0)
    dx = max(2.0, 0.085 * widest + 0.7)  # column spacing, inches
    nodes: list[Node] = []
    if show_init:
        nodes += [Node(init_node[loc], init_label.get(init_node[loc], "init " + loc), i * dx, 1.40, small=True)
                  for i, loc in enumerate(sorted(init_node))]
    columns = []
    po: list[Edge] = []
    for col, tid in enumerate(sorted(threads)):
        evs, x = threads[tid], col * dx
        nodes += [Node(_node(e), labels[_node(e)], x, float(-i), tid=tid) for i, e in enumerate(evs)]
        columns.append((tid, x, 0.55, 0.45 - len(evs)))
        po += [(_node(a), _node(b), "rmw" if (_node(a), _node(b)) in rmw else "po")
               for a, b in zip(evs, evs[1:], strict=False)]
    return Picture(title, tuple(nodes), tuple(po + edges), tuple(columns), dx)


def witness_dot(row: Row, *, show_init: bool = False, show_rmw_fr: bool = False) -> str:
    """The row's witness as a Graphviz digraph (threads as columns; po, rmw, rf, co, fr)."""
    pic = layout(row, show_init=show_init, show_rmw_fr=show_rmw_fr)
    out = [
        f"digraph {quote(str(row['test']))} {{",
        f"  graph [label={quote(pic.title)}, labelloc=t, fontsize=14, layout=neato, splines=true];",
        "  node [shape=box, fontname=Helvetica, fontsize=11];",
        "  edge [fontname=Helvetica, fontsize=10];",
    ]
    for n in pic.nodes:
        if n.small:
            out.append(f'  {n.name} [label={quote(n.label)}, fontsize=9, height=0.25, pos="{n.x:.2f},{n.y:.2f}!"];')
    by_tid = {tid: [n for n in pic.nodes if n.tid == tid] for tid, _, _, _ in pic.columns}
    for tid, x, top, bottom in pic.columns:
        out += [f"  subgraph cluster_P{tid} {{", f'    label="P{tid}";', "    color=gray;",
                # Invisible spacers keep the label clear of the first event and the frame inside the picture.
                f'    P{tid}_top [label="", style=invis, width=0.1, height=0.25, pos="{x:.2f},{top:.2f}!"];']
        out += [f'    {n.name} [label={quote(n.label)}, pos="{n.x:.2f},{n.y:.2f}!"];' for n in by_tid[tid]]
        out.append(f'    P{tid}_end [label="", style=invis, width=0.1, height=0.1, pos="{x:.2f},{bottom:.2f}!"];')
        names = {n.name for n in by_tid[tid]}
        out += [f'    {a} -> {b} [label="{rel}"{", " + _STYLE[rel] if rel in _STYLE else ""}];'
                for a, b, rel in pic.edges if rel in ("po", "rmw") and a in names]
        out.append("  }")
    for a, b, rel in pic.edges:
        if rel not in ("po", "rmw"):
            out.append(f'  {a} -> {b} [label="{rel}", {_STYLE[rel]}];')
    out.append("}")
    return "\n".join(out) + "\n"


def write_dot(row: Row, path: Path) -> list[str]:
    """Write the witness to `path` (DOT) and, if Graphviz is installed, to `path` with suffix
    `.svg`.  Returns notes for the user (no witness, no Graphviz, Graphviz failed); never raises
    for a row without a witness."""
    if row.get("witness") is None:
        return [f"note: {row.get('test')} under {row.get('model')} has no witness to draw "
                f"(observation {row.get('observation')}); nothing written"]
    path.write_text(witness_dot(row), encoding="utf-8")
    dot = shutil.which("dot")
    if dot is None:
        return [f"note: Graphviz 'dot' is not installed; wrote {path} only (install graphviz for SVG)"]
    svg = path.with_suffix(".svg")
    if svg == path:
        svg = path.with_name(path.name + ".svg")
    try:
        proc = subprocess.run([dot, "-Tsvg", str(path), "-o", str(svg)],
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"note: Graphviz 'dot' failed on {path} ({exc}); wrote {path} only"]
    if proc.returncode != 0:
        svg.unlink(missing_ok=True)
        first = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[0]
        return [f"note: Graphviz 'dot' failed on {path}: {first}; wrote {path} only"]
    return []


def picture_stem(row: Row) -> str:
    """A file-name stem for a row's picture: `TEST.MODEL`, with unsafe characters replaced."""
    return "".join(ch if ch.isalnum() or ch in "+-_." else "_" for ch in f"{row['test']}.{row['model']}")
