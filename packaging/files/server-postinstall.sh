#!/bin/sh
# vgpu-server package: create the system user and group vgpu (systemd-sysusers where it exists,
# else groupadd/useradd), then let systemd see the unit. The service is not started: the operator
# runs `systemctl enable --now vgpu-server`.
set -e
if command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers /usr/lib/sysusers.d/vgpu.conf || true
fi
if ! getent group vgpu >/dev/null 2>&1; then
	groupadd --system vgpu
fi
if ! getent passwd vgpu >/dev/null 2>&1; then
	useradd --system --gid vgpu --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "vgpu server" vgpu
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
