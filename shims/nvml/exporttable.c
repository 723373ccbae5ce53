/* nvmlInternalGetExportTable: NVML's private tables. nvidia-smi asks for one right after
 * nvmlInit and, when it is refused, prints "Mismatch in versions between nvidia-smi and NVML."
 * and exits with 255. Nothing about the table is documented; what this file relies on was found
 * by others who reverse engineered nvidia-smi 580 (docs/ARCHITECTURE.md, "nvidia-smi's private
 * table"):
 *
 *   - the call is (const void **ppExportTable, const void *pExportTableId), the id 16 bytes;
 *   - the table is an array of words: its size in bytes (nvidia-smi wants more than 648), then
 *     function pointers, each returning nvmlReturn_t;
 *   - slot 81 gives a device's handle by index: (unsigned int index, nvmlDevice_t *device, flags);
 *   - slots 213 to 215 list a device's processes: (nvmlDevice_t device, unsigned int *count, in
 *     the capacity and out the number of entries, entries);
 *   - slot 230 reads the host side's maximum PCIe generation and slot 249 the sparse operation
 *     mode, each as (nvmlDevice_t device, unsigned int *value); slot 231 the GPU part number as
 *     (nvmlDevice_t device, char *buf, unsigned int length, …);
 *   - nvidia-smi calls other slots with a device handle first (a reading it prints N/A for when
 *     the slot fails) or without one (`nvidia-smi topo -m` gives up when one of those fails).
 *
 * So the table answers: slot 81 with this library's nvmlDeviceGetHandleByIndex_v2 (the server's
 * handle, filtered by the session's policy like every other); slots 213 to 215 with no process
 * (vgpu shows a client only its own process, and nvidia-smi has none on the GPU); slots 230, 231
 * and 249 with the host's own slot, called by the server (the Internal row vgpuNvmlPrivateReading,
 * api.NVMLPrivateSlots); any other slot called with one of the session's device handles with
 * NVML_ERROR_NOT_SUPPORTED; any other call with NVML_SUCCESS, writing nothing. Each slot has its
 * own trampoline, so a call is known by its slot. VGPU_LOG=debug logs every slot call with its
 * first four argument words. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vgpu/types.h"
#include "vgpu/stub.h"
#include "vgpu/zz_prototypes.h"
#include "vgpu/zz_ids.h"

#define NVML_SUCCESS 0
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_FUNCTION_NOT_FOUND 13

/* The one table id nvidia-smi asks for, 6c3efec4-8fc9-4e6c-a327-ee696e12f7c4, as its bytes lie
 * in memory (the first three groups little-endian). */
static const unsigned char smi_table_id[16] = {0xc4, 0xfe, 0x3e, 0x6c, 0xc9, 0x8f, 0x6c, 0x4e,
					       0xa3, 0x27, 0xee, 0x69, 0x6e, 0x12, 0xf7, 0xc4};

#define SLOTS 512 /* 4096 bytes: every slot nvidia-smi 580 was seen to call lies below 256 */
#define SLOT_HANDLE_BY_INDEX 81
#define SLOT_PROCESSES_FIRST 213
#define SLOT_PROCESSES_LAST 215
#define SLOT_HOST_PCIE_GEN_MAX 230 /* (device, unsigned int *): forwarded */
#define SLOT_SPARSE_MODE 249       /* (device, unsigned int *): forwarded */
#define SLOT_PART_NUMBER 231       /* (device, char *, unsigned int length, ...): forwarded */
#define MAX_DEVICES 64

/* VGPU_LOG as internal/vlog reads it: 2 debug, 0 quiet, 1 otherwise. */
static int log_level(void)
{
	static int level = -1;
	if (level < 0) {
		const char *v = getenv("VGPU_LOG");
		level = 1;
		if (v && (!strcmp(v, "debug") || !strcmp(v, "trace")))
			level = 2;
		else if (v && (!strcmp(v, "quiet") || !strcmp(v, "error")))
			level = 0;
	}
	return level;
}

