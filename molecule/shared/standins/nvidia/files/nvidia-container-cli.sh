#!/bin/sh
# gpuhost test stand-in for NVIDIA's nvidia-container-cli (package libnvidia-container-tools);
# NOT NVIDIA's tool, tests only. Without the stand-in driver flag
# (/etc/standin-nvidia/driver-loaded) every command that needs the driver fails with the
# message the real tool prints on a host without libnvidia-ml; with it, `info` describes one
# stand-in GPU and `configure` (what the runtime hook calls) succeeds without doing anything.
version=@VERSION@
flag=/etc/standin-nvidia/driver-loaded

while [ $# -gt 0 ]; do
    case "$1" in
    --version | -V)
        echo "cli-version: $version"
        echo "lib-version: $version"
        echo "build date: gpuhost stand-in"
        exit 0
        ;;
    -*) shift ;;
    *) break ;;
    esac
done

command=${1:-}
case "$command" in
info | list | configure) ;;
*)
    echo "nvidia-container-cli: unrecognized command '$command' (gpuhost stand-in)" >&2
    exit 1
    ;;
esac
if [ ! -e "$flag" ]; then
    echo "nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: no such file or directory" >&2
    exit 1
fi
case "$command" in
info)
    echo "NVRM version:   0.0.0 (gpuhost stand-in driver)"
    echo "CUDA version:   0.0"
    echo ""
    echo "Device Index:   0"
    echo "Model:          gpuhost stand-in GPU"
    echo "Brand:          gpuhost stand-in"
    echo "GPU UUID:       GPU-00000000-0000-0000-0000-000000000000"
    ;;
list) ;;
configure) ;;
esac
exit 0
