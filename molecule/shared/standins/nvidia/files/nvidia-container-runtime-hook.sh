#!/bin/sh
# gpuhost test stand-in for NVIDIA's nvidia-container-runtime-hook (package
# nvidia-container-toolkit); NOT NVIDIA's tool, tests only.
#
# Its presence on PATH when dockerd starts is what makes dockerd register its `--gpus` device
# driver (moby daemon/nvidia_linux.go). dockerd then adds it as an OCI prestart hook,
# `nvidia-container-runtime-hook prestart`, with the container state on stdin. Like the real
# hook in legacy mode, it hands the work to nvidia-container-cli, which fails unless the
# stand-in driver is "loaded" (/etc/standin-nvidia/driver-loaded). Every call is logged to
# /run/standin-nvidia/hook.log so tests can prove the hook ran.
# runc starts hooks with an empty environment: set PATH ourselves.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
version=@VERSION@
log_dir=/run/standin-nvidia

case "$1" in
-version | --version | -v)
    echo "NVIDIA Container Runtime Hook version $version"
    echo "commit: gpuhost-standin"
    exit 0
    ;;
prestart)
    state=$(cat)
    mkdir -p "$log_dir"
    printf '%s prestart %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$state" >>"$log_dir/hook.log"
    exec nvidia-container-cli --load-kmods configure --ldconfig=@/sbin/ldconfig --device=all \
        --compute --utility --pid=0 /
    ;;
poststart | poststop)
    exit 0
    ;;
esac
echo "nvidia-container-runtime-hook (gpuhost stand-in): unknown command '$1'" >&2
exit 2
