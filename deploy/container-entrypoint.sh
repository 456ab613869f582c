#!/bin/sh
# The container's PID 1 (deploy/Containerfile): starts what x2s3.socket + x2s3.service and
# nginx.service would, without systemd. The pool runs as x2s3 with its socket's group www-data
# (nginx's workers) and mode 0770 from the umask; SIGTERM (podman stop) drains the pool and
# stops nginx; either one dying ends the container, so the runtime's restart policy applies.
set -eu
mkdir -p /run/x2s3
chown x2s3:www-data /run/x2s3
chmod 0750 /run/x2s3
rm -f /run/x2s3/x2s3.sock
umask 0007
setpriv --reuid=x2s3 --regid=www-data --clear-groups \
    /usr/bin/x2s3 --config /etc/x2s3/config.yaml --socket unix:/run/x2s3/x2s3.sock &
pool=$!
umask 0022
i=0
while [ ! -S /run/x2s3/x2s3.sock ]; do
    kill -0 "$pool" 2>/dev/null || { echo "x2s3-container: x2s3 exited before opening its socket" >&2; exit 1; }
    i=$((i + 1))
    [ "$i" -lt 300 ] || { echo "x2s3-container: no socket after 30 s" >&2; exit 1; }
    sleep 0.1
done
nginx -g 'daemon off; error_log stderr warn;' &
web=$!
stopping=0
trap 'stopping=1; kill -TERM "$web" "$pool" 2>/dev/null || true' INT TERM
while kill -0 "$pool" 2>/dev/null && kill -0 "$web" 2>/dev/null; do
    sleep 1 &
    wait $! 2>/dev/null || true
done
kill -TERM "$web" "$pool" 2>/dev/null || true
status=0
wait "$pool" || status=$?
wait "$web" 2>/dev/null || true
if [ "$stopping" = 0 ]; then
    echo "x2s3-container: the pool or nginx exited on its own" >&2
    [ "$status" != 0 ] || status=1
fi
exit "$status"
