package axis

import (
	"fmt"
	"testing"
	"time"
)

func TestAuthLimiterSlidingWindow(t *testing.T) {
	l := newAuthLimiter(3, time.Minute, 100)
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for i, at := range []time.Duration{0, 20 * time.Second, 40 * time.Second} {
		if _, limited := l.fail("a", t0.Add(at)); limited {
			t.Fatalf("failure %d limited", i+1)
		}
	}
	wait, limited := l.fail("a", t0.Add(45*time.Second))
	if !limited || wait != 15*time.Second {
		t.Fatalf("4th failure: limited %v for %v, want 15s (the first failure leaves the window)", limited, wait)
	}
	// A limited failure is not counted: the wait does not grow.
	if wait, _ := l.fail("a", t0.Add(50*time.Second)); wait != 10*time.Second {
		t.Fatalf("5th failure: wait %v, want 10s", wait)
	}
	if _, limited := l.fail("b", t0.Add(45*time.Second)); limited {
		t.Fatal("another address is limited")
	}
	// At one minute the first failure left: one more is counted, then
	// the next waits for the second to leave.
	if _, limited := l.fail("a", t0.Add(time.Minute)); limited {
		t.Fatal("limited once the oldest failure left the window")
	}
	if wait, limited := l.fail("a", t0.Add(time.Minute)); !limited || wait != 20*time.Second {
		t.Fatalf("then: limited %v for %v, want 20s", limited, wait)
	}
	if n := len(l.m["a"]); n != 3 {
		t.Fatalf("%d failures kept, want the limit (3)", n)
	}
	// Everything leaves the window.
	if _, limited := l.fail("a", t0.Add(10*time.Minute)); limited {
		t.Fatal("limited after the window")
	}
	if n := len(l.m["a"]); n != 1 {
		t.Fatalf("%d failures kept after the window", n)
	}
}

func TestAuthLimiterBounded(t *testing.T) {
	l := newAuthLimiter(2, time.Minute, 1000)
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for i := range 5000 {
		l.fail(fmt.Sprintf("10.0.%d.%d", i/256, i%256), t0)
	}
	if n := l.tracked(); n > 1000 {
		t.Fatalf("%d addresses tracked, bound 1000", n)
	}
	// Expired addresses go first: after the window, a sweep forgets them.
	for i := range 1000 {
		l.fail(fmt.Sprintf("192.168.%d.%d", i/256, i%256), t0.Add(2*time.Minute))
	}
	if n := l.tracked(); n > 1000 || n < 900 {
		t.Fatalf("%d addresses tracked after the sweep", n)
	}
	// An address already limited stays limited whatever else arrives.
	l.fail("198.51.100.1", t0.Add(2*time.Minute))
	l.fail("198.51.100.1", t0.Add(2*time.Minute))
	if _, limited := l.fail("198.51.100.1", t0.Add(2*time.Minute)); !limited {
		t.Fatal("not limited")
	}
}

func TestLimiterKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":                      "203.0.113.7",
		"::ffff:10.0.0.1":                  "10.0.0.1",
		"2001:db8:1:2::42":                 "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff:ffff:ffff": "2001:db8:1:2::/64",
		"pipe":                             "pipe",
	} {
		if got := limiterKey(in); got != want {
			t.Errorf("limiterKey(%q) = %q, want %q", in, got, want)
		}
	}
	if RetryAfterSeconds(0) != 1 || RetryAfterSeconds(1500*time.Millisecond) != 2 || RetryAfterSeconds(5*time.Minute) != 300 {
		t.Error("RetryAfterSeconds rounds up, at least 1")
	}
}
