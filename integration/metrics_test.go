package integration

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// TestMetrics: metrics.listen serves Prometheus text with the pipeline's counters and the
// source's lag, and /healthz.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE m (id int PRIMARY KEY)", "INSERT INTO m SELECT generate_series(1, 100)")
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := e.config(t, []string{"public.m"}, "")
	cfg = writeConfig(t, readFile(t, cfg)+"metrics:\n  listen: "+addr+"\n")
	d := startDaemon(t, cfg)
	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	rows := regexp.MustCompile(`cdcd_rows_written_total\{source="shop",kind="postgres"\} (\d+)`)
	waitFor(t, 30*time.Second, "100 rows counted in /metrics", func() (bool, error) {
		m := rows.FindStringSubmatch(get("/metrics"))
		if m == nil {
			return false, nil
		}
		n, _ := strconv.Atoi(m[1])
		return n >= 100, nil
	})
	body := get("/metrics")
	for _, want := range []string{"# TYPE cdcd_rows_written_total counter", `cdcd_source_lag_bytes{source="shop",kind="postgres"}`,
		`cdcd_offset_commits_total{source="shop",kind="postgres"}`, "cdcd_uptime_seconds"} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(body) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if get("/healthz") != "ok\n" {
		t.Errorf("/healthz = %q", get("/healthz"))
	}
	d.stop()
}
