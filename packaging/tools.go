package main

import (
	_ "github.com/goreleaser/nfpm/v2"
	_ "tags.cncf.io/container-device-interface/pkg/cdi"
)
