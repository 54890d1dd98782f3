package envelope

import (
	"bytes"
	"fmt"
	"testing"
)

func BenchmarkScanSpreadAttributes(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`<edXML xmlns="u">`)
	for buf.Len() < 30<<20 {
		buf.WriteString("<e")
		for j := 0; j < 64; j++ {
			fmt.Fprintf(&buf, ` a%d=""`, j)
		}
		buf.WriteString("/>")
	}
	raw := buf.Bytes()
	lim := (&Limits{}).withDefaults()
	b.ResetTimer()
	for b.Loop() {
		if _, err := scan(raw, lim); err == nil {
			b.Fatal("accepted")
		}
	}
}
