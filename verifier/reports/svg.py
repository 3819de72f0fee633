"""A witness as SVG, drawn from the same layout as the Graphviz picture (`dot.layout`), so that
a report needs no Graphviz: threads as columns, program order down each, rmw in purple,
rf red, co blue, fr orange.  Text is escaped; the same row gives the same SVG."""

from __future__ import annotations

from html import escape

from verifier.reports.dot import Node, layout
from verifier.reports.rows import Row

_COLOURS = {"po": "#444444", "rmw": "#7b1fa2", "rf": "#d32f2f", "co": "#1565c0", "fr": "#ef6c00"}
_PX = 96  # pixels per inch of the layout
_CHAR = 7.0  # pixels per character of 12 px Helvetica, roughly
_LINE = 15
_MARGIN = 24


def _size(n: Node) -> tuple[float, float]:
    lines = n.label.split("\n")
    return max(len(ln) for ln in lines) * _CHAR + 16, len(lines) * _LINE + 10


def witness_svg(row: Row, *, show_init: bool = False) -> str:
    pic = layout(row, show_init=show_init)
    sizes = {n.name: _size(n) for n in pic.nodes}
    top = max((n.y for n in pic.nodes), default=0.0)
    left_pad = max((w for w, _ in sizes.values()), default=0.0) / 2 + _MARGIN

    def at(n: Node) -> tuple[float, float]:
        return left_pad + n.x * _PX, _MARGIN + 40 + (top - n.y) * _PX

    centre = {n.name: at(n) for n in pic.nodes}
    width = max((centre[n.name][0] + sizes[n.name][0] / 2 for n in pic.nodes), default=200.0) + _MARGIN
    width = max(width, len(pic.title) * 7.5 + 2 * _MARGIN)
    height = max((centre[n.name][1] + sizes[n.name][1] / 2 for n in pic.nodes), default=100.0) + _MARGIN
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
           "<defs>"]
    out += [f'<marker id="arrow-{rel}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>'
            for rel, colour in _COLOURS.items()]
    out.append("</defs>")
    out.append(f'<text x="{_MARGIN}" y="{_MARGIN}" font-size="13" font-weight="bold">{escape(pic.title)}</text>')
    for tid, x, _, _ in pic.columns:
        cx = left_pad + x * _PX
        out.append(f'<text x="{cx:.1f}" y="{_MARGIN + 18}" text-anchor="middle" fill="#666">P{tid}</text>')
    for n in pic.nodes:
        (cx, cy), (w, h) = centre[n.name], sizes[n.name]
        out.append(f'<g class="event" id="{n.name}"><rect x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" '
                   f'height="{h:.1f}" rx="4" fill="#fff" stroke="#333"/>')
        for k, line in enumerate(n.label.split("\n")):
            y = cy - h / 2 + 5 + _LINE * (k + 0.8)
            weight = ' font-weight="bold"' if k == 0 else ""
            out.append(f'<text x="{cx:.1f}" y="{y:.1f}" text-anchor="middle"{weight}>{escape(line)}</text>')
        out.append("</g>")
    for a, b, rel in pic.edges:
        if a not in centre or b not in centre:
            continue
        out.append(_edge(centre[a], sizes[a], centre[b], sizes[b], rel))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _edge(pa: tuple[float, float], sa: tuple[float, float], pb: tuple[float, float], sb: tuple[float, float],
          rel: str) -> str:
    (ax, ay), (bx, by) = pa, pb
    colour = _COLOURS.get(rel, "#000")
    if abs(ax - bx) < 1e-6:  # same column: down the middle if adjacent, else a curve beside it
        sign = 1 if by > ay else -1
        y1, y2 = ay + sign * sa[1] / 2, by - sign * sb[1] / 2
        if rel in ("po", "rmw"):
            d = f"M {ax:.1f} {y1:.1f} L {bx:.1f} {y2:.1f}"
            lx, ly = ax + 6, (y1 + y2) / 2
        else:
            x1 = ax + sa[0] / 2
            bend = x1 + 40 + abs(by - ay) * 0.15
            d = f"M {x1:.1f} {ay:.1f} Q {bend:.1f} {(ay + by) / 2:.1f} {bx + sb[0] / 2:.1f} {by:.1f}"
            lx, ly = bend - 14, (ay + by) / 2
    else:
        sign = 1 if bx > ax else -1
        x1, x2 = ax + sign * sa[0] / 2, bx - sign * sb[0] / 2
        d = f"M {x1:.1f} {ay:.1f} L {x2:.1f} {by:.1f}"
        # the label a third of the way along: crossing edges (an fr cycle) keep theirs apart
        lx, ly = x1 + (x2 - x1) * 0.3, ay + (by - ay) * 0.3 - 4
    return (f'<g class="edge {rel}"><path d="{d}" fill="none" stroke="{colour}" stroke-width="1.4" '
            f'marker-end="url(#arrow-{rel})"/><text x="{lx:.1f}" y="{ly:.1f}" fill="{colour}" '
            f'font-size="11">{rel}</text></g>')
