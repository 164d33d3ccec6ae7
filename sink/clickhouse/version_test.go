package clickhouse

import "testing"

func TestParseVersion(t *testing.T) {
	cases := []struct {
		in   string
		want Version
	}{
		{"18.16.1", Version{18, 16, 1}},
		{"24.8.4.13", Version{24, 8, 4}},
		{"23.1.7.30", Version{23, 1, 7}},
		{"23.2.1.2537", Version{23, 2, 1}},
		{"20.1", Version{20, 1, 0}},
		{" 22.8.5.29\n", Version{22, 8, 5}},
		{"1.1.54388", Version{1, 1, 54388}},
	}
	for _, c := range cases {
		got, err := ParseVersion(c.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseVersion(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestParseVersionErrors(t *testing.T) {
	for _, in := range []string{"", "   ", "garbage", "18", "18.", ".16", "x.16.1", "18.y.1", "v18.16.1", "18,16,1", "ClickHouse 18.16.1"} {
		if v, err := ParseVersion(in); err == nil {
			t.Errorf("ParseVersion(%q) = %+v, want an error", in, v)
		}
	}
}

func TestVersionAtLeastAndString(t *testing.T) {
	cases := []struct {
		v            Version
		major, minor int
		want         bool
	}{
		{Version{23, 2, 0}, 23, 2, true},
		{Version{23, 1, 99}, 23, 2, false},
		{Version{24, 0, 0}, 23, 2, true},
		{Version{22, 12, 0}, 23, 2, false},
		{Version{18, 16, 1}, 18, 16, true},
		{Version{18, 16, 1}, 18, 17, false},
	}
	for _, c := range cases {
		if got := c.v.AtLeast(c.major, c.minor); got != c.want {
			t.Errorf("%v.AtLeast(%d, %d) = %v, want %v", c.v, c.major, c.minor, got, c.want)
		}
	}
	if s := (Version{24, 8, 4}).String(); s != "24.8.4" {
		t.Errorf("String() = %q, want 24.8.4", s)
	}
}

func TestCapabilitiesOf(t *testing.T) {
	cases := []struct {
		version string
		want    Capabilities // without Version
	}{
		{"18.16.1", Capabilities{}},
		{"19.17.9", Capabilities{}},
		// DateTime64 and Date32 only from 22.8: earlier servers clamp out-of-range values silently.
		{"20.1.2.4", Capabilities{ReplaceView: true}},
		{"21.8.15", Capabilities{ReplaceView: true}},
		{"21.9.2", Capabilities{ReplaceView: true}},
		{"21.11.11", Capabilities{ReplaceView: true}},
		{"21.12.1", Capabilities{ReplaceView: true, Bool: true}},
		{"23.1.9.1", Capabilities{DateTime64: true, ReplaceView: true, Date32: true, Bool: true}},
		{"23.2.1", Capabilities{DateTime64: true, ReplaceView: true, Date32: true, Bool: true, IsDeleted: true}},
		{"24.8.4.13", Capabilities{DateTime64: true, ReplaceView: true, Date32: true, Bool: true, IsDeleted: true}},
	}
	for _, c := range cases {
		v, err := ParseVersion(c.version)
		if err != nil {
			t.Fatal(err)
		}
		want := c.want
		want.Version = v
		if got := CapabilitiesOf(v); got != want {
			t.Errorf("CapabilitiesOf(%s) = %+v, want %+v", c.version, got, want)
		}
	}
}

// TestCapabilitiesDateRange: the builders check Date32 and DateTime64 values against 1900..2299,
// the range ClickHouse has only since 22.8 (ClickHouse PR #39425). Before it the range was
// 1925..2283 and values outside were silently clamped, so a 1910 date written to a 22.3 server
// would come back as 1925-01-01. The extended types must only be used where their range is the one
// cdcd checks (or the checks must follow the server's range).
func TestCapabilitiesDateRange(t *testing.T) {
	for _, c := range []struct {
		version string
		want    bool
	}{
		{"21.9.2", false},
		{"22.7.7", false},
		{"22.8.1", true},
		{"24.8.4.13", true},
	} {
		v, _ := ParseVersion(c.version)
		caps := CapabilitiesOf(v)
		if caps.Date32 != c.want || caps.DateTime64 != c.want {
			t.Errorf("CapabilitiesOf(%s): Date32 %v, DateTime64 %v; want both %v (range 1900..2299 needs 22.8)",
				c.version, caps.Date32, caps.DateTime64, c.want)
		}
	}
}
