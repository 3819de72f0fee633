"""The program table shared by herd's assembly dialects (X86, X86_64, AArch64).

    P0          | P1          ;
    MOV W0,#1   | LDR W2,[X3] ;

A header row names the threads `P0 | P1 | ... ;`; each following row has one cell per thread
and ends with `;`.  A cell holds labels and at most one instruction.  The dialects differ
only in what a cell contains, so subclasses implement `cell()`.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from verifier.errors import InputError, Pos
from verifier.frontends.common import Token, TokenStream, pos_of

ItemT = TypeVar("ItemT")


class ProgramTable(Generic[ItemT]):
    """Parses the table into one list of items per thread; `cell()` is the dialect's part."""

    def __init__(self, text: str, ts: TokenStream, path: str) -> None:
        self.text = text
        self.path = path
        self.ts = ts

    def pos(self, t: Token, shift: int = 0) -> Pos:
        return pos_of(self.text, t.offset + shift, self.path)

    def parse(self) -> list[list[ItemT]]:
        ts = self.ts
        ts.accept(";")  # herd allows a leading ';'
        columns: list[list[ItemT]] = []
        while True:
            t = ts.next()
            if t.kind != "name" or t.text != f"P{len(columns)}":
                found = "end of input" if t.kind == "eof" else repr(t.text)
                raise ts.error(t, f"expected thread header 'P{len(columns)}', found {found}")
            columns.append([])
            ts.accept(":")  # herd7 also reads `P0:` as a thread header
            if ts.accept(";"):
                break
            ts.expect("|", "'|' or ';' in the thread header")
        while ts.peek().kind != "eof":
            first = ts.peek()
            cells = self.row()
            if len(cells) != len(columns):
                raise ts.error(first, f"this row has {len(cells)} columns but the table has {len(columns)} threads")
            for column, cell in zip(columns, cells, strict=True):
                column.extend(cell)
        return columns

    def row(self) -> list[list[ItemT]]:
        ts = self.ts
        cells = [self.cell()]
        while not ts.accept(";"):
            if ts.peek().kind == "eof":
                last = ts.toks[ts.i - 1]
                raise InputError(self.pos(last, len(last.text)), "missing ';' at the end of this row of the program")
            ts.expect("|", "',', '|' or ';'")
            cells.append(self.cell())
        return cells

    def at_cell_end(self) -> bool:
        t = self.ts.peek()
        return t.kind == "eof" or t.text in ("|", ";")

    def cell(self) -> list[ItemT]:
        raise NotImplementedError
