# libvgpu-exec.so: keeps vgpu's LD_PRELOAD entries and VGPU_* variables across exec (pure C, no
# Go, no dependency on the core). Included by the top Makefile. The C source sits in src/ because
# go refuses .c files in a folder that holds a Go (test) package without cgo.

# A rule in an included fragment would become make's default goal; keep the Makefile's own.
exec_saved_goal := $(.DEFAULT_GOAL)

EXTRA_BUILD += $(OUT)/libvgpu-exec.so

$(OUT)/libvgpu-exec.so: shims/exec/src/exec.c shims/exec/exec.map shims/exec/exec.mk
	@mkdir -p $(OUT)
	$(CC) $(STUB_CFLAGS) -o $@ shims/exec/src/exec.c \
	  -Wl,-soname,libvgpu-exec.so -Wl,--version-script=shims/exec/exec.map $(STUB_LDFLAGS)

.DEFAULT_GOAL := $(exec_saved_goal)
