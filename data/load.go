package data

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// LoadOptions adjusts Load.
type LoadOptions struct {
	// Label selects the label column of a CSV source (see ReadCSV);
	// empty means the last column.
	Label string
	// MaxTrain, when positive, keeps only the first MaxTrain training
	// examples (after the train/test split for CSV).
	MaxTrain int
	// TestFrac is the fraction of a CSV file held out as the test set,
	// in (0,1); 0 means 0.2. IDX sources have their own test files.
	TestFrac float64
	// Seed drives the random train/test split of a CSV source.
	Seed uint64
}

// DefaultTestFrac is the CSV test fraction used when LoadOptions.TestFrac is 0.
const DefaultTestFrac = 0.2

// splitStream is the PCG stream of the CSV split, fixed so that the split
// depends on LoadOptions.Seed alone.
const splitStream = 0x6461746173706c74 // ASCII "datasplt"

// Sources lists the source forms Load accepts, for help texts.
const Sources = `"mnist", "fashion-mnist", "idx:DIR", "csv:FILE"`

// Load returns the training and test sets of a source:
//
//	mnist          MNIST from the Go module cache (MNISTDir)
//	fashion-mnist  Fashion-MNIST from the Debian package (FashionMNISTDir)
//	idx:DIR        a directory of MNIST-layout IDX files (LoadIDXDir)
//	csv:FILE       a CSV file (LoadCSV), split at random into train and test
func Load(source string, opts LoadOptions) (train, test *Dataset, err error) {
	var names []string
	kind, arg, _ := strings.Cut(source, ":")
	switch {
	case source == "mnist":
		dir, err := MNISTDir()
		if err != nil {
			return nil, nil, err
		}
		if train, test, err = loadIDXDir(dir, opts.MaxTrain); err != nil {
			return nil, nil, err
		}
		names = MNISTClassNames
	case source == "fashion-mnist":
		dir, err := FashionMNISTDir()
		if err != nil {
			return nil, nil, err
		}
		if train, test, err = loadIDXDir(dir, opts.MaxTrain); err != nil {
			return nil, nil, err
		}
		names = FashionMNISTClassNames
	case kind == "idx" && arg != "":
		if train, test, err = loadIDXDir(arg, opts.MaxTrain); err != nil {
			return nil, nil, err
		}
	case kind == "csv" && arg != "":
		frac := opts.TestFrac
		if frac == 0 {
			frac = DefaultTestFrac
		}
		if !(frac > 0 && frac < 1) {
			return nil, nil, fmt.Errorf("data: test fraction %v for %s outside (0,1)", opts.TestFrac, source)
		}
		all, err := LoadCSV(arg, opts.Label)
		if err != nil {
			return nil, nil, err
		}
		if all.Len() < 2 {
			return nil, nil, fmt.Errorf("data: %s: %d example(s) cannot be split into train and test sets", arg, all.Len())
		}
		train, test = all.Split(frac, rand.New(rand.NewPCG(opts.Seed, splitStream)))
		if test.Len() == 0 || train.Len() == 0 {
			return nil, nil, fmt.Errorf("data: %s: test fraction %v of %d examples leaves an empty set", arg, frac, all.Len())
		}
		train.Name, test.Name = all.Name+"/train", all.Name+"/test"
	default:
		return nil, nil, fmt.Errorf("data: unknown data source %q; want one of %s", source, Sources)
	}
	if source == "mnist" || source == "fashion-mnist" {
		train.Name, test.Name = source+"/train", source+"/test"
		if train.Classes == len(names) {
			train.ClassNames, test.ClassNames = names, names
		}
	}
	train = train.Head(opts.MaxTrain)
	return train, test, nil
}
