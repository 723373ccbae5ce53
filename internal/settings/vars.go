package settings

import "time"

// The declarations, in the order of the README's tables (All). To add a variable: declare it
// here, read it only through its declaration, and run `make generate` (the README's tables).

// DefaultServer is the server address used when nothing names one.
const DefaultServer = "unix:///run/vgpu/vgpu.sock"

// ConfigFile is the system-wide client config file.
const ConfigFile = "/etc/vgpu/vgpu.conf"

// Read by the client (the core in a CUDA program, and the vgpu command).
var (
	Server = text(Var{Name: "VGPU_SERVER", Type: "address", Default: "`" + DefaultServer + "`",
		Meaning: "the vgpu-server address: `unix:///path`, `tcp://host:port` or `vsock://cid:port`; or a comma-separated list of them, whose GPUs the client shows as one device list (the first server's first)",
		ReadBy:  []Reader{InClient, InCLI}, Key: "server"}, "")
	Config = text(Var{Name: "VGPU_CONFIG", Type: "file", Default: "none",
		Meaning: "a client config file, read before `" + ConfigFile + "` (which is read too, if it exists); it must exist",
		ReadBy:  []Reader{InClient, InCLI}}, "")
	TLSCA = text(Var{Name: "VGPU_TLS_CA", Type: "file", Default: "the system's CAs",
		Meaning: "the CA that signed the server's certificate, a PEM file",
		ReadBy:  []Reader{InClient, InCLI}, Key: "tls_ca"}, "")
	TLSCert = text(Var{Name: "VGPU_TLS_CERT", Type: "file", Default: "none",
		Meaning: "this client's certificate, a PEM file, with `tls_key`",
		ReadBy:  []Reader{InClient, InCLI}, Key: "tls_cert"}, "")
	TLSKey = text(Var{Name: "VGPU_TLS_KEY", Type: "file", Default: "none",
		Meaning: "the key of `tls_cert`, a PEM file",
		ReadBy:  []Reader{InClient, InCLI}, Key: "tls_key"}, "")
	TokenFile = text(Var{Name: "VGPU_TOKEN_FILE", Type: "file", Default: "none",
		Meaning: "a token file, one line `NAME SECRET`, mode 0600",
		ReadBy:  []Reader{InClient, InCLI}, Key: "token_file"}, "")
	TLSServerName = text(Var{Name: "VGPU_TLS_SERVER_NAME", Type: "name", Default: "the address's host",
		Meaning: "the name to expect in the server's certificate",
		ReadBy:  []Reader{InClient, InCLI}, Key: "tls_server_name"}, "")
	Insecure = boolean(Var{Name: "VGPU_INSECURE", Type: "bool", Default: "0",
		Meaning: "`1`: speak plain TCP to a server run with `--insecure`",
		ReadBy:  []Reader{InClient, InCLI}, Key: "insecure"}, false)
	Log = oneOf(Var{Name: "VGPU_LOG", Type: "normal|debug|quiet", Default: "normal",
		Meaning:  "`debug` (or `trace`) traces every call; `quiet` (or `error`) keeps only errors",
		ReadBy:   []Reader{InClient, InCLI, InStubs, InServer, InWorker},
		CReaders: []string{"cmd/vgpugen/main.go", "shims/nvml/exporttable.c"}}, // the generated stubs' vgpu_stub_unsupported; the NVML private table's trace
		"normal", []string{"normal", "debug", "quiet"},
		map[string]string{"normal": "normal", "debug": "debug", "trace": "debug", "quiet": "quiet", "error": "quiet"})
	Stats = cOnly(Var{Name: "VGPU_STATS", Type: "set or not", Default: "unset",
		Meaning:  "set (`VGPU_STATS=1`): prints at exit the round trips, async calls, writes, bytes, time writing and waiting, the time inside vgpu's calls, reads that blocked, what carried the frames and the wake-ups sent, the bytes uploaded from pinned memory in place, the threads woken for replies another thread read and to read on (with the time to their running), the busiest rows, and the rows that made the most round trips",
		ReadBy:   []Reader{InClient},
		CReaders: []string{"shims/core/core.c"}})
	SpinUS = integer(Var{Name: "VGPU_SPIN_US", Type: "µs", Default: "2000 with 4 or more cores, else 50",
		Meaning: "how long a read polls before it blocks (`0`: never); unset, it polls as CUDA's own synchronisation spins, but 50 µs for a program that asks for blocking or yielding synchronisation (internal/client/sched.go); set it on the client and on the server",
		ReadBy:  []Reader{InClient, InServer, InWorker}}, 0, 0, 1<<30)
	TLSCrew = integer(Var{Name: "VGPU_TLS_CREW", Type: "count", Default: "half the processors less one, at most 3 (none under 4 processors)",
		Meaning: "goroutines that seal and open the TLS records of bulk transfers (64 KiB or more) beside the transfer's own, polling 100 µs for work before they park (`0`: none; at most 3); set it on the client and on the server",
		ReadBy:  []Reader{InClient, InServer, InWorker}}, -1, 0, 3)
	ShmMB = integer(Var{Name: "VGPU_SHM_MB", Type: "MiB", Default: "64",
		Meaning: "shared memory for bulk copies on unix sockets (`0`: none)",
		ReadBy:  []Reader{InClient}}, 64, 0, 1<<20)
	RingKB = ringKB(Var{Name: "VGPU_RING_KB", Type: "KiB", Default: "1024",
		Meaning: "on unix sockets, calls and replies travel through shared memory, in a ring of this size each way (a power of two from 64 to 16384), the socket only waking a side that stopped polling (`0`: through the socket)",
		ReadBy:  []Reader{InClient}})
	PinnedMB = integer(Var{Name: "VGPU_PINNED_MB", Type: "MiB", Default: "0",
		Meaning: "on unix sockets, pinned host allocations of 64 KiB or more (`cudaMallocHost`, `cuMemHostAlloc`, …) come from this much memory shared with the worker, which then copies a host-to-device copy from them itself, without the client copying them first (`0`: none; needs `VGPU_SHM_MB`; the two together at most 1024, the worker's limit)",
		ReadBy:  []Reader{InClient}}, 0, 0, 512)
	UploadCacheMB = integer(Var{Name: "VGPU_UPLOAD_CACHE_MB", Type: "MiB", Default: "0",
		Meaning: "over TCP and vsock, an async upload of 64 KiB or more to a device address uploaded to lately (a program's input buffer) sends only its 4 KiB blocks that a cache of this many MiB of blocks sent before, kept alike by client and worker, does not hold (`0`: none; at most 64; off by default until measured on a GPU host, docs/NETWORK.md)",
		ReadBy:  []Reader{InClient}}, 0, 0, 64)
	CopyThreads = integer(Var{Name: "VGPU_COPY_THREADS", Type: "count", Default: "4",
		Meaning: "threads copying into the shared memory",
		ReadBy:  []Reader{InClient}}, 4, 1, 1<<10)
	KeepaliveS = seconds(Var{Name: "VGPU_KEEPALIVE_S", Type: "seconds", Default: "15",
		Meaning: "an idle client sends a keepalive this often, and a call whose server sends nothing for three times this fails as a lost connection (`0`: neither)",
		ReadBy:  []Reader{InClient}}, 15*time.Second)
	ExecKeep = cOnly(Var{Name: "VGPU_EXEC_KEEP", Type: "0 or unset", Default: "unset",
		Meaning:  "`0` turns `libvgpu-exec.so` off: it no longer puts vgpu's `LD_PRELOAD` entries and `VGPU_*` variables back into children whose parent cleared them",
		ReadBy:   []Reader{InExecShim},
		CReaders: []string{"shims/exec/src/exec.c"}})
)

