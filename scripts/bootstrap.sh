#!/usr/bin/env bash
# Local set-up shared by `make run` and `make test`. Idempotent: every step checks first.
#   1. Debian packages for Python, PostgreSQL, Redis and NATS, when missing.
#   2. PostgreSQL, Redis and NATS (with JetStream) on 127.0.0.1, started when down.
#   3. The `progress` role and database, when DATABASE_URL is left at its default.
#   4. .venv with requirements-dev.txt (reinstalled only when a requirements file changes).
#   5. Waits until every service answers, then applies migrations.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
  as_postgres() { (cd / && runuser -u postgres -- "$@"); }
else
  command -v sudo >/dev/null || die "not root and no sudo: cannot install packages or start services"
  as_root() { sudo "$@"; }
  as_postgres() { (cd / && sudo -u postgres "$@"); }
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- 1. packages -----------------------------------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || [ -x "$2" ] || missing+=("$3"); }
need python3 /usr/bin/python3 python3
need pg_ctlcluster /usr/bin/pg_ctlcluster postgresql
need psql /usr/bin/psql postgresql-client
need redis-server /usr/bin/redis-server redis-server
need nats-server /usr/sbin/nats-server nats-server
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "Python 3.11 or newer is required (found $(python3 --version))"

# --- 2. services -----------------------------------------------------------------------
if ! port_open 5432; then
  log "starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  [ -n "$version" ] || die "PostgreSQL is installed but has no cluster under /etc/postgresql"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
if ! port_open 6379; then
  log "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/progress.log
fi
nats_jetstream() {  # the INFO line a NATS server sends on connect says whether JetStream is on
  local info
  info=$( (exec 3<>/dev/tcp/127.0.0.1/4222 && timeout 2 head -n 1 <&3) 2>/dev/null ) || return 1
  [[ $info == *'"jetstream":true'* ]]
}
if port_open 4222; then
  if ! nats_jetstream; then
    if [ -d /run/systemd/system ] && systemctl is-active --quiet nats-server; then
      # Debian's nats-server.service starts on install from /etc/nats-server.conf, without JetStream.
      log "enabling JetStream in /etc/nats-server.conf and restarting nats-server"
      grep -q '^jetstream' /etc/nats-server.conf \
        || printf 'jetstream {\n  store_dir: "/var/lib/nats-server"\n}\n' | as_root tee -a /etc/nats-server.conf >/dev/null
      as_root install -d -o nats -g nats /var/lib/nats-server
      as_root chown -R nats:nats /var/lib/nats-server
      as_root systemctl restart nats-server
    else
      die "a NATS server without JetStream listens on 127.0.0.1:4222: restart it with -js (or jetstream {} in its config)"
    fi
  fi
else
  log "starting NATS with JetStream"
  as_root mkdir -p /var/lib/nats-server
  as_root start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server || echo /usr/sbin/nats-server)" \
    -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
fi

# --- 3. database role ----------------------------------------------------------------------
if [ -z "${DATABASE_URL:-}" ]; then
  for _ in $(seq 1 30); do port_open 5432 && break; sleep 1; done
  as_postgres psql -qAt -v ON_ERROR_STOP=1 -d postgres <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'progress') THEN
    CREATE ROLE progress LOGIN PASSWORD 'progress' CREATEDB;
  END IF;
END $$;
SELECT 'CREATE DATABASE progress OWNER progress'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'progress') \gexec
SQL
fi

# --- 4. virtualenv ------------------------------------------------------------------------
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing Python dependencies into .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# --- 5. wait, then migrate ------------------------------------------------------------------
.venv/bin/python scripts/wait_services.py
log "applying migrations"
.venv/bin/python manage.py migrate --noinput
