/* What nvidia-smi asks of libnvidia-ml.so.1, through vgpu's stub and a server: the private table
 * (shims/nvml/exporttable.c) called the way nvidia-smi calls it, then readings of each way a
 * parameter travels. Prints one "key value" line per check (test/integration/nvml_smi_test.go). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgpu/types.h"
#include "vgpu/zz_prototypes.h"

/* an export vgpu does not implement (a Stub row: its C definition takes no arguments) */
nvmlReturn_t nvmlDeviceGetGridLicensableFeatures_v3(void);

typedef nvmlReturn_t (*slot_fn)(uintptr_t, uintptr_t, uintptr_t, uintptr_t);

static const unsigned char smi_id[16] = {0xc4, 0xfe, 0x3e, 0x6c, 0xc9, 0x8f, 0x6c, 0x4e,
					 0xa3, 0x27, 0xee, 0x69, 0x6e, 0x12, 0xf7, 0xc4};

struct field_value { /* nvmlFieldValue_t, 40 bytes */
	unsigned int fieldId, scopeId;
	long long timestamp, latencyUsec;
	int valueType, nvmlReturn;
	unsigned long long value;
};

struct sample { /* nvmlSample_t, 16 bytes */
	unsigned long long timeStamp;
	union {
		unsigned int uiVal;
		unsigned long long ullVal;
	} sampleValue;
};

/* nvmlDeviceGetSamples of GPU utilisation (NVML_GPU_UTILIZATION_SAMPLES, 1) the way nvidia-smi
 * asks: the count with samples NULL (the count variable holding garbage), then the samples;
 * then only those newer than one of them, an array smaller than the samples there are, an array
 * with a count of 0, samples of another kind and samples newer than any. */
static void samples(nvmlDevice_t dev)
{
	static struct sample s[80], s2[80];
	nvmlValueType_t type = 99;
	unsigned int count = 12345;
	nvmlReturn_t r = nvmlDeviceGetSamples(dev, 1, 0, &type, &count, NULL);
	printf("samples-count %d %u type %d\n", r, count, type);

	memset(s, 0xff, sizeof s);
	unsigned int n = 80;
	r = nvmlDeviceGetSamples(dev, 1, 0, &type, &n, (nvmlSample_t *)s);
	int ordered = n > 0, values = 1;
	for (unsigned int i = 0; i < n; i++) {
		values &= s[i].sampleValue.ullVal == 0;
		if (i > 0 && s[i].timeStamp != s[i - 1].timeStamp + 200000)
			ordered = 0;
	}
	printf("samples %d %u %s %s\n", r, n, ordered ? "every-200ms" : "unordered", values ? "zero" : "values");
	if (r != 0 || n < 71)
		return;

	/* newer than the 61st: from the 62nd on (and any sample taken since) */
	unsigned int m = 80;
	memset(s2, 0xff, sizeof s2);
	r = nvmlDeviceGetSamples(dev, 1, s[60].timeStamp, &type, &m, (nvmlSample_t *)s2);
	printf("samples-since %d %s %s\n", r, m >= 10 && m <= 12 ? "10" : "other", s2[0].timeStamp == s[61].timeStamp ? "next" : "other");
	unsigned int few = 5;
	memset(s2, 0xff, sizeof s2);
	r = nvmlDeviceGetSamples(dev, 1, 0, &type, &few, (nvmlSample_t *)s2);
	printf("samples-few %d %u %s\n", r, few, s2[0].timeStamp == s[0].timeStamp || s2[0].timeStamp == s[1].timeStamp ? "oldest" : "other");
	unsigned int zero = 0;
	r = nvmlDeviceGetSamples(dev, 1, 0, &type, &zero, (nvmlSample_t *)s2);
	printf("samples-zero %d\n", r);
	n = 80;
	r = nvmlDeviceGetSamples(dev, 5, 0, &type, &n, (nvmlSample_t *)s2); /* NVML_PROCESSOR_CLK_SAMPLES */
	printf("samples-clock %d\n", r);
	n = 80;
	r = nvmlDeviceGetSamples(dev, 1, ~0ULL, &type, &n, (nvmlSample_t *)s2);
	printf("samples-future %d\n", r);
	r = nvmlDeviceGetSamples(dev, 1, 0, &type, NULL, NULL);
	printf("samples-null-count %d\n", r);
}

