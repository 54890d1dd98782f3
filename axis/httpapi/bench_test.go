package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/axis-h40/axis/axis/httpapi"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
)

// The HTTP layer's cost without sockets: the API handler serving an inbox
// read, and an intake (verify, route, commit), into a recorder. With
// -benchmem the inbox read shows what the layer allocates per request.
func BenchmarkHandlerInbox(b *testing.B) {
	h := httpapi.API(testhub.Open(b, testhub.Options{}))
	for b.Loop() {
		req := httptest.NewRequest("GET", "/api/v1/inbox", nil)
		req.Header.Set("Authorization", "Bearer "+testgen.DemoToken(testgen.Department))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

func BenchmarkHandlerIntake(b *testing.B) {
	pool := make([][]byte, b.N)
	for i := range pool {
		pool[i] = fixture.Sign(b, fixture.Numbered(fmt.Sprint("H", i)))
	}
	h := httpapi.API(testhub.Open(b, testhub.Options{}))
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/api/v1/envelopes", bytes.NewReader(pool[next.Add(1)-1]))
			req.Header.Set("Authorization", "Bearer "+testgen.DemoToken(testgen.Commune))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusCreated {
				b.Error(w.Code, w.Body.String())
			}
		}
	})
}
