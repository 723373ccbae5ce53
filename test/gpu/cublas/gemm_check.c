/* Exercises the cuBLAS rows ggml-cuda uses, through vgpu's stubs or natively (same source: the
 * prototypes of include/vgpu are ABI-identical to NVIDIA's). Small-integer data: every result is
 * exact in half and float, so outputs compare exactly with a CPU reference. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "vgpu/zz_prototypes.h"

#define CK(x) do { int _r = (int)(x); if (_r) { printf("FAIL %s = %d (line %d)\n", #x, _r, __LINE__); exit(1); } } while (0)

static uint16_t f2h(float f) { /* exact for small integers */
	if (f == 0) return 0;
	uint32_t x; memcpy(&x, &f, 4);
	uint32_t sign = (x >> 16) & 0x8000; int e = ((x >> 23) & 0xff) - 127 + 15; uint32_t m = (x >> 13) & 0x3ff;
	return (uint16_t)(sign | (e << 10) | m);
}
static float h2f(uint16_t h) {
	if ((h & 0x7fff) == 0) return 0;
	uint32_t sign = (h & 0x8000) << 16; int e = ((h >> 10) & 0x1f) - 15 + 127; uint32_t m = (h & 0x3ff) << 13;
	uint32_t x = sign | (e << 23) | m; float f; memcpy(&f, &x, 4); return f;
}
static void *dalloc(size_t n) { void *p = 0; CK(cudaMalloc(&p, n)); return p; }
static void up(void *d, const void *h, size_t n) { CK(cudaMemcpy(d, h, n, 1)); }
static void down(void *h, const void *d, size_t n) { CK(cudaMemcpy(h, d, n, 2)); }

/* column-major reference: C = alpha*op(A)*B + beta*C with op = T (transa) or N; B N */
static void ref(int ta, int m, int n, int k, float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
	for (int j = 0; j < n; j++) for (int i = 0; i < m; i++) {
		float s = 0;
		for (int l = 0; l < k; l++) s += (ta ? A[l + i * lda] : A[i + l * lda]) * B[l + j * ldb];
		C[i + j * ldc] = alpha * s + beta * C[i + j * ldc];
	}
}
static int fails;
static void cmp(const char *what, const float *got, const float *want, int n) {
	int bad = 0;
	for (int i = 0; i < n; i++) if (got[i] != want[i]) { if (!bad) printf("%s: [%d] = %g, want %g\n", what, i, got[i], want[i]); bad++; }
	printf("%s %s (%d values)\n", what, bad ? "MISMATCH" : "ok", n);
	fails += bad != 0;
}

