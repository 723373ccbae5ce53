/* What libnvidia-ml.so.1 answers for nvidia-smi's private table (nvmlInternalGetExportTable), run
 * natively and through vgpu by test/gpu/smi_checks.sh: the table's first word (its size, as others
 * found it), how many of its slots are set, the answer for another table id and for NULL
 * arguments, and whether slot 81 (a device handle by index, as others found it) gives the
 * public call's handle. Slot 213 (a device's process list) is called last, behind SMI_DIAG_PROCS=1.
 *
 * With the argument "slots" it calls instead the device slots nvidia-smi -q calls besides those
 * (slot_probes below), each with the argument words nvidia-smi passed, a value buffer and guard
 * buffers where nvidia-smi passed other pointers, and prints what each returned and wrote: vgpu
 * forwards 230, 231 and 249, so their lines must match natively and through vgpu; those of the slots
 * vgpu does not serve are what would establish their meaning.
 * Build: cc -O2 -o nvml_exporttable nvml_exporttable.c -ldl */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*fn0)(void);
typedef int (*get_table_fn)(const void **, const void *);
typedef int (*by_index_fn)(unsigned int, void **);
typedef int (*str_fn)(char *, unsigned int);
typedef int (*slot_fn)(uintptr_t, uintptr_t, uintptr_t, uintptr_t);

static const unsigned char smi_id[16] = {0xc4, 0xfe, 0x3e, 0x6c, 0xc9, 0x8f, 0x6c, 0x4e,
					 0xa3, 0x27, 0xee, 0x69, 0x6e, 0x12, 0xf7, 0xc4};

/* A device slot nvidia-smi 580.159.04 calls in -q (VGPU_LOG=debug traces of 2026-12-06: slot(device,
 * a1, a2, a3)): a1 was always a pointer to its stack, taken here as the value (len bytes); a2 and
 * a3 are passed as nvidia-smi passed them, or (ptr) as a guard buffer where it passed a pointer. */
struct slot_probe {
	unsigned int slot;
	size_t len;
	uintptr_t a2, a3;
	int a2_ptr, a3_ptr;
	const char *known;
};
static const struct slot_probe slot_probes[] = {
	{230, 4, ~(uintptr_t)0, 5, 0, 0, "host-side max PCIe generation (device, unsigned int *); vgpu forwards it"},
	{231, 80, 0x50, 0, 0, 1, "GPU part number (device, char *, unsigned int length, ...); vgpu forwards it"},
	{232, 64, ~(uintptr_t)0, 0, 0, 0, "unknown (also called by -q -d CLOCK)"},
	{237, 64, 0x14, 0, 0, 0, "unknown"},
	{249, 4, 0, 0, 1, 0, "sparse operation mode (device, unsigned int *); vgpu forwards it"},
};

#define PROBE_FILL 0xa5
#define GUARD_SIZE 256

/* which bytes of b (n) are no longer PROBE_FILL, in hex, at most 40 */
static void print_written(const char *name, const unsigned char *b, size_t n)
{
	size_t first = n, last = 0;
	for (size_t i = 0; i < n; i++)
		if (b[i] != PROBE_FILL) {
			first = first < i ? first : i;
			last = i;
		}
	if (first == n) {
		printf(" %s untouched", name);
		return;
	}
	printf(" %s wrote [%zu,%zu]:", name, first, last + 1);
	for (size_t i = first; i <= last && i < first + 40; i++)
		printf("%02x", b[i]);
	if (n == 80 && b[0] != PROBE_FILL) /* a string? */
		printf(" \"%.*s\"", (int)strnlen((const char *)b, n), (const char *)b);
}

