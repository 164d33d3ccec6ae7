package integration

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeConfigReference keeps the README's configuration reference identical to the one the
// config package tests load (config/reference.yml).
func TestReadmeConfigReference(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := os.ReadFile("../config/reference.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```yaml\n"+string(ref)+"```") {
		t.Fatal("README.md's configuration reference differs from config/reference.yml: copy it over")
	}
}
