package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vgpu/vgpu/internal/client"
	"github.com/vgpu/vgpu/internal/version"
)

// smiMain is `vgpu smi`: the remote GPUs as nvidia-smi shows local ones.
func smiMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vgpu smi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	list := fs.Bool("L", false, "list the GPUs, one line each: GPU <index>: <name> (UUID: <uuid>)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vgpu smi [-L]\n\nLists the GPUs of the vgpu-servers that VGPU_SERVER (else the config file) names, like nvidia-smi,\nwith the server each GPU lives on when there are several.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	srv, err := client.Connect()
	if err != nil {
		fmt.Fprintf(stderr, "vgpu smi: %v\n", err)
		return 1
	}
	// Hold one NVML reference over the whole listing (NVMLDevices takes and drops its own).
	if err := client.NVMLInit(); err != nil {
		fmt.Fprintf(stderr, "vgpu smi: %v\n", err)
		return 1
	}
	defer client.NVMLShutdown()
	devs, err := client.NVMLDevices()
	if err != nil {
		fmt.Fprintf(stderr, "vgpu smi: %v\n", err)
		return 1
	}
	if *list {
		if len(devs) == 0 {
			fmt.Fprintln(stderr, "No devices were found")
			return 1
		}
		several := severalServers(devs)
		for _, d := range devs {
			if several {
				fmt.Fprintf(stdout, "GPU %d: %s (UUID: %s) on %s\n", d.Index, d.Name, d.UUID, d.Server)
			} else {
				fmt.Fprintf(stdout, "GPU %d: %s (UUID: %s)\n", d.Index, d.Name, d.UUID)
			}
		}
		return 0
	}
	driver, err := client.NVMLDriverVersion()
	if err != nil {
		driver = "N/A"
	}
	cuda := "N/A"
	if v, err := client.CUDADriverVersion(); err == nil && v > 0 {
		cuda = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
	}
	writeSMI(stdout, time.Now(), srv, driver, cuda, devs)
	return 0
}

// severalServers reports whether the GPUs live on more than one vgpu-server (VGPU_SERVER a list).
func severalServers(devs []client.NVMLDevice) bool {
	for _, d := range devs {
		if d.Server != devs[0].Server {
			return true
		}
	}
	return false
}

// column is one column of the device table; a column no device has a value for is left out.
type column struct {
	head  string
	right bool
	cell  func(d *client.NVMLDevice) (string, bool)
}

func mib(b uint64) uint64 { return b >> 20 }

var smiColumns = []column{
	{"GPU", true, func(d *client.NVMLDevice) (string, bool) { return fmt.Sprint(d.Index), true }},
	{"Name", false, func(d *client.NVMLDevice) (string, bool) { return d.Name, true }},
	{"UUID", false, func(d *client.NVMLDevice) (string, bool) { return d.UUID, true }},
	{"Server", false, func(d *client.NVMLDevice) (string, bool) { return d.Server, d.Server != "" }}, // with several servers only
	{"Memory-Usage", true, func(d *client.NVMLDevice) (string, bool) {
		return fmt.Sprintf("%dMiB / %dMiB", mib(d.Memory.Used), mib(d.Memory.Total)), true
	}},
	{"GPU-Util", true, func(d *client.NVMLDevice) (string, bool) {
		if d.Utilization == nil {
			return "", false
		}
		return fmt.Sprintf("%d%%", d.Utilization.GPU), true
	}},
	{"Temp", true, func(d *client.NVMLDevice) (string, bool) {
		if d.TemperatureC == nil {
			return "", false
		}
		return fmt.Sprintf("%dC", *d.TemperatureC), true
	}},
	{"Pwr:Usage/Cap", true, func(d *client.NVMLDevice) (string, bool) {
		if d.PowerUsageMW == nil && d.PowerLimitMW == nil {
			return "", false
		}
		w := func(p *uint32) string {
			if p == nil {
				return "N/A"
			}
			return fmt.Sprintf("%dW", *p/1000)
		}
		return w(d.PowerUsageMW) + " / " + w(d.PowerLimitMW), true
	}},
}

