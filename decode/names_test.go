package decode

import (
	"strings"
	"testing"
)

func TestAvroName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"order_id", "order_id"},
		{"OrderID", "OrderID"},
		{"_", "_"},
		{"__", "__"},
		{"x", "x"},
		{"Ta`b le", "Ta_x0060_b_x0020_le"},
		{`"quoted"`, "_x0022_quoted_x0022_"},
		{"a b", "a_x0020_b"},
		{"a_x0020_b", "a_x005F_x0020_b"}, // a literal escape-like sequence is escaped itself
		{"a_x005F_x0020_b", "a_x005F_x005F_x005F_x0020_b"},
		{"_x1234", "_x005F_x1234"},
		{"_x12", "_x12"},       // too short to look like an escape
		{"_xabcd_", "_xabcd_"}, // escapes use upper-case hex only
		{"1st", "_x0031_st"},
		{"2024", "_x0032_024"},
		{"__cdcd_op", "_x005F__cdcd_op"},
		{"__cdcd_", "_x005F__cdcd_"},
		{"__cdcd", "__cdcd"},
		{"Größe", "Gr_x00F6__x00DF_e"},
		{"😀", "_x01F600_"},
		{"\xff", "_xDCFF_"}, // not UTF-8: the byte, by its surrogate escape
		{"a\x00b", "a_x0000_b"},
		{"order-id", "order_x002D_id"},
		{"a.b", "a_x002E_b"},
	}
	for _, c := range cases {
		got, err := AvroName(c.in)
		if err != nil || got != c.want {
			t.Errorf("AvroName(%q) = %q, %v; want %q", c.in, got, err, c.want)
			continue
		}
		checkName(t, c.in, got)
	}
	if _, err := AvroName(""); err == nil {
		t.Error(`AvroName(""): no error`)
	}
}

// TestAvroNameCollisions maps names that a naive rule would merge.
func TestAvroNameCollisions(t *testing.T) {
	groups := [][]string{
		{"a b", "a_x0020_b", "a_x005F_x0020_b", "a_b", "a__b", "a-b", "a\u00a0b"},
		{"1a", "_1a", "_x0031_a", "_x0031a"},
		{"__cdcd_op", "_x005F__cdcd_op", "cdcd_op", "_cdcd_op"},
		{"\xff", "\u00ff", "\xed\xb3\xbf", "_xDCFF_", "ÿ"}, // "\xed\xb3\xbf": U+DCFF as (invalid) UTF-8
		{"é", "e\u0301"}, // NFC and NFD stay apart: names are kept byte for byte
	}
	for _, g := range groups {
		seen := map[string]string{}
		for _, in := range g {
			out, err := AvroName(in)
			if err != nil {
				t.Fatal(err)
			}
			if prev, dup := seen[out]; dup && prev != in {
				t.Errorf("%q and %q both map to %q", prev, in, out)
			}
			seen[out] = in
			checkName(t, in, out)
		}
	}
}

// checkName checks the properties AvroName guarantees for in → out.
func checkName(t testing.TB, in, out string) {
	t.Helper()
	if !isAvroName(out) {
		t.Errorf("AvroName(%q) = %q: not a valid Avro name", in, out)
	}
	if strings.HasPrefix(out, metaPrefix) {
		t.Errorf("AvroName(%q) = %q: starts with the metadata prefix", in, out)
	}
	if back := OriginalName(out); back != in {
		t.Errorf("OriginalName(AvroName(%q)) = %q", in, back)
	}
}

// FuzzAvroName checks that AvroName is injective (OriginalName inverts it) and always gives a
// valid Avro name outside the metadata prefix.
func FuzzAvroName(f *testing.F) {
	for _, s := range []string{"order_id", "Ta`b le", "a_x0020_b", "_x005F_", "1st", "__cdcd_op", "\xff\xfe", "😀_x01F600_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := AvroName(s)
		if s == "" {
			if err == nil {
				t.Fatal("no error for the empty name")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		checkName(t, s, out)
	})
}
