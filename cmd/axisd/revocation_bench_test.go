package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testca"
	"github.com/axis-h40/axis/internal/testgen"
)

// BenchmarkIntakeRevocation is the intake rate over real HTTP (8 clients)
// with revocation off and on with the answers cached (the signer's OCSP
// response and the root's CRL about the issuing CA), in one run:
//
//	go test ./cmd/axisd -run '^$' -bench IntakeRevocation -benchtime 2000x -count 6
//
// envelopes/s is the figure; the check must cost under 5%.
func BenchmarkIntakeRevocation(b *testing.B) {
	ca := testca.New(b)
	_, signer := ca.Leaf(b, testgen.Commune, false)
	ca.Start(b)
	var pool [][]byte
	var mu sync.Mutex
	sign := func(n int) {
		for len(pool) < n {
			pool = append(pool, fixture.SignWith(b, signer, fixture.Numbered(fmt.Sprint(1000+len(pool)))))
		}
	}
	for _, mode := range []string{envelope.RevocationOff, envelope.RevocationPrefer} {
		b.Run(mode, func(b *testing.B) {
			mu.Lock()
			sign(b.N + 1)
			mu.Unlock()
			m := startRevocation(b, ca, mode)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			postOne := func(raw []byte) {
				req, _ := http.NewRequest("POST", m.URL()+"/api/v1/envelopes", bytes.NewReader(raw))
				req.Header.Set("Authorization", "Bearer "+tok(testgen.Commune))
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 201 {
					b.Errorf("%s: status %d", mode, resp.StatusCode)
				}
			}
			postOne(pool[b.N]) // warm: the revocation answers are cached from here on
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						postOne(pool[i])
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "envelopes/s")
		})
	}
}
