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
	if got := fmtTime(at); got != "T2 01/06/2026 16:00:05 GMT+7" {
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
