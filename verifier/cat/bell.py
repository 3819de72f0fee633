"""What a bell file declares: the annotations events may carry, and the sets they name.

    enum Accesses = 'ONCE || 'RELEASE || 'ACQUIRE
    instructions R[Accesses]

declares that reads may be annotated ONCE, RELEASE or ACQUIRE.  herd7 then binds, for every
declared annotation, the set of the events carrying it, named by the annotation with its first
letter in upper case (herd's `BellName.tag2instrs_var`: 'rcu-lock is the set `Rcu-lock`,
'ONCE the set `ONCE`).  A declared annotation no event of a test carries is the empty set.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifier.cat.syntax import CatModel, Enum, Instructions, Name, Tag
from verifier.errors import Unsupported


def set_name(annotation: str) -> str:
    """The set herd7 binds to the events carrying `annotation`."""
    return annotation[:1].upper() + annotation[1:]


def annotation_sets(models: Iterable[CatModel]) -> frozenset[str]:
    """The sets the models' `instructions` declarations bind."""
    enums: dict[str, tuple[str, ...]] = {}
    out: set[str] = set()
    for m in models:
        for s in m.stmts:
            if isinstance(s, Enum):
                enums[s.name] = s.tags
            elif isinstance(s, Instructions):
                for a in s.args:
                    if isinstance(a, Name) and a.id in enums:
                        out.update(set_name(t) for t in enums[a.id])
                    elif isinstance(a, Tag):
                        out.add(set_name(a.name))
                    else:
                        raise Unsupported(a.pos, "unsupported: an 'instructions' declaration whose annotations "
                                                 "are not an enum's name or a tag")
    return frozenset(out)
