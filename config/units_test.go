package config

import (
	"errors"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ByteSize
	}{
		{"0", 0}, {"1048576", MiB}, {"64MiB", 64 * MiB}, {"64 MiB", 64 * MiB},
		{"64mib", 64 * MiB}, {"1KB", 1000}, {"1kib", 1024}, {"2GB", 2e9}, {"3GiB", 3 << 30},
		{"1TiB", 1 << 40}, {"512B", 512}, {" 8 KB ", 8000},
	} {
		got, err := ParseByteSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1_000", "1.5GiB", "10 potatoes", "64M", "9223372036854775807KiB", "99999999999999999999"} {
		if got, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	for _, tc := range []struct {
		in   ByteSize
		want string
	}{
		{0, "0"}, {1, "1"}, {1000, "1KB"}, {1024, "1KiB"}, {64 * MiB, "64MiB"}, {1e9, "1GB"}, {1536, "1536"},
		{3 * TiB, "3TiB"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tc.in), got, tc.want)
		}
		if back, err := ParseByteSize(tc.in.String()); err != nil || back != tc.in {
			t.Errorf("%q does not parse back to %d: %d, %v", tc.in.String(), int64(tc.in), back, err)
		}
	}
}

func TestDurationYAML(t *testing.T) {
	var v struct {
		D Duration `yaml:"d"`
	}
	for in, want := range map[string]time.Duration{"50ms": 50 * time.Millisecond, "1m30s": 90 * time.Second, "0": 0} {
		if err := yaml.Unmarshal([]byte("d: "+in), &v); err != nil || time.Duration(v.D) != want {
			t.Errorf("%s: %v, %v", in, v.D, err)
		}
	}
	for _, in := range []string{"5", "soon", "[1s]"} {
		if err := yaml.Unmarshal([]byte("d: "+in), &v); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
	out, err := yaml.Marshal(struct{ D Duration }{Duration(1500 * time.Millisecond)})
	check(t, "marshal", string(out), "d: 1.5s\n")
	if err != nil {
		t.Error(err)
	}
}

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"A": "alpha", "EMPTY": "", "B_2": "b"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"${A}", "alpha"},
		{"x${A}y${B_2}z", "xalphaybz"},
		{"${EMPTY}", ""},
		{"${EMPTY:-dflt}", "dflt"},
		{"${UNSET:-with space: and $ and {}", "with space: and $ and {"},
		{"${A:-dflt}", "alpha"},
		{"$${A}", "${A}"},
		{"$$${A}", "$${A}"}, // left to right: a literal $, then $${
		{"cost $5 and $A", "cost $5 and $A"},
		{"trailing $", "trailing $"},
	} {
		got, err := expandEnv(tc.in, lookup)
		if err != nil || got != tc.want {
			t.Errorf("expandEnv(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for in, want := range map[string]string{
		"${UNSET}":     "environment variable UNSET is not set",
		"${A":          "${ without a closing }; write $${ for a literal ${",
		"${}":          `"${}" is not a variable reference; use ${NAME} or ${NAME:-default}, and $${ for a literal ${`,
		"${A-B}":       `"${A-B}" is not a variable reference; use ${NAME} or ${NAME:-default}, and $${ for a literal ${`,
		"ok ${9LIVES}": `"${9LIVES}" is not a variable reference; use ${NAME} or ${NAME:-default}, and $${ for a literal ${`,
	} {
		_, err := expandEnv(in, lookup)
		if err == nil || err.Error() != want {
			t.Errorf("expandEnv(%q) error = %v, want %q", in, err, want)
		}
	}
	var unset *unsetError
	if _, err := expandEnv("${UNSET}", lookup); !errors.As(err, &unset) || unset.name != "UNSET" {
		t.Errorf("error %v is not an *unsetError", err)
	}
}
