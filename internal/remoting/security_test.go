package remoting

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadClientSecurity: environment variables win over the config file's keys; a relative
// path in the file is relative to the file's folder; a certificate needs its key.
func TestLoadClientSecurity(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "vgpu.conf")
	os.WriteFile(conf, []byte("tls_ca = ca.crt\ntoken_file = /abs/ci.token\ninsecure = no\n"), 0o644)
	for _, k := range clientSecurityVars {
		t.Setenv(k.Name, "")
	}
	t.Setenv("VGPU_CONFIG", conf)
	old := systemConfig
	systemConfig = filepath.Join(dir, "absent.conf")
	defer func() { systemConfig = old }()
	s, err := LoadClientSecurity()
	if err != nil || s.CAFile != filepath.Join(dir, "ca.crt") || s.TokenFile != "/abs/ci.token" || s.Insecure {
		t.Fatalf("from the file: %+v, %v", s, err)
	}
	t.Setenv("VGPU_TOKEN_FILE", "/env/token")
	t.Setenv("VGPU_INSECURE", "1")
	if s, err = LoadClientSecurity(); err != nil || s.TokenFile != "/env/token" || !s.Insecure || !strings.Contains(s.Source, "env VGPU_TOKEN_FILE") {
		t.Fatalf("env over file: %+v, %v", s, err)
	}
	t.Setenv("VGPU_INSECURE", "perhaps")
	if _, err = LoadClientSecurity(); err == nil {
		t.Fatal("VGPU_INSECURE=perhaps accepted")
	}
	t.Setenv("VGPU_INSECURE", "")
	t.Setenv("VGPU_TLS_CERT", "/c.crt")
	if _, err = LoadClientSecurity(); err == nil || !strings.Contains(err.Error(), "VGPU_TLS_KEY") {
		t.Fatalf("a certificate without a key: %v", err)
	}
}

// TestReadTokens: the format, and a file others can read is refused.
func TestReadTokens(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "tokens")
	os.WriteFile(p, []byte("# tokens\nci "+strings.Repeat("0a", 32)+"\n\nbob "+strings.Repeat("ff", 16)+" # bob\n"), 0o600)
	toks, err := ReadTokens(p)
	if err != nil || len(toks) != 2 || toks[0].Name != "ci" || len(toks[0].Secret) != 32 || toks[1].Name != "bob" {
		t.Fatalf("%+v %v", toks, err)
	}
	for _, bad := range []string{"ci\n", "ci 0a0b\n", "c/i " + strings.Repeat("0a", 32) + "\n", "ci zz" + strings.Repeat("0a", 32) + "\n",
		"ci " + strings.Repeat("0a", 32) + "\nci " + strings.Repeat("0b", 32) + "\n"} {
		os.WriteFile(p, []byte(bad), 0o600)
		if _, err := ReadTokens(p); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	os.WriteFile(p, []byte("ci "+strings.Repeat("0a", 32)+"\n"), 0o600)
	os.Chmod(p, 0o640)
	if _, err := ReadTokens(p); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Errorf("mode 0640: %v", err)
	}
}

// TestTokenProof: both ends of one TLS connection compute the same proof; another connection,
// another secret or another name give another.
func TestTokenProof(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"}, DNSNames: []string{"x"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	pool := x509.NewCertPool()
	c, _ := x509.ParseCertificate(der)
	pool.AddCert(c)
	pair := func() (tls.ConnectionState, tls.ConnectionState) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		srv := tls.Server(a, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
		cli := tls.Client(b, &tls.Config{RootCAs: pool, ServerName: "x", MinVersion: tls.VersionTLS13})
		done := make(chan error, 1)
		go func() { done <- srv.Handshake() }()
		if err := cli.Handshake(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return srv.ConnectionState(), cli.ConnectionState()
	}
	secret := bytes.Repeat([]byte{7}, 32)
	s1, c1 := pair()
	_, c2 := pair()
	ps, _ := TokenProofOf("ci", secret, s1)
	pc, _ := TokenProofOf("ci", secret, c1)
	other, _ := TokenProofOf("ci", secret, c2)
	wrong, _ := TokenProofOf("ci", bytes.Repeat([]byte{8}, 32), c1)
	name, _ := TokenProofOf("cj", secret, c1)
	if len(ps) != 32 || !bytes.Equal(ps, pc) {
		t.Fatalf("the two ends disagree: %x %x", ps, pc)
	}
	if bytes.Equal(ps, other) || bytes.Equal(ps, wrong) || bytes.Equal(ps, name) {
		t.Fatal("a proof matches on another connection, secret or name")
	}
}
