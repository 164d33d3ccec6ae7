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

// TestReferenceChecks: the reference configuration passes cdcd check, aggregations included (the
// check that needs no server).
func TestReferenceChecks(t *testing.T) {
	env := []string{"SHOP_PG_PASSWORD=x", "LEGACY_MYSQL_PASSWORD=x", "NAME=x"}
	code, out := runCLI(t, env, "check", "--config", "../config/reference.yml")
	if code != 0 || !strings.Contains(out, "ok (2 sources, 2 aggregations)") {
		t.Errorf("cdcd check of config/reference.yml: exit %d\n%s", code, out)
	}
}
