package server

import (
	"encoding/binary"
	"time"

	"github.com/vgpu/vgpu/internal/api"
)

// The simulated device's answers to some of the NVML readings nvidia-smi shows, one of each way
// a parameter travels (a word, two outputs, a 64-bit mask, a string, a versioned struct, an
// array of records in and out, an array of words, two devices, a counted array of samples), and
// to those of nvidia-smi -q that the sim once did not serve. Every other reading of
// internal/api/table_nvml.go is not implemented here and answers NVML_ERROR_NOT_SUPPORTED, which
// nvidia-smi prints as N/A. (Added to simFuncs after sim.go's init, which creates the map: Go
// runs a package's files' init functions in file name order.)

const (
	simTemperature      = 33 // °C, the GPU die
	simMemTemperature   = 36 // °C, NVML_FI_DEV_MEMORY_TEMP
	simVBIOS            = "96.00.00.00.00"
	nvmlErrNotSupported = 3
	nvmlErrInvalidArg   = 2

	// the clocks event reasons the simulated device reports (nvmlClocksEventReason*: idle,
	// applications clocks, SW power cap, HW slowdown, sync boost, SW and HW thermal slowdown,
	// HW power brake, display clock), as an H100 does; the current one is idle
	simSupportedClocksEventReasons = 0x1ff
	// the last flush of the infoROM's BBX object: 2026-01-01 00:00 UTC (µs), taking 1.5 ms
	simBBXFlushTime     = 1767225600 * 1000000
	simBBXFlushDuration = 1500
	// the row remapper's banks, all with maximum remap availability (as an H100 reports them)
	simRemapBanks = 2560
	// the workload power profiles the simulated device offers (a bit each: MAX_P, MAX_Q, COMPUTE);
	// none requested or enforced
	simPowerProfiles = 0x7
	// utilisation samples (nvmlDeviceGetSamples): one every simSamplePeriod, the last
	// simSampleCount kept, as an H100's driver keeps them (every value 0, the utilisation
	// nvmlDeviceGetUtilizationRates answers)
	simSampleCount  = 71
	simSamplePeriod = 200 * time.Millisecond
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
	for id, fn := range map[api.ID]func(s *Sim, a *Args, h int) int32{
		api.IDnvmlDeviceGetDisplayMode: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetDisplayModeArgs{a}
			put32(arg.display(), 0)
			return 0
		}, // NVML_FEATURE_DISABLED
		api.IDnvmlDeviceGetMigMode: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetMigModeArgs{a}
			put32(arg.currentMode(), 0) // NVML_DEVICE_MIG_DISABLE, current and pending
			put32(arg.pendingMode(), 0)
			return 0
		},
		api.IDnvmlDeviceGetCurrentClocksEventReasons: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetCurrentClocksEventReasonsArgs{a}
			put64(arg.clocksEventReasons(), 1) // nvmlClocksEventReasonGpuIdle
			return 0
		},
		api.IDnvmlDeviceGetVbiosVersion: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetVbiosVersionArgs{a}
			if len(arg.version()) < len(simVBIOS)+1 {
				return nvmlErrInsufficient
			}
			putString(arg.version(), simVBIOS)
			return 0
		},
		// nvmlTemperature_t: version, sensorType (in), temperature (out, an int)
		api.IDnvmlDeviceGetTemperatureV: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetTemperatureVArgs{a}
			t := arg.temperature()
			if binary.LittleEndian.Uint32(t[4:]) != 0 { // NVML_TEMPERATURE_GPU
				return 2
			}
			put32(t[8:], simTemperature)
			return 0
		},
		// nvmlFieldValue_t records: fieldId (in) at 0, latencyUsec at 16, valueType at 24,
		// nvmlReturn at 28, the value at 32
		api.IDnvmlDeviceGetFieldValues: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetFieldValuesArgs{a}
			v := arg.values()
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
		api.IDnvmlDeviceGetCpuAffinity: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetCpuAffinityArgs{a}
			clear(arg.cpuSet())
			if len(arg.cpuSet()) >= 8 {
				put64(arg.cpuSet(), 3)
			}
			return 0
		},
		api.IDnvmlDeviceGetTopologyCommonAncestor: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetTopologyCommonAncestorArgs{a}
			h2 := s.nvmlHost(arg.device2())
			switch {
			case h2 < 0:
				return 2
			case h2 == h:
				put32(arg.pathInfo(), 0) // NVML_TOPOLOGY_INTERNAL
			default:
				put32(arg.pathInfo(), 40) // NVML_TOPOLOGY_NODE
			}
			return 0
		},
		api.IDnvmlDeviceValidateInforom: func(s *Sim, a *Args, h int) int32 { return 0 },
		api.IDnvmlDeviceGetLastBBXFlushTime: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetLastBBXFlushTimeArgs{a}
			put64(arg.timestamp(), simBBXFlushTime)
			put64(arg.durationUs(), simBBXFlushDuration)
			return 0
		},
		// nvmlGridLicensableFeatures_t: no vGPU software licensing, no features
		api.IDnvmlDeviceGetGridLicensableFeatures_v4: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetGridLicensableFeatures_v4Args{a}
			clear(arg.pGridLicensableFeatures())
			return 0
		},
		api.IDnvmlDeviceGetSupportedClocksEventReasons: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetSupportedClocksEventReasonsArgs{a}
			put64(arg.supportedClocksEventReasons(), simSupportedClocksEventReasons)
			return 0
		},
		api.IDnvmlDeviceGetSupportedClocksThrottleReasons: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetSupportedClocksThrottleReasonsArgs{a}
			put64(arg.supportedClocksThrottleReasons(), simSupportedClocksEventReasons)
			return 0
		},
		// no remapped rows, none pending, no failure; no unrepairable memory
		api.IDnvmlDeviceGetRemappedRows: func(s *Sim, a *Args, h int) int32 {
			for i := 1; i <= 4; i++ {
				put32(a.Out[i], 0)
			}
			return 0
		},
		api.IDnvmlDeviceGetRemappedRows_v2: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetRemappedRows_v2Args{a}
			clear(arg.info())
			return 0
		},
		api.IDnvmlDeviceGetUnrepairableMemoryFlag_v1: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetUnrepairableMemoryFlag_v1Args{a}
			put32(arg.unrepairableMemoryStatus(), 0)
			return 0
		},
		// nvmlRowRemapperHistogramValues_t: max, high, partial, low, none
		api.IDnvmlDeviceGetRowRemapperHistogram: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceGetRowRemapperHistogramArgs{a}
			clear(arg.values())
			put32(arg.values(), simRemapBanks)
			return 0
		},
		// nvmlWorkloadPowerProfileCurrentProfiles_t: version (checked), then the masks of the
		// valid, requested and enforced profiles, 32 bytes each
		api.IDnvmlDeviceWorkloadPowerProfileGetCurrentProfiles: func(s *Sim, a *Args, h int) int32 {
			arg := nvmlDeviceWorkloadPowerProfileGetCurrentProfilesArgs{a}
			clear(arg.currentProfiles()[4:])
			put32(arg.currentProfiles()[4:], simPowerProfiles)
			return 0
		},
		api.IDnvmlDeviceGetSamples: simSamples,
	} {
		simFuncs[id] = dev(fn)
	}
}

