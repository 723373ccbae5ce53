# PyTorch computing on the GPU: elementwise kernels, a reduction, and matrix products through
# cuBLAS/cuBLASLt, checked against the CPU. Prints only pass/fail lines, so the native and the
# vgpu run compare exactly.
import torch

torch.manual_seed(20261126)
dev = torch.device("cuda")
checks = []

def check(name, ok):
    checks.append(ok)
    print(f"{name}: {'ok' if ok else 'MISMATCH'}")

a = torch.randn(257, 129)
b = torch.randn(129, 65)
ga, gb = a.to(dev), b.to(dev)
check("copy round trip", torch.equal(ga.cpu(), a))
check("elementwise a*2+1", torch.allclose((ga * 2 + 1).cpu(), a * 2 + 1))
check("sum", abs(ga.sum().item() - a.double().sum().item()) < 1e-2)
ref = (a.double() @ b.double())
check("matmul fp32", torch.allclose((ga @ gb).cpu().double(), ref, rtol=1e-3, atol=1e-3))
check("matmul fp16", torch.allclose((ga.half() @ gb.half()).float().cpu().double(), ref, rtol=2e-2, atol=5e-2))
check("matmul bf16", torch.allclose((ga.bfloat16() @ gb.bfloat16()).float().cpu().double(), ref, rtol=5e-2, atol=2e-1))
bias = torch.randn(65)
check("addmm fp32 (cuBLASLt with bias)", torch.allclose(torch.addmm(bias.to(dev), ga, gb).cpu().double(), ref + bias.double(), rtol=1e-3, atol=1e-3))
x = torch.randn(8, 64, 32)
y = torch.randn(8, 32, 16)
check("bmm fp32", torch.allclose(torch.bmm(x.to(dev), y.to(dev)).cpu(), torch.bmm(x, y), rtol=1e-3, atol=1e-3))
torch.cuda.synchronize()
print("RESULT", "PASS" if all(checks) else "FAIL")