int main(void) {
	enum { M = 24, N = 16, K = 32, BATCH = 3 };
	cublasHandle_t h; cudaStream_t st;
	CK(cudaSetDevice(0));
	CK(cudaStreamCreate(&st));
	CK(cublasCreate_v2(&h));
	CK(cublasSetMathMode(h, 0));
	CK(cublasSetStream_v2(h, st));
	printf("status string 15: %s\n", cublasGetStatusString(15));

	float A[BATCH * K * M], B[BATCH * K * N], C0[BATCH * M * N], W[BATCH * M * N], G[BATCH * M * N];
	uint16_t Ah[BATCH * K * M], Bh[BATCH * K * N], Ch[BATCH * M * N];
	for (int i = 0; i < BATCH * K * M; i++) { A[i] = (float)((i * 7) % 5 - 2); Ah[i] = f2h(A[i]); }
	for (int i = 0; i < BATCH * K * N; i++) { B[i] = (float)((i * 3) % 5 - 2); Bh[i] = f2h(B[i]); }
	for (int i = 0; i < BATCH * M * N; i++) { C0[i] = (float)(i % 3 - 1); Ch[i] = f2h(C0[i]); }
	/* A is stored k x m (op T, lda K), as ggml calls: C[m,n] = A^T B */
	void *dA = dalloc(sizeof Ah), *dB = dalloc(sizeof Bh), *dC = dalloc(sizeof G);
	void *dAf = dalloc(sizeof A), *dBf = dalloc(sizeof B);

	/* 1. GemmEx: f16 x f16 -> f32, CUBLAS_COMPUTE_32F, float scalars (ggml's main path) */
	up(dA, Ah, sizeof Ah); up(dB, Bh, sizeof Bh); up(dC, C0, sizeof C0);
	float fa = 2, fb = 1;
	CK(cublasGemmEx(h, 1, 0, M, N, K, &fa, dA, 2, K, dB, 2, K, &fb, dC, 0, M, 68, -1));
	CK(cudaStreamSynchronize(st)); down(G, dC, M * N * 4);
	memcpy(W, C0, sizeof W); ref(1, M, N, K, 2, A, K, B, K, 1, W, M); cmp("GemmEx f16->f32 compute32F", G, W, M * N);

	/* 2. GemmEx all f16, CUBLAS_COMPUTE_16F: 2-byte half scalars */
	up(dC, Ch, sizeof Ch);
	uint16_t ha = f2h(1), hb = f2h(-1);
	CK(cublasGemmEx(h, 1, 0, M, N, K, &ha, dA, 2, K, dB, 2, K, &hb, dC, 2, M, 64, -1));
	CK(cudaStreamSynchronize(st)); down(Ch, dC, M * N * 2);
	for (int i = 0; i < M * N; i++) G[i] = h2f(Ch[i]);
	memcpy(W, C0, sizeof W); ref(1, M, N, K, 1, A, K, B, K, -1, W, M); cmp("GemmEx f16 compute16F", G, W, M * N);

	/* 3. GemmStridedBatchedEx f16 -> f32 */
	up(dC, C0, sizeof C0);
	CK(cublasGemmStridedBatchedEx(h, 1, 0, M, N, K, &fa, dA, 2, K, (long long)K * M, dB, 2, K, (long long)K * N, &fb, dC, 0, M, (long long)M * N, BATCH, 68, -1));
	CK(cudaStreamSynchronize(st)); down(G, dC, sizeof G);
	memcpy(W, C0, sizeof W);
	for (int b = 0; b < BATCH; b++) ref(1, M, N, K, 2, A + b * K * M, K, B + b * K * N, K, 1, W + b * M * N, M);
	cmp("GemmStridedBatchedEx", G, W, BATCH * M * N);

	/* 4. GemmBatchedEx: device arrays of device pointers */
	up(dC, C0, sizeof C0);
	void *pa[BATCH], *pb[BATCH], *pc[BATCH];
	for (int b = 0; b < BATCH; b++) { pa[b] = (char *)dA + 2 * b * K * M; pb[b] = (char *)dB + 2 * b * K * N; pc[b] = (char *)dC + 4 * b * M * N; }
	void *dpa = dalloc(sizeof pa), *dpb = dalloc(sizeof pb), *dpc = dalloc(sizeof pc);
	up(dpa, pa, sizeof pa); up(dpb, pb, sizeof pb); up(dpc, pc, sizeof pc);
	CK(cublasGemmBatchedEx(h, 1, 0, M, N, K, &fa, (const void *const *)dpa, 2, K, (const void *const *)dpb, 2, K, &fb, (void *const *)dpc, 0, M, BATCH, 68, -1));
	CK(cudaStreamSynchronize(st)); down(G, dC, sizeof G);
	cmp("GemmBatchedEx", G, W, BATCH * M * N);

	/* 5. Sgemm_v2, SgemmStridedBatched, SgemmBatched (float data) */
	up(dAf, A, sizeof A); up(dBf, B, sizeof B); up(dC, C0, sizeof C0);
	CK(cublasSgemm_v2(h, 1, 0, M, N, K, &fa, dAf, K, dBf, K, &fb, dC, M));
	CK(cudaStreamSynchronize(st)); down(G, dC, M * N * 4);
	memcpy(W, C0, sizeof W); ref(1, M, N, K, 2, A, K, B, K, 1, W, M); cmp("Sgemm_v2", G, W, M * N);
	up(dC, C0, sizeof C0);
	CK(cublasSgemmStridedBatched(h, 1, 0, M, N, K, &fa, dAf, K, (long long)K * M, dBf, K, (long long)K * N, &fb, dC, M, (long long)M * N, BATCH));
	CK(cudaStreamSynchronize(st)); down(G, dC, sizeof G);
	memcpy(W, C0, sizeof W);
	for (int b = 0; b < BATCH; b++) ref(1, M, N, K, 2, A + b * K * M, K, B + b * K * N, K, 1, W + b * M * N, M);
	cmp("SgemmStridedBatched", G, W, BATCH * M * N);
	up(dC, C0, sizeof C0);
	for (int b = 0; b < BATCH; b++) { pa[b] = (char *)dAf + 4 * b * K * M; pb[b] = (char *)dBf + 4 * b * K * N; }
	up(dpa, pa, sizeof pa); up(dpb, pb, sizeof pb);
	CK(cublasSgemmBatched(h, 1, 0, M, N, K, &fa, (const float *const *)dpa, K, (const float *const *)dpb, K, &fb, (float *const *)dpc, M, BATCH));
	CK(cudaStreamSynchronize(st)); down(G, dC, sizeof G);
	cmp("SgemmBatched", G, W, BATCH * M * N);

	/* 6. StrsmBatched: left, lower, N, unit diagonal: solve L X = alpha B (B m x n), check L X == alpha B */
	enum { TM = 8, TN = 4 };
	float L[BATCH * TM * TM], X0[BATCH * TM * TN], R[BATCH * TM * TN];
	for (int b = 0; b < BATCH; b++) for (int j = 0; j < TM; j++) for (int i = 0; i < TM; i++)
		L[b * TM * TM + i + j * TM] = i > j ? (float)((i + j + b) % 3 - 1) : (i == j ? 1.0f : 99.0f);
	for (int i = 0; i < BATCH * TM * TN; i++) X0[i] = (float)(i % 5 - 2);
	void *dL = dalloc(sizeof L), *dX = dalloc(sizeof X0);
	up(dL, L, sizeof L); up(dX, X0, sizeof X0);
	for (int b = 0; b < BATCH; b++) { pa[b] = (char *)dL + 4 * b * TM * TM; pb[b] = (char *)dX + 4 * b * TM * TN; }
	up(dpa, pa, sizeof pa); up(dpb, pb, sizeof pb);
	float one = 1;
	CK(cublasStrsmBatched(h, 0, 0, 0, 1, TM, TN, &one, (const float *const *)dpa, TM, (float *const *)dpb, TM, BATCH));
	CK(cudaStreamSynchronize(st)); down(R, dX, sizeof R);
	float LX[BATCH * TM * TN];
	for (int b = 0; b < BATCH; b++) for (int j = 0; j < TN; j++) for (int i = 0; i < TM; i++) {
		float s = R[b * TM * TN + i + j * TM];
		for (int l = 0; l < i; l++) s += L[b * TM * TM + i + l * TM] * R[b * TM * TN + l + j * TM];
		LX[b * TM * TN + i + j * TM] = s;
	}
	cmp("StrsmBatched (L*X == B)", LX, X0, BATCH * TM * TN);

	CK(cublasDestroy_v2(h));
	printf("%s\n", fails ? "FAILED" : "ALL OK");
	return fails != 0;
}
