# vgpu build. `make` builds everything into build/out/:
#   libvgpucore.so                 the Go core (the only Go runtime a client process gets)
#   libcuda.so.1, libnvidia-ml.so.1, libcudart.so.12, libcudart.so.13,
#   libcublas.so.12, libcublasLt.so.12, libcublas.so.13, libcublasLt.so.13  thin C stubs under their SONAMEs
#   vgpu-server, vgpu              the daemon and the CLI
#   vgpu-netem                     a test tool: network latency relay, round-trip and copy benchmark
# `make demo` starts a server and runs a CUDA device query through the stubs; `make test` runs every test.
# `make package` builds the .deb and .rpm packages into build/pkg/ (packaging/, docs/DEPLOY.md).

OUT      := build/out
OBJ      := build/obj
GO       ?= go
CC       ?= gcc
export CGO_CFLAGS := -O2 -g -Wno-deprecated-declarations

# The one version of this build (internal/version): git describe, else the file VERSION (a source
# tarball), else "dev". A change of it rebuilds the Go binaries (through $(OBJ)/version).
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || cat VERSION 2>/dev/null || echo dev)
VERSION_LDFLAGS := -X github.com/vgpu/vgpu/internal/version.Version=$(VERSION)

STUB_CFLAGS := -O2 -g -fPIC -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter -Iinclude
STUB_LDFLAGS := -shared -Wl,-z,defs -Wl,--no-undefined -ldl -lpthread

GO_SRC   := $(shell find . -name '*.go' -not -path './build/*' -not -path './test/gpu/*' -not -path './packaging/*') go.mod go.sum $(OBJ)/version
STUB_SRC := shims/common/stub.c include/vgpu/stub.h include/vgpu/types.h

