package remoting

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/vgpu/vgpu/internal/settings"
)

// ClientSecurity is how a client secures a tcp:// connection. TLS 1.3 is the default; the
// client proves who it is with a certificate (CertFile, KeyFile) or a token (TokenFile), and
// trusts the server's certificate if CAFile (else the system's roots) signed it. Plain TCP only
// with Insecure, for a server started with --insecure.
type ClientSecurity struct {
	Insecure          bool
	CAFile            string
	CertFile, KeyFile string
	TokenFile         string
	ServerName        string // the name checked in the server's certificate (default: the address's host)
	Source            string // where the settings came from, for messages
}

// The client security settings: each an environment variable and a config file key.
var clientSecurityVars = []*settings.Var{&settings.Insecure.Var, &settings.TLSCA.Var, &settings.TLSCert.Var,
	&settings.TLSKey.Var, &settings.TokenFile.Var, &settings.TLSServerName.Var}

// LoadClientSecurity reads the client's security settings: each from its environment variable
// (VGPU_INSECURE=1, VGPU_TLS_CA, VGPU_TLS_CERT, VGPU_TLS_KEY, VGPU_TOKEN_FILE,
// VGPU_TLS_SERVER_NAME), else from its key in the client config file (insecure, tls_ca, tls_cert,
// tls_key, token_file, tls_server_name; relative paths are relative to the file's folder).
func LoadClientSecurity() (ClientSecurity, error) {
	files, err := clientConfigs(os.Getenv)
	if err != nil {
		return ClientSecurity{}, err
	}
	vals := map[string]string{}
	var from []string
	for _, k := range clientSecurityVars {
		if v := k.Raw(); v != "" {
			vals[k.Key] = v
			from = append(from, "env "+k.Name)
			continue
		}
		for _, f := range files {
			if v, ok := f.keys[k.Key]; ok && v != "" {
				if k.Type == "file" && !filepath.IsAbs(v) {
					v = filepath.Join(filepath.Dir(f.path), v)
				}
				vals[k.Key] = v
				from = append(from, f.path+" "+k.Key)
				break
			}
		}
	}
	s := ClientSecurity{CAFile: vals["tls_ca"], CertFile: vals["tls_cert"], KeyFile: vals["tls_key"],
		TokenFile: vals["token_file"], ServerName: vals["tls_server_name"], Source: strings.Join(from, ", ")}
	if v, ok := vals["insecure"]; ok {
		b, err := settings.Insecure.Parse(v)
		if err != nil {
			return ClientSecurity{}, fmt.Errorf("insecure (VGPU_INSECURE or the config key): %w", err)
		}
		s.Insecure = b
	}
	if (s.CertFile == "") != (s.KeyFile == "") {
		return ClientSecurity{}, errors.New("a client certificate needs both VGPU_TLS_CERT and VGPU_TLS_KEY (config keys tls_cert, tls_key)")
	}
	return s, nil
}

