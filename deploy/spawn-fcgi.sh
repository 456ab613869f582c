#!/bin/sh
# x2s3 under spawn-fcgi (docs/contract.md#run-modes): spawn-fcgi binds the socket and starts x2s3 with
# it on fd 0. With --workers N, that one x2s3 is a supervisor: it forks N workers sharing fd 0,
# re-forks any that die, drains on SIGTERM and reloads on SIGHUP, so spawn-fcgi's own -F N (N
# unsupervised copies) is not needed.
#
#   X2S3_BIN=/usr/local/bin/x2s3 X2S3_CONFIG=/etc/x2s3/config.yaml \
#   X2S3_SOCKET=/run/x2s3/x2s3.sock X2S3_WORKERS=4 deploy/spawn-fcgi.sh
#
# The equivalent command line:
#   spawn-fcgi -s /run/x2s3/x2s3.sock -M 0660 -P /run/x2s3/x2s3.pid -- \
#       /usr/local/bin/x2s3 --config /etc/x2s3/config.yaml --workers 4
# spawn-fcgi forks, prints "child spawned successfully: PID: n" and exits; n (also in the -P
# file) is the supervisor: SIGTERM stops the pool, SIGHUP reloads it.
# -M 0660 (plus -U/-G as root): nginx's workers must be able to connect to the socket.
set -eu
: "${X2S3_BIN:=/usr/local/bin/x2s3}"
: "${X2S3_CONFIG:=/etc/x2s3/config.yaml}"
: "${X2S3_SOCKET:=/run/x2s3/x2s3.sock}"
: "${X2S3_WORKERS:=4}"
set -- -s "$X2S3_SOCKET" -M 0660
[ -n "${X2S3_PIDFILE:-}" ] && set -- "$@" -P "$X2S3_PIDFILE"
[ -n "${X2S3_SOCKET_USER:-}" ] && set -- "$@" -U "$X2S3_SOCKET_USER"
[ -n "${X2S3_SOCKET_GROUP:-}" ] && set -- "$@" -G "$X2S3_SOCKET_GROUP"
exec spawn-fcgi "$@" -- "$X2S3_BIN" --config "$X2S3_CONFIG" --workers "$X2S3_WORKERS"
