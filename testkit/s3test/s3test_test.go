package s3test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests find versitygw where scripts/install-versitygw puts it, and say
// how to install it when it is missing: they never skip.
func TestBinary(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("NINETEN_VERSITYGW", "")
	t.Setenv("XDG_CACHE_HOME", cache)
	if _, err := Binary(); err == nil || !strings.Contains(err.Error(), "run scripts/setup") {
		t.Errorf("without versitygw: %v, want a hint to run scripts/setup", err)
	}
	want := filepath.Join(cache, "9ten", "bin", "versitygw")
	os.MkdirAll(filepath.Dir(want), 0o755)
	os.WriteFile(want, nil, 0o755)
	if got, err := Binary(); err != nil || got != want {
		t.Errorf("Binary() = %q, %v; want %q", got, err, want)
	}
	t.Setenv("NINETEN_VERSITYGW", filepath.Join(cache, "elsewhere"))
	if _, err := Binary(); err == nil || !strings.Contains(err.Error(), "elsewhere") {
		t.Errorf("NINETEN_VERSITYGW is not used: %v", err)
	}
}
