#!/usr/bin/env bash
# idle-beside.sh 'BACKGROUND' COMMAND...: run COMMAND, and beside it the
# shell command BACKGROUND at the lowest CPU priority (nice 19); wait for
# both, print BACKGROUND's output after COMMAND's, and fail if either did.
# `make test` runs its cross-check builds so.
#
# Why: the tests do not keep two cores busy all the time (a long package
# alone at the end, the compiler on one large package, waits on servers
# and processes), and the cross-check's compiles for Windows and macOS took
# 100 s of wall time after the tests on 2 cores (stop 59, a fresh clone).
# At nice 19 the builds take the cycles the tests leave and yield the rest
# (the kernel gives a nice-19 task about 1/70 of a normal one's share), so
# the tests are not slowed and the builds mostly finish before them. They
# use their own build cache entries (another GOOS), which the go command
# shares safely between processes.
#
# If COMMAND fails, BACKGROUND is stopped: its result no longer matters.
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: scripts/idle-beside.sh 'BACKGROUND' COMMAND [ARG...]" >&2
  exit 2
fi
background=$1
shift

log=$(mktemp "${TMPDIR:-/tmp}/idle-beside.XXXXXX")
set -m # the background job in a process group of its own, to stop it whole
nice -n 19 bash -c "$background" >"$log" 2>&1 &
bg=$!
set +m
stop() { kill -TERM -- "-$bg" 2>/dev/null; wait "$bg" 2>/dev/null; rm -f "$log"; }
trap 'stop; exit 130' INT TERM

"$@"
rc=$?
if [ "$rc" -ne 0 ]; then
  stop
  exit "$rc"
fi
wait "$bg"
bgrc=$?
cat "$log"
rm -f "$log"
if [ "$bgrc" -ne 0 ]; then
  echo "idle-beside.sh: '$background' failed (exit $bgrc)" >&2
  exit "$bgrc"
fi
