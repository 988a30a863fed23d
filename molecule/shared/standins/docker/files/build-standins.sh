#!/bin/bash
# Builds a local stand-in for Docker's apt repository (download.docker.com/linux/debian, or
# linux/ubuntu on a SIMULATED Ubuntu test host) inside a test host, for this project's tests only.
#
# The packages are Debian's own docker.io, docker-cli (Debian 13), containerd, runc, tini and
# rootlesskit, repacked under Docker's package names and version scheme
# (5:<ver>-1~<distro>.<version>~<suite>, e.g. 5:27.5.1-1~debian.12~bookworm or
# 5:27.5.1-1~ubuntu.24.04~noble). Every docker-ce version carries the same Debian binaries:
# `docker version` reports Debian's engine version; only the PACKAGE versions differ.
#
# Layout: linux/<distro>/dists/<suite>/{InRelease,Release,Release.gpg,<channel>/binary-<arch>/},
# packages under linux/<distro>/dists/<suite>/pool/<channel>/<arch>/ (as on download.docker.com),
# key at linux/<distro>/gpg. <distro> is ubuntu when os-release says ID=ubuntu (or ID_LIKE names
# ubuntu), else debian. Suites: STANDIN_SUITES, else the host's own codename on Debian and
# both jammy and noble on Ubuntu (each suite has its own package versions, so a client that
# asked for the wrong suite installs packages that say so).
# The CLI plugins are small shell scripts that answer the docker CLI's plugin protocol.
#
# Prints "STANDIN: built" when it (re)built or restored the repository and "STANDIN: up to
# date" when a stamp shows the repository was already built from the same inputs.
#
# Shared cache: test hosts started by tests/hosts/testhosts.sh mount one Docker volume,
# gpuhost-standin-cache, at /var/cache/gpuhost-standin (STANDIN_CACHE_DIR). After a build the
# script stores linux/ and the signing key's GNUPGHOME there as docker-<key>.tar; a host that
# must build unpacks that tar instead (about 2 s instead of about 17). The key is the sha256
# of inputs_digest (this script, the versions asked for, distro, suites, codename,
# VERSION_ID, architecture) and of what apt would download now: package, Version and SHA256
# of the candidate docker.io, containerd, runc, tini, rootlesskit and docker-cli. So only the
# same kind of host (same image, so the same dpkg-deb, apt-ftparchive and gpg) with the same
# apt candidates shares a tar, and a Debian point release or any edit of this script makes a
# new key. That is safe because the build reads nothing else: a restored tree is the tree the
# first host of that kind built, and a local build would differ from it only in timestamps
# (inside the .debs, so in their bytes and the index checksums) and in the throwaway signing
# key and signatures; control fields, file lists, modes and file contents are the same. The
# signing key travels with the tree, so the served gpg file, the signatures and a later
# rebuild on this host (which keeps the key, as before) agree. Only a host without a signing
# key of its own yet takes a tar; one that has (it built before) builds as before, keeping
# its key. Without the directory (a host started by an older harness) the script builds as
# before. A tar is written to a temporary name in the same folder and renamed, so a reader
# never sees half of one; tars unused for 14 days are removed. Clear the cache:
# docker volume rm gpuhost-standin-cache (or tests/hosts/testhosts.sh clean).
set -euo pipefail

serve_dir=${STANDIN_SERVE_DIR:-/srv/standin}
work_dir=${STANDIN_WORK_DIR:-/var/lib/gpuhost-standin}
cache_dir=${STANDIN_CACHE_DIR:-/var/cache/gpuhost-standin}
stable_versions=${STANDIN_STABLE_VERSIONS:-27.5.1 28.0.4}
test_versions=${STANDIN_TEST_VERSIONS:-28.1.0~rc.1}
buildx_version=${STANDIN_BUILDX_VERSION:-0.21.2}
compose_version=${STANDIN_COMPOSE_VERSION:-2.34.0}
model_version=${STANDIN_MODEL_VERSION:-0.1.33}
key_uid="gpuhost Docker CE stand-in, tests only <standin@gpuhost.invalid>"

# The test host's release, read where the script runs, not where it is linted.
# shellcheck source=/dev/null
. /etc/os-release
# Ubuntu derivatives carry the Ubuntu codename in UBUNTU_CODENAME (Docker's docs use it too).
codename=${UBUNTU_CODENAME:-$VERSION_CODENAME}
case " ${ID:-} ${ID_LIKE:-} " in
    *" ubuntu "*) distro=ubuntu default_suites="jammy noble" ;;
    *) distro=debian default_suites=$codename ;;
