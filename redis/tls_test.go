package redis

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// TestTLS starts a second, TLS-only redis-server with a certificate from a
// CA made here, and campaigns over rediss://.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	pool := writeCerts(t, dir)
	port := freePort(t)
	spawnRedis(t, dir, "--port", "0", "--tls-port", fmt.Sprint(port),
		"--tls-cert-file", filepath.Join(dir, "server.crt"), "--tls-key-file", filepath.Join(dir, "server.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"), "--tls-auth-clients", "no")

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := newElector(t, fast(Options{URL: "rediss://" + addr + "/0", App: "tls", TLSConfig: &tls.Config{RootCAs: pool}}))
	var l solocron.Lease
	var err error
	for l == nil { // the server needs a moment to listen
		short, stop := context.WithTimeout(ctx, time.Second)
		l, err = e.Campaign(short, solocron.Candidate{PID: 1, Hostname: "tls"})
		stop()
		if ctx.Err() != nil {
			t.Fatalf("Campaign over TLS: %v", err)
		}
		if err != nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if ok, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(1)}}); err != nil || !ok[0] {
		t.Fatalf("Claim over TLS: %v %v", ok, err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}

	// Without the CA the server is not trusted.
	untrusted := newElector(t, fast(Options{URL: "rediss://" + addr + "/0", App: "tls"}))
	if _, err := untrusted.Holder(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Holder over TLS without the CA: %v, want a certificate error", err)
	}
}

// writeCerts writes ca.crt, server.crt and server.key (for 127.0.0.1) to
// dir and returns a pool that trusts the CA.
func writeCerts(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := key(), key()
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "solocron test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"ca.crt":     {Type: "CERTIFICATE", Bytes: caDER},
		"server.crt": {Type: "CERTIFICATE", Bytes: leafDER},
		"server.key": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return pool
}
