// Command gohost is a Go program with cgo, standing in for a Go host of CUDA such as Ollama: the
// process then holds two Go runtimes, its own and the vgpu core's. It installs signal handlers
// through os/signal (SIGUSR1, SIGUSR2) and through C sigaction (SIGPWR), dlopens the stubs with
// RTLD_NOW and calls cuInit, cuDeviceGetCount, nvmlInit_v2 and nvmlDeviceGetCount_v2 from many
// goroutines, collects garbage, execs /bin/true repeatedly, sends itself signals, and prints
// PASS when all of it worked.
//
//	gohost -stubs DIR -mode preload|dlopen
//
// preload: the stubs are in LD_PRELOAD, so the C handler is installed without SA_ONSTACK and
// must come out with it (the stubs interpose sigaction). dlopen: nothing interposes, so the C
// handler is installed with SA_ONSTACK, as Go requires of non-Go code.
package main

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int c_handled;
static void c_handler(int sig) { __atomic_add_fetch(&c_handled, 1, __ATOMIC_SEQ_CST); }
static int c_count(void) { return __atomic_load_n(&c_handled, __ATOMIC_SEQ_CST); }

// Installs c_handler for sig with flags; returns 1 if the installed action has SA_ONSTACK,
// 0 if not, -1 on error.
static int install_c_handler(int sig, int flags)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = c_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = flags;
	if (sigaction(sig, &sa, NULL) != 0 || sigaction(sig, NULL, &old) != 0)
		return -1;
	return (old.sa_flags & SA_ONSTACK) != 0;
}

typedef int (*fn_init)(unsigned int);
typedef int (*fn_intp)(int *);
typedef int (*fn_void)(void);
typedef int (*fn_uintp)(unsigned int *);
static fn_init p_cuInit;
static fn_intp p_cuDeviceGetCount;
static fn_void p_nvmlInit;
static fn_uintp p_nvmlCount;

static const char *open_stubs(const char *cuda, const char *nvml)
{
	void *c = dlopen(cuda, RTLD_NOW | RTLD_LOCAL);
	if (!c)
		return dlerror();
	void *n = dlopen(nvml, RTLD_NOW | RTLD_LOCAL);
	if (!n)
		return dlerror();
	p_cuInit = (fn_init)dlsym(c, "cuInit");
	p_cuDeviceGetCount = (fn_intp)dlsym(c, "cuDeviceGetCount");
	p_nvmlInit = (fn_void)dlsym(n, "nvmlInit_v2");
	p_nvmlCount = (fn_uintp)dlsym(n, "nvmlDeviceGetCount_v2");
	if (!p_cuInit || !p_cuDeviceGetCount || !p_nvmlInit || !p_nvmlCount)
		return "a stub lacks cuInit, cuDeviceGetCount, nvmlInit_v2 or nvmlDeviceGetCount_v2";
	return NULL;
}

static int cu_init(void) { return p_cuInit(0); }
static int cu_count(int *n) { return p_cuDeviceGetCount(n); }
static int nvml_init(void) { return p_nvmlInit(); }
static int nvml_count(unsigned int *n) { return p_nvmlCount(n); }
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

var failures atomic.Int32

func fail(format string, args ...any) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	failures.Add(1)
}

func cuCount() (int, int) {
	var n C.int
	r := C.cu_count(&n)
	return int(r), int(n)
}

func nvmlCount() (int, int) {
	var n C.uint
	r := C.nvml_count(&n)
	return int(r), int(n)
}

// coreFiles counts the distinct libvgpucore.so files mapped into the process.
func coreFiles() int {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		fail("reading /proc/self/maps: %v", err)
		return -1
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.IndexByte(line, '/'); i >= 0 && strings.Contains(line[i:], "/libvgpucore.so") {
			seen[line[i:]] = true
		}
	}
	return len(seen)
}

