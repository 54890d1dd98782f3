package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := format("axisd", bi), "axisd v1.2.0 (commit 0123456789ab, 2026-12-01T10:00:00Z, modified) go1.26.0"; got != want {
		t.Errorf("format = %q, want %q", got, want)
	}
	if got, want := format("axisctl", &debug.BuildInfo{GoVersion: "go1.26.0"}), "axisctl (devel) go1.26.0"; got != want {
		t.Errorf("format without VCS = %q, want %q", got, want)
	}
	// This test binary's own: its name, and the Go it was built with.
	if s := String("axis"); !strings.HasPrefix(s, "axis ") || !strings.Contains(s, "go1.") {
		t.Errorf("String = %q", s)
	}
}
