#!/bin/sh
# SIMULATED Ubuntu 24.04 kernel side, for gpuhost test hosts only (tests/hosts/ubuntu).
#
# Ubuntu 23.10 and later kernels have the sysctl kernel.apparmor_restrict_unprivileged_userns,
# set to 1 by default on 24.04, and AppArmor's securityfs at /sys/kernel/security/apparmor.
# The test machine's kernel has neither, and procfs cannot be written. So, in this test
# host's own mount namespace only:
#   - /proc/sys/kernel becomes a tmpfs in which every real entry is bind-mounted back (so
#     every other kernel setting stays live and writable as before) plus a plain file
#     apparmor_restrict_unprivileged_userns holding 1: read and `sysctl -w` work as on 24.04;
#   - /sys/kernel/security gets a tmpfs with apparmor/profiles (the loaded-profiles list)
#     that the stand-in apparmor_parser (/usr/sbin/apparmor_parser) adds to and removes from.
# Run once at boot by gpuhost-sim-apparmor.service; a second run changes nothing.
set -eu
kernel=/proc/sys/kernel
real=/run/gpuhost-sim/proc-sys-kernel

if [ ! -e "$kernel/apparmor_restrict_unprivileged_userns" ]; then
    mkdir -p "$real"
    mount --bind "$kernel" "$real"
    mount -t tmpfs -o mode=0555 gpuhost-sim-sysctl "$kernel"
    for entry in "$real"/*; do
        name=${entry##*/}
        if [ -d "$entry" ]; then mkdir "$kernel/$name"; else : >"$kernel/$name"; fi
        mount --bind "$entry" "$kernel/$name"
    done
    echo 1 >"$kernel/apparmor_restrict_unprivileged_userns"
    chmod 0644 "$kernel/apparmor_restrict_unprivileged_userns"
fi

if [ ! -d /sys/kernel/security/apparmor ]; then
    mount -t tmpfs -o mode=0755 gpuhost-sim-securityfs /sys/kernel/security
    mkdir -p /sys/kernel/security/apparmor
    # Two of the profiles a 24.04 host loads at boot, so the list is not empty.
    printf '%s\n' 'unprivileged_userns (enforce)' '/usr/bin/man (enforce)' \
        >/sys/kernel/security/apparmor/profiles
fi
