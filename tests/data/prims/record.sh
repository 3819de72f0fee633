#!/bin/sh
# Records herd7's answers (the kernel's model) for tests/test_kernel_primitives.py; run by
# hand, tests and CI never need herd7:
#   tests/data/prims/record.sh ~/.herd7/bin/herd7 ../shared/reference/models > tests/data/prims/herd.jsonl
# A test T.litmus whose primitives herd7 lacks (bit operations, try_cmpxchg) has a
# T.herd.litmus beside it, written with primitives herd7 has and meaning the same: herd7's
# answer to that one is recorded for T.
set -e
herd=${1:-herd7}
models=${2:-../shared/reference/models}
here=$(cd "$(dirname "$0")" && pwd)
for t in "$here"/*.litmus; do
  case "$t" in *.herd.litmus) continue;; esac
  src=$t
  [ -f "${t%.litmus}.herd.litmus" ] && src=${t%.litmus}.herd.litmus
  out=$("$herd" -I "$models/linux-kernel" -conf linux-kernel.cfg "$src" 2>&1)
  obs=$(echo "$out" | sed -n 's/^Observation [^ ]* \([A-Za-z]*\) .*/\1/p')
  flags=$(echo "$out" | sed -n 's/^Flag //p' | sort | sed 's/.*/"&"/' | paste -sd, -)
  states=$(echo "$out" | sed -n '/^States/,/^\(Ok\|No\)$/p' | grep ';' | sed 's/ *$//; s/.*/"&"/' | paste -sd, -)
  printf '{"file": "%s", "herd7_ran": "%s", "observation": "%s", "states": [%s], "flags": [%s]}\n' \
    "$(basename "$t")" "$(basename "$src")" "$obs" "$states" "$flags"
done
