#!/bin/bash
# Builds a local stand-in for NVIDIA's container toolkit apt repository
# (https://nvidia.github.io/libnvidia-container) inside a Debian test host, for this project's
# tests only. Nothing here is NVIDIA's code or NVIDIA's packages.
#
# Layout like NVIDIA's: an ASCII-armoured key at <base>/gpgkey and signed FLAT repositories
# <base>/{stable,experimental}/deb/<arch>/ (Packages, Release, InRelease, Release.gpg and the
# .debs side by side), for `deb [signed-by=...] <base>/stable/deb/$(ARCH) /`.
#
# Packages, with upstream names, versions, dependencies, file paths and maintainer-script
# behaviour (NVIDIA/nvidia-container-toolkit packaging/debian at v1.17.8 and v1.18.0), whose
# programs are small scripts (see ../README.md):
#   nvidia-container-toolkit-base, nvidia-container-toolkit, libnvidia-container-tools,
#   libnvidia-container1 at every toolkit version; the legacy nvidia-docker2 2.13.0-1 (owns
#   /etc/docker/daemon.json as a conffile), nvidia-docker2 2.14.0-1 and
#   nvidia-container-runtime 3.14.0-1 (empty meta-packages).
#
# Prints "STANDIN: built" when it (re)built the repository and "STANDIN: up to date" when a
# stamp shows the repository was already built from the same inputs.
set -euo pipefail

serve_dir=${STANDIN_NVIDIA_SERVE_DIR:-/srv/standin-nvidia}
work_dir=${STANDIN_NVIDIA_WORK_DIR:-/var/lib/gpuhost-standin-nvidia}
files_dir=${STANDIN_NVIDIA_FILES_DIR:-$(dirname "$(readlink -f "$0")")}
stable_versions=${STANDIN_NVIDIA_VERSIONS:-1.17.8-1 1.18.0-1}
experimental_versions=${STANDIN_NVIDIA_EXPERIMENTAL_VERSIONS:-1.19.0~rc.1-1}
key_uid="gpuhost NVIDIA container toolkit stand-in, tests only <standin-nvidia@gpuhost.invalid>"
maintainer="gpuhost stand-in <standin-nvidia@gpuhost.invalid>"

arch=$(dpkg --print-architecture)
base=$serve_dir/libnvidia-container
stamp=$serve_dir/.standin-stamp
scripts=(nvidia_ctk_standin.py nvidia-container-runtime-hook.sh nvidia-container-cli.sh
    nvidia-container-runtime.sh nvidia-cdi-hook.sh nvidia-docker.sh nvidia-cdi-refresh.service
    nvidia-cdi-refresh.path nvidia-cdi-refresh.env nvidia-docker2-daemon.json)

say() { printf 'standin-nvidia: %s\n' "$*" >&2; }

die() {
    say "ERROR: $*"
    exit 1
}

inputs_digest() {
    {
        cat "$0"
        for f in "${scripts[@]}"; do cat "$files_dir/$f"; done
        echo "$stable_versions|$experimental_versions|$arch"
    } | sha256sum | cut -d' ' -f1
}

multiarch() {
    case "$arch" in
    amd64) echo x86_64-linux-gnu ;;
    arm64) echo aarch64-linux-gnu ;;
    *) die "no multiarch triplet known for $arch" ;;
    esac
}

# "1.18.0-1" -> "1.18.0"; "1.19.0~rc.1-1" -> "1.19.0~rc.1"
upstream_of() { sed 's/-[^-]*$//' <<<"$1"; }

# 1.18.0 made the four packages depend on each other's exact version (was >= before).
exact_deps() { dpkg --compare-versions "$1" ge 1.18.0~; }

# ---- trees and packages -------------------------------------------------------------------

new_tree() {
    local tree=$x/$1
    rm -rf "$tree" && mkdir -p "$tree/DEBIAN"
    echo "$tree"
}

