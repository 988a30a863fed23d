#!/usr/bin/env bash
# Test-host harness: everything molecule needs before it can create a test host.
#
#   tests/hosts/testhosts.sh up       engine + images + network (idempotent)
#   tests/hosts/testhosts.sh env      print the settings molecule reads (after `up`)
#   tests/hosts/testhosts.sh mirror   print the Debian mirror debootstrap would use, and why
#   tests/hosts/testhosts.sh start NAME IMAGE   start one test host and wait for systemd
#   tests/hosts/testhosts.sh start --ssh NAME IMAGE
#                                     the same, then sshd with the harness's key (below);
#                                     prints the host's address on the test network
#   tests/hosts/testhosts.sh ssh-fleet N PREFIX IMAGE [INVENTORY]
#                                     start N SSH test hosts PREFIX-1..PREFIX-N (a few at a
#                                     time) and write their SSH inventory (YAML; default
#                                     $state_dir/ssh/PREFIX.yml), the path on stdout
#   tests/hosts/testhosts.sh ssh-fleet-stop PREFIX   remove the hosts ssh-fleet started
#   tests/hosts/testhosts.sh stop NAME...       remove test hosts and their Docker volumes
#   tests/hosts/testhosts.sh clean    remove test-host containers, network, images and the
#                                     stand-in cache volume
#
# - Installs Debian's docker.io and debootstrap when missing (needs root and apt).
# - Uses the Docker engine that answers; starts one only if none does, and never restarts
#   or reconfigures a running one.
# - Builds systemd test-host images (Debian 12 and 13) with debootstrap, cached under a
#   label that hashes their recipe: they are rebuilt only when the recipe changes.
# - Builds the SIMULATED Ubuntu 22.04/24.04 hosts (ubuntu2204, ubuntu2404) as a small docker
#   build layer over those images (seconds), cached the same way (recipe: tests/hosts/ubuntu,
#   the transcribed Ubuntu apt sources fixtures, and the base image's id).
# - Decides how test hosts get their powers. TESTHOST_MODE=privileged is the norm on an
#   ordinary Docker host; TESTHOST_MODE=caps is for sandboxes where --privileged fails
#   (every capability but SYS_RESOURCE, unconfined seccomp/AppArmor/systempaths).
#   TESTHOST_MODE=auto (default) tries privileged and falls back to caps.
# - debootstrap fetches from the Debian archive this machine's apt already uses (a site
#   mirror included), found by `tests/hosts/testhosts.sh mirror`; DEBIAN_MIRROR=URL
#   overrides it, and deb.debian.org is the fallback when apt names no Debian archive.
#
# State: images (gpuhost-testhost:*, labelled with their recipe hash), the network, $state_dir
# (env, build logs, dockerd.log), and Docker volumes: NAME-docker, each test host's inner
# /var/lib/docker (removed by `stop`), and gpuhost-standin-cache (TESTHOST_STANDIN_CACHE),
# shared by every test host at /var/cache/gpuhost-standin: the Docker CE stand-in repository
# built once per kind of host and unpacked by the others
# (molecule/shared/standins/docker/files/build-standins.sh says what its key covers). `stop`
# keeps it; `clean` or `docker volume rm gpuhost-standin-cache` clears it.
#
# SSH test hosts (fleet benchmarks, molecule platforms with `ssh: true`): the images carry
# openssh-server, disabled (docker-exec hosts run no sshd). `start --ssh` makes the host's own
# host keys, authorises the harness's key ($state_dir/ssh/id_ed25519, generated once, never
# committed: .cache/ is ignored), starts sshd and records the host's ed25519 key in
# $state_dir/ssh/known_hosts under its IP address. Ansible checks host keys against that
# file only (the inventory's ansible_ssh_common_args: UserKnownHostsFile=that file,
# StrictHostKeyChecking=yes); nothing is disabled globally. The key is read through
# `docker exec`, a channel the controller already trusts. The controller reaches the hosts
# at their address on the test network (a bridge of the local engine): `start --ssh` fails
# naming the address when it cannot (an engine on another machine, DOCKER_HOST).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
state_dir=${TESTHOST_STATE_DIR:-$root/.cache/testhosts}
image_repo=${TESTHOST_IMAGE_REPO:-gpuhost-testhost}
network=${TESTHOST_NETWORK:-gpuhost-test}
standin_cache=${TESTHOST_STANDIN_CACHE:-gpuhost-standin-cache}
read -r -a suites <<<"${TESTHOST_SUITES:-bookworm:debian12 trixie:debian13}"
# SIMULATED Ubuntu hosts: NAME:BASE:RELEASE, a docker build layer over a Debian image above
# (tests/hosts/ubuntu/README.md). 22.04 sits on Debian 12; 24.04 on Debian 13, whose apt
# (3.0), Python (3.13) and systemd (257) are closer to 24.04's (2.7, 3.12, 255) than
# Debian 12's (2.6, 3.11, 252).
read -r -a ubuntu_hosts <<<"${TESTHOST_UBUNTU:-ubuntu2204:debian12:jammy ubuntu2404:debian13:noble}"
fallback_mirror=http://deb.debian.org/debian
ssh_dir=$state_dir/ssh
ssh_key=$ssh_dir/id_ed25519
ssh_known_hosts=$ssh_dir/known_hosts
# How many hosts ssh-fleet boots at once (systemd boots are CPU-bound on small machines).
start_jobs=${TESTHOST_START_JOBS:-4}

