// Package deploy holds what an operator installs beside axisd: the
// Prometheus alerting rules (prometheus/), the Grafana dashboard
// (grafana/), the systemd units and the Debian package's files. Its tests
// check the rules with promtool, their runbook links against the README,
// and the dashboard's shape; cmd/axisd's TestMetricsDashboardAndRules checks
// that what they read is what a real hub exports.
package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/axis-h40/axis/internal/fixture"

	"go.yaml.in/yaml/v3"
)

const (
	rulesFile     = "prometheus/axis-rules.yml"
	rulesTestFile = "prometheus/axis-rules.test.yml"
	dashboardFile = "grafana/axis.json"
	runbookURL    = "https://github.com/axis-h40/axis/blob/main/README.md#"
)

func TestRulesPromtool(t *testing.T) {
	p := fixture.Tool(t, "promtool", "prometheus")
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTestFile}} {
		out, err := exec.Command(p, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func readRules(t *testing.T) []rule {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// githubAnchor is the fragment GitHub gives a Markdown heading: lower case,
// punctuation dropped, spaces as hyphens.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// runbookEntries are the README's "Alerts and runbook" entries (its ####
// headings) by anchor, with their text.
func runbookEntries(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n### Alerts and runbook\n")
	if !ok {
		t.Fatal(`README.md has no "### Alerts and runbook"`)
	}
	out := map[string]string{}
	entry, fenced := "", false
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		switch {
		case fenced:
		case strings.HasPrefix(line, "## "), strings.HasPrefix(line, "### "):
			return out // the next section
		case strings.HasPrefix(line, "#### "):
			entry = githubAnchor(strings.TrimPrefix(line, "#### "))
			out[entry] = ""
			continue
		}
		if entry != "" {
			out[entry] += line + "\n"
		}
	}
	return out
}

// Every alert has a severity, a summary and a runbook link to its own
// entry in the README, which names a command to start with; every entry
// belongs to an alert.
func TestRulesLabelsAndRunbook(t *testing.T) {
	rules := readRules(t)
	entries := runbookEntries(t)
	want := []string{"AxisPeerUnreachable", "AxisDeadRelays", "AxisHeldTooLong", "AxisAgencyNotFetching",
		"AxisReconcileNotRun", "AxisReconcileDiscrepancies", "AxisEventChainBroken", "AxisAnchorLate", "AxisArchiveFailing", "AxisDiskFilling"}
	var got []string
	for _, r := range rules {
		got = append(got, r.Alert)
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("%s: severity %q, want warning or critical", r.Alert, s)
		}
		if r.Annotations["summary"] == "" {
			t.Errorf("%s: no summary", r.Alert)
		}
		anchor, ok := strings.CutPrefix(r.Annotations["runbook"], runbookURL)
		if !ok || anchor != githubAnchor(r.Alert) {
			t.Errorf("%s: runbook %q, want %s%s", r.Alert, r.Annotations["runbook"], runbookURL, githubAnchor(r.Alert))
			continue
		}
		text, ok := entries[anchor]
		switch {
		case !ok:
			t.Errorf("%s: README.md has no runbook entry #### %s", r.Alert, r.Alert)
		case !strings.Contains(text, "axisctl ") && !strings.Contains(text, "/admin/") && !strings.Contains(text, "df -h"):
			t.Errorf("%s: the runbook entry names no command (axisctl, a console page, df)", r.Alert)
		}
		delete(entries, anchor)
	}
	if !slices.Equal(got, want) {
		t.Errorf("alerts %v, want %v", got, want)
	}
	for a := range entries {
		t.Errorf("README.md runbook entry #%s belongs to no alert", a)
	}
}

// The promtool tests show every alert firing, and none on the healthy
// hub.
func TestRulesTestsCoverEveryAlert(t *testing.T) {
	b, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Tests []struct {
			Name  string `yaml:"name"`
			Cases []struct {
				Alert string           `yaml:"alertname"`
				Exp   []map[string]any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range f.Tests {
		for _, c := range tc.Cases {
			if len(c.Exp) > 0 {
				fires[c.Alert] = true
			} else if tc.Name == "healthy" {
				quiet[c.Alert] = true
			}
		}
	}
	for _, r := range readRules(t) {
		if !fires[r.Alert] {
			t.Errorf("%s: no promtool test shows it firing", r.Alert)
		}
		if !quiet[r.Alert] {
			t.Errorf("%s: the healthy test does not show it quiet", r.Alert)
		}
	}
}

// The dashboard: Grafana's JSON model (schema 39), every panel and
// target on the ${DS_PROMETHEUS} data source, panel ids unique, panels
// within the 24-column grid.
func TestDashboardShape(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	type ds struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	}
	type panel struct {
		ID         int                      `json:"id"`
		Type       string                   `json:"type"`
		Title      string                   `json:"title"`
		Datasource *ds                      `json:"datasource"`
		GridPos    struct{ X, Y, W, H int } `json:"gridPos"`
		Targets    []struct {
			Datasource *ds    `json:"datasource"`
			Expr       string `json:"expr"`
			RefID      string `json:"refId"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var d struct {
		UID           string            `json:"uid"`
		Title         string            `json:"title"`
		SchemaVersion int               `json:"schemaVersion"`
		Panels        []json.RawMessage `json:"panels"`
		Inputs        []struct {
			Name, Type, PluginID string
		} `json:"__inputs"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.SchemaVersion != 39 || d.UID == "" || d.Title == "" {
		t.Errorf("schemaVersion %d, uid %q, title %q", d.SchemaVersion, d.UID, d.Title)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("__inputs %+v, want DS_PROMETHEUS for prometheus", d.Inputs)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		if v.Type == "datasource" && v.Query != "prometheus" {
			t.Errorf("variable %s: data source type %v", v.Name, v.Query)
		}
	}
	if vars["DS_PROMETHEUS"] != "datasource" || vars["instance"] != "query" {
		t.Errorf("variables %v, want DS_PROMETHEUS (datasource) and instance (query)", vars)
	}
	ids := map[int]string{}
	targets := 0
	var walk func(raw []json.RawMessage, inRow bool)
	walk = func(raw []json.RawMessage, inRow bool) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatal(err)
			}
			if other, ok := ids[p.ID]; ok || p.ID == 0 {
				t.Errorf("panel %q: id %d (also %q)", p.Title, p.ID, other)
			}
			ids[p.ID] = p.Title
			if g := p.GridPos; g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
				t.Errorf("panel %q: gridPos %+v", p.Title, g)
			}
			if p.Type == "row" {
				if inRow {
					t.Errorf("row %q inside a row", p.Title)
				}
				walk(p.Panels, true)
				continue
			}
			if p.Title == "" || p.Datasource == nil || p.Datasource.UID != "${DS_PROMETHEUS}" {
				t.Errorf("panel %q: datasource %+v", p.Title, p.Datasource)
			}
			for _, tg := range p.Targets {
				targets++
				if tg.Datasource == nil || tg.Datasource.UID != "${DS_PROMETHEUS}" || tg.Expr == "" || tg.RefID == "" {
					t.Errorf("panel %q target %q: datasource %+v, expr %q", p.Title, tg.RefID, tg.Datasource, tg.Expr)
				}
				if !strings.Contains(tg.Expr, `instance=~"$instance"`) {
					t.Errorf("panel %q target %q does not select $instance: %s", p.Title, tg.RefID, tg.Expr)
				}
			}
		}
	}
	walk(d.Panels, false)
	if targets < 20 {
		t.Errorf("%d targets", targets)
	}
}
