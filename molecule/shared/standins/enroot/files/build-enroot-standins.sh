#!/bin/bash
# Builds stand-ins for NVIDIA's enroot release packages inside a Debian test host, for this
# project's tests only. Nothing here is NVIDIA's code or NVIDIA's packages.
#
# Layout like GitHub's release downloads, under the served folder:
#   NVIDIA/enroot/releases/download/vVERSION/enroot_VERSION-1_ARCH.deb
#   NVIDIA/enroot/releases/download/vVERSION/enroot+caps_VERSION-1_ARCH.deb
#   NVIDIA/enroot/releases/download/vVERSION/SHA256SUMS   (the stand-in's own, for tests)
# Packages with upstream's names, version scheme, dependencies (pkg/deb/control) and paths:
#   enroot: /usr/bin/enroot (the stand-in command, enroot-standin.sh) and its helper names,
#     /usr/lib/enroot/*.sh, /etc/enroot/{enroot.conf,enroot.conf.d/,hooks.d/,mounts.d/,
#     environ.d/}, the optional hooks in /usr/share/enroot/hooks.d, the AppArmor profile
#     /etc/apparmor.d/enroot; every /etc file a conffile.
#   enroot+caps: Depends enroot (= same version), libcap2-bin; postinst sets the helpers' file
#     capabilities with setcap, prerm removes them.
#
# Prints "STANDIN: built" when it (re)built and "STANDIN: up to date" when a stamp shows the
# same inputs were built already.
set -euo pipefail

serve_dir=${STANDIN_ENROOT_SERVE_DIR:-/srv/standin-enroot}
work_dir=${STANDIN_ENROOT_WORK_DIR:-/var/lib/gpuhost-standin-enroot}
files_dir=${STANDIN_ENROOT_FILES_DIR:-$(dirname "$(readlink -f "$0")")}
versions=${STANDIN_ENROOT_VERSIONS:-4.1.1 4.1.2}
revision=1
maintainer="gpuhost stand-in <standin-enroot@gpuhost.invalid>"
arch=$(dpkg --print-architecture)
stamp=$serve_dir/.standin-stamp

say() { printf 'standin-enroot: %s\n' "$*" >&2; }
die() {
    say "ERROR: $*"
    exit 1
}

inputs_digest() {
    { cat "$0" "$files_dir/enroot-standin.sh"; echo "$versions|$arch"; } | sha256sum | cut -d' ' -f1
}

digest=$(inputs_digest)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
    echo "STANDIN: up to date"
    exit 0
fi

x=$work_dir/build
rm -rf "$x" && mkdir -p "$x"

stub() { # tree path text: an executable stand-in script that says what it stands in for
    mkdir -p "$(dirname "$1$2")"
    printf '#!/bin/sh\n# gpuhost stand-in for enroot'"'"'s %s, tests only.\n%s\n' "${2##*/}" "$3" >"$1$2"
    chmod 0755 "$1$2"
}

text() { # tree path text
    mkdir -p "$(dirname "$1$2")"
    printf '%s\n' "$3" >"$1$2"
    chmod 0644 "$1$2"
}

control() { # tree, then fields on stdin
    {
        cat
        echo "Architecture: $arch"
        echo "Maintainer: $maintainer"
        echo "Installed-Size: $(du -sk --exclude=DEBIAN "$1" | cut -f1)"
        echo "Section: utils"
        echo "Priority: optional"
        echo "Homepage: https://github.com/NVIDIA/enroot"
    } >"$1/DEBIAN/control"
}

description() {
    echo "Description: $1 (gpuhost stand-in)"
    echo " gpuhost stand-in for NVIDIA's enroot release package, tests only: a small script"
    echo " with the upstream names, paths and dependencies, not NVIDIA's software."
}

