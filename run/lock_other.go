//go:build !unix

package run

import "os"

// tryLock is a no-op where flock does not exist: two processes are not
// kept out of one run directory there.
func tryLock(f *os.File) (held bool, err error) { return false, nil }
