package version

import (
	"runtime"
	"runtime/debug"
)

// Build is what String prints, as fields: the hub's metrics export them
// as the labels of axis_build_info.
type Build struct {
	Version  string // the module version, "(devel)" for a build from a work tree
	Revision string // the commit, "unknown" when the build recorded none
	Modified bool   // the work tree had uncommitted changes
	Go       string // the Go toolchain's version
}

// Info is this binary's Build.
func Info() Build {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Build{Version: "(devel)", Revision: "unknown", Go: runtime.Version()}
	}
	return buildOf(bi)
}

func buildOf(bi *debug.BuildInfo) Build {
	b := Build{Version: bi.Main.Version, Revision: "unknown", Go: bi.GoVersion}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if s.Value != "" {
				b.Revision = s.Value
			}
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	if b.Go == "" {
		b.Go = runtime.Version()
	}
	return b
}