static void say(const char *line, int n)
{
	if (n > 0) {
		ssize_t w = write(2, line, (size_t)n < 256 ? (size_t)n : 255);
		(void)w;
	}
}

/* The session's device handles, asked once NVML is initialised (the server's handles stay
 * valid for the session). A slot's first argument is a device when it is one of them. */
static pthread_mutex_t devices_mu = PTHREAD_MUTEX_INITIALIZER;
static nvmlDevice_t devices[MAX_DEVICES];
static unsigned int ndevices;
static int devices_known;

static int is_device(uintptr_t v)
{
	if (!v)
		return 0;
	pthread_mutex_lock(&devices_mu);
	if (!devices_known) {
		unsigned int n = 0;
		if (nvmlDeviceGetCount_v2(&n) == NVML_SUCCESS) {
			for (unsigned int i = 0; i < n && ndevices < MAX_DEVICES; i++)
				if (nvmlDeviceGetHandleByIndex_v2(i, &devices[ndevices]) == NVML_SUCCESS)
					ndevices++;
			devices_known = 1;
		}
	}
	int found = 0;
	for (unsigned int i = 0; i < ndevices && !found; i++)
		found = (uintptr_t)devices[i] == v;
	pthread_mutex_unlock(&devices_mu);
	return found;
}

static nvmlReturn_t slot_call(unsigned int slot, uintptr_t a0, uintptr_t a1, uintptr_t a2, uintptr_t a3)
{
	nvmlReturn_t r;
	const char *what;
	if (slot == SLOT_HANDLE_BY_INDEX && a1) {
		/* an unsigned int: the register's upper half is not the caller's */
		r = nvmlDeviceGetHandleByIndex_v2((unsigned int)a0, (nvmlDevice_t *)a1);
		what = "device handle by index";
	} else if (!is_device(a0)) {
		r = NVML_SUCCESS;
		what = "no device: nothing written";
	} else if (slot >= SLOT_PROCESSES_FIRST && slot <= SLOT_PROCESSES_LAST && a1) {
		*(unsigned int *)a1 = 0;
		r = NVML_SUCCESS;
		what = "process list: none";
	} else if ((slot == SLOT_HOST_PCIE_GEN_MAX || slot == SLOT_SPARSE_MODE) && a1) {
		/* (device, slot, value, its size): the server checks both against its own list */
		uint64_t args[4] = {a0, slot, a1, sizeof(unsigned int)};
		r = (nvmlReturn_t)vgpu_stub_call(VGPU_ID_vgpuNvmlPrivateReading, args);
		what = "the host's reading";
	} else if (slot == SLOT_PART_NUMBER && a1 && (unsigned int)a2 && (unsigned int)a2 <= 256) {
		/* an unsigned int length (the register's upper half is not the caller's); the string
		 * and its NUL are written, nothing after them, as the host's slot does */
		char part[256];
		unsigned int n = (unsigned int)a2;
		uint64_t args[4] = {a0, slot, (uintptr_t)part, n};
		r = (nvmlReturn_t)vgpu_stub_call(VGPU_ID_vgpuNvmlPrivateReading, args);
		if (r == NVML_SUCCESS)
			memcpy((char *)a1, part, strnlen(part, n - 1) + 1);
		what = "the host's reading";
	} else {
		r = NVML_ERROR_NOT_SUPPORTED;
		what = "device reading vgpu does not serve";
		static int logged;
		if (log_level() == 1 && !__atomic_exchange_n(&logged, 1, __ATOMIC_RELAXED)) {
			char line[256];
			say(line, snprintf(line, sizeof line,
					   "vgpu: nvidia-smi asked NVML's private table for readings vgpu does not serve "
					   "(slot %u and maybe others; VGPU_LOG=debug lists them): they show as N/A\n",
					   slot));
		}
	}
	if (log_level() == 2) {
		char line[256];
		say(line, snprintf(line, sizeof line,
				   "vgpu: nvmlInternalGetExportTable slot %u(%#lx, %#lx, %#lx, %#lx) = %d (%s)\n", slot,
				   (unsigned long)a0, (unsigned long)a1, (unsigned long)a2, (unsigned long)a3, r, what));
	}
	return r;
}

