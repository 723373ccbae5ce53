# Lists the GPUs through NVML with nvidia-ml-py (pynvml), as monitoring tools do.
import pynvml as n

def s(v):
    return v.decode() if isinstance(v, bytes) else v

n.nvmlInit()
print("driver", s(n.nvmlSystemGetDriverVersion()))
print("cuda driver", n.nvmlSystemGetCudaDriverVersion())
count = n.nvmlDeviceGetCount()
print("count", count)
for i in range(count):
    h = n.nvmlDeviceGetHandleByIndex(i)
    mem = n.nvmlDeviceGetMemoryInfo(h)
    pci = n.nvmlDeviceGetPciInfo(h)
    print(i, s(n.nvmlDeviceGetName(h)), s(n.nvmlDeviceGetUUID(h)))
    print("  memory total", mem.total)
    print("  pci", s(pci.busId), hex(pci.pciDeviceId))
    print("  compute capability", n.nvmlDeviceGetCudaComputeCapability(h))
    uuid = s(n.nvmlDeviceGetUUID(h))
    print("  by uuid is same device:", n.nvmlDeviceGetIndex(n.nvmlDeviceGetHandleByUUID(uuid)) == i)
n.nvmlShutdown()