// Read by vgpu-server and its workers.
var (
	SimDevices = integer(Var{Name: "VGPU_SIM_DEVICES", Type: "count", Default: "1",
		Meaning: "GPUs the sim backend simulates (1 to 8)",
		ReadBy:  []Reader{InWorker}}, 1, 1, 8)
	SimHost = integer(Var{Name: "VGPU_SIM_HOST", Type: "number", Default: "0",
		Meaning: "which simulated host the sim backend is (0 to 255): its GPUs' UUIDs and device addresses differ from another host's, as two real hosts' would",
		ReadBy:  []Reader{InWorker}}, 0, 0, 255)
	SimWorkUS = integer(Var{Name: "VGPU_SIM_WORK_US", Type: "microseconds", Default: "0",
		Meaning: "simulated GPU time: each async device-to-device copy the sim backend runs keeps its stream busy this long (after the stream's earlier work), and synchronising the stream, its events or the context waits for it; streams run side by side (0 to 10000000)",
		ReadBy:  []Reader{InWorker}}, 0, 0, 10000000)
	WorkerStats = boolean(Var{Name: "VGPU_WORKER_STATS", Type: "bool", Default: "0",
		Meaning: "`1`: each worker logs, when its session ends, where its time went: waiting for frames, each row (count, total, mean), page-locking the shared memory, the waits that let other threads' calls run meanwhile, the hand-offs of the reading between its threads (count, time)",
		ReadBy:  []Reader{InWorker}}, false)
	TLSRelay = oneOf(Var{Name: "VGPU_TLS_RELAY", Type: "worker|blocking|netpoll", Default: "`worker`",
		Meaning: "how a TLS session reaches its worker: handed to the worker, which reads and writes the TLS records itself; or relayed by the server with blocking reads that poll first, or with Go's netpoller",
		ReadBy:  []Reader{InServer}}, "worker", []string{"worker", "blocking", "netpoll"},
		map[string]string{"worker": "worker", "blocking": "blocking", "netpoll": "netpoll"})
	CPUProfile = text(Var{Name: "VGPU_CPUPROFILE", Type: "path", Default: "none",
		Meaning: "each worker writes a CPU profile to PATH.PID",
		ReadBy:  []Reader{InWorker}}, "")
	RealLibCUDA = text(Var{Name: "VGPU_REAL_LIBCUDA", Type: "file", Default: "`libcuda.so.1`",
		Meaning: "the host's driver library the real backend loads",
		ReadBy:  []Reader{InServer, InWorker}}, "libcuda.so.1")
	RealLibNVML = text(Var{Name: "VGPU_REAL_LIBNVML", Type: "file", Default: "`libnvidia-ml.so.1`",
		Meaning: "the host's NVML library the real backend loads",
		ReadBy:  []Reader{InServer, InWorker}}, "libnvidia-ml.so.1")
	RealLibCublas = text(Var{Name: "VGPU_REAL_LIBCUBLAS", Type: "file", Default: "found in the CUDA toolkit or the Python wheels",
		Meaning: "the host's `libcublas.so.13` the real backend loads",
		ReadBy:  []Reader{InWorker}}, "")
	RealLibCublasLt = text(Var{Name: "VGPU_REAL_LIBCUBLASLT", Type: "file", Default: "next to libcublas, else as libcublas",
		Meaning: "the host's `libcublasLt.so.13` the real backend loads",
		ReadBy:  []Reader{InWorker}}, "")
)

