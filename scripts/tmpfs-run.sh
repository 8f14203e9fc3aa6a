#!/usr/bin/env bash
# tmpfs-run.sh COMMAND...: run COMMAND with TMPDIR on a fresh directory in
# memory (a tmpfs, /dev/shm), deleted when the command ends however it ends.
# `make test` runs the Go tests under it.
#
# Why: the tests keep every replica, server store and PostgreSQL cluster
# they make under TMPDIR, and commit to them with fsync. On a virtual
# machine's disk an fsync can take tens of milliseconds: the agent's tests
# took 199 s on the disk and 140 s in memory, cmd/hamlet-server's 29 s and
# 18 s, one clock test 25.6 s and 3.7 s. No test can check what fsync is
# for (a power cut); every fault they inject (a killed process, a copied
# folder, a full disk, a replaced file) behaves in memory as on a disk, as
# the page cache outlives a killed process. So the tests lose nothing and
# wait for nothing.
#
# The directory is like /tmp (mode 1777), as the PostgreSQL clusters run as
# another system user when the tests run as root (scripts/pg-test.sh).
#
# - HAMLET_TEST_TMPFS names another tmpfs to use; "off" keeps TMPDIR as it
#   is (a test of the disk itself).
# - The directory is used only when it is writable, lets programs run from
#   it (the tests build and run the binaries there) and has
#   HAMLET_TEST_TMPFS_MIN_MB free (default 4096); otherwise COMMAND runs
#   with TMPDIR as it is, saying why.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: scripts/tmpfs-run.sh COMMAND [ARG...]" >&2
  exit 2
fi

base=${HAMLET_TEST_TMPFS:-/dev/shm}
min_kb=$(( ${HAMLET_TEST_TMPFS_MIN_MB:-4096} * 1024 ))

# keep WHY COMMAND...: runs COMMAND with TMPDIR as it is, saying why.
keep() {
  echo "tmpfs-run.sh: $1; the tests keep TMPDIR (${TMPDIR:-/tmp})" >&2
  shift
  exec "$@"
}

[ "$base" != off ] || keep "HAMLET_TEST_TMPFS=off" "$@"
{ [ -d "$base" ] && [ -w "$base" ]; } || keep "$base is not a writable directory" "$@"
free_kb=$(df -Pk "$base" | awk 'NR == 2 { print $4 }')
[ "${free_kb:-0}" -ge "$min_kb" ] || keep "$base has $(( ${free_kb:-0} / 1024 )) MB free, under $(( min_kb / 1024 )) MB" "$@"

dir=$(mktemp -d "$base/hamlet-test.XXXXXX")
chmod 1777 "$dir"
printf '#!/bin/sh\nexit 0\n' >"$dir/probe"
chmod +x "$dir/probe"
if ! "$dir/probe" 2>/dev/null; then
  rm -rf "$dir"
  keep "$base does not let programs run (noexec)" "$@"
fi
rm -f "$dir/probe"
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "tmpfs-run.sh: TMPDIR=$dir (in memory; HAMLET_TEST_TMPFS=off keeps it on the disk)" >&2
export TMPDIR=$dir
"$@" # set -e: its exit status is this script's; the EXIT trap deletes the directory
