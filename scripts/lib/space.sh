# shellcheck shell=bash
# Free-space arithmetic for scripts/serve's watchdog (stat -f, no df parsing, no python).

# fs_size_bytes DIR / fs_free_bytes DIR: the filesystem's size, and the bytes an
# unprivileged writer may still use (f_bavail, what nginx's writes can get).
fs_size_bytes() { local b s; read -r b s < <(stat -f -c '%b %S' "$1") && echo $((b * s)); }
fs_free_bytes() { local a s; read -r a s < <(stat -f -c '%a %S' "$1") && echo $((a * s)); }

# min_free_bytes DIR SPEC: SPEC is "N%" (of DIR's filesystem) or a size (1g, 512m, 64k, bytes).
min_free_bytes() {
    local dir=$1 spec=$2 n
    case $spec in
        *%) n=${spec%\%}; [[ $n =~ ^[0-9]+$ ]] && ((n <= 100)) || return 1
            echo $(($(fs_size_bytes "$dir") * n / 100)) ;;
        *[kK]) n=${spec%?}; [[ $n =~ ^[0-9]+$ ]] || return 1; echo $((n * 1024)) ;;
        *[mM]) n=${spec%?}; [[ $n =~ ^[0-9]+$ ]] || return 1; echo $((n * 1024 * 1024)) ;;
        *[gG]) n=${spec%?}; [[ $n =~ ^[0-9]+$ ]] || return 1; echo $((n * 1024 * 1024 * 1024)) ;;
        *) [[ $spec =~ ^[0-9]+$ ]] || return 1; echo "$spec" ;;
    esac
}

# space_low SPEC FACTOR DIR...: succeeds (and prints why) when some DIR's filesystem has
# less free than FACTOR x SPEC; FACTOR is 1 or 1.5 (the hysteresis of switching back).
space_low() {
    local spec=$1 factor=$2 dir free need
    shift 2
    for dir; do
        free=$(fs_free_bytes "$dir") || continue
        need=$(min_free_bytes "$dir" "$spec") || continue
        [[ $factor == 1.5 ]] && need=$((need * 3 / 2))
        if ((free < need)); then
            echo "$dir: $((free >> 20)) MiB free < $((need >> 20)) MiB"
            return 0
        fi
    done
    # For the recovery message: the first directory's figures.
    echo "${1:-}: $(( $(fs_free_bytes "${1:-/}") >> 20 )) MiB free" 2>/dev/null
    return 1
}
