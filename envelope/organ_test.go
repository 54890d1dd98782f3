package envelope_test

import (
	"errors"
	"testing"

	"github.com/axis-h40/axis/envelope"
)

func TestParseOrganID(t *testing.T) {
	for _, c := range []struct {
		in, unit, parent string
		scheme           envelope.Scheme
	}{
		{"000.00.00.H40", "H40", "", envelope.QCVN102},
		{"000.00.11.H40", "H40", "000.00.00.H40", envelope.QCVN102},
		{"000.07.35.H40", "H40", "000.00.35.H40", envelope.QCVN102},
		{"001.07.35.H40", "H40", "000.07.35.H40", envelope.QCVN102},
		{"000.00.00.G22", "G22", "", envelope.QCVN102},
		{" 000.00.15.H51\n", "H51", "000.00.00.H51", envelope.QCVN102},
		{"H40.35.07", "H40", "H40.35", envelope.QD20},
		{"H40", "H40", "", envelope.QD20},
		{"28.22.H17", "H17", "22.H17", envelope.QD20}, // a short legacy code from the field samples
		{"G22.01.A1B2C3", "G22", "G22.01", envelope.QD20},
	} {
		o, err := envelope.ParseOrganID(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if o.Scheme() != c.scheme || o.Unit() != c.unit {
			t.Errorf("%q: scheme %v unit %s", c.in, o.Scheme(), o.Unit())
		}
		p, ok := o.Parent()
		if p.String() != c.parent || ok != (c.parent != "") {
			t.Errorf("%q: parent %q %v, want %q", c.in, p, ok, c.parent)
		}
	}
	for _, bad := range []string{"", "000.00.11.h40", "000.00.11.H40 OR 1=1", "000..11.H40", ".H40", "H40.",
		"Ủ.H40", "0123456789.0123456789.0123456789.H40"} {
		if _, err := envelope.ParseOrganID(bad); !errors.Is(err, envelope.ErrHeaderInvalid) {
			t.Errorf("%q: want header_invalid, got %v", bad, err)
		}
	}
}

func TestParentIsWhatParsingGives(t *testing.T) {
	// Found by reading FuzzParseOrganID's property: a QD20 code whose parent
	// has the QCVN 102 form.
	p, ok := envelope.MustOrganID("000.07.35.H40.1").Parent()
	if !ok || p != envelope.MustOrganID("000.07.35.H40") || p.Scheme() != envelope.QCVN102 {
		t.Fatalf("parent %v %v", p, p.Scheme())
	}
	if pp, _ := p.Parent(); pp.String() != "000.00.35.H40" {
		t.Fatalf("grandparent %v", pp)
	}
}

func TestOrganIDText(t *testing.T) {
	var o envelope.OrganID
	if err := o.UnmarshalText([]byte("000.07.35.H40")); err != nil || o.String() != "000.07.35.H40" {
		t.Fatal(o, err)
	}
	if err := o.UnmarshalText([]byte("x y")); !errors.Is(err, envelope.ErrHeaderInvalid) {
		t.Fatal(err)
	}
	if !(envelope.OrganID{}).IsZero() || envelope.MustOrganID("H40").IsZero() {
		t.Fatal("IsZero")
	}
}