// TLSConfig is the client's TLS configuration for a server at a (tcp).
func (s ClientSecurity) TLSConfig(a Addr) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, ServerName: s.ServerName}
	if cfg.ServerName == "" {
		cfg.ServerName = a.Host
	}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("TLS CA (VGPU_TLS_CA / tls_ca): %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA %s: no PEM certificate in it", s.CAFile)
		}
		cfg.RootCAs = pool
	}
	if s.CertFile != "" {
		c, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate (VGPU_TLS_CERT / VGPU_TLS_KEY): %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// Authenticate fills h's token fields on an established TLS connection when the client uses a
// token (and not a certificate).
func (s ClientSecurity) Authenticate(tc *tls.Conn, h *Hello) error {
	if s.TokenFile == "" || s.CertFile != "" {
		return nil
	}
	toks, err := ReadTokens(s.TokenFile)
	if err != nil {
		return fmt.Errorf("token (VGPU_TOKEN_FILE / token_file): %w", err)
	}
	if len(toks) != 1 {
		return fmt.Errorf("token file %s holds %d tokens, want one \"NAME SECRET\" line", s.TokenFile, len(toks))
	}
	proof, err := TokenProofOf(toks[0].Name, toks[0].Secret, tc.ConnectionState())
	if err != nil {
		return err
	}
	h.Token, h.TokenProof = toks[0].Name, proof
	return nil
}

// ExplainTLSError turns a TLS failure with the server at a into a sentence that says what to do.
func ExplainTLSError(err error, a Addr) error {
	var rhe tls.RecordHeaderError
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	// an alert the server sent is a *net.OpError "remote error" around an unexported type
	remoteCert := false
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" && strings.Contains(oe.Err.Error(), "certificate") {
		remoteCert = true
	}
	switch {
	case errors.As(err, &rhe):
		return fmt.Errorf("the server at %s does not speak TLS (%w); if it was started with --insecure, set VGPU_INSECURE=1 (config key insecure = 1) to connect without TLS", a, err)
	case errors.As(err, &ue):
		return fmt.Errorf("the server at %s has a certificate this client does not trust (%w): set VGPU_TLS_CA (config key tls_ca) to the CA that signed it (`vgpu-server pki init` writes ca.crt)", a, err)
	case errors.As(err, &he):
		return fmt.Errorf("the server's certificate does not name %s (%w): add it with `vgpu-server pki init --host`, or set VGPU_TLS_SERVER_NAME to a name it has", a.Host, err)
	case remoteCert:
		return fmt.Errorf("the server at %s refused this client's certificate (%w): use one signed by the server's client CA (`vgpu-server pki client NAME`)", a, err)
	}
	return fmt.Errorf("TLS with the server at %s: %w", a, err)
}

// Token is one named shared secret.
type Token struct {
	Name   string
	Secret []byte
}

// tokenName is what a token's name may be (it becomes the identity "token:NAME").
var tokenName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// ValidTokenName reports whether name can name a token.
func ValidTokenName(name string) bool { return tokenName.MatchString(name) }

// ReadTokens reads a token file: lines "NAME SECRET" (the secret in hex, at least 16 bytes),
// '#' comments and blank lines ignored. The file must not be readable by group or others.
// The client's token file holds one line; the server's tokens file one line per token.
func ReadTokens(path string) ([]Token, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %#o): it holds secrets; chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	var toks []Token
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 || !ValidTokenName(fields[0]) {
			return nil, fmt.Errorf("%s:%d: want \"NAME SECRET\" (a name of letters, digits, . _ @ -, then the secret in hex)", path, line)
		}
		secret, err := hex.DecodeString(fields[1])
		if err != nil || len(secret) < 16 {
			return nil, fmt.Errorf("%s:%d: token %q: the secret must be at least 32 hex digits", path, line, fields[0])
		}
		if seen[fields[0]] {
			return nil, fmt.Errorf("%s:%d: token %q appears twice", path, line, fields[0])
		}
		seen[fields[0]] = true
		toks = append(toks, Token{Name: fields[0], Secret: secret})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return toks, nil
}

// tokenExporterLabel is the TLS exporter label of the token proof.
const tokenExporterLabel = "EXPORTER-vgpu-token"

// TokenProofOf proves knowledge of a token's secret on one TLS connection without revealing it:
// HMAC-SHA256 keyed with the secret over 32 bytes of the connection's exported keying material
// (RFC 8446 section 7.5, the token's name as context). Both ends compute it; a proof is worthless
// on any other connection.
func TokenProofOf(name string, secret []byte, cs tls.ConnectionState) ([]byte, error) {
	ekm, err := cs.ExportKeyingMaterial(tokenExporterLabel, []byte(name), 32)
	if err != nil {
		return nil, fmt.Errorf("token proof: %w", err)
	}
	m := hmac.New(sha256.New, secret)
	m.Write(ekm)
	return m.Sum(nil), nil
}
