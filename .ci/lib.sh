# .ci/lib.sh — sourced by .ci/docker-setup.sh and the steps it runs (docker-engine.sh,
# base-image.sh): the docker client, who and where we are, progress on stderr, a loud failure.
# shellcheck shell=bash

# Prefer the Debian client that matches the Debian engine (docker-setup.sh's header says why);
# on other machines, the docker on PATH.
if [ -z "${DOCKER:-}" ]; then
  if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=$(command -v docker || echo docker); fi
fi
export DOCKER
is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }
docker_up() { "$DOCKER" info >/dev/null 2>&1; }

# Progress goes to stderr: stdout carries only docker-setup.sh's answer, the base image's name.
log()  { printf '[docker-setup %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
now()  { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Loud failure banner on stderr, then exit non-zero.
die() {
  {
    echo
    echo '################################################################################'
    echo '##  DOCKER SETUP FAILED'
    while [ $# -gt 0 ]; do echo "##  $1"; shift; done
    echo '################################################################################'
    echo
  } >&2
  exit 1
}
