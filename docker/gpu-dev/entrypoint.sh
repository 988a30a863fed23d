#!/bin/sh
# Runs before CMD on every start, then replaces itself with CMD (exec), so CMD is PID 1 and
# gets docker stop's SIGTERM.
set -eu
# Host keys are made per container, not baked into the image: every container of a shared
# image would otherwise have the same key.
ssh-keygen -A >/dev/null
# /run is empty in a fresh container; sshd needs its privilege separation directory.
mkdir -p /run/sshd
if [ -n "${SSH_AUTHORIZED_KEYS:-}" ]; then
    home=$(getent passwd "$DEV_USER" | cut -d: -f6)
    install -d -m 0700 -o "$DEV_USER" -g "$DEV_USER" "$home/.ssh"
    printf '%s\n' "$SSH_AUTHORIZED_KEYS" > "$home/.ssh/authorized_keys"
    chown "$DEV_USER:$DEV_USER" "$home/.ssh/authorized_keys"
    chmod 0600 "$home/.ssh/authorized_keys"
fi
exec "$@"
