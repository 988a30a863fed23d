#!/usr/bin/env bash
# gpuhost stand-in for NVIDIA's enroot @VERSION@ (/usr/bin/enroot), for this project's tests
# only. Not NVIDIA's software: a small script that keeps the behaviour the gpuhost enroot role
# and gpu_verify depend on (molecule/shared/standins/enroot/README.md):
#   - configuration: /etc/enroot/enroot.conf, then enroot.conf.d/*.conf; only ENROOT_*,
#     SSL_CERT_DIR/FILE and the proxy variables; each value expanded with `eval echo` as the
#     calling user; a variable already set (environment, or an earlier file) wins; no/false
#     values unset the variable;
#   - paths: XDG_* defaults from HOME, XDG_RUNTIME_DIR falling back to /run, so a user without
#     a login session gets /run/enroot and fails to create it; the runtime, cache and data
#     folders are made with umask 077 on every command;
#   - commands: version, import dockerd://IMAGE (docker create/export, mksquashfs), create
#     (unsquashfs into the data folder), start (hooks, runtime files, then the command in a
#     user namespace: unshare -r + chroot), list, remove.
# docker:// and podman:// imports are not stood in for (no registry is reachable in tests).
set -euo pipefail

readonly VERSION="@VERSION@"
readonly SYSCONF=${ENROOT_STANDIN_SYSCONF:-/etc/enroot}

die() {
    printf '[ERROR] %s\n' "$*" >&2
    exit 1
}

load_config() {
    local file=$1 key value
    [ -e "$file" ] || return 0
    if [ -s "$file" ] && ! bash -n "$file" >/dev/null 2>&1; then
        printf 'Invalid configuration file: %s\n' "$file"
        exit 1
    fi
    while IFS=$' \t=' read -r key value; do
        case "$key" in
        ENROOT_* | SSL_CERT_DIR | SSL_CERT_FILE | all_proxy | no_proxy | http_proxy | https_proxy) ;;
        *) continue ;;
        esac
        [[ "$key" =~ ^ENROOT_[[:upper:]_]+$ || ! "$key" =~ ^ENROOT_ ]] || continue
        if [ -z "${!key:-}" ]; then
            export "$key=$(eval echo "$value")"
        fi
    done <"$file"
}

default() { export "$1=${!1:-$2}"; }

load_config "$SYSCONF/enroot.conf"
if [ -d "$SYSCONF/enroot.conf.d" ]; then
    for dropin in "$SYSCONF/enroot.conf.d"/*.conf; do
        [ -e "$dropin" ] && load_config "$dropin"
    done
fi

home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
default XDG_DATA_HOME "$home/.local/share"
default XDG_CONFIG_HOME "$home/.config"
default XDG_CACHE_HOME "$home/.cache"
default XDG_RUNTIME_DIR /run
default ENROOT_LIBRARY_PATH /usr/lib/enroot
default ENROOT_SYSCONF_PATH "$SYSCONF"
default ENROOT_RUNTIME_PATH "$XDG_RUNTIME_DIR/enroot"
default ENROOT_CONFIG_PATH "$XDG_CONFIG_HOME/enroot"
default ENROOT_CACHE_PATH "$XDG_CACHE_HOME/enroot"
default ENROOT_DATA_PATH "$XDG_DATA_HOME/enroot"
default ENROOT_TEMP_PATH "${TMPDIR:-/tmp}"
default ENROOT_SQUASH_OPTIONS "-comp lzo -noD -exit-on-error"
default ENROOT_FORCE_OVERRIDE false

for var in $(compgen -e ENROOT_ || true); do
    if [[ "${!var}" =~ ^(no?|N[oO]?|[fF](alse)?|FALSE)$ ]]; then
        unset "$var"
    fi
done

(umask 077 && mkdir -p "$ENROOT_CACHE_PATH" "$ENROOT_DATA_PATH" "$ENROOT_RUNTIME_PATH")

usage() {
    printf 'Usage: %s COMMAND [ARG...]\n\nCommands: version, import, create, start, list, remove\n' \
        "${0##*/}" >&2
    exit 1
}

# dockerd://ubuntu:22.04 -> ubuntu+22.04
image_name() { local ref=${1#*://}; ref=${ref//\//+}; printf '%s' "${ref//:/+}"; }

cmd_import() {
    local output="" uri image id
    while [ $# -gt 0 ]; do
        case "$1" in
        -o | --output) output=$2; shift 2 ;;
        -a | --arch) shift 2 ;;
        --) shift; break ;;
        -*) die "Invalid option: $1" ;;
        *) break ;;
        esac
    done
    uri=${1:-}
    [ -n "$uri" ] || usage
    case "$uri" in
    dockerd://?*) image=${uri#dockerd://} ;;
    docker://* | podman://*) die "gpuhost stand-in: only dockerd:// imports are stood in for: $uri" ;;
    *) die "Invalid image reference: $uri" ;;
    esac
    output=${output:-$(image_name "$uri").sqsh}
    if [ -e "$output" ] && [ -z "${ENROOT_FORCE_OVERRIDE:-}" ]; then
        die "File already exists: $output"
    fi
    # Global: the EXIT trap runs after this function has returned.
    tmp=$(mktemp -d -p "$ENROOT_TEMP_PATH" enroot.XXXXXXXXXX)
    trap 'rm -rf "${tmp:-}"' EXIT
    printf '[INFO] Fetching image\n\n' >&2
    # Needs the docker CLI and access to the daemon (the docker group for a user); an image
    # without a command makes `docker create` fail with "No command specified".
    id=$(docker create "$image") || die "Could not create a container from $image"
    mkdir "$tmp/rootfs"
    if ! docker export "$id" | tar -C "$tmp/rootfs" --no-same-owner --exclude='./dev/*' -x 2>"$tmp/tar.err"; then
        docker rm "$id" >/dev/null 2>&1 || true
        die "Could not unpack $image: $(tail -n 1 "$tmp/tar.err")"
    fi
    docker inspect --format '{{json .Config.Cmd}} {{json .Config.Entrypoint}}' "$image" >"$tmp/rootfs/.gpuhost-standin-cmd" || true
    docker rm "$id" >/dev/null
    printf '[INFO] Creating squashfs filesystem...\n\n' >&2
    # shellcheck disable=SC2086 # options are words, as enroot passes them
    mksquashfs "$tmp/rootfs" "$output" -all-root -noappend $ENROOT_SQUASH_OPTIONS >/dev/null ||
        die "mksquashfs failed for $output"
}

