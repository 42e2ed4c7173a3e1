#!/usr/bin/env bash
# Starts a private PostgreSQL server for the test suite and prints its connection URL on the last line of stdout.
#
# It installs PostgreSQL from Debian when missing, then runs its own cluster in a fresh folder (not the distribution's
# "main" cluster, which needs systemd or a writable /etc): initdb with a password for the role "flue", a server that
# listens on 127.0.0.1 only at a free port, and a database "flue_test". As root, the server runs as the "postgres" user,
# since PostgreSQL refuses to run as root. Everything it says goes to stderr; any failure exits non-zero with the reason.
#
# Usage: url=$(.ci/start_postgres.sh <folder>)   Stop it with: .ci/start_postgres.sh --stop <folder>
set -euo pipefail

fail() {
  echo "start_postgres: $*" >&2
  exit 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bin_dir() {
  local version
  version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)
  [ -n "$version" ] && [ -x "/usr/lib/postgresql/$version/bin/initdb" ] || return 1
  echo "/usr/lib/postgresql/$version/bin"
}

if [ "${1:-}" = "--stop" ]; then
  folder=${2:?"--stop needs the folder"}
  bin=$(bin_dir) || exit 0
  [ -f "$folder/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$folder/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$folder"
  exit 0
fi

folder=${1:?"usage: start_postgres.sh <folder>"}

if ! bin=$(bin_dir); then
  echo "Installing PostgreSQL from Debian" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2 || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >&2 || fail "apt-get install postgresql failed"
  bin=$(bin_dir) || fail "PostgreSQL is installed but no initdb was found under /usr/lib/postgresql"
fi

# A free port on loopback: ask the kernel for one (Deno is installed by then), then let the server take it.
port=$(deno eval 'const l = Deno.listen({ hostname: "127.0.0.1", port: 0 }); console.log(l.addr.port); l.close()' \
  2>/dev/null) || port=$((20000 + RANDOM % 20000))
password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)

mkdir -p "$folder"
cd "$folder"
[ "$(id -u)" -eq 0 ] && chown postgres: "$folder"
as_owner bash -c "umask 077 && printf '%s\n' '$password' > '$folder/password'"
as_owner "$bin/initdb" -D "$folder/data" -U flue --pwfile="$folder/password" --auth=scram-sha-256 -E UTF8 \
  --locale=C.UTF-8 >"$folder/initdb.log" 2>&1 || {
  cat "$folder/initdb.log" >&2
  fail "initdb failed"
}
as_owner "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $folder -c max_connections=200 -c fsync=off" start >&2 || {
  cat "$folder/server.log" >&2 || true
  fail "the server did not start"
}
PGPASSWORD=$password "$bin/psql" -h 127.0.0.1 -p "$port" -U flue -d postgres -v ON_ERROR_STOP=1 -q \
  -c "CREATE DATABASE flue_test" >&2 || fail "could not create the database flue_test"

echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') listening on 127.0.0.1:$port" >&2
echo "postgres://flue:$password@127.0.0.1:$port/flue_test"
