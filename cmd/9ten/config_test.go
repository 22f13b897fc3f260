package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
)

// Flags win over the environment, the environment over the config file,
// and the file over defaults; unknown settings are errors.
func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "9ten.conf")
	os.WriteFile(file, []byte("# node settings\naddr = 127.0.0.1:9001\ndata = /from/file\nworkers = 3\nlog-level = \"debug\"\n"), 0o600)
	t.Setenv("NINETEN_DATA", "/from/env")
	t.Setenv("NINETEN_CONFIG", file)
	var o options
	cmd := &cobra.Command{Use: "serve"}
	nodeFlags(cmd, &o)
	if err := cmd.ParseFlags([]string{"--workers", "5"}); err != nil {
		t.Fatal(err)
	}
	if err := applyConfig(cmd); err != nil {
		t.Fatal(err)
	}
	if o.Workers != 5 || o.Data != "/from/env" || o.Addr != "127.0.0.1:9001" || o.LogLevel != "debug" || o.MaxUploadMiB != 2048 {
		t.Errorf("options %+v", o)
	}

	os.WriteFile(file, []byte("colour = red\n"), 0o600)
	cmd.ResetFlags()
	nodeFlags(cmd, &o)
	if err := applyConfig(cmd); err == nil {
		t.Error("an unknown setting was accepted")
	}
	t.Setenv("NINETEN_WORKERS", "many")
	os.WriteFile(file, nil, 0o600)
	cmd.ResetFlags()
	nodeFlags(cmd, &o)
	if err := applyConfig(cmd); err == nil {
		t.Error("a malformed environment value was accepted")
	}
}
