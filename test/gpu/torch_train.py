# A PyTorch training step on the GPU: a 6-layer MLP (2048 wide, LayerNorm, GELU) on a batch of
# 512, cross-entropy loss, backward, AdamW. Prints the loss after the timed steps (the same
# natively and through vgpu: fixed seeds, deterministic kernels) and the median time of a step
# (each step ends in a synchronisation) as a "metric" line.
import statistics
import sys
import time

import torch

torch.manual_seed(20261206)
torch.use_deterministic_algorithms(True, warn_only=True)
dev = torch.device("cuda")
width, depth, batch, classes = 2048, 6, 512, 1000
layers = []
for _ in range(depth):
    layers += [torch.nn.Linear(width, width), torch.nn.LayerNorm(width), torch.nn.GELU()]
model = torch.nn.Sequential(*layers, torch.nn.Linear(width, classes)).to(dev)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
x = torch.randn(batch, width, device=dev)
y = torch.randint(0, classes, (batch,), device=dev)


def step():
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


for _ in range(5):  # warm-up: cuBLAS handles, workspaces, the caching allocator
    step()
torch.cuda.synchronize()
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
times = []
for _ in range(steps):
    t0 = time.perf_counter()
    loss = step()
    torch.cuda.synchronize()
    times.append((time.perf_counter() - t0) * 1e3)
print(f"loss after {steps + 5} steps: {loss.item():.4f}")
print(f"metric train_step_ms {statistics.median(times):.3f} ms")
