#!/bin/sh
# gpuhost test stand-in for the nvidia-docker wrapper of nvidia-docker2 (<= 2.13); NOT NVIDIA's
# script, tests only. Like the old wrapper it adds --runtime=nvidia to run and create.
case "${1:-}" in
run | create)
    command=$1
    shift
    exec docker "$command" --runtime=nvidia "$@"
    ;;
esac
exec docker "$@"
