package chaincode

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStandardLibraryOnly: the contract runs as Hyperledger Fabric
// chaincode too, built on its own, so it and its reference implementation
// import nothing but the standard library (the repository's dependency
// rules do not cover this; tests may import anything).
func TestStandardLibraryOnly(t *testing.T) {
	checked := 0
	for _, dir := range []string{".", "settleref"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		noErr(t, err)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			noErr(t, err)
			for _, imp := range file.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
					t.Errorf("%s imports %s: the contract uses only the standard library", f, path)
				}
			}
			checked++
		}
	}
	if checked < 8 {
		t.Fatalf("only %d files checked; run from the package directory", checked)
	}
}
