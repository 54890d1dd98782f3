// Package version says which build of axis a binary is, from what the Go
// toolchain records in it (runtime/debug.ReadBuildInfo): the module
// version, the commit and its time, and whether the tree had uncommitted
// changes. `axisd --version` and `axisctl version` print it; an operator
// quotes it in a report, a package names its version after it.
package version

import (
	"runtime/debug"
	"strings"
)

// String is "NAME VERSION (commit C, TIME[, modified]) GO", with what the
// build recorded; parts it did not record are left out.
func String(name string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return name + " (no build information)"
	}
	return format(name, bi)
}

func format(name string, bi *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var vcs []string
	if c := settings["vcs.revision"]; c != "" {
		vcs = append(vcs, "commit "+c[:min(len(c), 12)])
	}
	if t := settings["vcs.time"]; t != "" {
		vcs = append(vcs, t)
	}
	if settings["vcs.modified"] == "true" {
		vcs = append(vcs, "modified")
	}
	out := name + " " + v
	if len(vcs) > 0 {
		out += " (" + strings.Join(vcs, ", ") + ")"
	}
	return out + " " + bi.GoVersion
}