// writeSMI prints the nvidia-smi-like view: a header box with the versions and the server, then
// one row per GPU.
func writeSMI(w io.Writer, now time.Time, srv client.Server, driver, cuda string, devs []client.NVMLDevice) {
	var cols []column
	var cells [][]string // [row][col]
	several := severalServers(devs)
	for _, c := range smiColumns {
		if c.head == "Server" && !several {
			continue // the header names the one server
		}
		var vals []string
		any := false
		for i := range devs {
			v, ok := c.cell(&devs[i])
			if ok {
				any = true
			} else {
				v = "N/A"
			}
			vals = append(vals, v)
		}
		if !any && len(devs) > 0 {
			continue
		}
		cols = append(cols, c)
		for i, v := range vals {
			if len(cells) <= i {
				cells = append(cells, nil)
			}
			cells[i] = append(cells[i], v)
		}
	}
	widths := make([]int, len(cols))
	for j, c := range cols {
		widths[j] = len(c.head)
		for i := range cells {
			widths[j] = max(widths[j], len(cells[i][j]))
		}
	}
	tableWidth := 1
	for _, wd := range widths {
		tableWidth += wd + 3
	}
	header := []string{
		fmt.Sprintf("VGPU-SMI %s    Driver Version: %s    CUDA Version: %s", version.Version, driver, cuda),
		fmt.Sprintf("Server: %s (%s)    backend: %s    vgpu-server %s", srv.Addr, srv.Source, srv.Backend, srv.ServerVersion),
	}
	if several {
		var addrs []string
		for _, d := range devs {
			if len(addrs) == 0 || addrs[len(addrs)-1] != d.Server {
				addrs = append(addrs, d.Server)
			}
		}
		header[1] = fmt.Sprintf("Servers: %s (%s)    the first's backend: %s, vgpu-server %s", strings.Join(addrs, ", "), srv.Source, srv.Backend, srv.ServerVersion)
	}
	inner := tableWidth - 4
	for _, h := range header {
		inner = max(inner, len(h))
	}
	// Widen the Name column (the last, if there is none) so that the table is as wide as the
	// header box.
	if extra := inner + 4 - tableWidth; extra > 0 && len(widths) > 0 {
		k := len(widths) - 1
		for j, c := range cols {
			if c.head == "Name" {
				k = j
			}
		}
		widths[k] += extra
	}

	fmt.Fprintln(w, now.Format("Mon Jan _2 15:04:05 2006"))
	bar := "+" + strings.Repeat("-", inner+2) + "+"
	fmt.Fprintln(w, bar)
	for _, h := range header {
		fmt.Fprintf(w, "| %-*s |\n", inner, h)
	}
	sep := func(fill string) string {
		var b strings.Builder
		b.WriteString("+")
		for _, wd := range widths {
			b.WriteString(strings.Repeat(fill, wd+2) + "+")
		}
		if fill == "=" {
			return "|" + b.String()[1:len(b.String())-1] + "|"
		}
		return b.String()
	}
	row := func(vals []string) string {
		var b strings.Builder
		b.WriteString("|")
		for j, v := range vals {
			if cols[j].right {
				fmt.Fprintf(&b, " %*s |", widths[j], v)
			} else {
				fmt.Fprintf(&b, " %-*s |", widths[j], v)
			}
		}
		return b.String()
	}
	fmt.Fprintln(w, sep("-"))
	heads := make([]string, len(cols))
	for j, c := range cols {
		heads[j] = c.head
	}
	fmt.Fprintln(w, row(heads))
	fmt.Fprintln(w, sep("="))
	if len(devs) == 0 {
		fmt.Fprintf(w, "| %-*s |\n", inner, "No devices were found")
	}
	for i := range cells {
		fmt.Fprintln(w, row(cells[i]))
	}
	fmt.Fprintln(w, sep("-"))
}