say() { printf 'testhosts: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

need_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    # Debian 13 split the CLI out of docker.io (only a Recommends there).
    if ! command -v docker >/dev/null && apt-cache show docker-cli >/dev/null 2>&1; then
        missing+=(docker-cli)
    fi
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    # The controller's ssh client (ansible's ssh connection, SSH test hosts).
    { command -v ssh && command -v ssh-keygen; } >/dev/null || missing+=(openssh-client)
    [[ -x /bin/busybox ]] || missing+=(busybox-static)
    ((${#missing[@]} == 0)) && return 0
    [[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}; run: sudo apt-get install ${missing[*]}"
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The Debian archive in this machine's apt sources, both formats (sources.list lines and
# deb822 .sources): apt itself lists what it would fetch, so options, Enabled: no and
# comments are apt's business, not ours. Only a Debian suite counts (an Ubuntu or
# third-party repository is not a Debian archive), and not the security archive, which
# debootstrap cannot build from. Prints nothing when there is none.
apt_debian_mirror() {
    command -v apt-get >/dev/null || return 0
    # shellcheck disable=SC2016 # $(REPO_URI) and friends are apt's format fields, not shell.
    apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 2>/dev/null \
        | awk '
            BEGIN {
                n = split("buster bullseye bookworm trixie forky duke sid " \
                          "oldoldstable oldstable stable testing unstable", names, " ")
                for (i = 1; i <= n; i++) debian[names[i]] = 1
            }
            $1 ~ /^https?:\/\// && $3 == "main" {
                suite = $2
                sub(/-(updates|backports|proposed-updates)$/, "", suite)
                if (suite in debian) { sub(/\/+$/, "", $1); print $1; exit }
            }'
}

# The mirror is a build input but not part of the recipe hash: any Debian mirror gives the
# same image, and a rebuild costs about 80 s per image.
debian_mirror() {
    if [[ -n ${DEBIAN_MIRROR:-} ]]; then
        say "Debian mirror $DEBIAN_MIRROR (from DEBIAN_MIRROR)"
        printf '%s\n' "$DEBIAN_MIRROR"
        return 0
    fi
    local found
    found=$(apt_debian_mirror)
    if [[ -n $found ]]; then
        say "Debian mirror $found (from this machine's apt sources; override with DEBIAN_MIRROR)"
        printf '%s\n' "$found"
    else
        say "no Debian archive in this machine's apt sources: using $fallback_mirror (set DEBIAN_MIRROR to use another)"
        printf '%s\n' "$fallback_mirror"
    fi
}

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

ensure_engine() {
    if engine_answers; then
        say "using the Docker engine that is running"
        return 0
    fi
    mkdir -p "$state_dir"
    if [[ -d /run/systemd/system ]] && systemctl cat docker.service >/dev/null 2>&1; then
        say "starting docker.service"
        systemctl start docker.service
    else
        # No systemd as PID 1 (CI sandboxes, containers): run dockerd for the tests only.
        say "starting dockerd in the background (log: $state_dir/dockerd.log)"
        nohup dockerd >"$state_dir/dockerd.log" 2>&1 &
        echo $! >"$state_dir/dockerd.pid"
    fi
    for _ in $(seq 1 60); do
        engine_answers && return 0
        sleep 1
    done
    tail -n 20 "$state_dir/dockerd.log" >&2 2>/dev/null || true
    die "the Docker engine did not answer within 60 s"
}

recipe_hash() {
    # Anything that shapes the image belongs in the hash.
    cat "$here/recipe.sh" "$here/packages.txt" | sha256sum | cut -c1-16
}

image_is_current() {
    local tag=$1 want=$2 have
    have=$(docker image inspect -f '{{ index .Config.Labels "org.gpuhost.recipe" }}' "$tag" 2>/dev/null) || return 1
    [[ $have == "$want" ]]
}

build_image() {
    local suite=$1 name=$2 hash=$3 mirror=$4 tag="$image_repo:$2" dir
    dir=$(mktemp -d "/var/tmp/testhost-$name.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$dir'" RETURN
    say "building $tag from Debian $suite (debootstrap, about 90 s)"
    local started=$SECONDS
    debootstrap --variant=minbase --include="$(paste -sd, "$here/packages.txt")" \
        "$suite" "$dir" "$mirror" >"$state_dir/debootstrap-$name.log" 2>&1 \
        || { tail -n 20 "$state_dir/debootstrap-$name.log" >&2; die "debootstrap $suite failed"; }
    install -m 0755 "$here/recipe.sh" "$dir/tmp/recipe.sh"
    chroot "$dir" /tmp/recipe.sh "$mirror" "$suite"
    rm -f "$dir/tmp/recipe.sh"
    tar -C "$dir" -c . | docker import \
        -c 'CMD ["/lib/systemd/systemd"]' \
        -c "LABEL org.gpuhost.recipe=$hash" -c "LABEL org.gpuhost.suite=$suite" \
        - "$tag" >/dev/null
    say "built $tag in $((SECONDS - started)) s"
}

ensure_images() {
    local hash entry suite name mirror=""
    hash=$(recipe_hash)
    mkdir -p "$state_dir"
    for entry in "${suites[@]}"; do
        suite=${entry%%:*} name=${entry##*:}
        if image_is_current "$image_repo:$name" "$hash"; then
            say "image $image_repo:$name is current (recipe $hash)"
        else
            # Looked up only when something is built, once per run.
            [[ -n $mirror ]] || mirror=$(debian_mirror)
            build_image "$suite" "$name" "$hash" "$mirror"
        fi
    done
}

# Ubuntu's identity over a Debian image: the layer's inputs and its base image make the hash.
ubuntu_recipe_hash() {
    local base=$1
    {
        docker image inspect -f '{{.Id}}' "$base"
        (cd "$here/ubuntu" && find . -type f | LC_ALL=C sort | xargs sha256sum)
        sha256sum "$root/tests/fixtures/apt_sources/ubuntu2204_sources.list.txt" \
            "$root/tests/fixtures/apt_sources/ubuntu2404_ubuntu.sources.txt" | cut -d' ' -f1
    } | sha256sum | cut -c1-16
}

build_ubuntu_image() {
    local name=$1 base=$2 release=$3 hash=$4 tag="$image_repo:$1" ctx started=$SECONDS
    ctx=$(mktemp -d "/var/tmp/testhost-$name.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$ctx'" RETURN
    cp -a "$here/ubuntu/." "$ctx/"
    mkdir -p "$ctx/apt_sources"
    cp "$root/tests/fixtures/apt_sources/ubuntu2204_sources.list.txt" \
        "$root/tests/fixtures/apt_sources/ubuntu2404_ubuntu.sources.txt" "$ctx/apt_sources/"
    say "building $tag (SIMULATED Ubuntu $release over $base, a few seconds)"
    # The classic builder: FROM a local image, no registry, no BuildKit needed.
    DOCKER_BUILDKIT=0 docker build --quiet --build-arg "BASE=$base" --build-arg "RELEASE=$release" \
        --label "org.gpuhost.recipe=$hash" --label org.gpuhost.simulated=ubuntu \
        --label "org.gpuhost.suite=$release" --tag "$tag" "$ctx" >"$state_dir/build-$name.log" 2>&1 \
        || { tail -n 20 "$state_dir/build-$name.log" >&2; die "building $tag failed"; }
    say "built $tag in $((SECONDS - started)) s"
}

ensure_ubuntu_images() {
    local entry name base release hash
    for entry in "${ubuntu_hosts[@]}"; do
        IFS=: read -r name base release <<<"$entry"
        if ! docker image inspect "$image_repo:$base" >/dev/null 2>&1; then
            say "no $image_repo:$base image (TESTHOST_SUITES?): $image_repo:$name not built"
            continue
        fi
        hash=$(ubuntu_recipe_hash "$image_repo:$base")
        if image_is_current "$image_repo:$name" "$hash"; then
            say "image $image_repo:$name is current (recipe $hash)"
        else
            build_ubuntu_image "$name" "$image_repo:$base" "$release" "$hash"
        fi
    done
}

ensure_network() {
    docker network inspect "$network" >/dev/null 2>&1 && return 0
    say "creating network $network"
    docker network create --label org.gpuhost.testhosts=1 "$network" >/dev/null
}

detect_mode() {
    local mode=${TESTHOST_MODE:-auto} probe="$image_repo:${suites[0]##*:}"
    case $mode in
        privileged | caps) ;;
        auto)
            if docker run --rm --privileged --entrypoint /bin/true "$probe" >/dev/null 2>&1; then
                mode=privileged
            else
                mode=caps
            fi
            ;;
        *) die "TESTHOST_MODE=$mode: use privileged, caps or auto" ;;
    esac
    printf 'TESTHOST_MODE=%s\nTESTHOST_PRIVILEGED=%s\nTESTHOST_IMAGE_REPO=%s\nTESTHOST_NETWORK=%s\n' \
        "$mode" "$([[ $mode == privileged ]] && echo true || echo false)" "$image_repo" "$network" \
        >"$state_dir/env"
    # Where SSH test hosts' keys are recorded (molecule's ssh options read it).
    printf 'TESTHOST_SSH_KEY=%s\nTESTHOST_SSH_KNOWN_HOSTS=%s\n' "$ssh_key" "$ssh_known_hosts" >>"$state_dir/env"
    say "test hosts run in '$mode' mode (override with TESTHOST_MODE=privileged|caps)"
}

cmd_up() {
    need_packages
    ensure_engine
    ensure_images
    ensure_ubuntu_images
    ensure_network
    ensure_inotify
    detect_mode
}

# The one place that knows how a test host is started: molecule's create playbook and the
# benchmarks both call it.
cmd_start() {
    local name=$1 image=$2 privileged=${TESTHOST_PRIVILEGED:-} powers
    if [[ -z $privileged ]]; then
        [[ -r $state_dir/env ]] || die "no $state_dir/env: run '$0 up' first, or set TESTHOST_PRIVILEGED"
        privileged=$(sed -n 's/^TESTHOST_PRIVILEGED=//p' "$state_dir/env")
    fi
    # Sandboxes that refuse --privileged (runc: "unable to apply caps") accept every
    # capability except SYS_RESOURCE.
    if [[ ${privileged:-true} == true ]]; then
        powers=(--privileged)
    else
        powers=(--cap-add=ALL --cap-drop=SYS_RESOURCE)
    fi
    # A host of this name left by an interrupted run (its scenario never reached destroy) is
    # replaced, volume and all: every scenario starts from a fresh host, so molecule's test
    # sequences need no destroy step before create.
    cmd_stop "$name"
    # systemd stops cleanly on SIGRTMIN+3; systempaths=unconfined keeps /proc/sys writable for
    # the inner engine (only the CLI maps it, not the API); the inner /var/lib/docker needs a
    # real volume (overlay on overlay fails). The stand-in cache volume is shared by all.
    docker run --detach --name="$name" --hostname="$name" --label=org.gpuhost.testhost=1 \
        --network="$network" --stop-signal=SIGRTMIN+3 --env=container=docker \
        --security-opt=seccomp=unconfined --security-opt=apparmor=unconfined \
        --security-opt=systempaths=unconfined --device-cgroup-rule='a *:* rwm' --cgroupns=host \
        --volume=/sys/fs/cgroup:/sys/fs/cgroup:rw --volume="$name-docker:/var/lib/docker" \
        --volume="$standin_cache:/var/cache/gpuhost-standin" \
        --tmpfs=/run --tmpfs=/run/lock --tmpfs=/tmp "${powers[@]}" \
        "$image" /lib/systemd/systemd >/dev/null
    local state="" _
    for _ in $(seq 1 180); do
        # Right after `docker run` systemd's bus may not answer yet: ask again.
        [[ $(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null) == true ]] \
            || die "test host $name stopped while booting (exit status" \
                "$(docker inspect -f '{{.State.ExitCode}}' "$name" 2>&1); 255 with no log: out of" \
                "inotify instances?): $(docker logs --tail 5 "$name" 2>&1)"
        state=$(docker exec "$name" systemctl is-system-running --wait 2>/dev/null) || true
        case $state in
            running | degraded) return 0 ;;
            # "offline": asked before PID 1's manager answers (seen when 16 hosts boot at once
            # on 2 cores); --wait does not wait for that one.
            "" | offline) sleep 1 ;;
            *) break ;;
        esac
    done
    die "test host $name did not boot (systemd: ${state:-no answer})"
}

# ---- SSH test hosts --------------------------------------------------------------------

# The harness's key pair, made once (under a lock: ssh-fleet starts hosts in parallel).
ensure_ssh_key() {
    command -v ssh >/dev/null && command -v ssh-keygen >/dev/null \
        || die "no ssh client on this machine: run '$0 up' (installs openssh-client) or apt-get install openssh-client"
    mkdir -p "$ssh_dir"
    chmod 0700 "$ssh_dir"
    (
        flock 9
        [[ -s $ssh_key ]] || ssh-keygen -q -t ed25519 -N '' -C "gpuhost test hosts" -f "$ssh_key"
        touch "$ssh_known_hosts"
    ) 9>"$ssh_dir/.lock"
}

host_address() {
    docker inspect -f "{{ (index .NetworkSettings.Networks \"$network\").IPAddress }}" "$1"
}

# The ssh options every SSH test host is reached with: this harness's key and known_hosts.
ssh_options() {
    printf '%s\n' -o IdentitiesOnly=yes -o "UserKnownHostsFile=$ssh_known_hosts" \
        -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5
}

# sshd on a booted test host: its own host keys, root's authorized_keys, the service started
# (not enabled: the image keeps it off). Records the host key and checks a login from here.
enable_ssh() {
    local name=$1 address hostkey _
    ensure_ssh_key
    address=$(host_address "$name")
    [[ -n $address ]] || die "test host $name has no address on network $network"
    docker exec -i "$name" sh -c 'set -e
        ssh-keygen -A >/dev/null
        install -d -m 0700 /root/.ssh
        cat >/root/.ssh/authorized_keys
        chmod 0600 /root/.ssh/authorized_keys
        systemctl start ssh.service' <"$ssh_key.pub" \
        || die "could not start sshd on $name (an image without openssh-server? run '$0 up')"
    hostkey=$(docker exec "$name" cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f1,2)
    [[ -n $hostkey ]] || die "no ed25519 host key on $name"
    # One line per address: a new container may reuse an old one's address.
    (
        flock 9
        ssh-keygen -R "$address" -f "$ssh_known_hosts" >/dev/null 2>&1 || true
        rm -f "$ssh_known_hosts.old"
        printf '%s %s\n' "$address" "$hostkey" >>"$ssh_known_hosts"
    ) 9>"$ssh_dir/.lock"
    local options
    mapfile -t options < <(ssh_options)
    for _ in $(seq 1 30); do
        if ssh "${options[@]}" -i "$ssh_key" -l root "$address" true 2>"$ssh_dir/.$name.err"; then
            rm -f "$ssh_dir/.$name.err"
            printf '%s\n' "$address"
            return 0
        fi
        sleep 1
    done
    die "this machine cannot log in to $name at $address over ssh within 30 s" \
        "($(tail -n 1 "$ssh_dir/.$name.err")); the controller must reach network $network's" \
        "addresses (a bridge of a local engine, not one behind DOCKER_HOST on another machine)"
}

# YAML inventory of SSH hosts: group PREFIX, ansible_host = the address on the test network.
write_ssh_inventory() {
    local path=$1 prefix=$2 n=$3 i
    {
        printf '# Written by tests/hosts/testhosts.sh ssh-fleet; removed by ssh-fleet-stop.\n'
        printf 'all:\n  children:\n    %s:\n      hosts:\n' "$prefix"
        for ((i = 1; i <= n; i++)); do
            printf '        %s-%d:\n          ansible_host: %s\n' "$prefix" "$i" \
                "$(host_address "$prefix-$i")"
        done
        printf '  vars:\n'
        printf '    ansible_connection: ssh\n    ansible_user: root\n'
        printf '    ansible_ssh_private_key_file: %s\n' "$ssh_key"
        printf '    ansible_ssh_common_args: -o IdentitiesOnly=yes -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes\n' \
            "$ssh_known_hosts"
        printf '    ansible_python_interpreter: /usr/bin/python3\n'
    } >"$path.tmp"
    mv "$path.tmp" "$path"
}

# Every systemd test host holds about 7 inotify instances, all under root's limit
# (fs.inotify.max_user_instances, 128 on many kernels: about 16 hosts). Raised here when
# root and lower than wanted; a host that cannot get one exits at boot with status 255.
ensure_inotify() {
    local want=${TESTHOST_INOTIFY_INSTANCES:-1024} have
    have=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null) || return 0
    ((have >= want)) && return 0
    if [[ $(id -u) -eq 0 ]] && sysctl -qw "fs.inotify.max_user_instances=$want" 2>/dev/null; then
        say "raised fs.inotify.max_user_instances from $have to $want (systemd test hosts)"
    else
        say "warning: fs.inotify.max_user_instances is $have: about $((have / 8)) test hosts fit; raise it with sysctl"
    fi
}