# Installs stand-in script $1 as $3 inside tree $2, with @VERSION@ replaced.
install_script() {
    local src=$files_dir/$1 tree=$2 dest=$3 version=${4:-}
    mkdir -p "$(dirname "$tree$dest")"
    sed -e "s/@VERSION@/$version/g" \
        -e "s/^VERSION = \"0\\.0\\.0\"\$/VERSION = \"$version\"/" "$src" >"$tree$dest"
    chmod 0755 "$tree$dest"
}

install_file() {
    local src=$files_dir/$1 tree=$2 dest=$3
    mkdir -p "$(dirname "$tree$dest")"
    cp "$src" "$tree$dest"
    chmod 0644 "$tree$dest"
}

maintainer_script() {
    local tree=$1 name=$2
    cat >"$tree/DEBIAN/$name"
    chmod 0755 "$tree/DEBIAN/$name"
}

doc_dir() {
    local tree=$1 package=$2
    mkdir -p "$tree/usr/share/doc/$package"
    printf '%s\n' "$package: gpuhost stand-in for NVIDIA's package of that name, tests only." \
        "Not NVIDIA's software. See molecule/shared/standins/nvidia in the gpuhost project." \
        >"$tree/usr/share/doc/$package/README.standin"
}

installed_size() { du -sk --exclude=DEBIAN "$1" | cut -f1; }

# Writes DEBIAN/control of tree $1 from "Field: value" lines on stdin (Package and Version
# first, Description last), adds the common fields, builds the .deb into $debs and checks
# that it ships every path given after the tree.
build_package() {
    local tree=$1 fields
    shift
    fields=$(cat)
    {
        sed '/^Description:/,$d' <<<"$fields"
        echo "Architecture: $arch"
        echo "Maintainer: $maintainer"
        echo "Installed-Size: $(installed_size "$tree")"
        echo "Section: utils"
        echo "Priority: optional"
        grep -q '^Homepage:' <<<"$fields" ||
            echo "Homepage: https://github.com/NVIDIA/nvidia-container-toolkit"
        sed -n '/^Description:/,$p' <<<"$fields"
    } >"$tree/DEBIAN/control"
    local package version out
    package=$(sed -n 's/^Package: //p' "$tree/DEBIAN/control")
    version=$(sed -n 's/^Version: //p' "$tree/DEBIAN/control")
    out=$debs/${package}_${version}_$arch.deb
    dpkg-deb --root-owner-group -Zgzip -z1 --build "$tree" "$out" >/dev/null
    assert_ships "$out" "$@"
    rm -rf "$tree"
}

# Fails unless package $1 ships every path given (as `dpkg-deb -c` prints them: ./usr/...).
# awk reads the whole listing: `grep -q` would close the pipe early (SIGPIPE under pipefail).
assert_ships() {
    local deb=$1 listing path
    shift
    listing=$(dpkg-deb -c "$deb") || die "cannot list $deb"
    for path in "$@"; do
        awk -v p="$path" '$6 == p { found = 1 } END { exit !found }' <<<"$listing" ||
            die "$(basename "$deb") does not contain $path"
    done
}

description() {
    echo "Description: $1 (gpuhost stand-in)"
    echo " gpuhost stand-in for NVIDIA's $2, tests only: small scripts with the"
    echo " upstream names and paths, not NVIDIA's software."
}

