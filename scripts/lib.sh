# Shared set-up steps for scripts/up and scripts/test. Source it; don't run it.
# Everything here is idempotent: a step that is already done is skipped.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
export VAR_DIR="${VAR_DIR:-$ROOT/var}"
LOG_DIR="$VAR_DIR/log"
mkdir -p "$LOG_DIR"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mError:\033[0m %s\n' "$*" >&2; exit 1; }

# ensure_debian_packages CMD:PACKAGE ... — install the packages whose command is missing.
# CMD may also be the absolute path of a file the package installs.
ensure_debian_packages() {
    local missing=() pair cmd pkg
    for pair in "$@"; do
        cmd="${pair%%:*}"; pkg="${pair#*:}"
        [[ $cmd == /* && -e $cmd ]] && continue
        if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$cmd" && ! -x "/usr/bin/$cmd" ]]; then
            missing+=("$pkg")
        fi
    done
    ((${#missing[@]})) || return 0
    install_debian_packages "${missing[@]}"
}

# install_debian_packages PACKAGE ... — apt-get install as root, or say exactly what to install.
install_debian_packages() {
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        say "Installing Debian packages: $*"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >"$LOG_DIR/apt.log" 2>&1 || die "apt-get update failed (see $LOG_DIR/apt.log)"
        apt-get install -y -qq "$@" >>"$LOG_DIR/apt.log" 2>&1 \
            || die "apt-get install failed (see $LOG_DIR/apt.log)"
    else
        die "these system packages are missing: $*
  On Debian/Ubuntu, as root:  apt-get install -y $*
  Elsewhere install the equivalents (Docker engine, Redis server, debootstrap) and run this again."
    fi
}

ensure_python() {
    PYTHON="${PYTHON:-}"
    if [[ -z $PYTHON ]]; then
        for candidate in python3.11 python3.12 python3.13 python3; do
            if command -v "$candidate" >/dev/null 2>&1 \
                && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
                PYTHON="$(command -v "$candidate")"; break
            fi
        done
    fi
    [[ -n $PYTHON ]] || die "Python 3.11 or newer is needed (Debian 12: apt-get install -y python3 python3-venv)."
    if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        install_debian_packages python3-venv
    fi
}

# ensure_venv — create .venv and install the project with its dev extras when pyproject.toml changed.
ensure_venv() {
    ensure_python
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "Creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
    if [[ ! -f $stamp ]]; then
        say "Installing Python dependencies into .venv"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[dev]" \
            >"$LOG_DIR/pip.log" 2>&1 || die "pip install failed (see $LOG_DIR/pip.log)"
        rm -f "$VENV"/.installed-*
        touch "$stamp"
    fi
}

docker_answers() {
    "$VENV/bin/python" -c 'import docker; docker.from_env(timeout=5).ping()' >/dev/null 2>&1
}

# ensure_docker — make sure a Docker engine answers, starting dockerd when we may.
ensure_docker() {
    docker_answers && return 0
    command -v dockerd >/dev/null 2>&1 || ensure_debian_packages "dockerd:docker.io"
    if [[ $(id -u) -ne 0 ]]; then
        die "the Docker engine is not running and only root can start it here.
  Start it (e.g. sudo systemctl start docker) and make sure you are in the 'docker' group."
    fi
    say "Starting the Docker engine (log: $LOG_DIR/dockerd.log)"
    if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
        systemctl start docker || true
    fi
    if ! docker_answers; then
        setsid nohup dockerd >"$LOG_DIR/dockerd.log" 2>&1 </dev/null &
    fi
    for _ in $(seq 1 60); do
        docker_answers && return 0
        sleep 1
    done
    die "dockerd did not come up within 60 s; see $LOG_DIR/dockerd.log"
}

# ensure_redis PORT — start a local Redis on PORT unless one answers there.
ensure_redis() {
    local port="$1"
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
        return 0
    fi
    say "Starting Redis on 127.0.0.1:$port"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
        --logfile "$LOG_DIR/redis-$port.log" --dir "$VAR_DIR" >/dev/null
    for _ in $(seq 1 50); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "Redis did not start; see $LOG_DIR/redis-$port.log"
}

# ensure_secret_key — on the first run, write a random SECRET_KEY to .env (or $ENV_FILE), which
# config/settings.py reads; a key already set there or in the environment is never replaced.
ensure_secret_key() {
    local env_file="${ENV_FILE:-$ROOT/.env}" key
    [[ -n ${SECRET_KEY:-} ]] && return 0
    if [[ -f $env_file ]] && grep -Eq '^[[:space:]]*(export[[:space:]]+)?SECRET_KEY=' "$env_file"; then
        return 0
    fi
    say "Writing a random SECRET_KEY to $env_file"
    key="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))')"
    (umask 077 && touch "$env_file")
    if [[ -s $env_file && -n $(tail -c1 "$env_file") ]]; then
        echo >>"$env_file"  # the file did not end its last line
    fi
    printf 'SECRET_KEY=%s\n' "$key" >>"$env_file"
}

# django_debug — print 1 when the site's settings have DEBUG on, else 0.
django_debug() {
    "$VENV/bin/python" -c 'import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.conf import settings
print(int(settings.DEBUG))'
}

# ensure_images — build the sandbox runner image unless it is already present.
ensure_images() {
    if ! "$VENV/bin/python" "$ROOT/manage.py" sandbox_images --check >/dev/null 2>&1; then
        say "Building the sandbox runner image (first time only: a few minutes)"
    fi
    "$VENV/bin/python" "$ROOT/manage.py" sandbox_images
}

# The steps below start the site as scripts/up does; bench/load.py calls them too, so a load test
# runs what a class gets.

# prepare_site — migrate, collect static files, import the course from content/ and index it.
prepare_site() {
    local py="$VENV/bin/python"
    "$py" "$ROOT/manage.py" migrate --noinput -v0
    "$py" "$ROOT/manage.py" collectstatic --noinput -v0  # served by WhiteNoise when DEBUG is off
    # Never overwrites what an instructor edited in the browser: it says what it kept.
    "$py" "$ROOT/manage.py" import_course --skip-conflicts "$ROOT/content/python-web"
    "$py" "$ROOT/manage.py" rebuild_search_index
}

# supervise NAME COMMAND... — run COMMAND, and start it again whenever it fails (ends with a
# non-zero status: a crash, a kill, a Celery worker whose broker client failed while Redis
# restarted). A command that ends well (a Celery worker's warm shutdown on Ctrl-C) is not
# started again. SIGTERM ends the supervision and is passed on to the command (a Celery worker
# then finishes what it runs). It waits 1 s before a restart, doubling up to 30 s while the
# command keeps failing within a minute of its start.
supervise() {
    local name="$1"; shift
    local child="" status=0 stopping=0 delay=1 started
    trap 'stopping=1; [[ -n $child ]] && kill -TERM "$child" 2>/dev/null || true' TERM INT
    while :; do
        started=$SECONDS
        "$@" &
        child=$!
        # A signal interrupts `wait`; the trap has passed it on, so wait for the command's end.
        while kill -0 "$child" 2>/dev/null; do
            status=0; wait "$child" || status=$?
        done
        ((stopping || status == 0)) && return "$status"
        if ((SECONDS - started >= 60)); then delay=1; fi
        say "$name stopped (exit status $status); starting it again in $delay s"
        sleep "$delay" &
        child=$!  # a signal now ends the pause
        wait "$child" || true
        ((stopping)) && return "$status"
        delay=$((delay * 2 > 30 ? 30 : delay * 2))
    done
}

# run_site_worker — become the site's Celery worker: it applies grading hosts' reports to the
# database and runs the periodic tasks beat sends. It replaces the shell (exec).
run_site_worker() {
    cd "$ROOT"
    exec "$VENV/bin/celery" -A config worker -Q results,celery -n "site@%h" -l info \
        --concurrency "${SITE_WORKER_CONCURRENCY:-2}"
}

# run_grading_host — become a grading host: a Celery worker that needs only the broker and a
# Docker engine. It starts with an empty environment (env -i) and is given only its own
# settings, so it holds no database settings or secrets. It replaces the shell (exec).
run_grading_host() {
    cd "$ROOT"
    exec env -i PATH="$PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 REDIS_URL="$REDIS_URL" \
        GRADING_HOST_ID="${GRADING_HOST_ID:-$(hostname)}" \
        GRADING_CONCURRENCY="${GRADING_CONCURRENCY:-2}" VAR_DIR="$VAR_DIR" \
        ${LOG_FORMAT:+LOG_FORMAT="$LOG_FORMAT"} \
        ${SANDBOX_RUN_DIR:+SANDBOX_RUN_DIR="$SANDBOX_RUN_DIR"} \
        ${SANDBOX_IMAGE:+SANDBOX_IMAGE="$SANDBOX_IMAGE"} ${DOCKER_HOST:+DOCKER_HOST="$DOCKER_HOST"} \
        "$VENV/bin/celery" -A grading.worker worker -Q grading,interactive -n "grading@%h" -l info
}

# run_beat — become Celery beat, the one scheduler of the periodic tasks (the sweep, archive
# pruning). Run exactly one. It replaces the shell (exec).
run_beat() {
    cd "$ROOT"
    exec "$VENV/bin/celery" -A config beat -l info --schedule "$VAR_DIR/celerybeat-schedule"
}

# run_web_server PORT — become gunicorn serving the site on 127.0.0.1:PORT, with 2 processes of 4
# threads for a 2-core machine (WEB_WORKERS, WEB_THREADS change them). It replaces the shell
# (exec): run it in the background or in a subshell.
run_web_server() {
    cd "$ROOT"
    exec "$VENV/bin/gunicorn" config.wsgi --bind "127.0.0.1:$1" \
        --workers "${WEB_WORKERS:-2}" --threads "${WEB_THREADS:-4}" \
        --access-logfile - --error-logfile -
}

# System packages every command needs (command:package).
BASE_PACKAGES=(redis-server:redis-server redis-cli:redis-tools dockerd:docker.io debootstrap:debootstrap)
# Extra system packages for the test suite: PostgreSQL (search is tested on it), curl (the
# documented terminal submission), Chromium (browser tests), Debian's Python 3.11 with venv (a
# grading whose harness really becomes nobody, whatever Python the suite runs on).
TEST_PACKAGES=(/usr/lib/postgresql/15/bin/initdb:postgresql curl:curl chromium:chromium
    /usr/lib/python3.11/ensurepip/__init__.py:python3.11-venv)
