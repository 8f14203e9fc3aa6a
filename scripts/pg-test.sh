#!/usr/bin/env bash
# pg-test.sh COMMAND...: run COMMAND with a throwaway PostgreSQL cluster.
#
# It initialises a cluster in a temporary directory, listening on 127.0.0.1
# on a free port (its unix socket in the same directory, trust auth), creates
# a database "hamlet", exports HAMLET_TEST_POSTGRES=postgres://... for the
# command, and stops and deletes the cluster when the command ends, however
# it ends. `make test` runs the Go tests under it, in CI and on a
# developer's machine alike.
#
# - HAMLET_TEST_PGDATA, HAMLET_TEST_PGBIN and HAMLET_TEST_PGUSER are
#   exported with it: the data directory, the server binaries (pg_ctl,
#   initdb) and the cluster's system user when run as root, for the tests
#   that restart PostgreSQL (pgtest.NewCluster).
# - HAMLET_TEST_POSTGRES already set: the command runs against that
#   database and no cluster is started.
# - PostgreSQL not installed: with CI=true that is an error; otherwise the
#   command runs without HAMLET_TEST_POSTGRES and the PostgreSQL tests skip
#   (install Debian's postgresql package to run them).
# - Run as root (CI): initdb refuses root, so the cluster runs as the
#   "postgres" system user if there is one, else as a "hamlet" system user
#   created for it.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: scripts/pg-test.sh COMMAND [ARG...]" >&2
  exit 2
fi

if [ -n "${HAMLET_TEST_POSTGRES:-}" ]; then
  exec "$@"
fi

find_bin() {
  local d
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  # Debian keeps the server binaries out of PATH; take the newest version.
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

if ! PGBIN=$(find_bin); then
  if [ "${CI:-}" = "true" ]; then
    echo "pg-test.sh: PostgreSQL is not installed (no initdb): install Debian's postgresql package (apt-get install -y postgresql)" >&2
    exit 1
  fi
  echo "pg-test.sh: PostgreSQL is not installed, so the PostgreSQL tests will skip (install the postgresql package to run them)" >&2
  exec "$@"
fi

run_as=()
owner=""
if [ "$(id -u)" -eq 0 ]; then
  if id postgres >/dev/null 2>&1; then
    owner=postgres
  else
    if ! id hamlet >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin hamlet
    fi
    owner=hamlet
  fi
  run_as=(runuser -u "$owner" --)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-pg.XXXXXX")
if [ -n "$owner" ]; then
  chown "$owner" "$dir"
fi
started=""
cleanup() {
  if [ -n "$started" ]; then
    "${run_as[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A throwaway cluster: no fsync (nothing here must survive a power cut),
# C locale, UTF-8.
if ! "${run_as[@]}" "$PGBIN/initdb" -D "$dir/data" -U hamlet -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  echo "pg-test.sh: initdb failed" >&2
  exit 1
fi

# A free port: try random ones until the server starts on one.
port=""
for _ in $(seq 1 20); do
  p=$((20000 + RANDOM % 40000))
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    continue # something listens there
  fi
  if "${run_as[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $p -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=128MB" \
      start >/dev/null 2>&1; then
    port=$p
    started=1
    break
  fi
done
if [ -z "$port" ]; then
  tail -n 20 "$dir/server.log" >&2 || true
  echo "pg-test.sh: could not start PostgreSQL on a free port of 127.0.0.1" >&2
  exit 1
fi

"${run_as[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U hamlet hamlet

export HAMLET_TEST_POSTGRES="postgres://hamlet@127.0.0.1:$port/hamlet?sslmode=disable"
# For fault tests (server/pgstore/pgtest.NewCluster): the cluster's data
# directory, PostgreSQL's server binaries and the system user the cluster
# runs as (empty: this user). The fault tests start and restart a private
# cluster with them rather than restart this one under tests of other
# packages running at the same time.
export HAMLET_TEST_PGDATA="$dir/data"
export HAMLET_TEST_PGBIN="$PGBIN"
export HAMLET_TEST_PGUSER="$owner"
echo "pg-test.sh: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (HAMLET_TEST_POSTGRES)" >&2
set +e
"$@"
status=$?
set -e
exit $status
