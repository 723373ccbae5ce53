# PyTorch on two devices: a tensor made on the first, moved to the second, computed on both
# (elementwise, a reduction, a cuBLAS product), results moved back and compared bit for bit.
# With two vgpu servers on one GPU the client sees cuda:0 and cuda:1 (one per server); natively,
# on a one-GPU host, both names are cuda:0 (--one-gpu), so the printed digests of the
# same computation must be identical.
import hashlib
import sys

import torch

single = "--one-gpu" in sys.argv
d0 = torch.device("cuda:0")
d1 = torch.device("cuda:0" if single else "cuda:1")
print("devices:", 1 if single else torch.cuda.device_count())


def digest(t):
    return hashlib.sha256(t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()[:16]


torch.manual_seed(20261206)
a = torch.randn(512, 384).to(d0)
b = a.to(d1)  # device to device: between two servers, staged through the client
print("moved equal:", torch.equal(a.cpu(), b.cpu()))
w = torch.randn(384, 256)
r0 = torch.relu(a * 2 + 1) @ w.to(d0)
r1 = torch.relu(b * 2 + 1) @ w.to(d1)
print("product on first:", digest(r0))
print("product on second:", digest(r1))
back = r1.to(d0)
print("second's result on first equal:", torch.equal(back, r0))
print("sums:", f"{r0.sum().item():.6e}", f"{r1.sum().item():.6e}")
c = torch.randn(64, 64, device=d1)
e = (c @ c).to(d0) + torch.ones(64, 64, device=d0)
print("mixed:", digest(e))
torch.cuda.synchronize(d0)
torch.cuda.synchronize(d1)
print("RESULT PASS" if torch.equal(back, r0) else "RESULT FAIL")
