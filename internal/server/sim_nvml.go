package server

import "encoding/binary"

// The simulated device's answers to some of the NVML readings nvidia-smi shows, one of each way
// a parameter travels (a word, two outputs, a 64-bit mask, a string, a versioned struct, an
// array of records in and out, an array of words, two devices). Every other reading of
// internal/api/table_nvml.go is not implemented here and answers NVML_ERROR_NOT_SUPPORTED, which
// nvidia-smi prints as N/A. (Added to simFuncs after sim.go's init, which creates the map: Go
// runs a package's files' init functions in file name order.)

const (
	simTemperature      = 33 // °C, the GPU die
	simMemTemperature   = 36 // °C, NVML_FI_DEV_MEMORY_TEMP
	simVBIOS            = "96.00.00.00.00"
	nvmlErrNotSupported = 3
)

func init() {
	dev := func(fn func(s *Sim, a *Args, h int) int32) func(s *Sim, a *Args) int32 {
		return func(s *Sim, a *Args) int32 {
			h := s.nvmlHost(a.Vals[0])
			if h < 0 {
				return 2 // NVML_ERROR_INVALID_ARGUMENT
			}
			return fn(s, a, h)
		}
	}
	for name, fn := range map[string]func(s *Sim, a *Args, h int) int32{
		"nvmlDeviceGetDisplayMode": func(s *Sim, a *Args, h int) int32 { put32(a.Out[1], 0); return 0 }, // NVML_FEATURE_DISABLED
		"nvmlDeviceGetMigMode": func(s *Sim, a *Args, h int) int32 {
			put32(a.Out[1], 0) // NVML_DEVICE_MIG_DISABLE, current and pending
			put32(a.Out[2], 0)
			return 0
		},
		"nvmlDeviceGetCurrentClocksEventReasons": func(s *Sim, a *Args, h int) int32 {
			put64(a.Out[1], 1) // nvmlClocksEventReasonGpuIdle
			return 0
		},
		"nvmlDeviceGetVbiosVersion": func(s *Sim, a *Args, h int) int32 {
			if len(a.Out[1]) < len(simVBIOS)+1 {
				return nvmlErrInsufficient
			}
			putString(a.Out[1], simVBIOS)
			return 0
		},
		// nvmlTemperature_t: version, sensorType (in), temperature (out, an int)
		"nvmlDeviceGetTemperatureV": func(s *Sim, a *Args, h int) int32 {
			t := a.Out[1]
			if binary.LittleEndian.Uint32(t[4:]) != 0 { // NVML_TEMPERATURE_GPU
				return 2
			}
			put32(t[8:], simTemperature)
			return 0
		},
		// nvmlFieldValue_t records: fieldId (in) at 0, latencyUsec at 16, valueType at 24,
		// nvmlReturn at 28, the value at 32
		"nvmlDeviceGetFieldValues": func(s *Sim, a *Args, h int) int32 {
			v := a.Out[2]
			for i := 0; i+40 <= len(v); i += 40 {
				r := v[i : i+40]
				clear(r[8:])
				if binary.LittleEndian.Uint32(r) == 82 { // NVML_FI_DEV_MEMORY_TEMP
					put32(r[24:], 1) // NVML_VALUE_TYPE_UNSIGNED_INT
					put32(r[32:], simMemTemperature)
				} else {
					put32(r[28:], nvmlErrNotSupported)
				}
			}
			return 0
		},
		// the host's CPUs 0 and 1, as words of a CPU mask
		"nvmlDeviceGetCpuAffinity": func(s *Sim, a *Args, h int) int32 {
			clear(a.Out[2])
			if len(a.Out[2]) >= 8 {
				put64(a.Out[2], 3)
			}
			return 0
		},
		"nvmlDeviceGetTopologyCommonAncestor": func(s *Sim, a *Args, h int) int32 {
			h2 := s.nvmlHost(a.Vals[1])
			switch {
			case h2 < 0:
				return 2
			case h2 == h:
				put32(a.Out[2], 0) // NVML_TOPOLOGY_INTERNAL
			default:
				put32(a.Out[2], 40) // NVML_TOPOLOGY_NODE
			}
			return 0
		},
	} {
		simFuncs[name] = dev(fn)
	}
}
