#!/usr/bin/env bash
# Checks how tests/hosts/testhosts.sh picks the Debian mirror for debootstrap, against apt
# source fixtures (APT_CONFIG points apt at them; this machine's own sources are not read).
# Run by `./test.sh hosts`; needs apt-get. Prints one line per case and exits 1 on a failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v apt-get >/dev/null || { echo "test_mirror: SKIP (no apt-get)"; exit 0; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# case NAME WANT [DEBIAN_MIRROR]: sources come from files written into $work/NAME/etc first.
check() {
    local name=$1 want=$2 override=${3:-} root="$work/$1" got err
    mkdir -p "$root/etc/sources.list.d" "$root/lists/partial"
    printf 'Dir::Etc "%s/etc";\nDir::State::Lists "%s/lists";\n' "$root" "$root" >"$root/apt.conf"
    got=$(APT_CONFIG="$root/apt.conf" DEBIAN_MIRROR=$override "$here/testhosts.sh" mirror 2>"$root/err")
    err=$(<"$root/err")
    # Falling back must say so: a silent deb.debian.org hides a misread site mirror.
    if [[ -z $override && $want == http://deb.debian.org/debian && $err != *"no Debian archive"* ]]; then
        printf 'FAIL %s: fell back without saying so (%s)\n' "$name" "$err"
        failed=1
    elif [[ $got == "$want" ]]; then
        printf 'ok   %s: %s\n' "$name" "$got"
    else
        printf 'FAIL %s: want %s, got %s (%s)\n' "$name" "$want" "$got" "$err"
        failed=1
    fi
}

sources() { mkdir -p "$work/$1/etc/sources.list.d"; cat >"$work/$1/etc/$2"; }

sources one-line sources.list <<'LIST'
# a comment, then the security archive first: debootstrap cannot build from it
deb http://security.debian.org/debian-security bookworm-security main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.site.example/debian/ bookworm main contrib
LIST
check one-line http://mirror.site.example/debian

sources deb822 sources.list.d/debian.sources <<'LIST'
Types: deb
URIs: http://disabled.site.example/debian
Suites: trixie
Components: main
Enabled: no

Types: deb deb-src
URIs: https://mirror.site.example/debian
Suites: trixie trixie-updates
Components: main non-free-firmware
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGfakekeyfakekey
 -----END PGP PUBLIC KEY BLOCK-----
LIST
check deb822 https://mirror.site.example/debian

sources third-party-first sources.list.d/a-nodesource.sources <<'LIST'
Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
LIST
sources third-party-first sources.list.d/b-debian.list <<'LIST'
deb http://ftp.site.example/debian bookworm-updates main
LIST
check third-party-first http://ftp.site.example/debian

sources ubuntu sources.list <<'LIST'
deb http://archive.ubuntu.com/ubuntu noble main universe
LIST
check ubuntu http://deb.debian.org/debian

sources none sources.list </dev/null
check none http://deb.debian.org/debian

sources override sources.list <<'LIST'
deb http://mirror.site.example/debian bookworm main
LIST
check override http://other.example/debian http://other.example/debian

exit "$failed"
