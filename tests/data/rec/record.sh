#!/bin/sh
# Records herd7's answers for tests/test_recursion.py (run by hand; tests and CI never need herd7).
#   tests/data/rec/record.sh ~/.herd7/bin/herd7 ../shared/reference/models > tests/data/rec/herd.jsonl
# The kernel's bell and macros give herd7 the C events (Rcu-lock, ...); each model here is given
# to herd7 as -model, with `include "cos.cat"` prepended (our engine has co built in).
set -e
herd=${1:-herd7}
models=${2:-../shared/reference/models}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
for cat in "$here"/*.cat; do
  name=$(basename "$cat" .cat)
  { head -n 1 "$cat"; echo 'include "cos.cat"'; tail -n +2 "$cat"; } > "$tmp/$name.cat"
  for t in "$here"/*.litmus "$root"/litmus/classic/C-*.litmus "$root"/litmus/classic/X86-*.litmus; do
    grep -q spin_lock "$t" && continue  # herd7's lock events are not W outside lock.cat; ours are RMWs
    rel=${t#"$root"/}
    case "$t" in *X86-*) opts="";; *) opts="-I $models/herd -I $models/linux-kernel -conf linux-kernel.cfg";; esac
    out=$("$herd" $opts -model "$tmp/$name.cat" "$t" 2>&1)
    # only the model's own flags (the kernel's bell, loaded for its events, raises its own)
    sed -n 's/.* as \([A-Za-z0-9_.-]*\)$/\1/p' "$cat" > "$tmp/own"
    flags=$(echo "$out" | sed -n 's/^Flag //p' | grep -Fx -f "$tmp/own" | sort | sed 's/.*/"&"/' | paste -sd, -)
    obs=$(echo "$out" | sed -n 's/^Observation [^ ]* \([A-Za-z]*\) .*/\1/p')
    [ -n "$obs" ] || continue  # herd7 refused the test (a construct of the kernel's macros only)
    printf '{"model": "%s", "file": "%s", "observation": "%s", "flags": [%s]}\n' "$name" "$rel" "$obs" "$flags"
  done
done
rm -rf "$tmp"
