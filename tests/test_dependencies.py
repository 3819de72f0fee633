"""Dependencies under the Arm model: what kernel C carries survives compilation to arm64, and
AArch64 dependencies are computed per execution as herd7 does (CSEL, branch joins, CAS)."""

from __future__ import annotations

import pytest

from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.frontends import parse_text


def observe(text: str, model: str = "armv8") -> str:
    return check(parse_text(text, "<test>"), resolve_model(model)).observation


LB_C = """C LB+{name}
{{}}
P0(int *x, int *y)
{{
	int r0;
	r0 = READ_ONCE(*x);
	{p0}
}}
P1(int *x, int *y)
{{
	int r0;
	r0 = READ_ONCE(*y);
	{p1}
}}
exists (0:r0=1 /\\ 1:r0=1)
"""


@pytest.mark.parametrize(
    ("name", "p0", "p1", "expected"),
    [
        ("pos", "WRITE_ONCE(*y, 1);", "WRITE_ONCE(*x, 1);", "Sometimes"),
        ("datas", "WRITE_ONCE(*y, r0);", "WRITE_ONCE(*x, r0);", "Never"),
        ("ctrls", "if (r0) WRITE_ONCE(*y, 1);", "if (r0) WRITE_ONCE(*x, 1);", "Never"),
        # `r0 ^ r0` is 0 whatever was read, but the dependency stays (herd's false dependency).
        ("fake-datas", "WRITE_ONCE(*y, 1 + (r0 ^ r0));", "WRITE_ONCE(*x, 1 + (r0 ^ r0));", "Never"),
    ],
)
def test_c_dependencies_survive_compilation_to_arm64(name: str, p0: str, p1: str, expected: str) -> None:
    assert observe(LB_C.format(name=name, p0=p0, p1=p1)) == expected


MP_POINTER = """C MP+wmb+deref
{
	int *p = z;
	int z = 0;
	int x = 0;
}
P0(int *x, int **p)
{
	WRITE_ONCE(*x, 1);
	smp_wmb();
	WRITE_ONCE(*p, x);
}
P1(int **p)
{
	int *r0;
	int r1;
	r0 = READ_ONCE(*p);
	r1 = READ_ONCE(*r0);
}
exists (1:r0=x /\\ 1:r1=0)
"""


def test_c_address_dependency_orders_the_dereference_on_arm64() -> None:
    assert observe(MP_POINTER) == "Never"
    assert observe(MP_POINTER.replace("\tsmp_wmb();\n", "")) == "Sometimes"


# CSEL picks W5 (the constant 1) when z was 1 and the loaded y otherwise: the store depends
# on the load of y only in executions that picked it.
LB_CSEL = """AArch64 LB+rel+csel-{cond}
{{
0:X1=x; 0:X3=y;
1:X1=x; 1:X3=y; 1:X4=z;
2:X4=z;
}}
 P0           | P1                | P2          ;
 LDR W0,[X1]  | LDR W3,[X3]       | MOV W0,#1   ;
 MOV W2,#1    | LDR W6,[X4]       | STR W0,[X4] ;
 STLR W2,[X3] | CMP W6,#1         |             ;
              | MOV W5,#1         |             ;
              | CSEL W7,W5,W3,EQ  |             ;
              | STR W7,[X1]       |             ;
exists (0:X0=1 /\\ 1:X3=1 /\\ 1:X6={z})
"""


def test_csel_data_dependency_only_on_the_chosen_operand() -> None:
    assert observe(LB_CSEL.format(cond="picks-constant", z=1)) == "Sometimes"
    assert observe(LB_CSEL.format(cond="picks-load", z=0)) == "Never"


# After a join, the stored register came from the load only on the path that moved it.
LB_JOIN = """AArch64 LB+rel+join-{cond}
{{
0:X1=x; 0:X3=y;
1:X1=x; 1:X3=y; 1:X4=z;
2:X4=z;
}}
 P0           | P1           | P2          ;
 LDR W0,[X1]  | LDR W3,[X3]  | MOV W0,#1   ;
 MOV W2,#1    | LDR W6,[X4]  | STR W0,[X4] ;
 STLR W2,[X3] | MOV W7,#1    |             ;
              | CBNZ W6,over |             ;
              | MOV W7,W3    |             ;
              | over:        |             ;
              | STR W7,[X1]  |             ;
exists (0:X0=1 /\\ 1:X3=1 /\\ 1:X6={z})
"""


def test_branch_join_keeps_dependencies_per_path() -> None:
    # Taken branch: the store writes the constant; it is control-dependent on z only.
    assert observe(LB_JOIN.format(cond="skip", z=1)) == "Sometimes"
    assert observe(LB_JOIN.format(cond="move", z=0)) == "Never"


STXR = """AArch64 STXR-{name}
{{
0:X1=x; 0:X4=y;
}}
 P0              ;
 {first}         ;
 MOV W0,#1       ;
 STXR W2,W0,[X1] ;
exists (0:X2=0)
"""


@pytest.mark.parametrize(
    ("name", "first", "expected"),
    [
        ("paired", "LDXR W5,[X1]", "Sometimes"),  # may succeed (or fail spuriously)
        ("unpaired", "LDR W5,[X1]", "Never"),  # no reservation: always fails
        ("other-address", "LDXR W5,[X4]", "Never"),  # reservation on another location
    ],
)
def test_store_exclusive_succeeds_only_after_its_load_exclusive(name: str, first: str, expected: str) -> None:
    assert observe(STXR.format(name=name, first=first), "sc") == expected


def test_store_exclusive_may_fail_spuriously() -> None:
    text = STXR.format(name="paired", first="LDXR W5,[X1]").replace("exists (0:X2=0)", "exists (0:X2=1)")
    assert observe(text, "sc") == "Sometimes"


def test_paths_with_different_reservations_stay_apart() -> None:
    """A store-exclusive pairs with the load-exclusive of its own path: where one path holds a
    reservation and the other does not, the paths are not merged (herd7's answer: the
    store-exclusive can succeed only after the load)."""
    text = """AArch64 join-reservation
{
0:X1=x; 0:X4=y; 1:X4=y;
}
 P0              | P1 ;
 LDR W6,[X4]     | MOV W7,#1 ;
 CBNZ W6,other   | STR W7,[X4] ;
 LDXR W5,[X1]    | ;
 other:          | ;
 MOV W0,#1       | ;
 STXR W2,W0,[X1] | ;
locations [0:X6;x;]
exists (0:X2=0)
"""
    test = parse_text(text, "t.litmus")
    v = check(test, resolve_model("armv8"), want_states=True)
    assert v.observation == "Sometimes"
    assert {tuple(sorted(s)) for s in v.states or ()} == {  # herd7 7.58's three states
        (("0:X2", "0"), ("0:X6", "0"), ("[x]", "1")),
        (("0:X2", "1"), ("0:X6", "0"), ("[x]", "0")),
        (("0:X2", "1"), ("0:X6", "1"), ("[x]", "0")),
    }
