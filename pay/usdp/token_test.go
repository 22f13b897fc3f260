package usdp_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCompiledTokenMatchesSource recompiles testdata/TestToken.sol with the
// pinned solc from npm and compares the bytes with the committed ones, so
// that the bytecode the tests deploy is the source they show. It needs the
// compiler installed (scripts/setup, or npm ci in pay/usdp/testdata).
func TestCompiledTokenMatchesSource(t *testing.T) {
	if _, err := os.Stat(filepath.Join("testdata", "node_modules", "solc", "soljson.js")); err != nil {
		t.Skip("solc is not installed: run npm ci in pay/usdp/testdata (scripts/setup does)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	cmd := exec.CommandContext(t.Context(), node, "compile.js", "--check")
	cmd.Dir = "testdata"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
