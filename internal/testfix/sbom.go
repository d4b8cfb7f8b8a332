package testfix

import (
	"bytes"
	"fmt"
)

// PropertiesSBOM returns a valid CycloneDX 1.5 JSON document of about size bytes whose components carry 60
// properties each: the shape that amplifies most in a parser (many small objects), for memory tests and harnesses.
func PropertiesSBOM(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"library","name":"lib%d","version":"1.%d.0","purl":"pkg:npm/lib%d@1.%d.0","properties":[`, i, i%50, i, i%50)
		for p := range 60 {
			if p > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"p%d","value":"v%d"}`, p, i)
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}
