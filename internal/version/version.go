// Package version is the one version of a vgpu build: the Makefile sets Version with
// -ldflags "-X github.com/vgpu/vgpu/internal/version.Version=..." from `git describe --tags
// --always --dirty` in every Go binary and in libvgpucore.so; a plain `go build` or `go test`
// leaves "dev".
package version

// Version is the build's version: a git tag (v1.2.3), a tag plus commits (v1.2.3-4-gabcdef0), a
// bare commit (abcdef0) when the repository has no tag, any of these with "-dirty" for a build
// with uncommitted changes, or "dev" when built without the Makefile.
var Version = "dev"
