#!/bin/bash
# Builds a local stand-in for NVIDIA's Jetson apt repository (https://repo.download.nvidia.com/
# jetson) inside a Debian test host, for this project's tests only. Nothing here is NVIDIA's
# code or NVIDIA's packages.
#
# Layout like NVIDIA's: one repository per component, <base>/common and <base>/<soc> (t194,
# t234), each with suites named after the L4T release (dists/r35.4, dists/r36.4), component
# main, for `deb <base>/common r36.4 main` + `deb <base>/t234 r36.4 main` (the lines
# nvidia-l4t-apt-source writes); the ASCII-armoured key at <base>/jetson-ota-public.asc.
#
# Packages with JetPack's names and dependency shape (versions shaped like JetPack's; the real
# index cannot be read from here): nvidia-container (the meta-package of JetPack >= 5.0.2:
# on r35 it pulls the toolkit and nvidia-docker2, on r36 the toolkit only), the toolkit's four
# packages (CSV-mode runtime and hook stand-ins), nvidia-docker2 2.11 (owns
# /etc/docker/daemon.json as a conffile, as before 2.14) and nvidia-l4t-core per SoC (the CSV
# files, and JetPack 6's limited nvidia-smi). Architecture: the test host's.
#
# Prints "STANDIN: built" when it (re)built the repository and "STANDIN: up to date" when the
# stamp shows it was built from the same inputs.
set -euo pipefail

serve_dir=${STANDIN_JETSON_SERVE_DIR:-/srv/standin-jetson}
work_dir=${STANDIN_JETSON_WORK_DIR:-/var/lib/gpuhost-standin-jetson}
files_dir=${STANDIN_JETSON_FILES_DIR:-$(dirname "$(readlink -f "$0")")}
key_uid="gpuhost Jetson repository stand-in, tests only <standin-jetson@gpuhost.invalid>"
maintainer="gpuhost stand-in <standin-jetson@gpuhost.invalid>"
arch=$(dpkg --print-architecture)
base=$serve_dir/jetson
stamp=$serve_dir/.standin-stamp

# suite | SoC components | nvidia-container | toolkit | nvidia-docker2 | nvidia-l4t-core
releases=(
    "r35.4|t194 t234|5.1.2-b104|1.11.0~rc.1-1|2.11.0-1|35.4.1-20230801124926"
    "r36.4|t234|6.2+b77|1.17.0-1||36.4.3-20250107174145"
)

say() { printf 'standin-jetson: %s\n' "$*" >&2; }
die() {
    say "ERROR: $*"
    exit 1
}

