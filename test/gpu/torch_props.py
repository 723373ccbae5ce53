# What PyTorch sees of the GPU: availability, count, name and properties.
import torch

print("is_available", torch.cuda.is_available())
print("device_count", torch.cuda.device_count())
print("name", torch.cuda.get_device_name(0))
p = torch.cuda.get_device_properties(0)
print("properties", p)
for k in ("major", "minor", "total_memory", "multi_processor_count", "L2_cache_size", "uuid", "pci_bus_id", "pci_device_id", "pci_domain_id"):
    print(" ", k, getattr(p, k, None))
