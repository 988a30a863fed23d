#!/bin/sh
# Runs at image build time (Dockerfile) inside a Debian test host to give it the identity of
# an Ubuntu release. SIMULATED: every package stays Debian's; see README.md.
#   simulate.sh jammy|noble CONTEXT
set -eu
release=$1 ctx=$2
src=$ctx/$release

# Files from the real release, less the "# source:" line that says where each comes from.
real() { sed '/^# source: /d' "$1"; }

# Identity: os-release (/etc/os-release links to it, as on Debian and Ubuntu), lsb-release
# (no lsb_release command: Debian minbase has none; readers fall back to the file, like the
# get.docker.com script does), and /etc/debian_version as Ubuntu's base-files writes it.
real "$src/os-release" >/usr/lib/os-release
ln -sf ../usr/lib/os-release /etc/os-release
real "$src/lsb-release" >/etc/lsb-release
cat "$src/debian_version" >/etc/debian_version

# apt: the Ubuntu archive files are where and how the release has them, but this host can
# only install Debian's packages (no Ubuntu archive is reachable here). So apt's main list
# (Dir::Etc::SourceList) is moved to a Debian file of its own, and the Ubuntu entries are
# not used by apt: on 22.04 they sit in /etc/apt/sources.list, which apt is told not to read;
# on 24.04 the deb822 stanzas carry `Enabled: no`. /etc/apt/sources.list.d stays apt's, so
# Docker's and NVIDIA's repository files written by the roles work as on Ubuntu.
mkdir -p /etc/apt/gpuhost-simulated
mv /etc/apt/sources.list /etc/apt/gpuhost-simulated/debian.list
cat >/etc/apt/apt.conf.d/00gpuhost-simulated-ubuntu <<'CONF'
// gpuhost SIMULATED Ubuntu test host: apt reads the Debian archive this image was built
// from; /etc/apt/sources.list and ubuntu.sources show Ubuntu's layout (tests/hosts/ubuntu).
Dir::Etc::SourceList "/etc/apt/gpuhost-simulated/debian.list";
CONF
case $release in
    jammy)
        real "$ctx/apt_sources/ubuntu2204_sources.list.txt" >/etc/apt/sources.list
        ;;
    noble)
        cat "$src/sources.list" >/etc/apt/sources.list
        # `Enabled: no` after each stanza's Types line: the stanza stays, apt skips it.
        real "$ctx/apt_sources/ubuntu2404_ubuntu.sources.txt" \
            | sed 's/^Types: deb$/Types: deb\nEnabled: no/' >/etc/apt/sources.list.d/ubuntu.sources
        ;;
    *) echo "simulate.sh: unknown release $release" >&2; exit 1 ;;
esac

# 24.04 only: the AppArmor user-namespace restriction (noble/apparmor/, at every boot).
if [ -d "$src/apparmor" ]; then
    install -d /usr/local/lib/gpuhost-sim
    install -m 0755 "$src/apparmor/gpuhost-sim-apparmor.sh" /usr/local/lib/gpuhost-sim/
    install -m 0755 "$src/apparmor/apparmor_parser" /usr/sbin/apparmor_parser
    install -m 0644 "$src/apparmor/gpuhost-sim-apparmor.service" /etc/systemd/system/
    mkdir -p /etc/systemd/system/sysinit.target.wants
    ln -sf ../gpuhost-sim-apparmor.service /etc/systemd/system/sysinit.target.wants/
fi
