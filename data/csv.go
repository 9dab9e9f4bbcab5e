package data

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LoadCSV reads a labelled table from a CSV file, raw or gzip-compressed
// (detected from the content, so "x.csv.gz" and "x.csv" both work). See
// ReadCSV for the format. The dataset is named after the file.
func LoadCSV(path, label string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	d, err := ReadCSV(f, path, label)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(path)
	for _, ext := range []string{".gz", ".csv"} {
		base = strings.TrimSuffix(base, ext)
	}
	d.Name = base
	return d, nil
}

// ReadCSV reads a labelled table in CSV format from r; name labels errors.
//
// Every column other than the label column is a numeric feature, so an
// example has Shape [columns−1]. The label column is chosen by label:
//
//   - "" selects the last column;
//   - an integer selects by position, 0-based, negative counting from the
//     end (-1 is the last column);
//   - anything else is a column name, looked up in the header row.
//
// The first row is a header when label is a name, or when one of its
// feature cells is not a number, or when its label cell is not a number
// while the next row's is. A header whose width differs from the data is
// accepted when the label is positional, which reads the scikit-learn
// bundled files (whose first row is "n_samples,n_features,names..."; those
// names become ClassNames).
//
// Labels map to classes 0..K−1 in sorted order: numerically when every
// label is a number ("2" and "2.0" are one class), as strings otherwise.
// ClassNames keeps the label text. A feature cell that is not a finite
// number is an error naming the line and column.
func ReadCSV(r io.Reader, name, label string) (*Dataset, error) {
	if name == "" {
		name = "csv"
	}
	br := bufio.NewReaderSize(r, 1<<16)
	src := io.Reader(br)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("data: %s: gzip: %v", name, err)
		}
		defer zr.Close()
		src = zr
	}
	cr := csv.NewReader(src)
	cr.FieldsPerRecord = -1 // widths are checked here, with better messages
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	type row struct {
		rec  []string
		line int
	}
	next := func() (row, error) {
		rec, err := cr.Read()
		if err != nil {
			if err == io.EOF {
				return row{}, err
			}
			return row{}, fmt.Errorf("data: %s: %v", name, err)
		}
		line, _ := cr.FieldPos(0)
		return row{slices.Clone(rec), line}, nil
	}
	first, err := next()
	if err == io.EOF {
		return nil, fmt.Errorf("data: %s: no rows", name)
	} else if err != nil {
		return nil, err
	}
	second, err := next()
	hasSecond := err == nil
	if err != nil && err != io.EOF {
		return nil, err
	}

	// Resolve the label specification.
	byName := false
	pos := -1
	if label != "" {
		if p, err := strconv.Atoi(strings.TrimSpace(label)); err == nil {
			pos = p
		} else {
			byName = true
		}
	}
	resolve := func(width int) (int, error) {
		p := pos
		if p < 0 {
			p += width
		}
		if p < 0 || p >= width {
			return 0, fmt.Errorf("data: %s: label column %d out of range for %d columns", name, pos, width)
		}
		return p, nil
	}

	header := byName
	if !byName {
		lc, err := resolve(len(first.rec))
		if err != nil {
			if !hasSecond || len(second.rec) == len(first.rec) {
				return nil, err
			}
			lc = -1 // a narrower first row can only be a header; test every cell
		}
		for j, cell := range first.rec {
			if j != lc && !isNumber(cell) {
				header = true
				break
			}
		}
		if !header && lc >= 0 && !isNumber(first.rec[lc]) && hasSecond && lc < len(second.rec) && isNumber(second.rec[lc]) {
			header = true
		}
	}

	var names []string
	var rows []row
	if header {
		names = first.rec
		if hasSecond {
			rows = append(rows, second)
		}
	} else {
		rows = append(rows, first)
		if hasSecond {
			rows = append(rows, second)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("data: %s: header row but no data rows", name)
	}
	width := len(rows[0].rec)
	if width < 2 {
		return nil, fmt.Errorf("data: %s:%d: %d column; need a label and at least one feature", name, rows[0].line, width)
	}

	var lc int
	if byName {
		if len(names) != width {
			return nil, fmt.Errorf("data: %s: header (line %d) has %d columns, data (line %d) has %d", name, first.line, len(names), rows[0].line, width)
		}
		lc = slices.IndexFunc(names, func(s string) bool { return strings.TrimSpace(s) == label })
		if lc < 0 {
			return nil, fmt.Errorf("data: %s: no column named %q; header has %s", name, label, listNames(names))
		}
	} else if lc, err = resolve(width); err != nil {
		return nil, err
	}
	colName := func(j int) string {
		if len(names) == width {
			return fmt.Sprintf("column %d (%q)", j+1, strings.TrimSpace(names[j]))
		}
		return fmt.Sprintf("column %d", j+1)
	}

	d := &Dataset{Shape: []int{width - 1}}
	classOf := map[string]int{} // label text -> provisional id, first-seen order
	var keys []string
	add := func(rec []string, line int) error {
		if len(rec) != width {
			return fmt.Errorf("data: %s:%d: %d columns, want %d", name, line, len(rec), width)
		}
		for j, cell := range rec {
			if j == lc {
				continue
			}
			cell = strings.TrimSpace(cell)
			v, err := strconv.ParseFloat(cell, 32)
			if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("data: %s:%d: %s: %q is not a finite number", name, line, colName(j), cell)
			}
			d.X = append(d.X, float32(v))
		}
		key := strings.TrimSpace(rec[lc])
		if key == "" {
			return fmt.Errorf("data: %s:%d: %s: empty label", name, line, colName(lc))
		}
		id, ok := classOf[key]
		if !ok {
			id = len(keys)
			classOf[key] = id
			keys = append(keys, key)
		}
		d.Y = append(d.Y, id)
		return nil
	}
	for _, rw := range rows {
		if err := add(rw.rec, rw.line); err != nil {
			return nil, err
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("data: %s: %v", name, err)
		}
		line, _ := cr.FieldPos(0)
		if err := add(rec, line); err != nil {
			return nil, err
		}
	}

	if len(keys) > MaxClasses {
		return nil, fmt.Errorf("data: %s: %s has %d distinct labels, more than the %d classes allowed (is it a continuous value?)", name, colName(lc), len(keys), MaxClasses)
	}
	remap, classNames := sortLabels(keys)
	for i, id := range d.Y {
		d.Y[i] = remap[id]
	}
	d.Classes = len(classNames)
	d.ClassNames = classNames
	if header {
		d.ClassNames = sklearnClassNames(names, d, classNames)
	}
	return d, nil
}

