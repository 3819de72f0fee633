#!/bin/sh
# Records herd7's flags for tests/test_flags.py (run by hand; tests and CI never need herd7).
#   tests/data/flags/record.sh ~/.herd7/bin/herd7 > tests/data/flags/herd-flags.jsonl
# herd7 generates co in cat (`include "cos.cat"`); our engine has co built in, so each model
# is given to herd7 with that one line prepended, otherwise unchanged.
set -e
herd=${1:-herd7}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
for cat in "$here"/*.cat; do
  name=$(basename "$cat" .cat)
  { head -n 1 "$cat"; echo 'include "cos.cat"'; echo 'include "stdlib.cat"'; tail -n +2 "$cat"; } > "$tmp/$name.cat"
  for t in "$root"/litmus/classic/X86-*.litmus "$root"/litmus/classic/AArch64-*.litmus; do
    rel=${t#"$root"/}
    flags=$("$herd" -model "$tmp/$name.cat" "$t" | sed -n 's/^Flag //p' | sort | sed 's/.*/"&"/' | paste -sd, -)
    obs=$("$herd" -model "$tmp/$name.cat" "$t" | sed -n 's/^Observation [^ ]* \([A-Za-z]*\) .*/\1/p')
    printf '{"model": "%s", "file": "%s", "observation": "%s", "flags": [%s]}\n' "$name" "$rel" "$obs" "$flags"
  done
done
rm -rf "$tmp"
