#!/usr/bin/env bash
# Entrypoint of the Gantry Postgres *test* image. Implements the subset of the
# official postgres image's contract that Gantry's tests use:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD / POSTGRES_PASSWORD_FILE
#   (file wins), POSTGRES_DB (default = user), POSTGRES_HOST_AUTH_METHOD=trust,
#   POSTGRES_INITDB_ARGS (extra initdb flags, split on spaces),
#   *.sql / *.sh in /docker-entrypoint-initdb.d on first start.
set -euo pipefail

die() { echo "entrypoint: $*" >&2; exit 1; }

export PGDATA=${PGDATA:-/var/lib/postgresql/data}

# `docker run IMAGE -c foo=bar` means "postgres -c foo=bar", as upstream.
if [[ $# -eq 0 || $1 == -* ]]; then set -- postgres "$@"; fi
[[ $1 == postgres ]] || exec "$@"

if [[ $(id -u) == 0 ]]; then
  # A fresh bind mount or tmpfs is root-owned; postgres refuses other owners.
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres:postgres {} +
  chmod 0700 "$PGDATA"
  # Secrets are often root-only files: read it while we still can.
  if [[ -n ${POSTGRES_PASSWORD_FILE:-} ]] && ! setpriv --reuid=postgres --regid=postgres --init-groups test -r "$POSTGRES_PASSWORD_FILE"; then
    [[ -r $POSTGRES_PASSWORD_FILE ]] || die "cannot read POSTGRES_PASSWORD_FILE=$POSTGRES_PASSWORD_FILE"
    POSTGRES_PASSWORD=$(<"$POSTGRES_PASSWORD_FILE")
    export POSTGRES_PASSWORD
    unset POSTGRES_PASSWORD_FILE
  fi
  # setpriv (util-linux, in minbase) execs directly: no extra process, so
  # postgres still ends up as PID 1 and receives docker's signals.
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${BASH_SOURCE[0]}" "$@"
fi

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  pw=
  if [[ -n ${POSTGRES_PASSWORD_FILE:-} ]]; then
    [[ -r $POSTGRES_PASSWORD_FILE ]] || die "cannot read POSTGRES_PASSWORD_FILE=$POSTGRES_PASSWORD_FILE"
    pw=$(<"$POSTGRES_PASSWORD_FILE") # $(<) strips the trailing newline(s)
  elif [[ -n ${POSTGRES_PASSWORD:-} ]]; then
    pw=$POSTGRES_PASSWORD
  fi
  auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  [[ -n $pw || $auth == trust ]] ||
    die "set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE (or POSTGRES_HOST_AUTH_METHOD=trust)"

  # Extra initdb flags, split on spaces as upstream does (--no-sync for
  # throwaway test clusters).
  read -ra initdb_args <<<"${POSTGRES_INITDB_ARGS:-}"
  initdb --username="$user" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 "${initdb_args[@]}" >/dev/null
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

  # Unix socket only, so nothing can connect before the password is set, and
  # on another port, so a pg_isready healthcheck (default port) does not call
  # the container healthy while this temporary server runs.
  init_port=5499
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p $init_port" start >&2
  psql=(psql -X -q -v ON_ERROR_STOP=1 --port="$init_port" --username="$user" --dbname=postgres)
  # Values travel as psql variables and are quoted by psql (:'pw', :"db"):
  # no shell or SQL interpolation, so any character in a password is safe.
  # psql does not substitute variables in -c, hence stdin.
  if [[ -n $pw ]]; then
    "${psql[@]}" -v user="$user" -v pw="$pw" <<<"ALTER ROLE :\"user\" WITH PASSWORD :'pw';"
  fi
  if [[ $db != postgres ]]; then
    "${psql[@]}" -v db="$db" <<<"CREATE DATABASE :\"db\";"
  fi
  shopt -s nullglob
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sql) "${psql[@]}" --dbname="$db" -f "$f" ;;
      *.sh) PGPORT=$init_port bash "$f" ;;
      *) echo "entrypoint: ignoring $f" >&2 ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  unset pw
  echo "entrypoint: initialised $PGDATA (user=$user db=$db)" >&2
fi

unset POSTGRES_PASSWORD POSTGRES_PASSWORD_FILE
shift
exec postgres -c listen_addresses='*' "$@"
