/* MD2 (RFC 1319): 16-byte blocks, a running checksum appended as the last block, 18 rounds of
 * the pi-derived substitution over a 48-byte state. */
#include <string.h>

#include "md2.h"
#include "zz_md2.h"

static void md2_block(struct md2 *m, const unsigned char *b)
{
	unsigned t = 0;
	for (int j = 0; j < 16; j++) {
		m->x[16 + j] = b[j];
		m->x[32 + j] = (unsigned char)(m->x[16 + j] ^ m->x[j]);
	}
	for (int j = 0; j < 18; j++) {
		for (int k = 0; k < 48; k++)
			t = m->x[k] ^= vgpu_md2_s[t];
		t = (t + (unsigned)j) & 0xff;
	}
	/* the checksum: each byte xored with the substitution of the message byte and the
	 * previous checksum byte (which carries over from the block before) */
	unsigned char l = m->c[15];
	for (int j = 0; j < 16; j++)
		l = m->c[j] ^= vgpu_md2_s[b[j] ^ l];
}

void md2_init(struct md2 *m) { memset(m, 0, sizeof *m); }

void md2_update(struct md2 *m, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len--) {
		m->buf[m->n++] = *p++;
		if (m->n == 16) {
			md2_block(m, m->buf);
			m->n = 0;
		}
	}
}

/* Pads with n bytes of value n (1..16), then processes the checksum as a last block. */
void md2_final(struct md2 *m, unsigned char out[16])
{
	unsigned char pad = (unsigned char)(16 - m->n), padding[16], c[16];
	memset(padding, pad, sizeof padding);
	md2_update(m, padding, pad);
	memcpy(c, m->c, 16);
	md2_block(m, c);
	memcpy(out, m->x, 16);
}