/* One trampoline per slot, slot_ABC for slot ABC in octal (0 to 511): the caller passes no slot
 * number, so each address must know its own. Only the first four integer argument registers are
 * read; a slot taking fewer leaves the rest as they were, which slot_call never dereferences
 * unless the slot's shape above says so. */
typedef nvmlReturn_t (*slot_fn)(uintptr_t, uintptr_t, uintptr_t, uintptr_t);
#define SLOT(a, b, c)                                                                                  \
	static nvmlReturn_t slot_##a##b##c(uintptr_t a0, uintptr_t a1, uintptr_t a2, uintptr_t a3)     \
	{                                                                                              \
		return slot_call(((a) * 8 + (b)) * 8 + (c), a0, a1, a2, a3);                           \
	}
#define SLOT_ADDR(a, b, c) slot_##a##b##c,
#define EIGHT(M, a, b) M(a, b, 0) M(a, b, 1) M(a, b, 2) M(a, b, 3) M(a, b, 4) M(a, b, 5) M(a, b, 6) M(a, b, 7)
#define SIXTY_FOUR(M, a)                                                                               \
	EIGHT(M, a, 0) EIGHT(M, a, 1) EIGHT(M, a, 2) EIGHT(M, a, 3) EIGHT(M, a, 4) EIGHT(M, a, 5) EIGHT(M, a, 6) \
	EIGHT(M, a, 7)
#define ALL_SLOTS(M)                                                                                   \
	SIXTY_FOUR(M, 0) SIXTY_FOUR(M, 1) SIXTY_FOUR(M, 2) SIXTY_FOUR(M, 3) SIXTY_FOUR(M, 4) SIXTY_FOUR(M, 5) \
	SIXTY_FOUR(M, 6) SIXTY_FOUR(M, 7)

ALL_SLOTS(SLOT)
static const slot_fn slot_fns[SLOTS] = {ALL_SLOTS(SLOT_ADDR)};

static const void *smi_table[SLOTS];
static pthread_once_t smi_table_once = PTHREAD_ONCE_INIT;

static void smi_table_init(void)
{
	smi_table[0] = (const void *)(uintptr_t)sizeof smi_table;
	for (int i = 1; i < SLOTS; i++)
		smi_table[i] = (const void *)slot_fns[i];
}

/* Any other id: NVML_ERROR_FUNCTION_NOT_FOUND, the real library's answer as the lupine project
 * reports it (test/gpu/smi_checks.sh prints the host's). */
VGPU_EXPORT nvmlReturn_t nvmlInternalGetExportTable(const void **ppExportTable, const void *pExportTableId)
{
	if (!ppExportTable || !pExportTableId)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (memcmp(pExportTableId, smi_table_id, sizeof smi_table_id) != 0) {
		*ppExportTable = NULL;
		if (log_level() == 2) {
			const unsigned char *u = pExportTableId;
			char line[256];
			say(line, snprintf(line, sizeof line,
					   "vgpu: nvmlInternalGetExportTable: unknown table %02x%02x%02x%02x-%02x%02x-%02x%02x-"
					   "%02x%02x-%02x%02x%02x%02x%02x%02x (returning %d)\n",
					   u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11], u[12],
					   u[13], u[14], u[15], NVML_ERROR_FUNCTION_NOT_FOUND));
		}
		return NVML_ERROR_FUNCTION_NOT_FOUND;
	}
	pthread_once(&smi_table_once, smi_table_init);
	*ppExportTable = smi_table;
	if (log_level() == 2) {
		char line[128];
		say(line, snprintf(line, sizeof line, "vgpu: nvmlInternalGetExportTable: nvidia-smi's table, %d slots\n", SLOTS));
	}
	return NVML_SUCCESS;
}
