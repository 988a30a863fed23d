#!/bin/sh
# gpuhost test stand-in for NVIDIA's nvidia-container-runtime (package
# nvidia-container-toolkit-base); NOT NVIDIA's runtime, tests only. The real one edits the OCI
# spec (mode auto: legacy, cdi, jit-cdi, csv) and then runs the first low-level runtime of its
# config's `runtimes` list; the stand-in only does the second part, so `--runtime nvidia`
# containers run like plain runc ones.
if [ $# -eq 1 ] && [ "$1" = --version ]; then
    echo "NVIDIA Container Runtime version @VERSION@"
    echo "commit: gpuhost-standin"
    exit 0
fi
for runtime in docker-runc runc crun; do
    path=$(command -v "$runtime") && exec "$path" "$@"
done
echo "nvidia-container-runtime (gpuhost stand-in): none of docker-runc, runc, crun found" >&2
exit 1
