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
nvmlReturn_t nvmlDeviceGetGridLicensableFeatures_v4(void);

typedef nvmlReturn_t (*slot_fn)(uintptr_t, uintptr_t, uintptr_t, uintptr_t);

static const unsigned char smi_id[16] = {0xc4, 0xfe, 0x3e, 0x6c, 0xc9, 0x8f, 0x6c, 0x4e,
					 0xa3, 0x27, 0xee, 0x69, 0x6e, 0x12, 0xf7, 0xc4};

struct field_value { /* nvmlFieldValue_t, 40 bytes */
	unsigned int fieldId, scopeId;
	long long timestamp, latencyUsec;
	int valueType, nvmlReturn;
	unsigned long long value;
};

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

	/* another slot with a device: not supported, nothing written */
	unsigned int reading = 12345;
	r = SLOT(230)((uintptr_t)pub, (uintptr_t)&reading, 0, 0);
	printf("slot230 %d %u\n", r, reading);
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
	printf("unimplemented %d\n", nvmlDeviceGetGridLicensableFeatures_v4());
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
