"""Front ends: litmus text in herd's dialects (and the project's YAML) -> `program.Litmus`."""

from __future__ import annotations

from pathlib import Path

from verifier.errors import InputError, Pos, Unsupported, decode_utf8
from verifier.frontends.common import blank_comments, header
from verifier.program.ast import Litmus


def is_yaml_path(path: str) -> bool:
    """A file named `.yaml`/`.yml` is read as the project's YAML format (a directory
    contributes only `.litmus.yaml`/`.litmus.yml`: see `batch.discover`)."""
    return path.lower().endswith((".yaml", ".yml"))


def parse_text(text: str, path: str) -> Litmus:
    """Parse a litmus test: the project's YAML format when `path` says `.yaml`/`.yml`,
    otherwise herd's format with the dialect taken from its header line."""
    if is_yaml_path(path):
        from verifier.frontends.yaml_format import parse_yaml

        return parse_yaml(text, path)
    return parse_herd(text, path)


def parse_herd(text: str, path: str) -> Litmus:
    """Parse a herd-format litmus test, choosing the dialect from its header line (`C`, `X86`, ...)."""
    arch = herd_dialect(text, path)
    if arch == "C":
        from verifier.frontends.c import parse_c

        return parse_c(text, path)
    if arch in ("X86", "X86_64"):
        from verifier.frontends.x86 import parse_x86

        return parse_x86(text, path)
    from verifier.frontends.aarch64 import parse_aarch64

    return parse_aarch64(text, path)


DIALECTS = ("C", "X86", "X86_64", "AArch64")
# herd7's other dialects: real tests we do not model (refused), unlike a misspelt header (an error).
HERD_DIALECTS = frozenset({"PPC", "ARM", "AArch32", "MIPS", "RISCV", "LISA", "BPF", "ASL", "CPP", "OpenCL",
                           "GPU_PTX", "PTX", "Vulkan", "JAVA"})


def herd_dialect(text: str, path: str) -> str:
    """The dialect on a herd-format test's header line, as `parse_herd` reads it (one
    reading for `check` and `batch`); an unknown one is refused by name."""
    first = blank_comments(text, path, 0, min(len(text), text.find("\n") + 1 or len(text)))
    arch, _, _ = header(first, path)
    if arch in DIALECTS:
        return arch
    if arch in HERD_DIALECTS:
        raise Unsupported(Pos(path, 1, 1), f"unsupported litmus dialect {arch!r} (supported: {', '.join(DIALECTS)})")
    raise InputError(Pos(path, 1, 1), f"unknown litmus dialect {arch!r} (supported: {', '.join(DIALECTS)})")


def read_text(path: str) -> str:
    """A test's text; a FIFO, socket or device is refused without being opened (opening a
    FIFO blocks until someone writes to it)."""
    if Path(path).exists() and not Path(path).is_file():
        what = "a directory" if Path(path).is_dir() else "not a regular file (a FIFO, socket or device)"
        raise InputError(Pos(path, 1, 1), f"cannot read: {what}")
    return decode_utf8(Path(path).read_bytes(), path)


def parse_file(path: str) -> Litmus:
    return parse_text(read_text(path), path)