build_base() {
    local v=$1 up tree
    up=$(upstream_of "$v")
    tree=$(new_tree "nvidia-container-toolkit-base-$v")
    install_script nvidia_ctk_standin.py "$tree" /usr/bin/nvidia-ctk "$up"
    install_script nvidia-container-runtime.sh "$tree" /usr/bin/nvidia-container-runtime "$up"
    install_script nvidia-cdi-hook.sh "$tree" /usr/bin/nvidia-cdi-hook "$up"
    doc_dir "$tree" nvidia-container-toolkit-base
    local ships=(./usr/bin/nvidia-ctk ./usr/bin/nvidia-container-runtime ./usr/bin/nvidia-cdi-hook)
    # Like upstream's postinst: config.toml is no conffile, nvidia-ctk (re)writes it.
    local postinst_extra=""
    if exact_deps "$v"; then
        install_file nvidia-cdi-refresh.service "$tree" /etc/systemd/system/nvidia-cdi-refresh.service
        install_file nvidia-cdi-refresh.path "$tree" /etc/systemd/system/nvidia-cdi-refresh.path
        install_file nvidia-cdi-refresh.env "$tree" /etc/nvidia-container-toolkit/nvidia-cdi-refresh.env
        # debhelper marks everything under /etc as a conffile; so does this stand-in.
        printf '%s\n' /etc/systemd/system/nvidia-cdi-refresh.service \
            /etc/systemd/system/nvidia-cdi-refresh.path \
            /etc/nvidia-container-toolkit/nvidia-cdi-refresh.env >"$tree/DEBIAN/conffiles"
        ships+=(./etc/systemd/system/nvidia-cdi-refresh.service
            ./etc/systemd/system/nvidia-cdi-refresh.path)
        # 1.18's postinst enables the refresh units only on a running system (not in chroots
        # or early boot), and tolerates failures.
        postinst_extra='
        if command -v systemctl >/dev/null 2>&1; then
            state=$(systemctl is-system-running 2>/dev/null || true)
            case "$state" in
            running | degraded)
                systemctl daemon-reload || echo "Warning: Failed to reload systemd daemon" >&2
                systemctl enable --now nvidia-cdi-refresh.path || echo "Warning: Failed to enable nvidia-cdi-refresh.path" >&2
                systemctl enable --now nvidia-cdi-refresh.service || echo "Warning: Failed to enable nvidia-cdi-refresh.service" >&2
                echo "Regenerating NVIDIA CDI specification..."
                systemctl start nvidia-cdi-refresh.service || echo "Warning: Failed to trigger CDI refresh" >&2
                ;;
            esac
        fi'
    fi
    maintainer_script "$tree" postinst <<EOF
#!/bin/sh
# gpuhost stand-in postinst for nvidia-container-toolkit-base $v (upstream's behaviour).
set -e
case "\$1" in
configure)
        /usr/bin/nvidia-ctk --quiet config --config-file=/etc/nvidia-container-runtime/config.toml --in-place$postinst_extra
        ;;
abort-upgrade | abort-remove | abort-deconfigure) ;;
*)
        echo "postinst called with unknown argument \\\`\$1'" >&2
        exit 1
        ;;
esac
exit 0
EOF
    {
        echo "Package: nvidia-container-toolkit-base"
        echo "Version: $v"
        # Stand-in only: nvidia-ctk is a Python script here (upstream: no dependencies).
        echo "Depends: python3"
        echo "Breaks: nvidia-container-runtime (<= 3.5.0-1), nvidia-container-runtime-hook, nvidia-container-toolkit (<= 1.10.0-1)"
        echo "Replaces: nvidia-container-runtime (<= 3.5.0-1), nvidia-container-runtime-hook"
        description "NVIDIA Container Toolkit Base" "nvidia-container-toolkit-base $v"
    } | build_package "$tree" "${ships[@]}"
}

build_toolkit() {
    local v=$1 up tree tools_dep
    up=$(upstream_of "$v")
    tree=$(new_tree "nvidia-container-toolkit-$v")
    install_script nvidia-container-runtime-hook.sh "$tree" /usr/bin/nvidia-container-runtime-hook "$up"
    doc_dir "$tree" nvidia-container-toolkit
    maintainer_script "$tree" postinst <<'EOF'
#!/bin/sh
# gpuhost stand-in postinst for nvidia-container-toolkit (upstream's behaviour).
set -e
hook=/usr/bin/nvidia-container-runtime-hook
toolkit=/usr/bin/nvidia-container-toolkit
case "$1" in
configure)
        if [ -f "$hook" ] && [ ! -e "$toolkit" ]; then
                ln -s "$hook" "$toolkit"
        fi
        ;;
abort-upgrade | abort-remove | abort-deconfigure) ;;
*)
        echo "postinst called with unknown argument \`$1'" >&2
        exit 1
        ;;
esac
exit 0
EOF
    maintainer_script "$tree" postrm <<'EOF'
