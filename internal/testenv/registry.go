package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The third-party Confluent-compatible registry the schema tests also run against.
const (
	registryModule  = "github.com/axonops/axonops-schema-registry"
	registryVersion = "v0.2.1"
)

var (
	regOnce sync.Once
	regURL  string
	regErr  error
)

// StartRegistry returns the URL of a third-party Confluent-compatible schema registry
// (axonops-schema-registry, in-memory storage, BACKWARD by default), building it on first use with
// the Go toolchain and caching the binary under the user's cache dir.
func StartRegistry(t testing.TB) string {
	t.Helper()
	u, err := RegistryServer()
	if err != nil {
		t.Fatalf("testenv: schema registry: %v", err)
	}
	return u
}

// RegistryServer is StartRegistry for programs that are not tests.
func RegistryServer() (string, error) {
	regOnce.Do(func() {
		if u := os.Getenv("CDCD_TEST_REGISTRY_URL"); u != "" {
			regURL = u
			return
		}
		regURL, regErr = startRegistry()
	})
	return regURL, regErr
}

// registryBinary builds the registry once per machine. `go install mod@version` does not work
// because the proxy refuses the module's version list, so download the module and build it in place.
func registryBinary() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "cdcd-testenv", "schema-registry-"+registryVersion)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building %s needs the Go toolchain: %w", registryModule, err)
	}
	out, err := exec.Command(gobin, "mod", "download", "-json", registryModule+"@"+registryVersion).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", registryModule, registryVersion, err)
	}
	var dir string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, `"Dir": "`); ok {
			dir = strings.TrimSuffix(v, `",`)
		}
	}
	if dir == "" {
		return "", fmt.Errorf("go mod download %s: no Dir in %s", registryModule, out)
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	tmp := bin + fmt.Sprintf(".%d.tmp", os.Getpid())
	build := exec.Command(gobin, "build", "-o", tmp, "./cmd/schema-registry")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	if o, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", registryModule, err, o)
	}
	return bin, os.Rename(tmp, bin)
}

func startRegistry() (string, error) {
	bin, err := registryBinary()
	if err != nil {
		return "", err
	}
	dir, err := tempDir("registry")
	if err != nil {
		return "", err
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cfg := filepath.Join(dir, "config.yaml")
	conf := fmt.Sprintf("server:\n  host: \"127.0.0.1\"\n  port: %d\nstorage:\n  type: memory\ncompatibility:\n  default_level: BACKWARD\nlogging:\n  level: warn\n", port)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return "", err
	}
	p, err := startProcess("schema-registry", dir, filepath.Join(dir, "registry.log"), syscall.SIGTERM,
		exec.Command(bin, "-config", cfg))
	if err != nil {
		return "", err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	err = waitReady(p, 30*time.Second, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/config", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /config: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return url, nil
}