esac
suites=${STANDIN_SUITES:-$default_suites}
arch=$(dpkg --print-architecture)
repo=$serve_dir/linux/$distro
stamp=$serve_dir/.standin-stamp
maintainer="gpuhost toolkit tests <standin@gpuhost.invalid>"

say() { printf 'standin: %s\n' "$*" >&2; }

# The release number in Docker's version suffix for a suite: the host's own VERSION_ID for
# its own codename; Ubuntu's for the other Ubuntu suites served.
suite_version() {
    case $1 in
        "$codename") echo "$VERSION_ID" ;;
        jammy) echo 22.04 ;;
        noble) echo 24.04 ;;
        *) die "no release number known for suite $1" ;;
    esac
}

# Sets the per-suite paths and version suffix the builders use.
use_suite() {
    suite=$1
    suffix="-1~${distro}.$(suite_version "$suite")~${suite}"
    pool_root=$repo/dists/$suite/pool
}

inputs_digest() {
    {
        cat "$0"
        echo "$stable_versions|$test_versions|$buildx_version|$compose_version|$model_version"
        echo "$distro|$suites|$codename|$VERSION_ID|$arch"
    } | sha256sum | cut -d' ' -f1
}

# ---- Debian packages in -------------------------------------------------------------------

die() {
    say "ERROR: $*"
    exit 1
}

# Downloads Debian packages into $dl. apt-get download exits non-zero when one cannot be had.
download() {
    (cd "$dl" && apt-get download -q "$@" >/dev/null) || die "apt-get download $* failed"
}

download_debian_packages() {
    rm -rf "$dl" && mkdir -p "$dl"
    # _apt must be able to write there, or apt warns that it downloads unsandboxed.
    chown _apt "$dl" 2>/dev/null || true
    download docker.io containerd runc tini rootlesskit
}

