/* MD2 (RFC 1319), for the integrity check of the private export tables (exporttable.c). */
#ifndef VGPU_MD2_H
#define VGPU_MD2_H

#include <stddef.h>

struct md2 {
	unsigned char x[48], c[16], buf[16];
	size_t n;
};

#define VGPU_HIDDEN __attribute__((visibility("hidden")))
VGPU_HIDDEN void md2_init(struct md2 *m);
VGPU_HIDDEN void md2_update(struct md2 *m, const void *data, size_t len);
VGPU_HIDDEN void md2_final(struct md2 *m, unsigned char out[16]);

#endif
