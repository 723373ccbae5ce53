#!/bin/sh
# vgpu-server package: forget the removed unit. The user and group vgpu stay (files may still
# belong to them), as distributions do.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
