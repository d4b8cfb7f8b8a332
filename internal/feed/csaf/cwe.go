package csaf

import (
	_ "embed"
	"strings"
	"sync"
)

//go:embed schema/cwe-4.15.tsv
var cweTSV string

const cweVersion = "4.15"

// cweNames maps "CWE-79" to its name, from MITRE's CWE list (schema/README.md says where it comes from).
var cweNames = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, 1500)
	for line := range strings.Lines(cweTSV) {
		id, name, ok := strings.Cut(strings.TrimRight(line, "\n"), "\t")
		if ok {
			m["CWE-"+id] = name
		}
	}
	return m
})

func cweName(id string) (string, bool) {
	n, ok := cweNames()[id]
	return n, ok
}

// CWEName returns the name of a weakness ("CWE-79") in the CWE list the mandatory test 6.1.11 checks names
// against, so that writers put the name the validator expects.
func CWEName(id string) (string, bool) { return cweName(id) }
