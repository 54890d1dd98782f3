package version

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := buildOf(bi), (Build{Version: "v1.2.0", Revision: "0123456789abcdef0123", Modified: true, Go: "go1.26.0"}); got != want {
		t.Errorf("buildOf = %+v, want %+v", got, want)
	}
	if got, want := buildOf(&debug.BuildInfo{}), (Build{Version: "(devel)", Revision: "unknown", Go: runtime.Version()}); got != want {
		t.Errorf("buildOf without VCS = %+v, want %+v", got, want)
	}
	if b := Info(); b.Go != runtime.Version() || b.Version == "" || b.Revision == "" {
		t.Errorf("Info = %+v", b)
	}
}
