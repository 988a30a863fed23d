#!/bin/sh
# gpuhost test stand-in for NVIDIA's nvidia-cdi-hook (package nvidia-container-toolkit-base);
# NOT NVIDIA's tool, tests only. The real one runs as an OCI hook from CDI specs
# (create-symlinks, update-ldcache, chmod, ...); the stand-in accepts them and does nothing.
case "${1:-}" in
--version | -v)
    echo "NVIDIA CDI Hook version @VERSION@"
    echo "commit: gpuhost-standin"
    ;;
esac
exit 0
