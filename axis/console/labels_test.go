package console

import (
	"testing"
	"time"
)

func TestFormatting(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1.000", 1234567: "1.234.567", -4500: "-4.500"} {
		if got := number(n); got != want {
			t.Errorf("number(%d) = %q, want %q", n, got, want)
		}
	}
	if got := size(7648); got != "7.648 byte (7,5 KB)" {
		t.Errorf("size = %q", got)
	}
	at := time.Date(2026, 6, 1, 9, 0, 5, 0, time.UTC) // a Monday, 16:00 in Hà Nội
	if got := fmtTime(at); got != "T2 01/06/2026 16:00:05" {
		t.Errorf("fmtTime = %q", got)
	}
	if got := fmtTime(time.Time{}); got != "chưa có" {
		t.Errorf("fmtTime(zero) = %q", got)
	}
	for d, want := range map[time.Duration]string{30 * time.Second: "vừa xong", 5 * time.Minute: "5 phút trước",
		26*time.Hour + 10*time.Minute: "1 ngày 2 giờ trước", 3 * time.Hour: "3 giờ trước"} {
		if got := ago(at.Add(d), at); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
	if got := waitText(300); got != "5 phút" {
		t.Errorf("waitText(300) = %q", got)
	}
	if got := string(detail(`status=03 (accepted) message=0123456789abcdef0123456789abcdef <b>`)); got !=
		`status=03 (accepted) message=<a href="/admin/documents/0123456789abcdef0123456789abcdef">0123456789abcdef0123456789abcdef</a> &lt;b&gt;` {
		t.Errorf("detail = %q", got)
	}
}

func TestLimiterSlidingWindow(t *testing.T) {
	l := &limiter{m: map[string][]time.Time{}, limit: 3, window: time.Minute}
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	l.fail("a", t0)
	l.fail("a", t0.Add(20*time.Second))
	if _, b := l.blocked("a", t0.Add(30*time.Second)); b {
		t.Fatal("blocked after 2 of 3")
	}
	l.fail("a", t0.Add(40*time.Second))
	wait, b := l.blocked("a", t0.Add(45*time.Second))
	if !b || wait != 15*time.Second {
		t.Fatalf("after 3: blocked %v for %v, want 15s (the first failure leaves the window)", b, wait)
	}
	if _, b := l.blocked("b", t0.Add(45*time.Second)); b {
		t.Fatal("another IP is blocked")
	}
	if _, b := l.blocked("a", t0.Add(time.Minute)); b {
		t.Fatal("still blocked once the oldest failure left the window")
	}
	l.succeed("a")
	if len(l.m) != 0 {
		t.Fatalf("state left: %v", l.m)
	}
}
