package remoting

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// testCert is a self-signed certificate for 127.0.0.1 and a pool that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// handoffServer accepts one connection on ln, handshakes, reads hello (len(hello) bytes) with
// crypto/tls, hands the session off and returns a RecordConn carrying it on (or Handoff's error).
func handoffServer(t *testing.T, ln net.Listener, cert tls.Certificate, helloLen int) (*RecordConn, error) {
	c, err := ln.Accept()
	if err != nil {
		return nil, err
	}
	capt := &TLSCapture{Conn: c}
	base := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, SessionTicketsDisabled: true}
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		cc := base.Clone()
		cc.GetConfigForClient = nil
		cc.KeyLogWriter = capt.KeyLog()
		return cc, nil
	}
	tc := tls.Server(capt, base)
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	capt.HandshakeDone()
	if _, err := io.ReadFull(tc, make([]byte, helloLen)); err != nil {
		return nil, err
	}
	time.Sleep(50 * time.Millisecond) // what the client sends past its hello has arrived
	st, err := capt.Handoff(tc, false)
	if err != nil {
		c.Close()
		return nil, err
	}
	b, _ := st.MarshalBinary()
	var st2 TLSState
	if err := st2.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	fc, err := NewFDConn(c) // closes c: tc is never used again
	if err != nil {
		return nil, err
	}
	return NewRecordConn(fc, &st2)
}

// TestTLSHandoff: a session handshaken by crypto/tls in one place goes on through RecordConn,
// both ways, with records of every size, and ends with close_notify, which the client's
// crypto/tls reads as the end.
func TestTLSHandoff(t *testing.T) {
	cert, pool := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hello := []byte("hello, frame one")
	up := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16+7)   // 300 KiB + 112: many records
	down := bytes.Repeat([]byte("fedcba9876543210"), 100<<10/16+3) // 100 KiB + 48
	errc := make(chan error, 1)
	go func() {
		rc, err := handoffServer(t, ln, cert, len(hello))
		if err != nil {
			errc <- err
			return
		}
		if _, err := rc.Write([]byte("welcome")); err != nil {
			errc <- err
			return
		}
		got := make([]byte, len(up))
		if _, err := io.ReadFull(rc, got); err != nil {
			errc <- err
			return
		}
		if !bytes.Equal(got, up) {
			errc <- errors.New("server read other bytes than the client sent")
			return
		}
		if _, err := rc.Write(down); err != nil {
			errc <- err
			return
		}
		// a read deadline that passes between records loses nothing
		rc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if _, err := rc.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "timeout") {
			errc <- errors.New("a read past its deadline did not time out: " + errorText(err))
			return
		}
		rc.SetReadDeadline(time.Time{})
		last := make([]byte, 4)
		if _, err := io.ReadFull(rc, last); err != nil || string(last) != "last" {
			errc <- errors.New("after a timeout: " + errorText(err))
			return
		}
		errc <- rc.Close()
	}()
	cc, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	cc.Write(hello)
	welcome := make([]byte, 7)
	if _, err := io.ReadFull(cc, welcome); err != nil || string(welcome) != "welcome" {
		t.Fatalf("client read %q, %v (server: %v)", welcome, err, <-errc)
	}
	if _, err := cc.Write(up); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(down))
	if _, err := io.ReadFull(cc, got); err != nil {
		t.Fatalf("client read: %v (server: %v)", err, <-errc)
	}
	if !bytes.Equal(got, down) {
		t.Fatal("client read other bytes than the server sent")
	}
	time.Sleep(30 * time.Millisecond)
	cc.Write([]byte("last"))
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n, err := cc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after the server's close: %d, %v; want close_notify (io.EOF)", n, err)
	}
}

func errorText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// TestTLSHandoffRefused: a client that sent more than its first frame before the handoff is
// not handed off (its bytes wait inside the server's tls.Conn).
func TestTLSHandoffRefused(t *testing.T) {
	cert, pool := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := handoffServer(t, ln, cert, 5)
		errc <- err
	}()
	cc, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	cc.Write([]byte("hello and more"))
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "more than was read") {
		t.Fatalf("handoff with bytes left in tls.Conn: %v", err)
	}
}
