package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of docker-compose.yml this test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     any               `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Healthcheck *struct {
			Test any `yaml:"test"`
		} `yaml:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
}

func commandString(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case []any:
		var parts []string
		for _, p := range v {
			parts = append(parts, strings.TrimSpace(p.(string)))
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// TestDockerCompose checks that docker-compose.yml, which no engine runs here, carries every setting
// replication needs: no user should find out from a failed `docker compose up`.
func TestDockerCompose(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"postgres", "mysql", "clickhouse", "schema-registry", "cdcd"} {
		s, ok := f.Services[name]
		if !ok {
			t.Errorf("service %q missing", name)
			continue
		}
		if name != "cdcd" && (s.Healthcheck == nil || s.Healthcheck.Test == nil) {
			t.Errorf("service %q has no healthcheck", name)
		}
	}

	pg := f.Services["postgres"]
	if v := imageMajor(t, pg.Image, "postgres"); v < 16 {
		t.Errorf("postgres image %q: want 16 or newer", pg.Image)
	}
	if cmd := commandString(pg.Command); !strings.Contains(cmd, "wal_level=logical") {
		t.Errorf("postgres command %q lacks wal_level=logical", cmd)
	}

	my := f.Services["mysql"]
	if !strings.HasPrefix(my.Image, "mysql:8.4") {
		t.Errorf("mysql image %q: want mysql:8.4", my.Image)
	}
	cmd := strings.ToLower(strings.ReplaceAll(commandString(my.Command), "_", "-"))
	for _, want := range []string{"--log-bin", "--binlog-format=row", "--binlog-row-image=full",
		"--gtid-mode=on", "--enforce-gtid-consistency=on", "--server-id="} {
		if !strings.Contains(cmd, want) {
			t.Errorf("mysql command %q lacks %s", cmd, want)
		}
	}

	ch := f.Services["clickhouse"]
	if v := imageMajor(t, ch.Image, "clickhouse/clickhouse-server"); v < 24 {
		t.Errorf("clickhouse image %q: want 24 or newer", ch.Image)
	}

	cd := f.Services["cdcd"]
	if cd.Build == nil {
		t.Error("cdcd service must build from the Dockerfile")
	}
	if _, err := os.Stat("../Dockerfile"); err != nil {
		t.Errorf("Dockerfile: %v", err)
	}
	for _, dep := range []string{"postgres", "mysql", "clickhouse", "schema-registry"} {
		if d, ok := cd.DependsOn[dep]; !ok || d.Condition != "service_healthy" {
			t.Errorf("cdcd must depend on %s being healthy", dep)
		}
	}
	// Every file the services mount must exist in the repository.
	for name, s := range f.Services {
		for _, v := range s.Volumes {
			src := strings.SplitN(v, ":", 2)[0]
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(filepath.Join("..", src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			}
		}
	}
}

// imageMajor returns the major version of image "repo:N[.x]", failing when the repo differs.
func imageMajor(t *testing.T, image, repo string) int {
	t.Helper()
	r, tag, ok := strings.Cut(image, ":")
	if !ok || r != repo {
		t.Errorf("image %q: want %s:<version>", image, repo)
		return 0
	}
	n, err := strconv.Atoi(strings.SplitN(tag, ".", 2)[0])
	if err != nil {
		t.Errorf("image %q: tag is not a version", image)
	}
	return n
}
