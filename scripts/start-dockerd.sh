#!/usr/bin/env bash
# Start a private Docker engine for the test suite (SPEC §9) and build the test image without any
# registry pull. Idempotent: every step is skipped when its result is already there.
#
#   scripts/start-dockerd.sh            # then: WARROOM_TEST_DOCKER=unix:///run/warroom-docker.sock
#
# The engine runs with no bridge and no iptables so it works inside a container or a CI sandbox;
# test containers therefore use `--network none`. This is test infrastructure only: the bot itself
# never runs a subprocess.
set -euo pipefail

SOCK_PATH=/run/warroom-docker.sock
HOST="unix://${SOCK_PATH}"
DATA_ROOT=/var/lib/warroom-docker
PIDFILE=/run/warroom-dockerd.pid
LOG=/tmp/warroom-dockerd.log
IMAGE=warroom-busybox:test
# The applets the test containers use; busybox dispatches on argv[0], so symlinks are enough.
APPLETS="sh echo sleep cat env printf ls true false kill ps id top head tail seq yes"

did=()
started=$(date +%s)

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "start-dockerd.sh: $1 needs root (run it with sudo)" >&2
        exit 1
    fi
}

find_busybox() {
    # Only the static build works inside an otherwise empty rootfs; Debian's dynamic `busybox` package
    # installs the same path, so ask dpkg which one it is (ldd where there is no dpkg).
    if command -v dpkg-query >/dev/null 2>&1; then
        dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" || return 1
    fi
    for candidate in /bin/busybox /usr/bin/busybox; do
        if [ -x "$candidate" ] && ! ldd "$candidate" >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

install_packages() {
    local packages=()
    command -v dockerd >/dev/null 2>&1 || packages+=(docker.io)
    find_busybox >/dev/null || packages+=(busybox-static)
    if [ ${#packages[@]} -gt 0 ]; then
        need_root "installing ${packages[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # apt's chatter goes to a log so the script prints one line; it is shown if apt fails.
        local apt_log=/tmp/warroom-dockerd-apt.log
        if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${packages[@]}"; } \
            >"$apt_log" 2>&1; then
            cat "$apt_log" >&2
            exit 1
        fi
        did+=("installed ${packages[*]}")
    fi
}

engine_up() {
    docker -H "$HOST" info >/dev/null 2>&1
}

dockerd_alive() {
    [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

start_engine() {
    if engine_up; then
        return 0
    fi
    if ! dockerd_alive; then
        need_root "starting dockerd"
        rm -f "$PIDFILE"  # left by a dead engine, it would make dockerd refuse to start
        mkdir -p "$DATA_ROOT"
        nohup dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
            -H "$HOST" --data-root "$DATA_ROOT" --pidfile "$PIDFILE" >"$LOG" 2>&1 &
        did+=("started dockerd on $HOST")
    fi
    # Also reached when an engine started by an earlier call is still coming up: wait, don't start twice.
    for _ in $(seq 1 120); do
        if engine_up; then
            return 0
        fi
        sleep 0.5
    done
    echo "start-dockerd.sh: dockerd did not answer on $HOST within 60 s; see $LOG" >&2
    tail -n 20 "$LOG" >&2 || true
    exit 1
}

ROOTFS=""
cleanup() {
    if [ -n "$ROOTFS" ]; then rm -rf "$ROOTFS"; fi
}
trap cleanup EXIT

build_image() {
    if docker -H "$HOST" image inspect "$IMAGE" >/dev/null 2>&1; then
        return 0
    fi
    local busybox
    busybox=$(find_busybox) || { echo "start-dockerd.sh: no static busybox found" >&2; exit 1; }
    ROOTFS=$(mktemp -d)
    mkdir -p "$ROOTFS/bin" "$ROOTFS/tmp" "$ROOTFS/proc" "$ROOTFS/sys" "$ROOTFS/dev" "$ROOTFS/etc"
    cp "$busybox" "$ROOTFS/bin/busybox"
    for applet in $APPLETS; do
        ln -s busybox "$ROOTFS/bin/$applet"
    done
    tar -C "$ROOTFS" -cf - . | docker -H "$HOST" import \
        --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' - "$IMAGE" >/dev/null
    did+=("built $IMAGE")
}

install_packages
start_engine
build_image

elapsed=$(( $(date +%s) - started ))
if [ ${#did[@]} -eq 0 ]; then
    echo "start-dockerd.sh: dockerd already answering on $HOST with $IMAGE (${elapsed}s)"
else
    summary=$(IFS=';'; echo "${did[*]}")
    echo "start-dockerd.sh: ${summary//;/, } (${elapsed}s)"
fi
