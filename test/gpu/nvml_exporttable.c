/* What libnvidia-ml.so.1 answers for nvidia-smi's private table (nvmlInternalGetExportTable), run
 * natively and through vgpu by test/gpu/smi_checks.sh: the table's first word (its size, as others
 * found it), how many of its slots are set, the answer for another table id and for NULL
 * arguments, and whether slot 81 (a device handle by index, as others found it) gives the
 * public call's handle. Slot 213 (a device's process list) is called last, behind SMI_DIAG_PROCS=1.
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

int main(void)
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