// sklearnClassNames reads the class names from a scikit-learn header
// "n_samples,n_features,name0,name1,..." when it describes d exactly and the
// labels are 0..K-1; otherwise it returns the label texts unchanged.
func sklearnClassNames(header []string, d *Dataset, labels []string) []string {
	if len(header) != 2+d.Classes ||
		strings.TrimSpace(header[0]) != strconv.Itoa(d.Len()) ||
		strings.TrimSpace(header[1]) != strconv.Itoa(d.Dim()) {
		return labels
	}
	names := make([]string, d.Classes)
	for i, l := range labels {
		if l != strconv.Itoa(i) {
			return labels
		}
		names[i] = strings.TrimSpace(header[2+i])
	}
	return names
}

// sortLabels orders the distinct label texts: numerically when all are
// numbers (merging equal values such as "1" and "1.0"), else as strings.
// It returns the class of each provisional id and the class names.
func sortLabels(keys []string) (remap []int, names []string) {
	remap = make([]int, len(keys))
	vals := make([]float64, len(keys))
	numeric := true
	for i, k := range keys {
		v, err := strconv.ParseFloat(k, 64)
		if err != nil || math.IsNaN(v) {
			numeric = false
			break
		}
		vals[i] = v
	}
	if numeric {
		uniq := slices.Clone(vals)
		slices.Sort(uniq)
		uniq = slices.Compact(uniq)
		names = make([]string, len(uniq))
		for i, v := range uniq {
			names[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		for i, v := range vals {
			remap[i], _ = slices.BinarySearch(uniq, v)
		}
		return remap, names
	}
	names = slices.Clone(keys)
	slices.Sort(names)
	for i, k := range keys {
		remap[i], _ = slices.BinarySearch(names, k)
	}
	return remap, names
}

// isNumber reports whether a CSV cell parses as a number.
func isNumber(cell string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(cell), 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

// listNames formats header names for an error message, eliding long lists.
func listNames(names []string) string {
	const show = 12
	q := make([]string, 0, min(len(names), show))
	for _, n := range names[:min(len(names), show)] {
		q = append(q, strconv.Quote(strings.TrimSpace(n)))
	}
	s := strings.Join(q, ", ")
	if len(names) > show {
		s += fmt.Sprintf(", … (%d columns)", len(names))
	}
	return s
}