// Read only by tests (test helpers read them through these declarations, but the packaging
// module, which cannot import internal packages, reads VGPU_OUT and VGPU_VERSION itself) and by
// the scripts that run on the GPU machine.
var (
	TestOut = text(Var{Name: "VGPU_OUT", Type: "folder", Default: "`build/out` (tests skip what needs it)",
		Meaning: "the build outputs the integration tests run; `make test` sets it, and a test then fails when a file is missing",
		ReadBy:  []Reader{InTests}}, "")
	TestReference = text(Var{Name: "VGPU_REFERENCE", Type: "folder", Default: "unset: `testout.ReferenceDir`'s folder, if a workspace keeps one",
		Meaning: "NVIDIA's headers and export lists the tests compare with (tests skip without them)",
		ReadBy:  []Reader{InTests}}, "")
	TestVersion = cOnly(Var{Name: "VGPU_VERSION", Type: "version", Default: "a made-up one",
		Meaning: "the version the packaging test expects the binaries to print (`make test` passes the Makefile's)",
		ReadBy:  []Reader{InTests}})
	TestHostileCalls = integer(Var{Name: "VGPU_HOSTILE_CALLS", Type: "count", Default: "10000",
		Meaning: "how many hostile calls `TestHostileClients` makes",
		ReadBy:  []Reader{InTests}}, 10000, 1, 1<<30)
	TestCLIRun = cOnly(Var{Name: "VGPU_CLI_TEST_RUN", Type: "1 or unset", Default: "unset",
		Meaning: "`1`: cmd/vgpu's test binary runs as the `vgpu` command (its tests re-execute it so)",
		ReadBy:  []Reader{InTests}})
	TestWriteSeeds = boolean(Var{Name: "VGPU_WRITE_SEEDS", Type: "bool", Default: "0",
		Meaning: "`1`: `TestFuzzSeedFiles` writes the fuzz seed files instead of checking them",
		ReadBy:  []Reader{InTests}}, false)
	GPUOnlyLlama = cOnly(Var{Name: "VGPU_ONLY_LLAMA", Type: "1 or unset", Default: "unset",
		Meaning: "`1`: test/gpu/run.sh skips checks 1 to 5 (device query to the compiled CUDA programs) but PyTorch's computing (torch-compute, torch-blas), for a short run of llama.cpp and cuBLAS work", ReadBy: []Reader{InScripts}})
	GPUSkipLlama = cOnly(Var{Name: "VGPU_SKIP_LLAMA", Type: "1 or unset", Default: "unset",
		Meaning: "`1`: test/gpu/run.sh leaves out the llama.cpp checks; the performance table then runs without its llama.cpp rows (`VGPU_SKIP_TRANSPORT=1`: not at all)", ReadBy: []Reader{InScripts}})
	GPUSkipOllama = cOnly(Var{Name: "VGPU_SKIP_OLLAMA", Type: "1 or unset", Default: "unset",
		Meaning: "`1`: test/gpu/run.sh leaves out the Ollama checks", ReadBy: []Reader{InScripts}})
	GPUSkipTransport = cOnly(Var{Name: "VGPU_SKIP_TRANSPORT", Type: "1 or unset", Default: "unset",
		Meaning: "`1`: the llama.cpp checks leave out the performance table (test/gpu/perf_table.sh: unix, TCP, TLS, a 200 µs relay, vsock where the host has its loopback)", ReadBy: []Reader{InScripts}})
	GPUPerfTLSNoCrew = cOnly(Var{Name: "VGPU_PERF_TLS_NOCREW", Type: "1 or unset", Default: "unset",
		Meaning: "`1`: test/gpu/perf_table.sh adds a transport, TLS with `VGPU_TLS_CREW=0` on both sides, beside the others", ReadBy: []Reader{InScripts}})
	GPUPerfTransports = cOnly(Var{Name: "VGPU_PERF_TRANSPORTS", Type: "transport names", Default: "all",
		Meaning: "test/gpu/perf_table.sh measures only these of native, unix, tcp, tls, relay200, tls0, vsock (the others' columns show `-`), for a run short of device time", ReadBy: []Reader{InScripts}})
	GPUSkipLatency = cOnly(Var{Name: "VGPU_SKIP_LATENCY", Type: "1 or unset", Default: "unset",
		Meaning: "`1`: the llama.cpp checks leave out the runs through vgpu-netem's added round-trip times", ReadBy: []Reader{InScripts}})
	GPUBenchProfile = cOnly(Var{Name: "VGPU_BENCH_PROFILE", Type: "1 or 0", Default: "1",
		Meaning: "`0`: test/gpu/exec_checks.sh leaves out the benchmark run whose workers write a CPU profile", ReadBy: []Reader{InScripts}})
	GPUBenchPinned = cOnly(Var{Name: "VGPU_BENCH_PINNED", Type: "1 or 0", Default: "1",
		Meaning: "`0`: test/gpu/exec_checks.sh leaves out the benchmark run with the worker and the client pinned to two cores", ReadBy: []Reader{InScripts}})
	GPUBackend = cOnly(Var{Name: "VGPU_BACKEND", Type: "real|sim|auto", Default: "`real` (ollama_checks.sh), `auto` (scripts/demo.sh)",
		Meaning: "the backend the Ollama checks and the demo start vgpu-server with", ReadBy: []Reader{InScripts}})
	GPUExpectLimit = cOnly(Var{Name: "VGPU_EXPECT_LIMIT", Type: "bytes", Default: "none (required)",
		Meaning: "the session memory limit test/gpu/quota.py checks", ReadBy: []Reader{InScripts}})
)
