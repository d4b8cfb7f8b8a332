package importer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Temporary files. A download (vigil-fetch-…) and an uploaded feed file (vigil-upload-…) live in the temporary
// directory while they are imported, and are removed when the import ends. A crash leaves them behind, so their
// names carry the process id, and RemoveStale, run when the server starts, removes those whose process is gone
// without touching the files of another Vigil still running on the machine.

// TempPattern is the os.CreateTemp / os.MkdirTemp pattern for a temporary file of kind ("fetch", "upload") made by
// this process.
func TempPattern(kind string) string {
	return fmt.Sprintf("vigil-%s-%d-*", kind, os.Getpid())
}

// RemoveStale removes the temporary files and folders under dir (os.TempDir() when empty) that a Vigil process no
// longer running left behind, and returns their paths. Files of running processes, this one included, stay.
func RemoveStale(dir string) ([]string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		pid, ok := tempOwner(e.Name())
		if !ok || alive(pid) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}

// tempOwner parses the process id out of a name TempPattern made.
func tempOwner(name string) (int, bool) {
	for _, kind := range []string{"vigil-fetch-", "vigil-upload-"} {
		if rest, ok := strings.CutPrefix(name, kind); ok {
			ps, _, ok := strings.Cut(rest, "-")
			pid, err := strconv.Atoi(ps)
			return pid, ok && err == nil && pid > 0
		}
	}
	return 0, false
}

// alive reports whether a process with this id exists (one we may not signal exists too).
func alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
