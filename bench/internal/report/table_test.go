package report

import (
	"strings"
	"testing"
)

func TestTableIsAlignedMarkdown(t *testing.T) {
	tb := newTable("a", "long header")
	tb.add("µs", 1, "dropped")
	tb.add("x")
	var sb strings.Builder
	tb.write(&sb)
	want := "| a   | long header |\n| --- | ----------- |\n| µs  | 1           |\n| x   |             |\n\n"
	if sb.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", sb.String(), want)
	}
}
