package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// applyConfig fills every flag the user did not set on the command line
// from the environment (NINETEN_DATA for --data) or else from the config
// file, in that order of precedence: flags > env > file > defaults.
func applyConfig(cmd *cobra.Command) error {
	file := map[string]string{}
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		path = os.Getenv("NINETEN_CONFIG")
	}
	if path != "" {
		var err error
		if file, err = readConfigFile(path); err != nil {
			return err
		}
	}
	var errs []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "config" || f.Name == "help" {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok {
			v, ok = file[f.Name]
		}
		if ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", f.Name, err))
			}
		}
	})
	for k := range file {
		if cmd.Flags().Lookup(k) == nil {
			errs = append(errs, fmt.Sprintf("%s: unknown setting in %s", k, path))
		}
	}
	if errs != nil {
		return fmt.Errorf("bad configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

func envName(flag string) string {
	return "NINETEN_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// readConfigFile reads "name = value" lines; '#' starts a comment.
func readConfigFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the config file: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected name = value", path, n)
		}
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return out, sc.Err()
}