/* the readings nvidia-smi -q asks for beyond those above, each with its output pre-filled */
static void q_readings(nvmlDevice_t dev)
{
	nvmlReturn_t r;
	nvmlDriverModel_t current = 7, pending = 7;
	int r1 = nvmlDeviceGetDriverModel_v2(dev, &current, NULL);
	int r2 = nvmlDeviceGetDriverModel_v2(dev, NULL, &pending);
	printf("driver-model %d %d %d %d\n", r1, r2, current, pending);
	printf("validate-inforom %d\n", nvmlDeviceValidateInforom(dev));
	unsigned long long ts = 0;
	unsigned long duration = 0;
	r = nvmlDeviceGetLastBBXFlushTime(dev, &ts, &duration);
	printf("bbx-flush %d %llu %lu\n", r, ts, duration);
	unsigned int grid[215];
	memset(grid, 0xaa, sizeof grid);
	r = nvmlDeviceGetGridLicensableFeatures_v4(dev, (nvmlGridLicensableFeatures_t *)grid);
	printf("grid-licensable %d %u %u %s\n", r, grid[0], grid[1], grid[214] == 0 ? "cleared" : "stale");
	unsigned long long mask = 0, mask2 = 0;
	r = nvmlDeviceGetSupportedClocksThrottleReasons(dev, &mask);
	printf("supported-throttle-reasons %d %#llx\n", r, mask);
	r = nvmlDeviceGetSupportedClocksEventReasons(dev, &mask2);
	printf("supported-event-reasons %d %#llx\n", r, mask2);
	unsigned int rows[6];
	memset(rows, 0xaa, sizeof rows);
	r = nvmlDeviceGetRemappedRows_v2(dev, (nvmlRemappedRowsInfo_v2_t *)rows);
	printf("remapped-rows-v2 %d %u %u %u %u %u %u\n", r, rows[0], rows[1], rows[2], rows[3], rows[4], rows[5]);
	unsigned int v1[4] = {7, 7, 7, 7};
	r = nvmlDeviceGetRemappedRows(dev, &v1[0], &v1[1], &v1[2], &v1[3]);
	printf("remapped-rows %d %u %u %u %u\n", r, v1[0], v1[1], v1[2], v1[3]);
	unsigned int hist[5] = {7, 7, 7, 7, 7};
	r = nvmlDeviceGetRowRemapperHistogram(dev, (nvmlRowRemapperHistogramValues_t *)hist);
	printf("remapper-histogram %d %u %u %u %u %u\n", r, hist[0], hist[1], hist[2], hist[3], hist[4]);
	unsigned int unrepairable = 7;
	r = nvmlDeviceGetUnrepairableMemoryFlag_v1(dev, (nvmlUnrepairableMemoryStatus_v1_t *)&unrepairable);
	printf("unrepairable-memory %d %u\n", r, unrepairable);
	unsigned int profiles[25];
	memset(profiles, 0xaa, sizeof profiles);
	profiles[0] = 100 | 1 << 24; /* nvmlWorkloadPowerProfileCurrentProfiles_v1 */
	r = nvmlDeviceWorkloadPowerProfileGetCurrentProfiles(dev, (nvmlWorkloadPowerProfileCurrentProfiles_t *)profiles);
	printf("power-profiles %d %#x %#x %#x\n", r, profiles[1], profiles[9], profiles[17]);
	profiles[0] = 104 | 2 << 24; /* a version of another size */
	profiles[1] = 0xaa;
	r = nvmlDeviceWorkloadPowerProfileGetCurrentProfiles(dev, (nvmlWorkloadPowerProfileCurrentProfiles_t *)profiles);
	printf("power-profiles-other-version %d %#x\n", r, profiles[1]);
	samples(dev);
}

