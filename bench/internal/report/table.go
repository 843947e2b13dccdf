package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// table accumulates rows and writes them as an aligned Markdown table, so
// that the terminal output can be pasted into docs as it is.
type table struct {
	header []string
	rows   [][]string
}

func newTable(header ...string) *table { return &table{header: header} }

// add appends a row; cells past the header are dropped, missing ones empty.
func (t *table) add(cells ...any) {
	row := make([]string, len(t.header))
	for i := range row {
		if i < len(cells) {
			row[i] = fmt.Sprint(cells[i])
		}
	}
	t.rows = append(t.rows, row)
}

func (t *table) write(out io.Writer) {
	width := make([]int, len(t.header))
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c), 3)
		}
	}
	line := func(row []string) {
		var sb strings.Builder
		for i, c := range row {
			sb.WriteString("| " + c + strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)) + " ")
		}
		fmt.Fprintln(out, sb.String()+"|")
	}
	line(t.header)
	sep := make([]string, len(width))
	for i, w := range width {
		sep[i] = strings.Repeat("-", w)
	}
	line(sep)
	for _, row := range t.rows {
		line(row)
	}
	fmt.Fprintln(out)
}

func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