cmd_ssh_fleet() {
    local n=$1 prefix=$2 image=$3 inventory=${4:-} started=$SECONDS
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "ssh-fleet: N must be a positive number, not '$n'"
    [[ $prefix =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "ssh-fleet: PREFIX must be lower-case letters, digits and -"
    ensure_ssh_key
    ensure_inotify
    [[ -n $inventory ]] || inventory=$ssh_dir/$prefix.yml
    say "starting $n SSH test hosts $prefix-1..$prefix-$n from $image, $start_jobs at a time"
    # Each start in its own harness process; a failure fails the whole fleet.
    seq 1 "$n" | xargs -P "$start_jobs" -I{} "$here/testhosts.sh" start --ssh "$prefix-{}" "$image" >/dev/null \
        || die "ssh-fleet: a host did not start (the others are left for ssh-fleet-stop $prefix)"
    write_ssh_inventory "$inventory" "$prefix" "$n"
    say "$n SSH test hosts up in $((SECONDS - started)) s; inventory $inventory"
    printf '%s\n' "$inventory"
}

cmd_ssh_fleet_stop() {
    local prefix=$1 names
    mapfile -t names < <(docker ps -a --format '{{.Names}}' --filter label=org.gpuhost.testhost=1 \
        | grep -E "^$prefix-[0-9]+\$" || true)
    ((${#names[@]} == 0)) || cmd_stop "${names[@]}"
    rm -f "$ssh_dir/$prefix.yml"
}

# The host's own volume only: the shared stand-in cache stays for the next host.
cmd_stop() {
    local name
    for name in "$@"; do
        docker rm --force --volumes "$name" >/dev/null 2>&1 || true
        docker volume rm --force "$name-docker" >/dev/null 2>&1 || true
    done
}

cmd_clean() {
    engine_answers || return 0
    docker ps -aq --filter label=org.gpuhost.testhost=1 | xargs -r docker rm -f >/dev/null
    docker network rm "$network" >/dev/null 2>&1 || true
    docker images -q "$image_repo" | xargs -r docker rmi -f >/dev/null
    docker volume rm --force "$standin_cache" >/dev/null 2>&1 || true
    rm -f "$state_dir/env"
}

case ${1:-up} in
    up) cmd_up ;;
    env) cat "$state_dir/env" 2>/dev/null || die "run '$0 up' first" ;;
    mirror) debian_mirror ;;
    start)
        if [[ ${2:-} == --ssh ]]; then
            (($# == 4)) || die "usage: $0 start --ssh NAME IMAGE"
            cmd_start "$3" "$4"
            enable_ssh "$3"
        else
            (($# == 3)) || die "usage: $0 start [--ssh] NAME IMAGE"
            cmd_start "$2" "$3"
        fi
        ;;
    ssh-fleet)
        (($# == 4 || $# == 5)) || die "usage: $0 ssh-fleet N PREFIX IMAGE [INVENTORY]"
        cmd_ssh_fleet "$2" "$3" "$4" "${5:-}"
        ;;
    ssh-fleet-stop) (($# == 2)) || die "usage: $0 ssh-fleet-stop PREFIX"; cmd_ssh_fleet_stop "$2" ;;
    ssh-options) ensure_ssh_key; ssh_options; printf '%s\n' -i "$ssh_key" -l root ;;
    stop) (($# >= 2)) || die "usage: $0 stop NAME..."; shift; cmd_stop "$@" ;;
    clean) cmd_clean ;;
    *) die "unknown command '$1' (up | env | mirror | start | ssh-fleet | ssh-fleet-stop | ssh-options | stop | clean)" ;;
esac
