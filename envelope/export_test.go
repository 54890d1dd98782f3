package envelope

// WithGoxmldsigValidate returns a copy of v that checks signatures with
// goxmldsig's Validate (the reference the differential tests compare
// Verify with).
func (v *Verifier) WithGoxmldsigValidate() *Verifier {
	return &Verifier{p: v.p, lim: v.lim, pins: v.pins, chains: map[[32]byte]chainResult{}, withValidate: true}
}
