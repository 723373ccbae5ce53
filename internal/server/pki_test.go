package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgpu/vgpu/internal/remoting"
)

// TestPKI: `pki init`, `pki client`, `pki token` make ECDSA P-256 keys in files of mode 0600, a
// server certificate naming every --host, a client certificate the CA verifies for client auth,
// and a token both files hold; a second init or a repeated name is refused.
func TestPKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	run := func(args ...string) error { return PKICommand(args, io.Discard) }
	if err := run("init", "--dir", dir, "--host", "gpu-host", "--host", "10.0.0.5"); err != nil {
		t.Fatal(err)
	}
	if err := run("client", "--dir", dir, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := run("token", "--dir", dir, "ci"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ca.key", "server.key", "tokens", "clients/alice.key", "clients/ci.token"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, fi.Mode().Perm())
		}
	}
	load := func(crt, key string) *x509.Certificate {
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, crt), filepath.Join(dir, key))
		if err != nil {
			t.Fatal(err)
		}
		if k, ok := pair.PrivateKey.(*ecdsa.PrivateKey); !ok || k.Curve != elliptic.P256() {
			t.Errorf("%s: not an ECDSA P-256 key", key)
		}
		c, _ := x509.ParseCertificate(pair.Certificate[0])
		return c
	}
	ca := load("ca.crt", "ca.key")
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv := load("server.crt", "server.key")
	for _, h := range []string{"gpu-host", "10.0.0.5"} {
		if _, err := srv.Verify(x509.VerifyOptions{Roots: pool, DNSName: h}); err != nil {
			t.Errorf("server certificate for %s: %v", h, err)
		}
	}
	cli := load("clients/alice.crt", "clients/alice.key")
	if _, err := cli.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || cli.Subject.CommonName != "alice" {
		t.Errorf("client certificate %v: %v", cli.Subject, err)
	}
	server, _ := remoting.ReadTokens(filepath.Join(dir, "tokens"))
	client, _ := remoting.ReadTokens(filepath.Join(dir, "clients", "ci.token"))
	if len(server) != 1 || len(client) != 1 || server[0].Name != "ci" || string(server[0].Secret) != string(client[0].Secret) || len(client[0].Secret) != 32 {
		t.Errorf("tokens: server %v, client %v", server, client)
	}
	if err := run("init", "--dir", dir, "--host", "x"); err == nil || !strings.Contains(err.Error(), "already has a CA") {
		t.Errorf("a second init: %v", err)
	}
	if err := run("token", "--dir", dir, "ci"); err == nil {
		t.Error("a repeated token name is not refused")
	}
	if err := run("client", "--dir", dir, "bad name"); err == nil {
		t.Error("a bad client name is not refused")
	}
}
