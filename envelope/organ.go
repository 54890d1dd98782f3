package envelope

import (
	"fmt"
	"strings"
)

// Scheme says which organ-code standard a code follows.
type Scheme int

const (
	// QCVN102 is V1V2V3.Z1Z2.Y1Y2.L, read right to left: "000.07.35.H40".
	QCVN102 Scheme = iota + 1
	// QD20 is the QĐ 20/2020 form: up to 35 characters of 0-9/A-Z in
	// dot-separated segments ("H40.35.07", "G22.01"), read left to right. Short
	// legacy codes seen in the field ("28.22.H17") also parse as QD20, with the
	// level-1 unit recognised at whichever end it stands.
	QD20
)

func (s Scheme) String() string {
	switch s {
	case QCVN102:
		return "QCVN102"
	case QD20:
		return "QD20"
	}
	return "unknown"
}

// OrganID is a parsed, validated organization code. The zero value is invalid.
type OrganID struct {
	code   string
	scheme Scheme
}

// ParseOrganID validates an organization code. Surrounding white space is
// trimmed; anything else that is not a valid code is an error wrapping
// ErrHeaderInvalid.
func ParseOrganID(s string) (OrganID, error) {
	c := strings.TrimSpace(s)
	if isQCVN102(c) {
		return OrganID{code: c, scheme: QCVN102}, nil
	}
	if len(c) == 0 {
		return OrganID{}, fmt.Errorf("%w: empty organ code", ErrHeaderInvalid)
	}
	if len(c) > 35 {
		return OrganID{}, fmt.Errorf("%w: organ code %.40q longer than 35 characters", ErrHeaderInvalid, c)
	}
	for _, seg := range strings.Split(c, ".") {
		if seg == "" {
			return OrganID{}, fmt.Errorf("%w: organ code %q has an empty segment", ErrHeaderInvalid, c)
		}
		for i := 0; i < len(seg); i++ {
			if !isDigit(seg[i]) && !(seg[i] >= 'A' && seg[i] <= 'Z') {
				return OrganID{}, fmt.Errorf("%w: organ code %q: only 0-9, A-Z and dots are allowed", ErrHeaderInvalid, c)
			}
		}
	}
	return OrganID{code: c, scheme: QD20}, nil
}

// MustOrganID is ParseOrganID for constants in tests and demo data.
func MustOrganID(s string) OrganID {
	o, err := ParseOrganID(s)
	if err != nil {
		panic(err)
	}
	return o
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// isQCVN102 matches ddd.dd.dd.Xdd exactly.
func isQCVN102(c string) bool {
	if len(c) != 13 || c[3] != '.' || c[6] != '.' || c[9] != '.' {
		return false
	}
	for _, i := range []int{0, 1, 2, 4, 5, 7, 8, 11, 12} {
		if !isDigit(c[i]) {
			return false
		}
	}
	return c[10] >= 'A' && c[10] <= 'Z'
}

// isUnit reports whether seg looks like a level-1 unit: a letter and two digits.
func isUnit(seg string) bool {
	return len(seg) == 3 && seg[0] >= 'A' && seg[0] <= 'Z' && isDigit(seg[1]) && isDigit(seg[2])
}

func (o OrganID) String() string { return o.code }

// IsZero reports whether o is the zero (invalid) value.
func (o OrganID) IsZero() bool { return o.code == "" }

// Scheme returns the code's standard.
func (o OrganID) Scheme() Scheme { return o.scheme }

// Unit returns the level-1 unit ("H40" for a Nam Định code, "G22" for a
// central body).
func (o OrganID) Unit() string {
	if o.scheme == QCVN102 {
		return o.code[10:]
	}
	segs := strings.Split(o.code, ".")
	if last := segs[len(segs)-1]; isUnit(last) && !isUnit(segs[0]) {
		return last
	}
	return segs[0]
}

// Parent returns the code one level up and true, or the zero OrganID and false
// for a level-1 body. For QCVN 102, the highest non-zero level is zeroed:
// 000.07.35.H40 → 000.00.35.H40 → 000.00.00.H40.
func (o OrganID) Parent() (OrganID, bool) {
	switch o.scheme {
	case QCVN102:
		c := []byte(o.code)
		switch {
		case o.code[0:3] != "000":
			copy(c[0:3], "000")
		case o.code[4:6] != "00":
			copy(c[4:6], "00")
		case o.code[7:9] != "00":
			copy(c[7:9], "00")
		default:
			return OrganID{}, false
		}
		return OrganID{code: string(c), scheme: QCVN102}, true
	case QD20:
		segs := strings.Split(o.code, ".")
		if len(segs) == 1 {
			return OrganID{}, false
		}
		if isUnit(segs[len(segs)-1]) && !isUnit(segs[0]) {
			segs = segs[1:] // right-to-left legacy short form
		} else {
			segs = segs[:len(segs)-1]
		}
		// Classify the parent afresh: the parent of a QD20 code may itself
		// have the QCVN 102 form, and must equal what parsing it gives.
		p, err := ParseOrganID(strings.Join(segs, "."))
		return p, err == nil
	}
	return OrganID{}, false
}

// MarshalText implements encoding.TextMarshaler.
func (o OrganID) MarshalText() ([]byte, error) { return []byte(o.code), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *OrganID) UnmarshalText(b []byte) error {
	p, err := ParseOrganID(string(b))
	if err != nil {
		return err
	}
	*o = p
	return nil
}
