package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestRecordedTextCannotBreakTheLayout: text from the records (a note, a consignee's name) is escaped in every
// format: no HTML element, no Markdown table cell or link, and the JSON keeps it as written.
func TestRecordedTextCannotBreakTheLayout(t *testing.T) {
	hostile := `<script>alert(1)</script> | [link](http://x) *bold* # head`
	d := &Document{Kind: "806", Title: "T " + hostile, CutOff: time.Date(2026, 3, 20, 18, 0, 0, 0, time.UTC), AuditSeq: 7, AuditHead: strings.Repeat("ab", 32), Zone: "America/Chicago"}
	d.Add("S").Text("%s", hostile).Fields("Name", hostile).Table([]string{"A", "B"}, [][]string{{hostile, ""}}, "").Chart(Chart{Title: hostile, Unit: "days", Bars: []Bar{{hostile, 3}}})
	for _, tt := range []struct {
		format string
		bad    []string
		want   []string
	}{
		{Markdown, []string{"T <script>", "| [link]", " [link]"}, []string{`\<script>`, `\| \[link\]`, "— |", "2026-03-20 13:00:00 CDT", "event 7, head abab"}},
		{HTML, []string{"<script>"}, []string{"&lt;script&gt;", "<svg", "2026-03-20 13:00:00 CDT"}},
		{JSON, nil, []string{`"text": "<script>alert(1)</script>`, `"audit_seq": 7`}},
	} {
		var b bytes.Buffer
		if err := d.Render(&b, tt.format); err != nil {
			t.Fatal(err)
		}
		for _, x := range tt.bad {
			if strings.Contains(b.String(), x) {
				t.Errorf("%s carries %q unescaped", tt.format, x)
			}
		}
		for _, x := range tt.want {
			if !strings.Contains(b.String(), x) {
				t.Errorf("%s lacks %q:\n%s", tt.format, x, b.String())
			}
		}
	}
	var b bytes.Buffer
	if err := d.Render(&b, PDF); err != nil || !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
		t.Errorf("pdf: %v %.8q", err, b.Bytes())
	}
	if err := d.Render(&b, "docx"); err == nil {
		t.Errorf("an unknown format rendered")
	}
}
