#!/bin/sh
# gpuhost test stand-in for NVIDIA's nvidia-container-runtime-hook (package
# nvidia-container-toolkit) as it behaves on a Jetson; NOT NVIDIA's tool, tests only.
#
# On PATH when dockerd starts, it makes dockerd register its `--gpus` driver, which adds
# `nvidia-container-runtime-hook prestart` to the container. On a Tegra system the hook's mode
# resolves to csv, and outside legacy mode the real hook refuses with the text below: `--gpus`
# does not work on a Jetson by design; `--runtime nvidia` does.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
case "$1" in
-version | --version | -v)
    echo "NVIDIA Container Runtime Hook version @VERSION@"
    echo "commit: gpuhost-standin"
    exit 0
    ;;
prestart)
    cat >/dev/null
    if [ -e /etc/nv_tegra_release ]; then
        echo "invoking the NVIDIA Container Runtime Hook directly (e.g. specifying the docker --gpus flag) is not supported. Please use the NVIDIA Container Runtime (e.g. specify the --runtime=nvidia flag) instead." >&2
        exit 1
    fi
    echo "nvidia-container-runtime-hook (gpuhost stand-in): only the Jetson (CSV mode) behaviour is stood in for here" >&2
    exit 1
    ;;
poststart | poststop)
    exit 0
    ;;
esac
echo "nvidia-container-runtime-hook (gpuhost stand-in): unknown command '$1'" >&2
exit 2