#!/bin/sh
# gpuhost stand-in postrm for nvidia-container-toolkit (upstream's behaviour).
set -e
toolkit=/usr/bin/nvidia-container-toolkit
case "$1" in
purge)
        if [ -L "$toolkit" ]; then rm "$toolkit"; fi
        ;;
upgrade | failed-upgrade | remove | abort-install | abort-upgrade | disappear) ;;
*)
        echo "postrm called with unknown argument \`$1'" >&2
        exit 1
        ;;
esac
exit 0
EOF
    if exact_deps "$v"; then
        tools_dep="libnvidia-container-tools (= $v), libnvidia-container-tools (<< 2.0.0)"
    else
        tools_dep="libnvidia-container-tools (>= $v), libnvidia-container-tools (<< 2.0.0)"
    fi
    {
        echo "Package: nvidia-container-toolkit"
        echo "Version: $v"
        echo "Depends: nvidia-container-toolkit-base (= $v), $tools_dep"
        echo "Breaks: nvidia-container-runtime (<= 3.5.0-1), nvidia-container-runtime-hook"
        echo "Replaces: nvidia-container-runtime (<= 3.5.0-1), nvidia-container-runtime-hook"
        description "NVIDIA Container toolkit" "nvidia-container-toolkit $v"
    } | build_package "$tree" ./usr/bin/nvidia-container-runtime-hook
}

build_libraries() {
    local v=$1 up tree lib_dep triplet
    up=$(upstream_of "$v")
    triplet=$(multiarch)
    tree=$(new_tree "libnvidia-container-tools-$v")
    install_script nvidia-container-cli.sh "$tree" /usr/bin/nvidia-container-cli "$up"
    doc_dir "$tree" libnvidia-container-tools
    if exact_deps "$v"; then lib_dep="(= $v)"; else lib_dep="(>= $v)"; fi
    {
        echo "Package: libnvidia-container-tools"
        echo "Version: $v"
        echo "Depends: libnvidia-container1 $lib_dep"
        echo "Homepage: https://github.com/NVIDIA/libnvidia-container"
        description "NVIDIA container runtime library (command-line tools)" "libnvidia-container-tools $v"
    } | build_package "$tree" ./usr/bin/nvidia-container-cli

    tree=$(new_tree "libnvidia-container1-$v")
    local libdir=$tree/usr/lib/$triplet
    mkdir -p "$libdir"
    # Not a shared object: a marker file at the library's path (nothing loads it here).
    # ldconfig may warn that it is no ELF file.
    echo "gpuhost stand-in for libnvidia-container.so.$up; not a shared library" \
        >"$libdir/libnvidia-container.so.$up"
    ln -s "libnvidia-container.so.$up" "$libdir/libnvidia-container.so.1"
    doc_dir "$tree" libnvidia-container1
    {
        echo "Package: libnvidia-container1"
        echo "Version: $v"
        echo "Depends: libc6, libcap2, libseccomp2"
        echo "Homepage: https://github.com/NVIDIA/libnvidia-container"
        description "NVIDIA container runtime library" "libnvidia-container1 $v"
    } | build_package "$tree" "./usr/lib/$triplet/libnvidia-container.so.$up" \
        "./usr/lib/$triplet/libnvidia-container.so.1"
}

# nvidia-docker2 up to 2.13 OWNED /etc/docker/daemon.json as a conffile: purging the package
# deletes the file, the user's keys with it. This is the trap migration must avoid.
build_nvidia_docker2_old() {
    local v=2.13.0-1 tree
    tree=$(new_tree "nvidia-docker2-$v")
    install_file nvidia-docker2-daemon.json "$tree" /etc/docker/daemon.json
    install_script nvidia-docker.sh "$tree" /usr/bin/nvidia-docker
    echo /etc/docker/daemon.json >"$tree/DEBIAN/conffiles"
    doc_dir "$tree" nvidia-docker2
    {
        echo "Package: nvidia-docker2"
        echo "Version: $v"
        echo "Depends: nvidia-container-toolkit (>= 1.13.0-1), docker-ce (>= 18.06.0~ce~3-0~debian) | docker-ee (>= 18.06.0~ce~3-0~debian) | docker.io (>= 18.06.0)"
        echo "Homepage: https://github.com/NVIDIA/nvidia-docker"
        description "NVIDIA Container Toolkit meta-package (old shape: owns daemon.json)" "nvidia-docker2 $v"
    } | build_package "$tree" ./etc/docker/daemon.json ./usr/bin/nvidia-docker
}

