# shellcheck shell=bash
# Template rendering for nginx/*.template: replaces dollar-brace UPPERCASE names
# from the environment. nginx's own variables are lowercase ($uri, ${scheme}) and
# are left alone. No envsubst (gettext-base is not on every fresh box), no python.

# render_template SRC DST: fails if SRC mentions an uppercase ${NAME} that is unset.
render_template() {
    local src=$1 dst=$2 text name missing=()
    text=$(<"$src") || return 1
    # Names used by this template, each once.
    local names
    names=$(grep -o '\${[A-Z][A-Z0-9_]*}' "$src" | sort -u | tr -d '${}') || true
    for name in $names; do
        if [[ -z ${!name+set} ]]; then
            missing+=("$name")
            continue
        fi
        text=${text//"\${$name}"/${!name}}
    done
    if ((${#missing[@]})); then
        echo "render_template: $src needs unset variable(s): ${missing[*]}" >&2
        return 1
    fi
    printf '%s\n' "$text" >"$dst"
}
