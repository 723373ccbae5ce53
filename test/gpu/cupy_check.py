"""CuPy through vgpu: elementwise, reductions, an NVRTC-compiled RawKernel, an ElementwiseKernel,
and host<->device copies. Prints exact digests (sha256 of result bytes, float.hex of scalars) so a
native run and a run through the vgpu stubs can be compared with diff. Exit status 0 iff every
result matches NumPy.

Kernels are compiled in every run (CUPY_CACHE_IN_MEMORY=1), so NVRTC and cuModuleLoadData are
exercised even when an earlier run filled the on-disk kernel cache.
"""
import hashlib
import os
import sys

os.environ["CUPY_CACHE_IN_MEMORY"] = "1"

import numpy as np  # noqa: E402

failures = 0


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def check(ok, what):
    global failures
    if not ok:
        failures += 1
        print(f"FAIL {what}")


try:
    import cupy as cp
except Exception as e:  # pragma: no cover - reported, not hidden
    print(f"ERROR import cupy {type(e).__name__}: {e}")
    sys.exit(1)


def main():
    print(f"devices: {cp.cuda.runtime.getDeviceCount()}")
    dev = cp.cuda.Device(0)
    print(f"compute capability: {dev.compute_capability}")
    rng = np.random.default_rng(20261126)
    n = 1_000_000

    # host -> device -> host, both ways, exact
    h32 = rng.standard_normal(n).astype(np.float32)
    d32 = cp.asarray(h32)
    back = cp.asnumpy(d32)
    check(np.array_equal(back, h32), "asarray/asnumpy round trip float32")
    print(f"round trip float32: {digest(back)}")
    hi = rng.integers(-(2**31), 2**31 - 1, size=n, dtype=np.int64)
    di = cp.array(hi)
    check(np.array_equal(di.get(), hi), "round trip int64")
    print(f"round trip int64: {digest(di.get())}")

    # elementwise a + b*2 in float32 and float64 (b*2 is exact, so the result is exactly NumPy's)
    for dt in (np.float32, np.float64):
        a = rng.standard_normal(n).astype(dt)
        b = rng.standard_normal(n).astype(dt)
        r = cp.asnumpy(cp.asarray(a) + cp.asarray(b) * 2)
        check(np.array_equal(r, a + b * 2), f"elementwise {np.dtype(dt).name}")
        print(f"elementwise a+b*2 {np.dtype(dt).name}: {digest(r)}")

    # reductions over 1e6 elements
    x = rng.random(n, dtype=np.float64) * 1000.0
    x[123457] = 5000.0  # a unique maximum
    dx = cp.asarray(x)
    s = float(dx.sum())
    mx = float(dx.max())
    am = int(dx.argmax())
    check(abs(s - float(x.sum())) <= 1e-9 * abs(float(x.sum())), "sum float64")
    check(mx == 5000.0 and am == 123457, "max/argmax float64")
    print(f"sum float64: {s:.6f} hex {s.hex()}")
    print(f"max float64: {mx.hex()} argmax {am}")
    x32 = x.astype(np.float32)
    dx32 = cp.asarray(x32)
    s32 = float(dx32.sum())
    check(abs(s32 - float(x32.astype(np.float64).sum())) <= 1e-4 * float(x32.sum()), "sum float32")
    print(f"sum float32: {s32:.2f} hex {s32.hex()}")
    print(f"argmin float32: {int(dx32.argmin())} (numpy {int(x32.argmin())})")
    check(int(dx32.argmin()) == int(x32.argmin()), "argmin float32")
    ii = cp.arange(n, dtype=cp.int64)
    tot = int((ii * 3 - 7).sum())
    check(tot == sum(range(n)) * 3 - 7 * n, "integer sum")
    print(f"sum int64: {tot}")

    # RawKernel compiled by NVRTC
    src = r"""
    extern "C" __global__ void saxpy_sq(const float* x, const float* y, float* out, float a, int n) {
        int i = blockDim.x * blockIdx.x + threadIdx.x;
        if (i < n) out[i] = a * x[i] * x[i] + y[i];
    }
    """
    k = cp.RawKernel(src, "saxpy_sq")
    xs = rng.standard_normal(n).astype(np.float32)
    ys = rng.standard_normal(n).astype(np.float32)
    dxs, dys = cp.asarray(xs), cp.asarray(ys)
    out = cp.empty_like(dxs)
    k(((n + 255) // 256,), (256,), (dxs, dys, out, cp.float32(1.5), cp.int32(n)))
    ro = cp.asnumpy(out)
    ref = (np.float64(1.5) * xs.astype(np.float64) ** 2 + ys).astype(np.float64)
    err = float(np.max(np.abs(ro - ref) / (np.abs(ref) + 1.0)))
    check(err < 1e-5, f"RawKernel saxpy_sq error {err}")
    regs = k.attributes.get("num_regs", -1)
    check(regs > 0, f"RawKernel num_regs {regs}")
    print(f"RawKernel saxpy_sq: {digest(ro)} num_regs {regs}")

    # RawModule with two kernels and a name lookup
    mod = cp.RawModule(code=r"""
    extern "C" __global__ void fill(int* p, int v, int n) {
        int i = blockDim.x * blockIdx.x + threadIdx.x; if (i < n) p[i] = v + i; }
    extern "C" __global__ void twice(int* p, int n) {
        int i = blockDim.x * blockIdx.x + threadIdx.x; if (i < n) p[i] *= 2; }
    """)
    p = cp.empty(4097, dtype=cp.int32)
    mod.get_function("fill")((17,), (256,), (p, cp.int32(-100), cp.int32(4097)))
    mod.get_function("twice")((17,), (256,), (p, cp.int32(4097)))
    rp = p.get()
    check(np.array_equal(rp, (np.arange(4097, dtype=np.int32) - 100) * 2), "RawModule fill/twice")
    print(f"RawModule: {digest(rp)}")

    # ElementwiseKernel
    ew = cp.ElementwiseKernel("float64 x, float64 y", "float64 z", "z = x * x - 3.0 * y", "vgpu_ew")
    a = rng.standard_normal(n)
    b = rng.standard_normal(n)
    rz = cp.asnumpy(ew(cp.asarray(a), cp.asarray(b)))
    check(np.allclose(rz, a * a - 3.0 * b, rtol=1e-13, atol=1e-13), "ElementwiseKernel")
    print(f"ElementwiseKernel: {digest(rz)}")

    # ReductionKernel (L2 norm)
    l2 = cp.ReductionKernel("float64 x", "float64 y", "x * x", "a + b", "y = sqrt(a)", "0", "vgpu_l2")
    nv = float(l2(cp.asarray(a)))
    check(abs(nv - float(np.linalg.norm(a))) < 1e-9 * float(np.linalg.norm(a)), "ReductionKernel")
    print(f"ReductionKernel l2: {nv:.9f}")

    cp.cuda.Device(0).synchronize()
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        z = cp.asarray(xs) * 2
        stream.synchronize()
    check(np.array_equal(cp.asnumpy(z), xs * 2), "non-blocking stream")
    print(f"stream: {digest(cp.asnumpy(z))}")


try:
    main()
except Exception as e:
    failures += 1
    print(f"ERROR {type(e).__name__}: {e}")

print("RESULT PASS" if failures == 0 else f"RESULT FAIL {failures}")
sys.exit(1 if failures else 0)
