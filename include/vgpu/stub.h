/* The part of every C stub library that is not generated: loading the vgpu core, the fork guard
 * and the signal interposers (shims/common/stub.c). Each stub library is one generated
 * zz_<lib>.c plus stub.c; nothing in them is Go, so a stub never starts a Go runtime itself. */
#ifndef VGPU_STUB_H
#define VGPU_STUB_H

#include <stdint.h>

#define VGPU_EXPORT __attribute__((visibility("default")))
#define VGPU_CORE_SONAME "libvgpucore.so"

/* Facts about the library this stub is, from the generated file. */
struct vgpu_stub_lib {
	const char *soname;
	int lib;             /* api.Lib */
	int not_initialized; /* result for a forked child or a missing core */
	int not_supported;
	unsigned long long table_hash; /* api.TableHash() the stub was generated from */
};
extern const struct vgpu_stub_lib vgpu_stub_self __attribute__((visibility("hidden")));

/* Calls table function id with its arguments, each widened to 64 bits. Returns the API's result
 * (or a pointer, for the few functions that return one). Never enters Go in a forked child. */
int64_t vgpu_stub_call(uint32_t id, uint64_t *args) __attribute__((visibility("hidden")));
/* Nonzero when the core is loaded and usable by this process. */
int vgpu_stub_ready(void) __attribute__((visibility("hidden")));

/* The core's C entry points (exported by libvgpucore.so). */
typedef int64_t (*vgpu_call_fn)(uint32_t id, uint64_t *args);
typedef int (*vgpu_attach_fn)(unsigned long long table_hash, const char *soname);

#endif
