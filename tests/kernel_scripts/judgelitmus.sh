#!/bin/sh
# Judge $LKMM_DESTDIR/T.litmus.out against the `Result:` comment of T.litmus, as the kernel's
# tools/memory-model/scripts/judgelitmus.sh does (this is our own text of what it checks, for
# running the kernel's workflow on verifier-herd7; the original is GPL-2.0 and not vendored):
#   - the first `Result:` comment gives the expected outcome (Never, Sometimes, Always,
#     DEADLOCK, Maybe) and, with the word DATARACE, predicts a data race;
#   - a `Flag data-race` line in the output says the model found one: predicted and not
#     found is exit 252, found and not predicted exit 253;
#   - no `Result:` comment, or no `Observation` line: a verification error, exit 255;
#   - `Never 0 0` (no execution at all) is a deadlock: only DEADLOCK expects it;
#   - otherwise the Observation line must contain the expected word (Maybe accepts any).
# Prints one line per problem, nothing for a match; exit 0 on a match, 1 on a mismatch.
litmus=$1
out="$LKMM_DESTDIR/$litmus.out"
if ! test -r "$litmus"; then echo "judgelitmus.sh: cannot read $litmus"; exit 255; fi
if ! test -r "$out"; then echo "judgelitmus.sh: cannot read $out"; exit 255; fi
modeled=; predicted=
grep -q '^Flag data-race' "$out" && modeled=1
if grep -q '^[( ]\* Result: ' "$litmus"; then
	outcome=$(grep -m 1 '^[( ]\* Result: ' "$litmus" | awk '{ print $3 }')
	grep -m 1 '^[( ]\* Result: ' "$litmus" | grep -q DATARACE && predicted=1
	if test -n "$predicted" && test -z "$modeled"; then
		echo "Predicted data race not modeled: $litmus"; exit 252
	elif test -z "$predicted" && test -n "$modeled"; then
		echo "Unpredicted data race: $litmus"; exit 253
	fi
else
	echo " !!! Verification error $litmus"; exit 255
fi
if ! grep -q '^Observation' "$out"; then
	echo " !!! Verification error $litmus"; exit 255
fi
observation=$(grep '^Observation' "$out")
if test "$outcome" = DEADLOCK; then
	echo "$observation" | grep -q 'Never 0 0$' && exit 0
	echo " !!! Unexpected non-$outcome verification $litmus"; exit 1
elif echo "$observation" | grep -q 'Never 0 0$'; then
	echo " !!! Unexpected non-$outcome deadlock $litmus"; exit 1
elif echo "$observation" | grep -q "$outcome" || test "$outcome" = Maybe; then
	exit 0
fi
echo " !!! Unexpected non-$outcome verification $litmus"; exit 1