build_meta() {
    local package=$1 v=$2 home=$3 tree
    tree=$(new_tree "$package-$v")
    doc_dir "$tree" "$package"
    {
        echo "Package: $package"
        echo "Version: $v"
        echo "Depends: nvidia-container-toolkit (>= 1.14.0-1)"
        echo "Homepage: $home"
        description "NVIDIA Container Toolkit meta-package (empty, last release)" "$package $v"
    } | build_package "$tree"
}

# ---- repository ---------------------------------------------------------------------------

ensure_signing_key() {
    export GNUPGHOME=$work_dir/gnupg
    mkdir -p "$GNUPGHOME" && chmod 0700 "$GNUPGHOME"
    if ! gpg --batch --list-secret-keys "$key_uid" >/dev/null 2>&1; then
        gpg --batch --quiet --passphrase '' --quick-gen-key "$key_uid" ed25519 sign never
    fi
}

# A flat repository: the indexes and the .debs in one directory, signed.
write_channel() {
    local channel=$1 dir=$base/$1/deb/$arch
    shift
    mkdir -p "$dir"
    local deb
    cp "$@" "$dir/"
    (
        cd "$dir"
        apt-ftparchive packages . >Packages
        gzip -kf Packages
        apt-ftparchive \
            -o APT::FTPArchive::Release::Origin="gpuhost stand-in" \
            -o APT::FTPArchive::Release::Label="NVIDIA container toolkit stand-in ($channel)" \
            -o APT::FTPArchive::Release::Architectures="$arch" \
            -o APT::FTPArchive::Release::Description="Local stand-in for nvidia.github.io/libnvidia-container, tests only" \
            release . >"$x/Release"
        mv "$x/Release" Release
        gpg --batch --yes --local-user "$key_uid" --clearsign -o InRelease Release
        gpg --batch --yes --local-user "$key_uid" --armor --detach-sign -o Release.gpg Release
    )
}

main() {
    local want
    want=$(inputs_digest)
    if [[ -f $stamp && $(cat "$stamp") == "$want" && -f $base/stable/deb/$arch/InRelease ]]; then
        echo "STANDIN: up to date"
        return 0
    fi
    for f in "${scripts[@]}"; do [[ -f $files_dir/$f ]] || die "missing $files_dir/$f"; done
    x=$work_dir/build
    debs=$x/debs
    rm -rf "$x" "$base" "$stamp"
    mkdir -p "$debs"

    say "building packages"
    local v
    for v in $stable_versions $experimental_versions; do
        build_base "$v"
        build_toolkit "$v"
        build_libraries "$v"
    done
    build_nvidia_docker2_old
    build_meta nvidia-docker2 2.14.0-1 https://github.com/NVIDIA/nvidia-docker
    build_meta nvidia-container-runtime 3.14.0-1 https://github.com/NVIDIA/nvidia-container-runtime

    say "writing and signing the repositories"
    ensure_signing_key
    local stable=() experimental=() deb
    for deb in "$debs"/*.deb; do
        experimental+=("$deb")
        # Like NVIDIA's, experimental also carries the releases; stable has no release candidates.
        [[ $deb == *"~"* ]] || stable+=("$deb")
    done
    write_channel stable "${stable[@]}"
    write_channel experimental "${experimental[@]}"
    gpg --batch --yes --armor --export "$key_uid" >"$base/gpgkey"
    gpgconf --kill gpg-agent 2>/dev/null || true
    rm -rf "$x"
    echo "$want" >"$stamp"
    echo "STANDIN: built"
}

main "$@"
