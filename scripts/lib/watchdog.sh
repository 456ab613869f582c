# shellcheck shell=bash
# scripts/serve's low-space mode: render_server renders nginx's server config with spooling (and
# the production cache) on or off, and the watchdog switches between the two while serve runs.
# Sourced by scripts/serve after space.sh; uses serve's globals: REPO, RUN_DIR, PROFILE,
# SPOOL_MAX_ON, MIN_FREE, WATCH_DIRS, WATCH_INTERVAL, SPACE_MODE, NGINX, NGINX_ARGS, NGINX_PID,
# and its log function.


# render_server normal|low: x2s3.conf and errors.conf; "low" = no spooling, no caching.
render_server() {
    if [[ $1 == low ]]; then
        SPOOL_MAX=0 CACHE_CONF=cache-off.conf
    else
        SPOOL_MAX=$SPOOL_MAX_ON CACHE_CONF=cache.conf
    fi
    export SPOOL_MAX CACHE_CONF
    render_template "$REPO/nginx/errors.conf.template" "$RUN_DIR/errors.conf" || return 1
    if [[ $PROFILE == production ]]; then
        render_template "$REPO/nginx/production.conf.template" "$RUN_DIR/x2s3.conf"
    else
        render_template "$REPO/nginx/x2s3.conf.template" "$RUN_DIR/x2s3.conf"
    fi
}

# The free-space watchdog: nginx 1.22 cuts or fails a response whose spool or cache write
# hits ENOSPC, so while a watched filesystem is below X2S3_MIN_FREE nginx runs without
# spooling and caching (re-rendered, checked, reloaded with SIGHUP: in-flight responses
# finish in the old workers), and with them again once it has 1.5x that.
watchdog() {
    local mode=$SPACE_MODE reason what=spooling
    [[ $PROFILE == production ]] && what="spooling and caching"
    trap 'exit 0' TERM
    while sleep "$WATCH_INTERVAL"; do
        if [[ $mode == normal ]] && reason=$(space_low "$MIN_FREE" 1 "${WATCH_DIRS[@]}"); then
            mode=low
        elif [[ $mode == low ]] && ! reason=$(space_low "$MIN_FREE" 1.5 "${WATCH_DIRS[@]}"); then
            mode=normal
        else
            continue
        fi
        if render_server "$mode" && "$NGINX" -t -q "${NGINX_ARGS[@]}" && kill -HUP "$NGINX_PID"; then
            if [[ $mode == low ]]; then
                log "watchdog: low on space ($reason): $what off, nginx reloaded"
            else
                log "watchdog: free space recovered ($reason): $what on (spool max $SPOOL_MAX_ON per response), nginx reloaded"
            fi
        else
            log "watchdog: could not switch nginx to $mode mode (see $RUN_DIR/error.log); retrying"
            [[ $mode == low ]] && mode=normal || mode=low
        fi
    done
}
