package tsatest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

// query makes a SHA-256 TimeStampReq for data with openssl, with certReq
// as a client sets it: the data's file and the query.
func query(t *testing.T, tsa *TSA, data []byte, certReq ...bool) (dataFile string, q []byte) {
	t.Helper()
	dir := t.TempDir()
	dataFile = filepath.Join(dir, "data")
	if err := os.WriteFile(dataFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	qFile := filepath.Join(dir, "q.tsq")
	args := []string{"ts", "-query", "-data", dataFile, "-sha256", "-out", qFile}
	if len(certReq) == 0 || certReq[0] {
		args = append(args, "-cert")
	}
	if out, err := exec.Command(tsa.openssl, args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl ts -query: %v\n%s", err, out)
	}
	q, err := os.ReadFile(qFile)
	if err != nil {
		t.Fatal(err)
	}
	return dataFile, q
}

// post sends q to the TSA and returns the status, Content-Type and body.
func post(t *testing.T, tsa *TSA, q []byte) (int, string, []byte) {
	t.Helper()
	resp, err := http.Post(tsa.URL, "application/timestamp-query", bytes.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// stamp posts a query for data and returns the data file and the reply's
// file, failing unless the TSA answered 200 with a reply.
func stamp(t *testing.T, tsa *TSA, data []byte) (dataFile, tsrFile string, reply []byte) {
	t.Helper()
	dataFile, q := query(t, tsa, data)
	code, ctype, b := post(t, tsa, q)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, b)
	}
	if ctype != "application/timestamp-reply" {
		t.Fatalf("Content-Type %q", ctype)
	}
	tsrFile = filepath.Join(t.TempDir(), "reply.tsr")
	if err := os.WriteFile(tsrFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dataFile, tsrFile, b
}

func TestReplyVerifies(t *testing.T) {
	tsa := Start(t)
	data := []byte("hồ sơ lưu trữ 0001\n")
	dataFile, tsrFile, _ := stamp(t, tsa, data)
	if ok, out := tsa.VerifyData(t, tsrFile, dataFile); !ok {
		t.Fatalf("VerifyData of the stamped data: not OK\n%s", out)
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(other, []byte("another file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, out := tsa.VerifyData(t, tsrFile, other); ok {
		t.Fatalf("VerifyData of other data: OK\n%s", out)
	}
	sum := sha256.Sum256(data)
	if ok, out := tsa.VerifyDigest(t, tsrFile, hex.EncodeToString(sum[:])); !ok {
		t.Fatalf("VerifyDigest of the data's SHA-256: not OK\n%s", out)
	}
	otherSum := sha256.Sum256([]byte("another file\n"))
	if ok, out := tsa.VerifyDigest(t, tsrFile, hex.EncodeToString(otherSum[:])); ok {
		t.Fatalf("VerifyDigest of another digest: OK\n%s", out)
	}
	if n := tsa.Requests(); n != 1 {
		t.Fatalf("Requests() = %d, want 1", n)
	}
}

// Without certReq the token has no certificates (RFC 3161); the verifier
// gets the signer from CertPEM.
func TestNoCertReq(t *testing.T) {
	tsa := Start(t)
	dataFile, q := query(t, tsa, []byte("no certReq\n"), false)
	code, _, b := post(t, tsa, q)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, b)
	}
	ts, err := timestamp.ParseResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.Certificates) != 0 {
		t.Fatalf("%d certificates in a token without certReq", len(ts.Certificates))
	}
	tsr := filepath.Join(t.TempDir(), "reply.tsr")
	if err := os.WriteFile(tsr, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, out := tsa.VerifyData(t, tsr, dataFile); !ok {
		t.Fatalf("VerifyData: not OK\n%s", out)
	}
}

func TestBareToken(t *testing.T) {
	tsa := Start(t)
	dataFile, tsrFile, _ := stamp(t, tsa, []byte("token only\n"))
	token := filepath.Join(t.TempDir(), "token.p7s")
	if out, err := exec.Command(tsa.openssl, "ts", "-reply", "-in", tsrFile, "-token_out", "-out", token).CombinedOutput(); err != nil {
		t.Fatalf("openssl ts -reply -token_out: %v\n%s", err, out)
	}
	if ok, out := tsa.VerifyData(t, token, dataFile); !ok {
		t.Fatalf("VerifyData of a bare token: not OK\n%s", out)
	}
}

func TestDown(t *testing.T) {
	tsa := Start(t)
	_, q := query(t, tsa, []byte("down\n"))
	tsa.SetDown(true)
	if code, _, b := post(t, tsa, q); code != http.StatusServiceUnavailable {
		t.Fatalf("down: status %d, want 503: %s", code, b)
	}
	if n := tsa.Requests(); n != 0 {
		t.Fatalf("down: Requests() = %d, want 0", n)
	}
	tsa.SetDown(false)
	if code, _, b := post(t, tsa, q); code != http.StatusOK {
		t.Fatalf("up again: status %d: %s", code, b)
	}
	if n := tsa.Requests(); n != 1 {
		t.Fatalf("up again: Requests() = %d, want 1", n)
	}
}

func TestBadRequests(t *testing.T) {
	tsa := Start(t)
	resp, err := http.Get(tsa.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: status %d, want 405", resp.StatusCode)
	}
	_, q := query(t, tsa, []byte("x"))
	resp, err = http.Post(tsa.URL, "application/octet-stream", bytes.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("wrong Content-Type: status %d, want 415", resp.StatusCode)
	}
	if code, _, _ := post(t, tsa, make([]byte, MaxQuery+1)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("too big: status %d, want 413", code)
	}
	// openssl answers a query it cannot read with a rejection, no token.
	if code, _, b := post(t, tsa, []byte("not DER")); code != http.StatusOK || granted(b) {
		t.Fatalf("garbage: status %d, granted %v, want 200 and a rejection", code, granted(b))
	}
	if n := tsa.Requests(); n != 0 {
		t.Fatalf("Requests() = %d, want 0", n)
	}
}

func TestParseWithGo(t *testing.T) {
	tsa := Start(t)
	data := []byte("parsed by digitorus/timestamp\n")
	_, _, reply := stamp(t, tsa, data)
	ts, err := timestamp.ParseResponse(reply)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if !bytes.Equal(ts.HashedMessage, sum[:]) {
		t.Fatalf("HashedMessage %x, want %x", ts.HashedMessage, sum)
	}
	if d := time.Since(ts.Time); d > time.Minute || d < -time.Minute {
		t.Fatalf("Time %v is not now", ts.Time)
	}
	b, err := os.ReadFile(tsa.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	found := false
	for _, c := range ts.Certificates {
		found = found || bytes.Equal(c.Raw, block.Bytes)
	}
	if !found {
		t.Fatalf("the token does not carry the TSA certificate (%d certificates)", len(ts.Certificates))
	}
}

func TestConcurrent(t *testing.T) {
	tsa := Start(t)
	_, q := query(t, tsa, []byte("concurrent\n"))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		replies [][]byte
	)
	for range 8 {
		wg.Go(func() {
			resp, err := http.Post(tsa.URL, "application/timestamp-query", bytes.NewReader(q))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d: %s", resp.StatusCode, b)
				return
			}
			mu.Lock()
			replies = append(replies, b)
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := tsa.Requests(); n != 8 {
		t.Fatalf("Requests() = %d, want 8", n)
	}
	// Parsed one at a time: digitorus/pkcs7's ber2der bumps a global
	// counter, a data race under -race when parses run in parallel.
	serials := map[string]bool{}
	for _, b := range replies {
		ts, err := timestamp.ParseResponse(b)
		if err != nil {
			t.Fatal(err)
		}
		serials[ts.SerialNumber.String()] = true
	}
	if len(serials) != 8 {
		t.Fatalf("%d distinct token serials for 8 replies", len(serials))
	}
}
