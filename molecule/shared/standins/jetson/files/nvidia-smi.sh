#!/bin/sh
# gpuhost test stand-in for JetPack 6's limited nvidia-smi; NOT NVIDIA's tool, tests only.
# Its `-L` line has the shape JetPack 6 prints on an Orin (no UUID).
case "$1" in
-L) echo "GPU 0: Orin (nvgpu)" ;;
*) echo "NVIDIA-SMI (gpuhost stand-in for JetPack 6 on Orin; only -L is stood in for)" ;;
esac