build_enroot() {
    local v=$1 out=$2 tree=$x/enroot-$1 f
    mkdir -p "$tree/DEBIAN"
    mkdir -p "$tree/usr/bin"
    sed "s/@VERSION@/$v/" "$files_dir/enroot-standin.sh" >"$tree/usr/bin/enroot"
    chmod 0755 "$tree/usr/bin/enroot"
    for f in enroot-aufs2ovlfs enroot-mksquashovlfs enroot-mount enroot-nsenter enroot-switchroot; do
        stub "$tree" "/usr/bin/$f" 'echo "gpuhost stand-in: not implemented" >&2; exit 1'
    done
    for f in common docker runtime; do
        text "$tree" "/usr/lib/enroot/$f.sh" "# gpuhost stand-in for enroot's $f.sh: the stand-in /usr/bin/enroot is self-contained."
    done
    text "$tree" /etc/enroot/enroot.conf "# gpuhost stand-in for enroot's enroot.conf: every setting commented out, as shipped.
#ENROOT_RUNTIME_PATH        \${XDG_RUNTIME_DIR}/enroot
#ENROOT_CONFIG_PATH         \${XDG_CONFIG_HOME}/enroot
#ENROOT_CACHE_PATH          \${XDG_CACHE_HOME}/enroot
#ENROOT_DATA_PATH           \${XDG_DATA_HOME}/enroot
#ENROOT_TEMP_PATH           \${TMPDIR:-/tmp}"
    text "$tree" /etc/enroot/enroot.conf.d/README "gpuhost stand-in: *.conf files here are read after enroot.conf."
    for f in 10-aptfix 10-cgroups 10-devices 10-home 10-localtime 10-shadow 99-mellanox; do
        stub "$tree" "/etc/enroot/hooks.d/$f.sh" 'exit 0'
    done
    # Like upstream's: GPU containers call nvidia-container-cli (libnvidia-container-tools).
    # shellcheck disable=SC2016 # the hook text is expanded when the hook runs
    stub "$tree" /etc/enroot/hooks.d/98-nvidia.sh '[ -n "${NVIDIA_VISIBLE_DEVICES:-}" ] || exit 0
command -v nvidia-container-cli >/dev/null || { echo "[ERROR] Command not found: nvidia-container-cli, see https://github.com/NVIDIA/libnvidia-container" >&2; exit 1; }
exit 0'
    for f in 50-slurm-pmi 50-slurm-pytorch 50-mig-config 50-sharp; do
        stub "$tree" "/usr/share/enroot/hooks.d/$f.sh" 'exit 0'
    done
    text "$tree" /etc/enroot/mounts.d/10-system.fstab "# gpuhost stand-in for enroot's 10-system.fstab"
    text "$tree" /etc/enroot/environ.d/10-terminal.env "# gpuhost stand-in for enroot's 10-terminal.env"
    text "$tree" /etc/apparmor.d/enroot "# gpuhost stand-in for enroot's AppArmor profile: lets enroot-nsenter create user namespaces.
abi <abi/4.0>,
include <tunables/global>

/usr/bin/enroot-nsenter flags=(unconfined) {
    allow userns create,
    include if exists <local/enroot>
}"
    (cd "$tree" && find etc -type f | sed 's|^|/|' | sort) >"$tree/DEBIAN/conffiles"
    # Like dh_apparmor: load the profile where AppArmor is on; test hosts have it off.
    cat >"$tree/DEBIAN/postinst" <<'SH'
#!/bin/sh
# gpuhost stand-in postinst for enroot.
set -e
if [ "$1" = configure ] && command -v apparmor_parser >/dev/null 2>&1 \
    && [ -d /sys/kernel/security/apparmor ]; then
    apparmor_parser -r -W /etc/apparmor.d/enroot || true
fi
exit 0
SH
    chmod 0755 "$tree/DEBIAN/postinst"
    control "$tree" <<CTL
Package: enroot
Version: $v-$revision
Depends: bash (>= 4.2), curl, gawk | mawk, jq (>= 1.5), parallel, passwd, squashfs-tools, zstd, bsdmainutils
Recommends: pigz
Suggests: libnvidia-container-tools, squashfuse, fuse-overlayfs
$(description "Unprivileged container sandboxing utility")
CTL
    dpkg-deb --root-owner-group -Zgzip -z1 --build "$tree" "$out" >/dev/null
}

build_caps() {
    local v=$1 out=$2 tree=$x/enroot+caps-$1
    mkdir -p "$tree/DEBIAN" "$tree/usr/share/doc/enroot+caps"
    text "$tree" /usr/share/doc/enroot+caps/README.standin "enroot+caps: gpuhost stand-in, tests only."
    cat >"$tree/DEBIAN/postinst" <<'SH'
#!/bin/sh
# gpuhost stand-in postinst for enroot+caps (upstream's: file capabilities on two helpers).
set -e
case "$1" in
configure | abort-upgrade | abort-remove | abort-deconfigure)
    setcap cap_sys_admin+pe "$(command -v enroot-mksquashovlfs)"
    setcap cap_sys_admin,cap_mknod+pe "$(command -v enroot-aufs2ovlfs)"
    ;;
*)
    echo "postinst called with unknown argument \`$1'" >&2
    exit 1
    ;;
esac
exit 0
SH
    cat >"$tree/DEBIAN/prerm" <<'SH'
#!/bin/sh
# gpuhost stand-in prerm for enroot+caps: the capabilities go with the package.
set -e
for f in enroot-mksquashovlfs enroot-aufs2ovlfs; do
    p=$(command -v "$f" || true)
    [ -z "$p" ] || setcap -r "$p" 2>/dev/null || true
done
exit 0
SH
    chmod 0755 "$tree/DEBIAN/postinst" "$tree/DEBIAN/prerm"
    control "$tree" <<CTL
Package: enroot+caps
Version: $v-$revision
Depends: enroot (= $v-$revision), libcap2-bin
$(description "Unprivileged container sandboxing utility (extra capabilities)")
CTL
    dpkg-deb --root-owner-group -Zgzip -z1 --build "$tree" "$out" >/dev/null
}

base=$serve_dir/NVIDIA/enroot/releases/download
rm -rf "$base" && mkdir -p "$base"
for v in $versions; do
    dir=$base/v$v
    mkdir -p "$dir"
    build_enroot "$v" "$dir/enroot_$v-${revision}_$arch.deb"
    build_caps "$v" "$dir/enroot+caps_$v-${revision}_$arch.deb"
    (cd "$dir" && sha256sum -- *.deb >SHA256SUMS)
    dpkg-deb -I "$dir/enroot_$v-${revision}_$arch.deb" control | grep -q "^Version: $v-$revision" ||
        die "enroot $v built with the wrong version"
done
rm -rf "$x"
echo "$digest" >"$stamp"
say "built ${versions} for $arch under $base"
echo "STANDIN: built"
