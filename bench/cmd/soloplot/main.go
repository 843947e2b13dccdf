// Command soloplot draws the PNG plots of a solobench JSON report:
//
//	go run ./cmd/soloplot -in report.json -dir ../docs
//
// The report is the file written by `solobench ... -out report.json`, or
// the last line of `solobench ... -json` output.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/solocron/solocron/bench/internal/plots"
	"github.com/solocron/solocron/bench/internal/report"
)

func main() {
	in := flag.String("in", "", "solobench JSON report (its last line is used)")
	dir := flag.String("dir", ".", "directory for the PNG files")
	flag.Parse()
	if err := run(*in, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "soloplot:", err)
		os.Exit(1)
	}
}

func run(in, dir string) error {
	if in == "" {
		return fmt.Errorf("-in is required")
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	var r report.Report
	if err := json.Unmarshal(lines[len(lines)-1], &r); err != nil {
		return fmt.Errorf("%s: last line is not a solobench report: %w", in, err)
	}
	files, err := plots.Write(&r, dir)
	for _, f := range files {
		fmt.Println(f)
	}
	return err
}
