package nineten_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRules enforces the architecture (see ARCHITECTURE.md):
//  1. the root package imports only the standard library;
//  2. use-case packages import only the root package (and the standard
//     library, plus golang.org/x for crypto primitives), never each other
//     nor an implementation;
//  3. implementations import the root package, their own outside library
//     and no other implementation; the HTTP server may call use cases;
//  4. only cmd/9ten wires implementations together;
//  5. internal/ helpers use only the standard library and serve everyone.
func TestDependencyRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{.Standard}}|{{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "nineten.dev"
	useCases := map[string]bool{mod + "/anomaly": true, mod + "/account": true, mod + "/catalog": true, mod + "/listen": true, mod + "/jobs": true, mod + "/subscription": true, mod + "/payout": true, mod + "/playlist": true, mod + "/picture": true, mod + "/report": true}
	// Packages that may import use cases: the HTTP surface calls them.
	callsUseCases := map[string]bool{mod + "/server": true}
	isOurs := func(p string) bool { return p == mod || strings.HasPrefix(p, mod+"/") }
	isStd := func(p string) bool { return !strings.Contains(strings.SplitN(p, "/", 2)[0], ".") }
	// Every ledger runs the payout contract: chaincode is a pure library
	// (standard library only, no I/O) written to run inside any ledger, so
	// ledger implementations may import it, and only it, of other components.
	runsContract := func(pkg, imp string) bool {
		return imp == mod+"/chaincode" && strings.HasPrefix(pkg, mod+"/ledger/")
	}
	// A component may be split into sub-packages (federation/httpsig).
	sameComponent := func(a, b string) bool {
		top := func(p string) string { return strings.SplitN(strings.TrimPrefix(p, mod+"/"), "/", 2)[0] }
		return top(a) == top(b)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		pkg, imports := parts[0], strings.Fields(parts[2])
		if strings.HasPrefix(pkg, mod+"/cmd/") || strings.HasPrefix(pkg, mod+"/testkit") || strings.HasPrefix(pkg, mod+"/bench") {
			continue
		}
		if strings.HasPrefix(pkg, mod+"/internal/") {
			// Small helpers anyone may use; they use nothing of ours.
			for _, imp := range imports {
				if !isStd(imp) {
					t.Errorf("%s imports %s: internal helpers use only the standard library", pkg, imp)
				}
			}
			continue
		}
		for _, imp := range imports {
			var bad string
			switch {
			case pkg == mod:
				if !isStd(imp) {
					bad = "the root package imports only the standard library"
				}
			case useCases[pkg]:
				if isOurs(imp) && imp != mod {
					bad = "use cases import only the root package among ours"
				} else if !isOurs(imp) && !isStd(imp) && !strings.HasPrefix(imp, "golang.org/x/") {
					bad = "use cases use no outside library but golang.org/x"
				}
			case strings.HasPrefix(imp, mod+"/internal/"):
			case isOurs(imp) && imp != mod:
				if !(callsUseCases[pkg] && useCases[imp]) && !sameComponent(pkg, imp) && !runsContract(pkg, imp) {
					bad = "implementations do not import each other; wire them in cmd/9ten"
				}
			}
			if bad != "" {
				t.Errorf("%s imports %s: %s", pkg, imp, bad)
			}
		}
	}
}
