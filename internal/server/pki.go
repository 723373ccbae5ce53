package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vgpu/vgpu/internal/remoting"
)

// DefaultPKIDir is where `vgpu-server pki` keeps its files unless --dir says otherwise.
const DefaultPKIDir = "/etc/vgpu/pki"

// The files of a PKI folder.
const (
	pkiCA         = "ca.crt"     // the CA: signs the server's and the clients' certificates
	pkiCAKey      = "ca.key"     // its key (keep it on the server, or offline)
	pkiServerCert = "server.crt" // tls_cert
	pkiServerKey  = "server.key" // tls_key
	pkiTokens     = "tokens"     // tokens_file: one "NAME SECRET" line per token
	pkiClients    = "clients"    // NAME.crt, NAME.key, NAME.token for each client
)

type hostList []string

func (h *hostList) String() string     { return strings.Join(*h, ",") }
func (h *hostList) Set(s string) error { *h = append(*h, s); return nil }

// PKICommand is `vgpu-server pki init|client|token`: what a newcomer needs for TLS.
func PKICommand(args []string, out io.Writer) error {
	usage := `usage:
  vgpu-server pki init   [--dir DIR] --host NAME [--host NAME|IP ...]   CA, server certificate and key
  vgpu-server pki client [--dir DIR] NAME                              a client certificate and key (identity cert:CN=NAME)
  vgpu-server pki token  [--dir DIR] NAME                              a token for both sides (identity token:NAME)
DIR defaults to ` + DefaultPKIDir + `; keys are ECDSA P-256, private files mode 0600.`
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("pki "+args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	dir := fs.String("dir", DefaultPKIDir, "the folder of the CA, the server's files and the clients' files")
	var hosts hostList
	if args[0] == "init" {
		fs.Var(&hosts, "host", "a DNS name or IP address clients use to reach this server (repeatable)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "init":
		if len(hosts) == 0 || fs.NArg() > 0 {
			return errors.New("pki init: name the server with --host (repeatable: every name and address clients use)\n" + usage)
		}
		return pkiInit(*dir, hosts, out)
	case "client", "token":
		if fs.NArg() != 1 || !remoting.ValidTokenName(fs.Arg(0)) {
			return fmt.Errorf("pki %s: want one NAME of letters, digits, '.', '_', '@', '-'\n%s", args[0], usage)
		}
		if args[0] == "client" {
			return pkiClient(*dir, fs.Arg(0), out)
		}
		return pkiToken(*dir, fs.Arg(0), out)
	}
	return errors.New(usage)
}

func pkiInit(dir string, hosts []string, out io.Writer) error {
	if err := os.MkdirAll(filepath.Join(dir, pkiClients), 0o755); err != nil {
		return err
	}
	caPath := filepath.Join(dir, pkiCA)
	if _, err := os.Stat(caPath); err == nil {
		return fmt.Errorf("%s exists: this folder already has a CA (remove the folder's files to start over)", caPath)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "vgpu CA " + hosts[0]},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, pkiCAKey), caKey); err != nil {
		return err
	}
	if err := writePEM(caPath, "CERTIFICATE", caDER, 0o644); err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	tmpl := leafTemplate(hosts[0], x509.ExtKeyUsageServerAuth)
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if err := issue(tmpl, ca, caKey, filepath.Join(dir, pkiServerCert), filepath.Join(dir, pkiServerKey)); err != nil {
		return err
	}
	tokens := filepath.Join(dir, pkiTokens)
	if f, err := os.OpenFile(tokens, os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		f.Close()
	} else {
		return err
	}
	abs, _ := filepath.Abs(dir)
	fmt.Fprintf(out, `Created in %[1]s: %[2]s (CA), %[3]s (its key: keep it private), %[4]s and %[5]s (this server, for %[6]s), %[7]s (no tokens yet).
Put these lines into the server's config file (/etc/vgpu/server.conf):
    tls_cert = %[1]s/%[4]s
    tls_key = %[1]s/%[5]s
    tls_client_ca = %[1]s/%[2]s
    tokens_file = %[1]s/%[7]s
Then, per client: vgpu-server pki client NAME (a certificate) or vgpu-server pki token NAME (a token).
`, abs, pkiCA, pkiCAKey, pkiServerCert, pkiServerKey, strings.Join(hosts, ", "), pkiTokens)
	return nil
}

func pkiClient(dir, name string, out io.Writer) error {
	ca, caKey, err := loadCA(dir)
	if err != nil {
		return err
	}
	crt := filepath.Join(dir, pkiClients, name+".crt")
	key := filepath.Join(dir, pkiClients, name+".key")
	if _, err := os.Stat(crt); err == nil {
		return fmt.Errorf("%s exists: client %q has a certificate already", crt, name)
	}
	if err := os.MkdirAll(filepath.Join(dir, pkiClients), 0o755); err != nil {
		return err
	}
	if err := issue(leafTemplate(name, x509.ExtKeyUsageClientAuth), ca, caKey, crt, key); err != nil {
		return err
	}
	abs, _ := filepath.Abs(dir)
	fmt.Fprintf(out, `Created %[2]s and %[3]s (identity cert:CN=%[4]s). Copy them and %[1]s/%[5]s to the client, then there:
    VGPU_SERVER=tcp://HOST:PORT VGPU_TLS_CA=.../%[5]s VGPU_TLS_CERT=.../%[4]s.crt VGPU_TLS_KEY=.../%[4]s.key
(or the keys server, tls_ca, tls_cert, tls_key of /etc/vgpu/vgpu.conf)
`, abs, crt, key, name, pkiCA)
	return nil
}

func pkiToken(dir, name string, out io.Writer) error {
	tokens := filepath.Join(dir, pkiTokens)
	if toks, err := remoting.ReadTokens(tokens); err == nil {
		for _, t := range toks {
			if t.Name == name {
				return fmt.Errorf("%s already has a token %q", tokens, name)
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	line := name + " " + hex.EncodeToString(secret) + "\n"
	if err := os.MkdirAll(filepath.Join(dir, pkiClients), 0o755); err != nil {
		return err
	}
	client := filepath.Join(dir, pkiClients, name+".token")
	if err := os.WriteFile(client, []byte(line), 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(tokens, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(dir)
	fmt.Fprintf(out, `Created %[2]s (identity token:%[3]s) and added it to %[1]s/%[4]s (the server re-reads it).
Copy it (mode 0600) and %[1]s/%[5]s to the client, then there:
    VGPU_SERVER=tcp://HOST:PORT VGPU_TLS_CA=.../%[5]s VGPU_TOKEN_FILE=.../%[3]s.token
(or the keys server, tls_ca, token_file of /etc/vgpu/vgpu.conf)
`, abs, client, name, pkiTokens, pkiCA)
	return nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func leafTemplate(cn string, usage x509.ExtKeyUsage) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(3, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
}

func issue(tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey, crtPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writeKey(keyPath, key); err != nil {
		return err
	}
	return writePEM(crtPath, "CERTIFICATE", der, 0o644)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
}

// writePEM creates path (it must not exist) with mode.
func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	err = pem.Encode(f, &pem.Block{Type: typ, Bytes: der})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, pkiCA), filepath.Join(dir, pkiCAKey))
	if err != nil {
		return nil, nil, fmt.Errorf("the CA of %s (run `vgpu-server pki init` first): %w", dir, err)
	}
	ca, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("%s: not an ECDSA key", filepath.Join(dir, pkiCAKey))
	}
	return ca, key, nil
}
