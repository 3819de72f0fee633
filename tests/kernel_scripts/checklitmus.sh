#!/bin/sh
# Run $HERD on one test into $LKMM_DESTDIR/T.litmus.out and judge it, as the kernel's
# checklitmus.sh/runlitmus.sh do (our own text): herd's options are $LKMM_HERD_OPTIONS,
# default `-conf linux-kernel.cfg`; run from the folder holding the memory model.
litmus=$1
herdoptions=${LKMM_HERD_OPTIONS--conf linux-kernel.cfg}
mkdir -p "$(dirname "$LKMM_DESTDIR/$litmus")"
echo "Herd options: $herdoptions" > "$LKMM_DESTDIR/$litmus.out"
# shellcheck disable=SC2086 # the options are words, as the kernel's script passes them
${HERD:-herd7} $herdoptions "$litmus" >> "$LKMM_DESTDIR/$litmus.out" 2>&1
ret=$?
if test $ret -ne 0; then echo " !!! herd failed ($ret): $litmus"; exit $ret; fi
sh "$(dirname "$0")/judgelitmus.sh" "$litmus"
