"""PyTorch under a vgpu memory limit (the worker's --mem-limit / Policy.MemLimit).

Run with VGPU_EXPECT_LIMIT=<bytes> against a session whose policy sets that limit. Checks that
every API a program sizes itself by reports the limit as the device's memory and the same free
memory (torch.cuda.mem_get_info, cudaMemGetInfo through ctypes, NVML's memory info v1 and v2,
the device properties' total memory), that a tensor past the limit raises
torch.OutOfMemoryError, and that a smaller one then allocates and computes. Prints PASS lines;
exits non-zero on the first failure.
"""
import ctypes
import os
import sys

import torch

MiB = 1 << 20


def fail(msg):
    print("FAIL quota: " + msg, flush=True)
    sys.exit(1)


def cudart():
    for name in ("libcudart.so.13", "libcudart.so.12"):
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    fail("no libcudart.so.13 or .12 to load")


def cuda_mem_get_info(lib):
    free, total = ctypes.c_size_t(), ctypes.c_size_t()
    r = lib.cudaMemGetInfo(ctypes.byref(free), ctypes.byref(total))
    if r != 0:
        fail("cudaMemGetInfo returned %d" % r)
    return free.value, total.value


def nvml_views():
    import pynvml

    pynvml.nvmlInit()
    try:
        h = pynvml.nvmlDeviceGetHandleByIndex(0)
        v1 = pynvml.nvmlDeviceGetMemoryInfo(h)
        v2 = pynvml.nvmlDeviceGetMemoryInfo(h, version=pynvml.nvmlMemory_v2)
        return (v1.total, v1.free, v1.used), (v2.total, v2.reserved, v2.free, v2.used)
    finally:
        pynvml.nvmlShutdown()


def views(lib):
    torch.cuda.synchronize()
    t_free, t_total = torch.cuda.mem_get_info()
    r_free, r_total = cuda_mem_get_info(lib)
    v1, v2 = nvml_views()
    print("torch.cuda.mem_get_info: free %d total %d" % (t_free, t_total))
    print("cudaMemGetInfo: free %d total %d" % (r_free, r_total))
    print("nvmlDeviceGetMemoryInfo: total %d free %d used %d" % v1)
    print("nvmlDeviceGetMemoryInfo_v2: total %d reserved %d free %d used %d" % v2, flush=True)
    return (t_free, t_total), (r_free, r_total), v1, v2


def check_agree(limit, lib, what):
    (t_free, t_total), (r_free, r_total), v1, v2 = views(lib)
    for name, total in (("torch.cuda.mem_get_info", t_total), ("cudaMemGetInfo", r_total), ("NVML v1", v1[0]), ("NVML v2", v2[0])):
        if total != limit:
            fail("%s: %s total is %d, want the limit %d" % (what, name, total, limit))
    # Nothing allocates between the queries, so every API must report the same free bytes.
    frees = {"torch.cuda.mem_get_info": t_free, "cudaMemGetInfo": r_free, "NVML v1": v1[1], "NVML v2": v2[2]}
    if len(set(frees.values())) != 1:
        fail("%s: free memory differs between APIs: %s" % (what, frees))
    if v1[2] != limit - v1[1] or v2[3] != limit - v2[2] or v2[1] != 0:
        fail("%s: NVML used is not total - free (v1 %s, v2 %s)" % (what, v1, v2))
    print("PASS quota %s: every API reports total %d and free %d" % (what, limit, t_free), flush=True)
    return t_free


def main():
    if "VGPU_EXPECT_LIMIT" not in os.environ:
        fail("set VGPU_EXPECT_LIMIT to the session's memory limit in bytes")
    limit = int(os.environ["VGPU_EXPECT_LIMIT"])
    lib = cudart()
    torch.cuda.init()
    props = torch.cuda.get_device_properties(0)
    print("device: %s, total_memory %d" % (props.name, props.total_memory))
    if props.total_memory != limit:
        fail("cudaGetDeviceProperties totalGlobalMem is %d, want the limit %d" % (props.total_memory, limit))
    print("PASS quota totalGlobalMem is the limit", flush=True)
    check_agree(limit, lib, "fresh")

    # Past the limit: the caching allocator's cudaMalloc gets cudaErrorMemoryAllocation.
    try:
        big = torch.empty(limit + 64 * MiB, dtype=torch.uint8, device="cuda")
        fail("a tensor of %d bytes under a limit of %d allocated" % (big.numel(), limit))
    except torch.OutOfMemoryError as e:
        print("PASS quota over the limit raised torch.OutOfMemoryError: %s" % str(e).splitlines()[0], flush=True)
    torch.cuda.empty_cache()

    # The session goes on: a smaller tensor allocates and computes (a matmul creates a cuBLAS
    # handle, whose workspace the worker charges too).
    n = max(limit // 8 // 4, 1024)
    x = torch.ones(n, device="cuda", dtype=torch.float32)
    s = (x * 2).sum().item()
    if s != 2.0 * n:
        fail("sum of %d twos is %s" % (n, s))
    a = torch.ones(256, 256, device="cuda")
    if (a @ a)[0, 0].item() != 256.0:
        fail("matmul under the limit gave a wrong result")
    print("PASS quota a %d-byte tensor and a matmul work under the limit" % (4 * n), flush=True)
    free = check_agree(limit, lib, "with tensors held")
    if free > limit - 4 * n:
        fail("free %d with %d bytes held: the tensors are not charged" % (free, 4 * n))
    del x, a
    torch.cuda.empty_cache()
    check_agree(limit, lib, "after freeing")
    print("PASS quota", flush=True)


if __name__ == "__main__":
    main()
