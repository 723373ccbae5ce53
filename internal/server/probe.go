package server

import (
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/vgpu/vgpu/internal/settings"
)

// ProbeHost asks the host's NVML (through go-nvml) whether there is a GPU to serve. It never
// creates a CUDA context; the workers do, per session.
func ProbeHost() Probe {
	lib := nvml.New(nvml.WithLibraryPath(settings.RealLibNVML.Get()))
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return Probe{Backend: "sim", Reason: fmt.Sprintf("NVML: %v", nvml.ErrorString(ret))}
	}
	defer lib.Shutdown()
	driver, _ := lib.SystemGetDriverVersion()
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS || n == 0 {
		return Probe{Backend: "sim", Reason: "NVML finds no device"}
	}
	p := Probe{Backend: "real", Driver: driver}
	for i := 0; i < n; i++ {
		d, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			continue
		}
		name, _ := d.GetName()
		p.Devices = append(p.Devices, name)
	}
	if _, err := OpenReal(); err != nil {
		return Probe{Backend: "sim", Reason: err.Error()}
	}
	return p
}