digest=$({
    cat "$0" "$files_dir"/nvidia-container-runtime.py "$files_dir"/nvidia-container-runtime-hook.sh \
        "$files_dir"/nvidia-smi.sh
    printf '%s\n' "${releases[@]}" "$arch"
} | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$digest" ]]; then
    echo "STANDIN: up to date"
    exit 0
fi

x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT

# package NAME VERSION COMPONENT_DIR "Depends" [conffile...] < file list "SRC|DEST|MODE" lines.
package() {
    local name=$1 version=$2 out=$3 depends=$4 tree=$x/tree
    shift 4
    rm -rf "$tree" && mkdir -p "$tree/DEBIAN" "$tree/usr/share/doc/$name"
    printf '%s\n' "$name: gpuhost stand-in for NVIDIA's JetPack package of that name, tests only." \
        "Not NVIDIA's software. See molecule/shared/standins/jetson in the gpuhost project." \
        >"$tree/usr/share/doc/$name/README.standin"
    local src dest mode
    while IFS='|' read -r src dest mode; do
        [[ -n $dest ]] || continue
        mkdir -p "$(dirname "$tree$dest")"
        if [[ $src == @* ]]; then
            printf '%b' "${src#@}" >"$tree$dest"
        else
            sed "s/@VERSION@/${version%%-*}/g" "$files_dir/$src" >"$tree$dest"
        fi
        chmod "$mode" "$tree$dest"
    done
    if [[ $# -gt 0 ]]; then printf '%s\n' "$@" >"$tree/DEBIAN/conffiles"; fi
    {
        echo "Package: $name"
        echo "Version: $version"
        echo "Architecture: $arch"
        echo "Maintainer: $maintainer"
        echo "Installed-Size: $(du -sk --exclude=DEBIAN "$tree" | cut -f1)"
        [[ -z $depends ]] || echo "Depends: $depends"
        echo "Section: utils"
        echo "Priority: optional"
        echo "Description: gpuhost stand-in for JetPack's $name (tests only)"
        echo " Not NVIDIA's package: same name, dependency shape and paths, small scripts inside."
    } >"$tree/DEBIAN/control"
    mkdir -p "$out"
    dpkg-deb --root-owner-group -Zgzip -z1 --build "$tree" "$out/${name}_${version}_$arch.deb" >/dev/null
}

toolkit() {
    local v=$1 out=$2 up=${1%-*}
    package libnvidia-container1 "$v" "$out" "" </dev/null
    package libnvidia-container-tools "$v" "$out" "libnvidia-container1 (>= $v)" <<EOT
@#!/bin/sh\necho "cli-version: $up (gpuhost stand-in)"\n|/usr/bin/nvidia-container-cli|0755
EOT
    package nvidia-container-toolkit-base "$v" "$out" "" <<EOT
nvidia-container-runtime.py|/usr/bin/nvidia-container-runtime|0755
@[nvidia-container-runtime]\nmode = "auto"\n\n[nvidia-container-runtime.modes.csv]\nmount-spec-path = "/etc/nvidia-container-runtime/host-files-for-container.d"\n|/etc/nvidia-container-runtime/config.toml|0644
EOT
    package nvidia-container-toolkit "$v" "$out" \
        "nvidia-container-toolkit-base (= $v), libnvidia-container-tools (>= $v), libnvidia-container-tools (<< 2.0.0)" <<EOT
nvidia-container-runtime-hook.sh|/usr/bin/nvidia-container-runtime-hook|0755
EOT
}

l4t_core() {
    local v=$1 out=$2 smi=$3 drivers="" files
    files="@dev, /dev/nvmap\ndev, /dev/nvhost-ctrl-gpu\ndev, /dev/nvhost-gpu\n|/etc/nvidia-container-runtime/host-files-for-container.d/devices.csv|0644"
    if [[ $smi == yes ]]; then
        drivers="@lib, /usr/bin/nvidia-smi\n|/etc/nvidia-container-runtime/host-files-for-container.d/drivers.csv|0644"
        printf '%s\n%s\nnvidia-smi.sh|/usr/bin/nvidia-smi|0755\n' "$files" "$drivers" | package nvidia-l4t-core "$v" "$out" ""
    else
        printf '%s\n' "$files" | package nvidia-l4t-core "$v" "$out" ""
    fi
}

index() { # index REPO_ROOT SUITE
    local root=$1 suite=$2 dist=$1/dists/$2
    mkdir -p "$dist/main/binary-$arch"
    (cd "$root" && apt-ftparchive packages "pool/$suite" >"dists/$suite/main/binary-$arch/Packages")
    gzip -9nkf "$dist/main/binary-$arch/Packages"
    apt-ftparchive -o APT::FTPArchive::Release::Origin="gpuhost stand-in" \
        -o APT::FTPArchive::Release::Label="Jetson stand-in" \
        -o APT::FTPArchive::Release::Suite="$suite" -o APT::FTPArchive::Release::Codename="$suite" \
        -o APT::FTPArchive::Release::Architectures="$arch" \
        -o APT::FTPArchive::Release::Components=main release "$dist" >"$x/Release"
    mv "$x/Release" "$dist/Release"
    gpg --batch --yes --pinentry-mode loopback --passphrase '' --local-user "$key_uid" \
        --clearsign -o "$dist/InRelease" "$dist/Release"
    gpg --batch --yes --pinentry-mode loopback --passphrase '' --local-user "$key_uid" \
        -abs -o "$dist/Release.gpg" "$dist/Release"
}

mkdir -p "$work_dir" && chmod 0700 "$work_dir"
export GNUPGHOME=$work_dir/gnupg
mkdir -p "$GNUPGHOME" && chmod 0700 "$GNUPGHOME"
if ! gpg --batch --list-secret-keys "$key_uid" >/dev/null 2>&1; then
    gpg --batch --passphrase '' --quick-gen-key "$key_uid" ed25519 sign never
fi

rm -rf "$base" && mkdir -p "$base"
for line in "${releases[@]}"; do
    IFS='|' read -r suite socs container tk docker2 core <<<"$line"
    common=$base/common/pool/$suite/main
    toolkit "$tk" "$common"
    if [[ -n $docker2 ]]; then
        package nvidia-docker2 "$docker2" "$common" \
            "nvidia-container-toolkit (>= $tk), docker-ce (>= 18.06.0~ce~3-0~ubuntu) | docker-ee (>= 18.06.0~ce~3-0~ubuntu) | docker.io (>= 18.06.0)" \
            /etc/docker/daemon.json <<EOT
@{\n    "runtimes": {\n        "nvidia": {\n            "path": "nvidia-container-runtime",\n            "runtimeArgs": []\n        }\n    }\n}\n|/etc/docker/daemon.json|0644
EOT
        package nvidia-container "$container" "$common" "nvidia-container-toolkit (>= $tk), nvidia-docker2 (>= $docker2)" </dev/null
    else
        package nvidia-container "$container" "$common" "nvidia-container-toolkit (>= $tk)" </dev/null
    fi
    index "$base/common" "$suite"
    for soc in $socs; do
        l4t_core "$core" "$base/$soc/pool/$suite/main" "$([[ $suite == r36.* ]] && echo yes || echo no)"
        index "$base/$soc" "$suite"
    done
done
gpg --batch --armor --export "$key_uid" >"$base/jetson-ota-public.asc"
echo "$digest" >"$stamp"
echo "STANDIN: built"
