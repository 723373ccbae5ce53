# PyTorch's other cuBLAS calls (the rows of cublasTorchTable): double and complex matrix
# products (D/C/Z gemm and their strided-batched forms), matrix-vector products (gemv) and
# triangular solves (trsm, batched trsm) and dot products in device pointer mode, each checked
# against the CPU. Prints only pass/fail
# lines, so the native and the vgpu run compare exactly.
import torch

torch.manual_seed(20261126)
dev = torch.device("cuda")
checks = []


def check(name, got, want, tol):
    got = got.cpu()
    ok = torch.allclose(got, want, rtol=tol, atol=tol)
    checks.append(ok)
    print(f"{name}: ok" if ok else f"{name}: MISMATCH (largest difference {(got - want).abs().max().item():.3g})")


for dt, tol in ((torch.float64, 1e-9), (torch.complex64, 1e-3), (torch.complex128, 1e-9)):
    a, b = torch.randn(65, 33, dtype=dt), torch.randn(33, 17, dtype=dt)
    check(f"mm {dt}", a.to(dev) @ b.to(dev), a @ b, tol)
    x, y = torch.randn(6, 20, 12, dtype=dt), torch.randn(6, 12, 9, dtype=dt)
    check(f"bmm {dt}", torch.bmm(x.to(dev), y.to(dev)), torch.bmm(x, y), tol)
for dt, tol in ((torch.float32, 1e-4), (torch.float64, 1e-9), (torch.complex64, 1e-3), (torch.complex128, 1e-9)):
    m, v = torch.randn(40, 30, dtype=dt), torch.randn(30, dtype=dt)
    check(f"mv {dt}", m.to(dev) @ v.to(dev), m @ v, tol)
for dt, tol in ((torch.float32, 1e-3), (torch.float64, 1e-9)):
    t = torch.randn(24, 24, dtype=dt).triu() + 24 * torch.eye(24, dtype=dt)
    r = torch.randn(24, 5, dtype=dt)
    check(f"solve_triangular {dt}", torch.linalg.solve_triangular(t.to(dev), r.to(dev), upper=True),
          torch.linalg.solve_triangular(t, r, upper=True), tol)
    tb = torch.randn(8, 16, 16, dtype=dt).triu() + 16 * torch.eye(16, dtype=dt)
    rb = torch.randn(8, 16, 3, dtype=dt)
    check(f"solve_triangular batched {dt}", torch.linalg.solve_triangular(tb.to(dev), rb.to(dev), upper=True),
          torch.linalg.solve_triangular(tb, rb, upper=True), tol)
# torch.dot and vdot put the handle in device pointer mode (their result stays on the GPU)
for dt, tol in ((torch.float32, 1e-3), (torch.float64, 1e-9), (torch.complex64, 1e-3), (torch.complex128, 1e-9)):
    u, w = torch.randn(1000, dtype=dt), torch.randn(1000, dtype=dt)
    check(f"dot {dt}", torch.dot(u.to(dev), w.to(dev)), torch.dot(u, w), tol)
    if dt.is_complex:
        check(f"vdot {dt}", torch.vdot(u.to(dev), w.to(dev)), torch.vdot(u, w), tol)
# half-precision dot: cublasDotEx
u, w = torch.randn(256, dtype=torch.float16), torch.randn(256, dtype=torch.float16)
check("dot float16", torch.dot(u.to(dev), w.to(dev)).float(), torch.dot(u.float(), w.float()), 0.25)
torch.cuda.synchronize()
print("RESULT", "PASS" if all(checks) else "FAIL")
