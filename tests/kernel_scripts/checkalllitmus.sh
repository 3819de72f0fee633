#!/bin/sh
# Check every *.litmus under folder $1 with checklitmus.sh, as the kernel's checkalllitmus.sh
# does (our own text); prints each problem and a summary, exit 1 if any test failed.
here=$(dirname "$0")
fails=0; n=0
for litmus in $(find "$1" -name '*.litmus' | sort); do
	n=$((n + 1))
	sh "$here/checklitmus.sh" "$litmus" || fails=$((fails + 1))
done
if test "$fails" -eq 0; then echo "All $n tests passed"; exit 0; fi
echo "$fails of $n tests failed"; exit 1