static void probe_slots(const void *const *table, size_t nslots, void *dev)
{
	for (size_t k = 0; k < sizeof slot_probes / sizeof slot_probes[0]; k++) {
		const struct slot_probe *p = &slot_probes[k];
		if (p->slot >= nslots || !table[p->slot]) {
			printf("slot%u absent\n", p->slot);
			continue;
		}
		unsigned char value[128], g2[GUARD_SIZE], g3[GUARD_SIZE];
		memset(value, PROBE_FILL, sizeof value);
		memset(g2, PROBE_FILL, sizeof g2);
		memset(g3, PROBE_FILL, sizeof g3);
		printf("# slot%u: %s\n", p->slot, p->known);
		int r = ((slot_fn)table[p->slot])((uintptr_t)dev, (uintptr_t)value, p->a2_ptr ? (uintptr_t)g2 : p->a2,
						  p->a3_ptr ? (uintptr_t)g3 : p->a3);
		printf("slot%u %d", p->slot, r);
		print_written("value", value, p->len);
		print_written("past-value", value + p->len, sizeof value - p->len);
		printf("\n");
		if (p->a2_ptr || p->a3_ptr) {
			printf("slot%u-guards", p->slot);
			if (p->a2_ptr)
				print_written("a2", g2, sizeof g2);
			if (p->a3_ptr)
				print_written("a3", g3, sizeof g3);
			printf("\n");
		}
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0); /* every line out before a slot call that might crash */
	void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW);
	if (!lib) {
		printf("dlopen %s\n", dlerror());
		return 1;
	}
	fn0 init = (fn0)dlsym(lib, "nvmlInit_v2");
	get_table_fn get = (get_table_fn)dlsym(lib, "nvmlInternalGetExportTable");
	by_index_fn by_index = (by_index_fn)dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
	str_fn driver = (str_fn)dlsym(lib, "nvmlSystemGetDriverVersion");
	if (!init || !get || !by_index || !driver) {
		printf("dlsym: a symbol is missing\n");
		return 1;
	}
	int r = init();
	char version[96] = "";
	driver(version, sizeof version);
	printf("init %d driver %s\n", r, version);

	const void *t = (const void *)1;
	printf("null-args %d %d\n", get(NULL, smi_id), get(&t, NULL));
	unsigned char other[16];
	memcpy(other, smi_id, 16);
	other[15] ^= 1;
	t = (const void *)1;
	r = get(&t, other);
	printf("other-id %d %s\n", r, t == NULL ? "null" : t == (const void *)1 ? "untouched" : "set");

	const void *const *table = NULL;
	r = get((const void **)&table, smi_id);
	if (r != 0 || !table) {
		printf("smi-id %d no table\n", r);
		return 0;
	}
	uintptr_t size = (uintptr_t)table[0];
	printf("smi-id %d size %lu\n", r, (unsigned long)size);
	if (size < 16 || size > 8192 || size % sizeof(void *)) {
		printf("slots: word 0 is not a size\n");
		return 0;
	}
	size_t n = size / sizeof(void *), filled = 0, distinct = 0;
	for (size_t i = 1; i < n; i++) {
		if (!table[i])
			continue;
		filled++;
		size_t j = 1;
		while (j < i && table[j] != table[i])
			j++;
		distinct += j == i;
	}
	printf("slots %zu filled %zu distinct %zu\n", n, filled, distinct);
	if (n <= 81 || !table[81]) {
		printf("slot81 absent\n");
		return 0;
	}
	void *pub = NULL, *via = NULL;
	by_index(0, &pub);
	if (argc > 1 && !strcmp(argv[1], "slots")) {
		probe_slots((const void *const *)table, n, pub);
		return 0;
	}
	r = ((slot_fn)table[81])(0, (uintptr_t)&via, 0x22, 0);
	printf("slot81 %d %s\n", r, via && via == pub ? "same" : "different");
	if (getenv("SMI_DIAG_PROCS") && n > 213 && table[213]) {
		unsigned int count = 4;
		unsigned char *entries = calloc(64, 4128);
		r = ((slot_fn)table[213])((uintptr_t)pub, (uintptr_t)&count, (uintptr_t)entries, 0);
		printf("slot213 %d count %u\n", r, count);
		free(entries);
	}
	return 0;
}
