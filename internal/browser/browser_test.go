package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// formServer serves a form (GET /form) whose POST /submit stores the value
// under a new session cookie and redirects (303) to /result, which shows the
// value of the session named by the cookie. It records the cookie of every
// request to /result and /later.
type formServer struct {
	mu       sync.Mutex
	values   map[string]string // session → submitted value
	cookies  map[string]string // path → last session cookie received
	nSession int
}

func (s *formServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const head = `<!doctype html><html><head><meta charset="utf-8"><title>axis</title></head><body>`
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	s.mu.Lock()
	defer s.mu.Unlock()
	session := ""
	if c, err := r.Cookie("session"); err == nil {
		session = c.Value
		s.cookies[r.URL.Path] = c.Value
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/form":
		fmt.Fprint(w, head+`<form method="post" action="/submit">
<label>Trích yếu <input id="title" name="title" type="text"></label>
<button id="send" type="submit">Gửi</button>
</form></body></html>`)
	case r.Method == http.MethodPost && r.URL.Path == "/submit":
		s.nSession++
		id := fmt.Sprintf("s%d", s.nSession)
		s.values[id] = r.PostFormValue("title")
		http.SetCookie(w, &http.Cookie{Name: "session", Value: id, Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/result", http.StatusSeeOther)
	case r.Method == http.MethodGet && r.URL.Path == "/result":
		v, ok := s.values[session]
		if !ok {
			http.Error(w, "no session", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, head+`<h1>Đã nhận</h1><p id="value">%s</p>`+
			`<div style="height:2000px">tall, for the full-page screenshot</div></body></html>`, html.EscapeString(v))
	case r.Method == http.MethodGet && r.URL.Path == "/to-later":
		http.Redirect(w, r, "/later", http.StatusFound)
	case r.Method == http.MethodGet && r.URL.Path == "/later":
		fmt.Fprint(w, head+`<p id="later">ok</p></body></html>`)
	default:
		http.NotFound(w, r)
	}
}

func (s *formServer) cookie(path string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cookies[path]
}

func TestFormRoundTrip(t *testing.T) {
	b := ForTest(t)
	srv := &formServer{values: map[string]string{}, cookies: map[string]string{}}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(ctx, ts.URL+"/form"); err != nil {
		t.Fatal(err)
	}
	const value = "Công văn 15/UBND-VP"
	if err := p.Fill(ctx, "#title", value); err != nil {
		t.Fatal(err)
	}
	if err := p.ClickAndWait(ctx, "#send"); err != nil {
		t.Fatal(err)
	}
	u, err := p.URL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := ts.URL + "/result"; u != want {
		t.Fatalf("URL after submit = %q, want %q", u, want)
	}
	got, err := p.Text(ctx, "#value")
	if err != nil {
		t.Fatal(err)
	}
	if got != value {
		t.Fatalf("Text(#value) = %q, want %q", got, value)
	}
	if c := srv.cookie("/result"); c != "s1" {
		t.Errorf("cookie on GET /result = %q, want s1", c)
	}

	// A later, separate navigation (through a redirect) carries the
	// cookie too.
	if err := p.Navigate(ctx, ts.URL+"/to-later"); err != nil {
		t.Fatal(err)
	}
	if u, err := p.URL(ctx); err != nil || u != ts.URL+"/later" {
		t.Errorf("URL after a redirected Navigate = %q, %v; want %s/later", u, err, ts.URL)
	}
	if err := p.WaitFor(ctx, "#later"); err != nil {
		t.Fatal(err)
	}
	if c := srv.cookie("/later"); c != "s1" {
		t.Errorf("cookie on GET /later = %q, want s1", c)
	}

	// Back to the (tall) result page for a full-page screenshot.
	if err := p.Navigate(ctx, ts.URL+"/result"); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.ArtifactDir(), "result.png")
	if err := p.Screenshot(ctx, shot); err != nil {
		t.Fatal(err)
	}
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot does not start with the PNG signature: % x", png[:min(len(png), 8)])
	}
	// The IHDR chunk follows the signature: width and height, big-endian.
	if len(png) >= 24 {
		w := int(png[16])<<24 | int(png[17])<<16 | int(png[18])<<8 | int(png[19])
		h := int(png[20])<<24 | int(png[21])<<16 | int(png[22])<<8 | int(png[23])
		if h < 2000 {
			t.Errorf("screenshot is %dx%d, want the full page (> 2000 high)", w, h)
		}
		t.Logf("screenshot %s: %dx%d, %d bytes", shot, w, h, len(png))
	}
	t.Logf("page flow took %v", time.Since(start))
}

func TestErrors(t *testing.T) {
	b := ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var n int
	if err := p.Eval(ctx, "Promise.resolve(40 + 2)", &n); err != nil || n != 42 {
		t.Errorf("Eval(Promise.resolve(40 + 2)) = %d, %v; want 42", n, err)
	}
	var s string
	if err := p.Eval(ctx, `"Sở Nội vụ tỉnh Nam Định"`, &s); err != nil || s != "Sở Nội vụ tỉnh Nam Định" {
		t.Errorf("Eval of a Vietnamese string = %q, %v", s, err)
	}

	err = p.Eval(ctx, `throw new Error("boom-42")`, nil)
	var jsErr *JSError
	if !errors.As(err, &jsErr) || !strings.Contains(err.Error(), "boom-42") {
		t.Errorf("Eval of a throwing script: err = %v, want a *JSError with boom-42", err)
	}
	err = p.Eval(ctx, `Promise.reject(new Error("rejected-7"))`, nil)
	if !errors.As(err, &jsErr) || !strings.Contains(err.Error(), "rejected-7") {
		t.Errorf("Eval of a rejected promise: err = %v, want a *JSError with rejected-7", err)
	}

	if _, err := p.Text(ctx, "#missing"); err == nil || !strings.Contains(err.Error(), "no element") {
		t.Errorf("Text(#missing): err = %v, want no element", err)
	}
	if err := p.Click(ctx, "#missing"); err == nil {
		t.Errorf("Click(#missing): no error")
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	err = p.WaitFor(short, "#missing")
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor(#missing) with a short deadline: err = %v, want DeadlineExceeded", err)
	}
	if err := p.WaitFor(ctx, "##bad"); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor of an invalid selector: err = %v, want a javascript error at once", err)
	}

	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	err = p.Navigate(ctx, "http://"+addr+"/")
	if err == nil || !strings.Contains(err.Error(), "ERR_CONNECTION_REFUSED") {
		t.Errorf("Navigate to closed port: err = %v, want ERR_CONNECTION_REFUSED", err)
	}

	// The page still works after the failed navigation.
	if err := p.Eval(ctx, "1", &n); err != nil || n != 1 {
		t.Errorf("Eval after failed navigation = %d, %v", n, err)
	}
}

func TestNavigateTimeout(t *testing.T) {
	b := ForTest(t)
	// A server that never answers: Navigate must give up when ctx does.
	block := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(block)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancelShort()
	start := time.Now()
	err = p.Navigate(short, ts.URL+"/slow")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Navigate to a server that never answers: err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Navigate took %v to honour a 500ms deadline", d)
	}
}
