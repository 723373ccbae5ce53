#!/bin/sh
# vgpu-server package: stop and disable the service when the package is removed (deb: "remove";
# rpm: 0 packages left), not on upgrade.
if [ "$1" = remove ] || [ "$1" = 0 ]; then
	if [ -d /run/systemd/system ]; then
		systemctl disable --now vgpu-server.service >/dev/null 2>&1 || true
	fi
fi
exit 0
