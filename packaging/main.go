package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vgpu-package:", err)
		os.Exit(1)
	}
}

func run() error {
	here, _ := os.Getwd()
	out := flag.String("out", filepath.Join(here, "..", "build", "out"), "the build outputs (build/out)")
	dest := flag.String("dest", filepath.Join(here, "..", "build", "pkg"), "where to write the packages")
	version := flag.String("version", "dev", "the build's version (git describe --tags --always --dirty)")
	arch := flag.String("arch", runtime.GOARCH, "the packages' architecture (GOARCH)")
	flag.Parse()
	paths, err := Build(Options{Out: *out, Files: here, Dest: *dest, Version: *version, Arch: *arch})
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Println(p)
	}
	return nil
}