func main() {
	stubs := flag.String("stubs", "", "folder of the stub libraries")
	mode := flag.String("mode", "preload", "preload or dlopen")
	flag.Parse()
	time.AfterFunc(15*time.Second, func() {
		fmt.Println("FAIL: watchdog: still running after 15 s")
		os.Exit(3)
	})

	// Handlers through os/signal.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)

	// A handler through C sigaction.
	flags := C.int(0)
	if *mode == "dlopen" {
		flags = C.SA_ONSTACK
	}
	switch C.install_c_handler(C.SIGPWR, flags) {
	case 1:
		fmt.Println("C handler SA_ONSTACK: set")
	case 0:
		fail("C handler SA_ONSTACK: unset (installed with flags %d, mode %s)", flags, *mode)
	default:
		fail("C sigaction failed")
	}

	// The stubs, by absolute path with RTLD_NOW (preloaded or not: the same objects).
	cuda := C.CString(filepath.Join(*stubs, "libcuda.so.1"))
	nvml := C.CString(filepath.Join(*stubs, "libnvidia-ml.so.1"))
	defer C.free(unsafe.Pointer(cuda))
	defer C.free(unsafe.Pointer(nvml))
	if msg := C.open_stubs(cuda, nvml); msg != nil {
		fail("dlopen: %s", C.GoString(msg))
		os.Exit(1)
	}
	if n := coreFiles(); n != 0 {
		fail("%d vgpu cores loaded before any API call", n)
	}
	if r := C.cu_init(); r != 0 {
		fail("cuInit = %d", r)
	}
	if r, n := cuCount(); r != 0 || n < 1 {
		fail("cuDeviceGetCount = %d, count %d", r, n)
	} else {
		fmt.Printf("cuDeviceGetCount: %d device(s)\n", n)
	}
	if r := C.nvml_init(); r != 0 {
		fail("nvmlInit_v2 = %d", r)
	}
	if r, n := nvmlCount(); r != 0 || n < 1 {
		fail("nvmlDeviceGetCount_v2 = %d, count %d", r, n)
	}
	if n := coreFiles(); n != 1 {
		fail("%d vgpu cores loaded after API calls, want 1", n)
	} else {
		fmt.Println("vgpu cores: 1")
	}

	// Work on both runtimes while the rest goes on: calls from many goroutines (so from many
	// threads of the host runtime into the core), garbage for both collectors.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls atomic.Int64
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var keep [][]byte
			for {
				select {
				case <-stop:
					return
				default:
				}
				if i%2 == 0 {
					if r, n := cuCount(); r != 0 || n < 1 {
						fail("goroutine %d: cuDeviceGetCount = %d, count %d", i, r, n)
						return
					}
				} else if r, n := nvmlCount(); r != 0 || n < 1 {
					fail("goroutine %d: nvmlDeviceGetCount_v2 = %d, count %d", i, r, n)
					return
				}
				calls.Add(1)
				keep = append(keep, make([]byte, 64<<10))
				if len(keep) > 64 {
					keep = nil
				}
			}
		}(i)
	}

	// exec children, repeatedly.
	for i := 0; i < 20; i++ {
		if out, err := exec.Command("/bin/true").CombinedOutput(); err != nil {
			fail("exec /bin/true #%d: %v %s", i, err, out)
			break
		}
	}
	fmt.Println("exec /bin/true: 20/20")

	// Signals to ourselves: os/signal ones...
	for i := 0; i < 10; i++ {
		for _, s := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2} {
			syscall.Kill(os.Getpid(), s)
			select {
			case got := <-sigs:
				if got != s {
					// Two of a kind may arrive together; accept any order.
					select {
					case <-sigs:
					case <-time.After(3 * time.Second):
						fail("signal %v: got %v only", s, got)
					}
				}
			case <-time.After(3 * time.Second):
				fail("signal %v #%d not delivered to os/signal within 3 s", s, i)
			}
		}
		runtime.GC()
	}
	fmt.Println("os/signal: delivered")
	// ... and the C-handled one.
	for i := 0; i < 10; i++ {
		before := C.c_count()
		syscall.Kill(os.Getpid(), syscall.SIGPWR)
		deadline := time.Now().Add(3 * time.Second)
		for C.c_count() == before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if C.c_count() == before {
			fail("SIGPWR #%d not handled by the C handler within 3 s", i)
			break
		}
	}
	fmt.Println("C handler: ran")

	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	fmt.Printf("calls from goroutines: %d\n", calls.Load())
	if calls.Load() == 0 {
		fail("no calls from goroutines")
	}
	if n := coreFiles(); n != 1 {
		fail("%d vgpu cores at the end, want 1", n)
	}
	if failures.Load() != 0 {
		fmt.Printf("FAILED (%d)\n", failures.Load())
		os.Exit(1)
	}
	fmt.Println("PASS")
}