// simSamples answers nvmlDeviceGetSamples (device, type, lastSeenTimeStamp, sampleValType,
// sampleCount, samples) for the utilisation the simulated device has: the samples of the last
// simSampleCount periods newer than lastSeenTimeStamp (µs of the host's clock), oldest first, as
// many as the array holds; with no array (the count query) how many there are. Power and clock
// samples are readings it does not have (NVML_ERROR_NOT_SUPPORTED, as for the power and clock
// queries); no sample newer than lastSeenTimeStamp is NVML_ERROR_NOT_FOUND.
func simSamples(s *Sim, a *Args, h int) int32 {
	switch a.Vals[1] {
	case 1, 2, 3, 4, 8, 9: // GPU, memory, encoder, decoder, JPEG, OFA utilisation
	case 0, 5, 6, 7: // total power, processor and memory clocks, module power
		return nvmlErrNotSupported
	default:
		return nvmlErrInvalidArg
	}
	period := uint64(simSamplePeriod / time.Microsecond)
	last := uint64(time.Now().UnixMicro()) / period * period
	first := last - (simSampleCount-1)*period
	switch seen := a.Vals[2]; {
	case seen >= last:
		return nvmlErrNotFound
	case seen >= first:
		first = (seen/period + 1) * period
	}
	n := (last-first)/period + 1
	out := a.Out[5]
	if len(out) > 0 {
		n = min(n, uint64(len(out)/16))
		clear(out)
		for i := uint64(0); i < n; i++ {
			put64(out[16*i:], first+i*period) // timeStamp; the value (an unsigned int) stays 0
		}
	}
	put32(a.Out[3], 1) // NVML_VALUE_TYPE_UNSIGNED_INT
	put32(a.Out[4], uint32(n))
	return 0
}

// simPrivateSparseMode is the sparse operation mode the simulated device reports through
// nvidia-smi's private table (slot 249): 0, which nvidia-smi prints as Disabled, as an H100's.
const simPrivateSparseMode = 0

// simPartNumber is the GPU part number the simulated device reports (slot 231), as nvidia-smi -q
// prints it under "GPU Part Number"; the form of an H100's, the digits made up.
const simPartNumber = "0000-000-S1"

// NVMLPrivateReading answers the private-table readings vgpu forwards (api.NVMLPrivateSlots): the
// sparse operation mode; the host side's PCIe generation (slot 230) is one the simulated host
// does not have.
func (s *Sim) NVMLPrivateReading(slot uint32, device uint64, value []byte) int32 {
	if s.nvmlHost(device) < 0 {
		return nvmlErrInvalidArg
	}
	switch slot {
	case 249:
		put32(value, simPrivateSparseMode)
		return 0
	case 231:
		if len(value) < len(simPartNumber)+1 {
			return nvmlErrInsufficient
		}
		copy(value, simPartNumber+"\x00")
		return 0
	}
	return nvmlErrNotSupported
}
