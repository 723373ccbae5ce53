package client

import "github.com/vgpu/vgpu/internal/api"

// Tests call rows by name, as a program names them; the client's own code names them by id.

func rowID(name string) api.ID {
	id, _, ok := api.Lookup(name)
	if !ok {
		panic("client test: no table row " + name)
	}
	return id
}

func dispatchByName(lib api.Lib, name string, args ...uint64) int64 {
	return dispatchRow(lib, rowID(name), args...)
}

func remoteByName(lib api.Lib, name string, args ...uint64) int64 {
	return remoteRow(lib, rowID(name), args...)
}
