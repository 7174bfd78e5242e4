// Package prooftest helps tests run the auditor's verification script that
// consent/proof/FORMAT.md carries, exactly as an auditor would, and forge
// what it must catch.
package prooftest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Script writes FORMAT.md's Python script into dir and returns a Python
// interpreter that has the cryptography package, and the script's path.
// A missing interpreter fails the test: .ci/run installs it.
func Script(t testing.TB, dir string) (python, script string) {
	t.Helper()
	python = Python(t)
	_, here, _, _ := runtime.Caller(0)
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "FORMAT.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := bytes.Cut(doc, []byte("```python\n"))
	code, _, ok := bytes.Cut(rest, []byte("```"))
	if !ok {
		t.Fatal("FORMAT.md has no python block")
	}
	script = filepath.Join(dir, "verify_proofs.py")
	if err := os.WriteFile(script, code, 0o600); err != nil {
		t.Fatal(err)
	}
	return python, script
}

// Python returns a Python 3 interpreter that has the cryptography package,
// which the auditors' scripts need. A missing one fails the test: .ci/run
// installs it.
func Python(t testing.TB) string {
	t.Helper()
	for _, candidate := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(candidate, "-c", "import cryptography").Run() == nil {
			return candidate
		}
	}
	t.Fatal("python3 with the cryptography package is needed to run the auditors' scripts (.ci/run installs python3-cryptography)")
	return ""
}