# The one downloaded .deb of package $1. Fails loudly when it is missing (or ambiguous):
# a missing input must stop the build, never yield a package without its files.
deb_of() {
    local found=("$dl/$1"_*.deb)
    [[ ${#found[@]} -eq 1 && -f ${found[0]} ]] ||
        die "expected one $1_*.deb in $dl, found: ${found[*]}"
    echo "${found[0]}"
}

extract() {
    local name=$1 deb
    deb=$(deb_of "$name")
    dpkg-deb -R "$deb" "$x/$name"
    rm -f "$x/$name/DEBIAN/md5sums"
}

# Fails unless the built package $1 ships every path given (as in `dpkg-deb -c`: ./usr/...).
# awk reads the whole listing: `grep -q` would close the pipe early and, under pipefail, turn a
# match into a failure whenever dpkg-deb is still writing (SIGPIPE, status 141).
assert_ships() {
    local deb=$1 listing path
    shift
    listing=$(dpkg-deb -c "$deb") || die "cannot list $deb"
    for path in "$@"; do
        awk -v p="$path" '$6 == p { found = 1 } END { exit !found }' <<<"$listing" ||
            die "$(basename "$deb") does not contain $path"
    done
}

# "1.6.20~ds1-1+deb12u3" -> "1.6.20"; "20.10.24+dfsg1-1+deb12u1+b6" -> "20.10.24"
upstream_of() { sed -e 's/^[0-9]*://' -e 's/[~+-].*//' <<<"$1"; }

# Depends of a Debian package, without the entries the stand-ins replace.
depends_without() {
    local deb=$1 drop=$2
    dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ *//' | grep -Ev "^($drop)( |$)" |
        paste -sd, | sed 's/,/, /g'
}

# ---- trees --------------------------------------------------------------------------------

# Moves $1 (relative path) from tree $2 to tree $3 when it exists. When tree $3 already has
# it (the CLI package's own copy), that copy wins: mv would otherwise nest a directory inside
# the existing one.
move_path() {
    local rel=$1 from=$2 to=$3
    [[ -e $from/$rel || -L $from/$rel ]] || return 0
    if [[ -e $to/$rel || -L $to/$rel ]]; then
        rm -rf "${from:?}/$rel"
        return 0
    fi
    mkdir -p "$(dirname "$to/$rel")"
    mv "$from/$rel" "$to/$rel"
}

rename_doc_dir() {
    local tree=$1 old=$2 new=$3
    [[ -d $tree/usr/share/doc/$old ]] && mv "$tree/usr/share/doc/$old" "$tree/usr/share/doc/$new"
    rm -rf "$tree/usr/share/lintian"
}

prepare_trees() {
    extract docker.io
    extract containerd
    extract runc
    extract tini
    extract rootlesskit
    daemon=$x/docker.io
    cli=$x/cli
    rootless=$x/rootless
    mkdir -p "$cli/DEBIAN" "$rootless/DEBIAN" "$rootless/usr/bin"

    # Debian 13 split the CLI out of docker.io into docker-cli: decided by what docker.io
    # actually ships, so a docker.io without the CLI always brings in docker-cli (or fails).
    if [[ -e $daemon/usr/bin/docker ]]; then
        cli_source="docker.io $(dpkg-deb -f "$(deb_of docker.io)" Version)"
    else
        say "docker.io has no usr/bin/docker: taking the CLI from docker-cli"
        download docker-cli
        extract docker-cli
        cli_source="docker-cli $(dpkg-deb -f "$(deb_of docker-cli)" Version)"
        rm -rf "$cli" && mv "$x/docker-cli" "$cli"
        rm -f "$cli"/DEBIAN/*
        rename_doc_dir "$cli" docker-cli docker-ce-cli
    fi
    # Debian 12 ships the CLI inside docker.io; both ship the CLI man pages there.
    for rel in usr/bin/docker usr/share/bash-completion/completions/docker \
        usr/share/fish/vendor_completions.d/docker.fish usr/share/zsh/vendor-completions/_docker \
        usr/share/man/man1; do
        move_path "$rel" "$daemon" "$cli"
    done
    # libnetwork test tools that Docker's packages do not ship.
    rm -f "$daemon/usr/bin/dnet" "$daemon/usr/sbin/ovrouter"
    # Docker's docker-ce ships docker-init itself; Debian links it to tini-static.
    rm -f "$daemon/usr/bin/docker-init"
    cp "$x/tini/usr/bin/tini-static" "$daemon/usr/bin/docker-init"
    for script in dockerd-rootless.sh dockerd-rootless-setuptool.sh; do
        mv "$daemon/usr/share/docker.io/contrib/$script" "$rootless/usr/bin/$script"
    done
    cp -a "$x/rootlesskit/usr/bin/." "$rootless/usr/bin/"
    rename_doc_dir "$daemon" docker.io docker-ce
    rm -f "$daemon/DEBIAN/control"
    [[ -x $cli/usr/bin/docker ]] || die "no usr/bin/docker for docker-ce-cli (from $cli_source)"

    containerd=$x/containerd
    cp -a "$x/runc/usr/." "$containerd/usr/"
    rename_doc_dir "$containerd" containerd containerd.io
    rm -rf "$containerd/usr/share/doc/runc"
    rm -f "$containerd/DEBIAN/control"
}

# ---- control files and packages -----------------------------------------------------------

installed_size() { du -sk --exclude=DEBIAN "$1" | cut -f1; }

# Writes DEBIAN/control of tree $1 from "Field: value" lines on stdin, adding the common
# fields, and builds the package into $2.
build_package() {
    local tree=$1 out=$2
    {
        cat
        echo "Architecture: $arch"
        echo "Maintainer: $maintainer"
        echo "Installed-Size: $(installed_size "$tree")"
        echo "Section: admin"
        echo "Priority: optional"
    } >"$tree/DEBIAN/control"
    mkdir -p "$(dirname "$out")"
    # gzip -1: these packages only travel over loopback; xz would cost most of the build time.
    dpkg-deb --root-owner-group -Zgzip -z1 --build "$tree" "$out" >/dev/null
}

description() {
    local what=$1 from=$2
    echo "Description: $what (gpuhost test stand-in)"
    echo " gpuhost test stand-in built from Debian's $from; not Docker's package."
    echo " Only for testing installers where download.docker.com cannot be reached."
}

build_engine_version() {
    local ver=$1 channel=$2 debver="5:$1$suffix" filever="$1$suffix"
    local pool=$pool_root/$channel/$arch
    local docker_io_version
    docker_io_version=$(dpkg-deb -f "$(deb_of docker.io)" Version)

    local tree=$x/docker-ce-$ver
    rm -rf "$tree" && cp -a "$daemon" "$tree"
    {
        echo "Package: docker-ce"
        echo "Version: $debver"
        echo "Pre-Depends: init-system-helpers (>= 1.54~)"
        echo "Depends: containerd.io (>= 1.6), docker-ce-cli, $engine_depends"
        echo "Recommends: ca-certificates, curl, docker-ce-rootless-extras, pigz, procps, xz-utils"
        echo "Conflicts: docker (<< 1.5~), docker-engine, docker.io, lxc-docker"
        echo "Replaces: docker-engine"
        echo "Homepage: https://www.docker.com"
        description "Docker: the open-source application container engine" "docker.io $docker_io_version"
    } | build_package "$tree" "$pool/docker-ce_${filever}_$arch.deb"
    assert_ships "$pool/docker-ce_${filever}_$arch.deb" ./usr/sbin/dockerd ./usr/bin/docker-init
    rm -rf "$tree"

    tree=$x/docker-ce-cli-$ver
    rm -rf "$tree" && cp -a "$cli" "$tree"
    {
        echo "Package: docker-ce-cli"
        echo "Version: $debver"
        echo "Depends: libc6"
        echo "Recommends: docker-buildx-plugin, docker-compose-plugin"
        echo "Conflicts: docker (<< 1.5~), docker-engine, docker-engine-cs, docker.io, lxc-docker"
        echo "Replaces: docker-ce (<< 5:0)"
        echo "Homepage: https://www.docker.com"
        description "Docker CLI: the open-source application container engine" "$cli_source"
    } | build_package "$tree" "$pool/docker-ce-cli_${filever}_$arch.deb"
    assert_ships "$pool/docker-ce-cli_${filever}_$arch.deb" ./usr/bin/docker
    rm -rf "$tree"

    tree=$x/docker-ce-rootless-extras-$ver
    rm -rf "$tree" && cp -a "$rootless" "$tree"
    {
        echo "Package: docker-ce-rootless-extras"
        echo "Version: $debver"
        echo "Depends: docker-ce, libc6"
        echo "Recommends: slirp4netns, uidmap"
        echo "Conflicts: rootlesskit"
        echo "Replaces: rootlesskit"
        echo "Homepage: https://docs.docker.com/engine/security/rootless/"
        description "Rootless support for Docker" \
            "rootlesskit $(dpkg-deb -f "$(deb_of rootlesskit)" Version) and docker.io $docker_io_version"
    } | build_package "$tree" "$pool/docker-ce-rootless-extras_${filever}_$arch.deb"
    rm -rf "$tree"
}

build_containerd() {
    local deb_version upstream
    deb_version=$(dpkg-deb -f "$(deb_of containerd)" Version)
    upstream=$(upstream_of "$deb_version")
    containerd_io_version="$upstream-1"
    local runc_version
    runc_version=$(dpkg-deb -f "$(deb_of runc)" Version)
    {
        echo "Package: containerd.io"
        echo "Version: $containerd_io_version"
        echo "Depends: $(depends_without "$(deb_of containerd)" runc), libseccomp2 (>= 2.5.0)"
        echo "Provides: containerd, runc"
        echo "Conflicts: containerd, runc"
        echo "Replaces: containerd, runc"
        echo "Homepage: https://containerd.io"
        description "An open and reliable container runtime" \
            "containerd $deb_version and runc $runc_version"
    } | build_package "$containerd" "$pool_root/stable/$arch/containerd.io_${containerd_io_version}_$arch.deb"
    assert_ships "$pool_root/stable/$arch/containerd.io_${containerd_io_version}_$arch.deb" \
        ./usr/bin/containerd ./usr/sbin/runc
}

# A CLI plugin stand-in: a shell script that answers the docker CLI's plugin protocol.
build_plugin() {
    local name=$1 version=$2 title=$3 version_line=$4 pkg="docker-$1-plugin"
    local tree=$x/$pkg
    rm -rf "$tree" && mkdir -p "$tree/DEBIAN" "$tree/usr/libexec/docker/cli-plugins"
    local bin=$tree/usr/libexec/docker/cli-plugins/docker-$name
    cat >"$bin" <<EOF
#!/bin/sh
# gpuhost test stand-in for Docker's $name CLI plugin; not Docker's plugin.
case "\$1" in
    docker-cli-plugin-metadata)
        echo '{"SchemaVersion":"0.1.0","Vendor":"gpuhost stand-in","Version":"v$version-standin","ShortDescription":"stand-in"}'
        exit 0
        ;;
    $name) shift ;;
esac
case "\$1" in
    version)
        if [ "\$2" = --short ]; then echo "$version-standin"; else echo "$version_line"; fi
        exit 0
        ;;
esac
echo "docker $name: '\$*' is not implemented by the gpuhost stand-in" >&2
exit 1
EOF
    chmod 0755 "$bin"
    {
        echo "Package: $pkg"
        echo "Version: $version$suffix"
        echo "Enhances: docker-ce-cli"
        echo "Homepage: https://www.docker.com"
        echo "Description: $title plugin for the Docker CLI (gpuhost test stand-in)"
        echo " gpuhost test stand-in: a shell script that answers 'docker $name version';"
        echo " not Docker's package."
    } | build_package "$tree" "$pool_root/stable/$arch/${pkg}_$version${suffix}_$arch.deb"
}

# ---- repository ---------------------------------------------------------------------------

ensure_signing_key() {
    export GNUPGHOME=$work_dir/gnupg
    mkdir -p "$GNUPGHOME" && chmod 0700 "$GNUPGHOME"
    if ! gpg --batch --list-secret-keys "$key_uid" >/dev/null 2>&1; then
        gpg --batch --quiet --passphrase '' --quick-gen-key "$key_uid" ed25519 sign never
    fi
}

write_indexes() {
    local dists=$repo/dists/$suite
    (
        cd "$repo"
        mkdir -p "$dists/stable/binary-$arch" "$dists/test/binary-$arch"
        apt-ftparchive packages "dists/$suite/pool/stable" >"$dists/stable/binary-$arch/Packages"
        # Like Docker's, the test channel also carries the stable releases.
        apt-ftparchive packages "dists/$suite/pool" >"$dists/test/binary-$arch/Packages"
        gzip -kf "$dists/stable/binary-$arch/Packages" "$dists/test/binary-$arch/Packages"
    )
    apt-ftparchive \
        -o APT::FTPArchive::Release::Origin="gpuhost stand-in" \
        -o APT::FTPArchive::Release::Label="Docker CE stand-in" \
        -o APT::FTPArchive::Release::Suite="$suite" \
        -o APT::FTPArchive::Release::Codename="$suite" \
        -o APT::FTPArchive::Release::Architectures="$arch" \
        -o APT::FTPArchive::Release::Components="stable test" \
        -o APT::FTPArchive::Release::Description="Local stand-in for download.docker.com, tests only" \
        release "$dists" >"$x/Release"
    mv "$x/Release" "$dists/Release"
    gpg --batch --yes --local-user "$key_uid" --clearsign -o "$dists/InRelease" "$dists/Release"
    gpg --batch --yes --local-user "$key_uid" --armor --detach-sign -o "$dists/Release.gpg" "$dists/Release"
    gpg --batch --yes --armor --export "$key_uid" >"$repo/gpg"
    gpgconf --kill gpg-agent 2>/dev/null || true
}

# ---- shared cache -------------------------------------------------------------------------

# Package, Version and SHA256 of each .deb apt would download now, one line a package;
# docker-cli too (only Debian 13 has it; fetched when docker.io lacks the CLI), else empty.
candidate_debs() {
    local pkg
    for pkg in docker.io containerd runc tini rootlesskit docker-cli; do
        printf '%s:' "$pkg"
        { apt-cache show --no-all-versions "$pkg" 2>/dev/null || true; } |
            awk '/^(Version|SHA256): / { printf " %s", $2 } END { print "" }'
    done
}

# Prints the cache key for inputs digest $1, or nothing when apt names no candidate for one of
# the packages every build downloads (no package lists: the build will say why it fails).
cache_key() {
    local candidates
    candidates=$(candidate_debs)
    awk -F: '$1 != "docker-cli" && $2 == "" { missing = 1 } END { exit missing }' <<<"$candidates" ||
        return 0
    printf '%s\n%s\n' "$1" "$candidates" | sha256sum | cut -d' ' -f1
}

# Unpacks the tar $1 (linux/ and gnupg/) in place of the repository and the signing key. Fails,
# changing nothing served, when the tar cannot be read or lacks a suite's signed index.
restore_from_cache() {
    local archive=$1 staging=$work_dir/restore s
    rm -rf "$staging" && mkdir -p "$staging"
    if ! tar -xf "$archive" -C "$staging" 2>/dev/null; then
        rm -rf "$staging"
        return 1
    fi
    for s in $suites; do
        [[ -f $staging/linux/$distro/dists/$s/InRelease && -f $staging/linux/$distro/gpg ]] || {
            rm -rf "$staging"
            return 1
        }
    done
    [[ -d $staging/gnupg ]] || { rm -rf "$staging"; return 1; }
    rm -rf "$serve_dir/linux" "$work_dir/gnupg"
    mv "$staging/linux" "$serve_dir/linux"
    mv "$staging/gnupg" "$work_dir/gnupg"
    rm -rf "$staging"
    # Its age says when it was last used: pruning keeps what hosts still restore.
    touch "$archive"
}

# Stores the built repository and its signing key as the tar $1: written to a temporary name
# in the same folder and renamed, so a host unpacking it never reads a half-written file. A
# failure here costs the next host a build, never this one its repository.
save_to_cache() {
    local archive=$1 tmp
    tmp=$(mktemp "$cache_dir/.docker-tmp.XXXXXX") || return 0
    # gpg-agent's sockets (S.gpg-agent*) are not files a tar can carry.
    if tar -cf "$tmp" --exclude='gnupg/S.*' -C "$serve_dir" linux -C "$work_dir" gnupg &&
        mv -f "$tmp" "$archive"; then
        say "stored the repository in the shared cache: $archive"
    else
        rm -f "$tmp"
        say "could not store the repository in the shared cache $cache_dir"
    fi
    find "$cache_dir" -maxdepth 1 -type f \( -name 'docker-*.tar' -o -name '.docker-tmp.*' \) \
        -mtime +14 -delete 2>/dev/null || true
}

main() {
    local want
    want=$(inputs_digest)
    local built=1
    for suite in $suites; do [[ -f $repo/dists/$suite/InRelease ]] || built=0; done
    if [[ -f $stamp && $(cat "$stamp") == "$want" && $built == 1 ]]; then
        echo "STANDIN: up to date"
        return 0
    fi
    dl=$work_dir/debs
    x=$work_dir/build
    rm -rf "$x" "$serve_dir/linux" "$stamp"

    # The shared cache, when the test host has it (tests/hosts/testhosts.sh mounts it).
    local key="" cached=""
    if [[ -d $cache_dir && -w $cache_dir ]]; then
        key=$(cache_key "$want")
        [[ -n $key ]] && cached=$cache_dir/docker-$key.tar
    fi
    # Only a host without a signing key of its own takes the cached one (see the header).
    if [[ -n $cached && -f $cached && ! -e $work_dir/gnupg ]]; then
        if restore_from_cache "$cached"; then
            echo "$want" >"$stamp"
            say "restored the repository from the shared cache (key $key)"
            echo "STANDIN: built"
            return 0
        fi
        say "could not restore $cached: building"
    fi
    mkdir -p "$x" "$repo"

    say "downloading Debian's packages"
    download_debian_packages
    prepare_trees
    local docker_io_deb
    docker_io_deb=$(deb_of docker.io)
    engine_depends=$(depends_without "$docker_io_deb" 'containerd|runc|tini')

    ensure_signing_key
    local ver
    for suite in $suites; do
        use_suite "$suite"
        say "building packages for linux/$distro $suite"
        for ver in $stable_versions; do build_engine_version "$ver" stable; done
        for ver in $test_versions; do build_engine_version "$ver" test; done
        build_containerd
        build_plugin buildx "$buildx_version" "Docker Buildx" \
            "github.com/docker/buildx v$buildx_version-standin standin"
        build_plugin compose "$compose_version" "Docker Compose" \
            "Docker Compose version v$compose_version-standin"
        build_plugin model "$model_version" "Docker Model Runner" \
            "Docker Model Runner version v$model_version-standin"
        say "writing and signing the indexes of $suite"
        write_indexes
    done
    rm -rf "$x" "$dl"
    if [[ -n $cached ]]; then save_to_cache "$cached"; fi
    echo "$want" >"$stamp"
    echo "STANDIN: built"
}

main "$@"