# Fragments of components (shims/*/*.mk) add their outputs to EXTRA_BUILD.
EXTRA_BUILD :=
-include shims/*/*.mk

.PHONY: check-format all build demo test generate check-generated clean package
all: build

# Rewritten only when the version changes, so that a new commit relinks the Go binaries.
$(OBJ)/version: FORCE
	@mkdir -p $(OBJ); echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
.PHONY: FORCE
FORCE:

build: $(OUT)/libvgpucore.so $(OUT)/libcuda.so.1 $(OUT)/libnvidia-ml.so.1 \
       $(OUT)/libcudart.so.12 $(OUT)/libcudart.so.13 $(OUT)/libcublas.so.13 $(OUT)/libcublasLt.so.13 \
       $(OUT)/libcublas.so.12 $(OUT)/libcublasLt.so.12 $(OUT)/vgpu-server $(OUT)/vgpu $(OUT)/vgpu-netem $(OUT)/devicequery $(OUT)/vgpu-discover $(OUT)/multidev links $(EXTRA_BUILD)

# The core: one c-shared library exporting only vgpu_* (build/core.map hides Go's own symbols).
# -a: go build does not notice an edited version script.
$(OUT)/libvgpucore.so: $(GO_SRC) shims/core/core.c build/core.map
	@mkdir -p $(OUT)
	$(GO) build -a -buildmode=c-shared -o $@ \
	  -ldflags '$(VERSION_LDFLAGS) -extldflags "-Wl,--version-script=$(CURDIR)/build/core.map -Wl,-soname,libvgpucore.so"' ./shims/core
	@rm -f $(OUT)/libvgpucore.h

# The hand-written C of a stub folder: every .c there but the generated zz_* files.
hand_written = $(filter-out shims/$(1)/zz_%,$(wildcard shims/$(1)/*.c))

# One stub per SONAME: the generated exports + the common C, its version script, no Go.
# shims/<dir>/manual.c, where present, holds the hand-written exports (Manual rows; cuda's
# includes the generated zz_procaddr.c); VGPU_STUB_<stem> tells it which library it is built into.
# --no-undefined-version: a name in the version script that nothing defines is an error.
define stub
$(OUT)/$(1): shims/$(2)/zz_$(3).c build/$(3).map $(STUB_SRC) $(wildcard shims/$(2)/*.c shims/$(2)/*.h) include/vgpu/zz_prototypes.h
	@mkdir -p $(OUT)
	$(CC) $(STUB_CFLAGS) -DVGPU_STUB_$(subst -,_,$(3)) -o $$@ shims/$(2)/zz_$(3).c shims/common/stub.c $(call hand_written,$(2)) \
	  -Wl,-soname,$(1) -Wl,--version-script=build/$(3).map -Wl,--no-undefined-version $(STUB_LDFLAGS)
endef
$(eval $(call stub,libcuda.so.1,cuda,libcuda))
$(eval $(call stub,libnvidia-ml.so.1,nvml,libnvidia-ml))
$(eval $(call stub,libcudart.so.12,cudart,libcudart12))
$(eval $(call stub,libcudart.so.13,cudart,libcudart13))
$(eval $(call stub,libcublas.so.13,cublas,libcublas13))
$(eval $(call stub,libcublasLt.so.13,cublas,libcublasLt13))
$(eval $(call stub,libcublas.so.12,cublas,libcublas12))
$(eval $(call stub,libcublasLt.so.12,cublas,libcublasLt12))

# The symlinks a drop-in install has (linkers look for the unversioned name).
links: $(OUT)/libcuda.so.1 $(OUT)/libnvidia-ml.so.1 $(OUT)/libcudart.so.13 $(OUT)/libcublas.so.13 $(OUT)/libcublasLt.so.13
	ln -sf libcuda.so.1 $(OUT)/libcuda.so
	ln -sf libnvidia-ml.so.1 $(OUT)/libnvidia-ml.so
	ln -sf libcudart.so.13 $(OUT)/libcudart.so
	ln -sf libcublas.so.13 $(OUT)/libcublas.so
	ln -sf libcublasLt.so.13 $(OUT)/libcublasLt.so

$(OUT)/vgpu-server: $(GO_SRC)
	$(GO) build -ldflags '$(VERSION_LDFLAGS)' -o $@ ./cmd/vgpu-server
# The CLI is static (no cgo): `vgpu doctor` runs under the very LD_PRELOAD it diagnoses, and a
# static binary is untouched by it.
$(OUT)/vgpu: $(GO_SRC)
	CGO_ENABLED=0 $(GO) build -ldflags '$(VERSION_LDFLAGS)' -o $@ ./cmd/vgpu

# A test tool (no part of the packages): a relay that adds network latency, and a round-trip and
# copy benchmark through the client (docs/NETWORK.md).
$(OUT)/vgpu-netem: $(GO_SRC)
	$(GO) build -ldflags '$(VERSION_LDFLAGS)' -o $@ ./cmd/vgpu-netem

# The demo's CUDA device query, linked like any CUDA program (-lcuda), here against our stub.
$(OUT)/devicequery: test/c/devicequery.c include/vgpu/zz_prototypes.h $(OUT)/libcuda.so.1
	$(CC) -O2 -Wall -Iinclude -o $@ $< -L$(OUT) -l:libcuda.so.1

# Ollama's / ggml's discovery sequence (also what `vgpu doctor` runs), linked like ggml-cuda.
# RUNPATH $ORIGIN: it finds libcudart.so.13 (and libcuda.so.1) in its own folder when only some
# of vgpu's libraries are preloaded (a preloaded one still wins).
$(OUT)/vgpu-discover: test/c/discovery.c include/vgpu/zz_prototypes.h $(OUT)/libcuda.so.1 $(OUT)/libcudart.so.13 Makefile
	$(CC) -O2 -Wall -Iinclude -o $@ $< -L$(OUT) -l:libcudart.so.13 -l:libcuda.so.1 -ldl -Wl,-rpath,'$$ORIGIN' -Wl,--enable-new-dtags

# Several GPUs as one list through the driver, the runtime and NVML, and copies between them
# (test/integration/multidev_test.go runs it against several vgpu-servers).
$(OUT)/multidev: test/c/multidev.c include/vgpu/zz_prototypes.h $(OUT)/libcuda.so.1 $(OUT)/libcudart.so.13 $(OUT)/libnvidia-ml.so.1
	$(CC) -O2 -Wall -Iinclude -o $@ $< -L$(OUT) -l:libcudart.so.13 -l:libcuda.so.1 -l:libnvidia-ml.so.1

demo: build
	./scripts/demo.sh

test: build check-generated check-format
	VGPU_OUT=$(CURDIR)/$(OUT) $(GO) test -count=1 ./...
	cd packaging && VGPU_OUT=$(CURDIR)/$(OUT) VGPU_VERSION=$(VERSION) $(GO) test -count=1 ./...

# The .deb and .rpm packages (vgpu-client, vgpu-server) in build/pkg/, built by packaging/ (a Go
# program using nfpm as a library; its own module, so the client core never links it).
package: build
	cd packaging && $(GO) run . -out $(CURDIR)/$(OUT) -dest $(CURDIR)/build/pkg -version '$(VERSION)'

# every Go file as gofmt writes it
check-format:
	@out=$$($(GO) run cmd/gofmt -l cmd gen internal shims test packaging); [ -z "$$out" ] || { echo "not gofmt-formatted (run gofmt -w):"; echo "$$out"; exit 1; }

# internal/api's data files (gen/cmd/apidata, from gen/'s inputs: the real libraries' export lists
# and the declarations extracted from NVIDIA's headers, gen/README.md), then the generated code
# (cmd/vgpugen, from the API table, which those files are part of), then the README's generated
# tables (cmd/vgpudocs, from internal/settings and internal/server's Keys).
generate:
	$(GO) run ./gen/cmd/apidata
	$(GO) run ./cmd/vgpugen
	$(GO) run ./cmd/vgpudocs

# Fails when the generated files (and the README's generated tables) differ from what their
# inputs produce: every file that make generate writes is written again under $(OBJ)/_gen and compared.
check-generated:
	@rm -rf $(OBJ)/_gen; $(GO) run ./gen/cmd/apidata -root $(OBJ)/_gen && $(GO) run ./cmd/vgpugen -root $(OBJ)/_gen && \
	  $(GO) run ./cmd/vgpudocs -root $(OBJ)/_gen && \
	  for f in $$(cd $(OBJ)/_gen && find . -type f); do \
	    cmp -s $(OBJ)/_gen/$$f $$f || { echo "generated file $$f is stale: run make generate"; exit 1; }; done

clean:
	rm -rf $(OUT) $(OBJ)
