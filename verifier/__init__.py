"""verifier: a Z3-based symbolic checker for litmus tests against cat-style memory models.

Pipeline (one direction of imports):
  frontends -> program -> events -> cat -> smt -> analyses -> cli
The library API (docs/api.md) is `verifier.check`, `verifier.runner`, `verifier.fences`,
`verifier.explain` and `verifier.load`, from `verifier/api.py`: imported on first use, so that
`import verifier` stays cheap and the stages never import the front door.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Explanation", "InputError", "Litmus", "Proof", "Row", "Synthesis", "Unsupported", "UsageError",
           "Verdict", "__version__", "batch", "check", "explain", "fences", "load", "prove"]

if TYPE_CHECKING:
    from verifier.api import (
        Explanation,
        InputError,
        Litmus,
        Proof,
        Row,
        Synthesis,
        Unsupported,
        UsageError,
        Verdict,
        batch,
        check,
        explain,
        fences,
        load,
        prove,
    )


def __getattr__(name: str) -> Any:
    if name in __all__:
        from verifier import api

        return getattr(api, name)
    raise AttributeError(f"module 'verifier' has no attribute {name!r}")