cmd_create() {
    local name="" force="${ENROOT_FORCE_OVERRIDE:-}" image rootfs
    while [ $# -gt 0 ]; do
        case "$1" in
        -n | --name) name=$2; shift 2 ;;
        -f | --force) force=y; shift ;;
        --) shift; break ;;
        -*) die "Invalid option: $1" ;;
        *) break ;;
        esac
    done
    image=${1:-}
    [ -n "$image" ] || usage
    [ -f "$image" ] || die "No such file or directory: $image"
    name=${name:-$(basename "$image" .sqsh)}
    [[ "$name" != */* ]] || die "Invalid argument: $name"
    rootfs=$ENROOT_DATA_PATH/$name
    if [ -e "$rootfs" ]; then
        [ -n "$force" ] || die "File already exists: $rootfs"
        rm -rf "$rootfs"
    fi
    printf '[INFO] Extracting squashfs filesystem...\n\n' >&2
    unsquashfs -no-xattrs -d "$rootfs" "$image" >/dev/null || die "unsquashfs failed for $image"
}

cmd_start() {
    local rootfs name hook
    while [ $# -gt 0 ]; do
        case "$1" in
        -r | --root | -w | --rw | -m | --mount | -e | --env | -c | --conf)
            case "$1" in -m | --mount | -e | --env | -c | --conf) shift ;; esac
            shift ;;
        --) shift; break ;;
        -*) die "Invalid option: $1" ;;
        *) break ;;
        esac
    done
    name=${1:-}
    [ -n "$name" ] || usage
    shift
    rootfs=$ENROOT_DATA_PATH/$name
    [ -d "$rootfs" ] || die "No such file or directory: $rootfs"
    # The runtime folder holds the container's environment, fstab and rc files.
    : >"$ENROOT_RUNTIME_PATH/environment"
    : >"$ENROOT_RUNTIME_PATH/fstab"
    printf '%s\n' "$@" >"$ENROOT_RUNTIME_PATH/rc"
    for hook in "$ENROOT_SYSCONF_PATH"/hooks.d/*.sh; do
        [ -e "$hook" ] || continue
        ENROOT_PID=$$ ENROOT_ROOTFS=$rootfs ENROOT_ENVIRON=$ENROOT_RUNTIME_PATH/environment \
            ENROOT_MOUNTS=$ENROOT_RUNTIME_PATH/fstab bash "$hook" ||
            die "Hook script failed: $hook"
    done
    [ $# -gt 0 ] || set -- /bin/sh -c "${ENROOT_STANDIN_CMD:-exec /bin/sh}"
    if ! unshare --user --map-root-user --mount --fork true 2>/dev/null; then
        die "enroot-nsenter: failed to create user namespace: Permission denied"
    fi
    exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ \
        TERM="${TERM:-dumb}" unshare --user --map-root-user --mount --fork -- chroot "$rootfs" "$@"
}

cmd_list() {
    ls -1 "$ENROOT_DATA_PATH"
}

cmd_remove() {
    local force="${ENROOT_FORCE_OVERRIDE:-}" name answer
    while [ $# -gt 0 ]; do
        case "$1" in
        -f | --force) force=y; shift ;;
        --) shift; break ;;
        -*) die "Invalid option: $1" ;;
        *) break ;;
        esac
    done
    [ $# -gt 0 ] || usage
    for name in "$@"; do
        [[ "$name" != */* ]] || die "Invalid argument: $name"
        [ -e "$ENROOT_DATA_PATH/$name" ] || die "No such file or directory: $ENROOT_DATA_PATH/$name"
        if [ -z "$force" ]; then
            read -r -p "Do you really want to delete $name? [y/N] " answer
            [[ "$answer" =~ ^[yY] ]] || continue
        fi
        rm -rf "${ENROOT_DATA_PATH:?}/$name"
    done
}

command=${1:-}
[ -n "$command" ] || usage
shift
case "$command" in
version) printf '%s\n' "$VERSION" ;;
import) cmd_import "$@" ;;
create) cmd_create "$@" ;;
start) cmd_start "$@" ;;
list) cmd_list "$@" ;;
remove) cmd_remove "$@" ;;
batch | bundle | exec | export | load | digest) die "gpuhost stand-in: '$command' is not stood in for" ;;
-h | --help | help) usage ;;
*) die "Unknown command: $command" ;;
esac