int main(void)
{
	nvmlReturn_t r;
	if ((r = nvmlInit_v2()) != 0) {
		printf("init %d\n", r);
		return 1;
	}

	/* the table */
	const void *t = (const void *)1;
	unsigned char other[16];
	memcpy(other, smi_id, 16);
	other[15] ^= 1;
	printf("null-args %d %d\n", nvmlInternalGetExportTable(NULL, smi_id), nvmlInternalGetExportTable(&t, NULL));
	r = nvmlInternalGetExportTable(&t, other);
	printf("other-id %d %s\n", r, t ? "set" : "null");
	const void *const *table = NULL;
	r = nvmlInternalGetExportTable((const void **)&table, smi_id);
	printf("smi-id %d size %lu\n", r, table ? (unsigned long)(uintptr_t)table[0] : 0);
	if (r != 0 || !table)
		return 1;
	size_t nslots = (uintptr_t)table[0] / sizeof(void *);
	size_t filled = 0;
	for (size_t i = 1; i < nslots; i++)
		filled += table[i] != NULL;
	printf("slots %zu filled %zu\n", nslots, filled);
#define SLOT(i) ((slot_fn)table[i])

	/* slot 81: a device handle by index, as the public call gives it */
	nvmlDevice_t pub = NULL, via = NULL, none = NULL;
	nvmlDeviceGetHandleByIndex_v2(0, &pub);
	r = SLOT(81)(0, (uintptr_t)&via, 0x22, 0);
	printf("slot81 %d %s\n", r, via && via == pub ? "same" : "different");
	r = SLOT(81)(99, (uintptr_t)&none, 0x22, 0);
	printf("slot81-bad-index %d %s\n", r, none ? "set" : "untouched");

	/* slots 213-215: the device's processes, none */
	unsigned int count = 250;
	static unsigned char entries[4 * 4128];
	memset(entries, 0xaa, sizeof entries);
	r = SLOT(213)((uintptr_t)pub, (uintptr_t)&count, (uintptr_t)entries, 0);
	printf("slot213 %d count %u entries %s\n", r, count, entries[0] == 0xaa ? "untouched" : "written");

	/* slots 230 and 249: the server's reading (the simulated host has no host-side PCIe
	 * generation, and its sparse operation mode is 0) */
	unsigned int reading = 12345;
	r = SLOT(230)((uintptr_t)pub, (uintptr_t)&reading, ~(uintptr_t)0, 5);
	printf("slot230 %d %u\n", r, reading);
	reading = 12345;
	r = SLOT(249)((uintptr_t)pub, (uintptr_t)&reading, 0, 0);
	printf("slot249 %d %u\n", r, reading);
	/* slot 231: the GPU part number, a string of the length given (the simulated device's) */
	char part[80] = "untouched";
	r = SLOT(231)((uintptr_t)pub, (uintptr_t)part, sizeof part, 0);
	printf("slot231 %d %s\n", r, part);
	/* another slot with a device: not supported, nothing written */
	reading = 12345;
	r = SLOT(232)((uintptr_t)pub, (uintptr_t)&reading, ~(uintptr_t)0, 0);
	printf("slot232 %d %u\n", r, reading);
	/* a slot without a device: success, nothing written */
	reading = 12345;
	r = SLOT(100)(7, (uintptr_t)&reading, 0, 0);
	printf("slot100 %d %u\n", r, reading);

	/* readings, one of each way a parameter travels */
	nvmlEnableState_t display = 7;
	r = nvmlDeviceGetDisplayMode(pub, &display);
	printf("display-mode %d %d\n", r, display);
	unsigned int mig[2] = {7, 7};
	r = nvmlDeviceGetMigMode(pub, &mig[0], &mig[1]);
	printf("mig-mode %d %u %u\n", r, mig[0], mig[1]);
	unsigned long long reasons = 0;
	r = nvmlDeviceGetCurrentClocksEventReasons(pub, &reasons);
	printf("clocks-event-reasons %d %#llx\n", r, reasons);
	char vbios[32] = "";
	r = nvmlDeviceGetVbiosVersion(pub, vbios, sizeof vbios);
	printf("vbios %d %s\n", r, vbios);
	unsigned int temp[3] = {12 | 1 << 24, 0, 0}; /* nvmlTemperature_v1 */
	r = nvmlDeviceGetTemperatureV(pub, (nvmlTemperature_t *)temp);
	printf("temperature-v %d %u\n", r, temp[2]);
	unsigned int temp2[4] = {16 | 2 << 24, 0, 0, 0xaa}; /* a version of another size */
	r = nvmlDeviceGetTemperatureV(pub, (nvmlTemperature_t *)temp2);
	printf("temperature-v-other-version %d %#x\n", r, temp2[3]);
	struct field_value fv[2];
	memset(fv, 0, sizeof fv);
	fv[0].fieldId = 82; /* NVML_FI_DEV_MEMORY_TEMP */
	fv[1].fieldId = 1;
	r = nvmlDeviceGetFieldValues(pub, 2, (nvmlFieldValue_t *)fv);
	printf("field-values %d %d %llu %d\n", r, fv[0].nvmlReturn, fv[0].value, fv[1].nvmlReturn);
	unsigned long cpus[2] = {0, 0};
	r = nvmlDeviceGetCpuAffinity(pub, 2, cpus);
	printf("cpu-affinity %d %#lx\n", r, cpus[0]);
	nvmlGpuTopologyLevel_t level = 99;
	r = nvmlDeviceGetTopologyCommonAncestor(pub, pub, &level);
	printf("topology %d %d\n", r, level);
	unsigned int board = 12345;
	r = nvmlDeviceGetBoardId(pub, &board);
	printf("board-id %d %u\n", r, board);
	q_readings(pub);
	printf("unimplemented %d\n", nvmlDeviceGetGridLicensableFeatures_v3());
	/* events: a set in the client, no event types, a wait that times out */
	nvmlEventSet_t set = 0;
	r = nvmlEventSetCreate(&set);
	unsigned long long types = 12345;
	int rt = nvmlDeviceGetSupportedEventTypes(pub, &types);
	int rr = nvmlDeviceRegisterEvents(pub, 1ULL << 3, set);
	nvmlEventData_t *data = calloc(1, 64);
	int rw = nvmlEventSetWait_v2(set, data, 20);
	int rf = nvmlEventSetFree(set);
	int rf2 = nvmlEventSetFree(set);
	printf("events %d %s %d %llu %d %d %d %d\n", r, set ? "set" : "null", rt, types, rr, rw, rf, rf2);
	nvmlShutdown();
	return 0;
}
