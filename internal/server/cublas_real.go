package server

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/ebitengine/purego"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/settings"
)

// The real backend's cuBLAS: NVIDIA's libcublas.so.13 and libcublasLt.so.13, loaded on the first
// cuBLAS call of a worker (most sessions never make one, and the libraries are large). The rows
// (internal/api/table_cublas.go) are then called like the driver's, through Real.Invoke.
//
// Where they are found: $VGPU_REAL_LIBCUBLAS / $VGPU_REAL_LIBCUBLASLT (absolute paths), else the
// CUDA toolkit's folders, else the pip wheels' (nvidia/cu13/lib), else the plain SONAME through
// the loader's search path (the server host has no vgpu stubs installed, so that finds NVIDIA's).
// libcublasLt is loaded first, from libcublas's folder where it is there: libcublas's DT_NEEDED
// on libcublasLt.so.13 then binds to that copy (the loader matches loaded libraries by SONAME).

var cublasLoad struct {
	once sync.Once
	h    [2]uintptr // libcublas.so.13, libcublasLt.so.13
}

// cublasLib is the handle of the library l's rows are looked up in, or 0 when it cannot be loaded.
func cublasLib(l api.Lib) uintptr {
	cublasLoad.once.Do(loadCublas)
	if l == api.LibCublasLt13 {
		return cublasLoad.h[1]
	}
	return cublasLoad.h[0]
}

// cublasSearchDirs are the folders searched, in order, when no environment variable names a file.
func cublasSearchDirs() []string {
	dirs := []string{"/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"}
	for _, pattern := range []string{
		"/usr/local/lib/python3*/dist-packages/nvidia/cu13/lib",
		"/usr/local/lib/python3*/site-packages/nvidia/cu13/lib",
		"/usr/lib/python3/dist-packages/nvidia/cu13/lib",
		"/usr/lib/python3*/site-packages/nvidia/cu13/lib",
	} {
		m, _ := filepath.Glob(pattern)
		dirs = append(dirs, m...)
	}
	return dirs
}

// findCublasFile is the path to load file from: set (its variable's value), else file in near
// (a folder, may be ""), else the first of dirs that has it, else file itself (for the
// loader's search path).
func findCublasFile(set, file, near string, dirs []string) string {
	if set != "" {
		return set
	}
	if near != "" {
		dirs = append([]string{near}, dirs...)
	}
	for _, d := range dirs {
		p := filepath.Join(d, file)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return file
}

func loadCublas() {
	dirs := cublasSearchDirs()
	cb := findCublasFile(settings.RealLibCublas.Get(), "libcublas.so.13", "", dirs)
	near := ""
	if filepath.IsAbs(cb) {
		near = filepath.Dir(cb)
	}
	lt := findCublasFile(settings.RealLibCublasLt.Get(), "libcublasLt.so.13", near, dirs)
	open := func(path string) uintptr {
		h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			logger.Warn(fmt.Sprintf("cannot load %s (%v): cuBLAS calls return CUBLAS_STATUS_NOT_SUPPORTED; set VGPU_REAL_LIBCUBLAS and VGPU_REAL_LIBCUBLASLT to its path", path, err), "library", path)
			return 0
		}
		return h
	}
	cublasLoad.h[1] = open(lt)
	if cublasLoad.h[1] == 0 {
		return // libcublas needs it
	}
	cublasLoad.h[0] = open(cb)
	if cublasLoad.h[0] != 0 {
		logger.Info(fmt.Sprintf("cuBLAS: loaded %s and %s", cb, lt))
	}
}
