package transform

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/config"
)

// Spec is a parsed, validated aggregation. ParseSpec builds it from either form of a config
// entry; the YAML and SQL forms of one aggregation give equal Specs.
type Spec struct {
	// Name identifies the aggregation; its table is "agg_" + Name.
	Name string
	// From is the one source table aggregated.
	From change.TableID
	// GroupBy are source column names, in output order. Empty: one group (per window).
	GroupBy []string
	// Where filters rows; nil lets every row through.
	Where Predicate
	// Window makes the aggregation event-time windowed; nil for none.
	Window *Window
	// Measures are the aggregates, in output order; at least one.
	Measures []Measure
	// InsertOnly declares that the table only receives inserts, so it need not send old rows.
	// Updates and deletes that come with whole old rows are still applied exactly; others are
	// errors.
	InsertOnly bool
	// MaxGroups bounds the groups held in memory; 0 means no bound. Reaching it is a terminal
	// error (see GroupLimitError).
	MaxGroups int
}

// Window is an event-time window: tumbling when Hop == Size, hopping when Hop < Size.
type Window struct {
	// Column holds each row's event time: a date, timestamp or timestamptz column.
	Column string
	// Size is each window's length; a positive multiple of Hop.
	Size time.Duration
	// Hop is the distance between window starts.
	Hop time.Duration
}

// Measure is one aggregate output column.
type Measure struct {
	// Name is the output column: [a-z0-9_]+, not starting with "_".
	Name string
	Func Func
	// Column is the input column; "" for Count.
	Column string
}

// Func is an aggregate function.
type Func uint8

// The aggregate functions.
const (
	Count         Func = iota + 1 // count(), count(*): rows
	CountNonNull                  // count(col): rows where col is not NULL
	Sum                           // sum(col)
	Avg                           // avg(col)
	Min                           // min(col)
	Max                           // max(col)
	CountDistinct                 // count_distinct(col), count(DISTINCT col): distinct non-NULL values
)

// measureFuncs are the aggregate functions by the name both forms write (count(col) counts the
// non-null values; count() is recognised from its empty argument list).
var measureFuncs = map[string]Func{"count": CountNonNull, "count_distinct": CountDistinct, "sum": Sum, "avg": Avg, "min": Min, "max": Max}

var funcNames = [...]string{Count: "count", CountNonNull: "count", Sum: "sum", Avg: "avg",
	Min: "min", Max: "max", CountDistinct: "count_distinct"}

func (f Func) String() string {
	if f >= Count && f <= CountDistinct {
		return funcNames[f]
	}
	return fmt.Sprintf("func(%d)", uint8(f))
}

// String renders the measure as the YAML form writes it: count(), sum(amount).
func (m Measure) String() string {
	if m.Func == Count {
		return "count()"
	}
	return m.Func.String() + "(" + quoteIdent(m.Column) + ")"
}

// MaxWindowsPerRow bounds Size/Hop: each row belongs to that many hopping windows.
const MaxWindowsPerRow = 1000

// Reserved output columns: the sink adds the first five; window_start and window_end are the
// window's bounds.
var reserved = []string{"_group", "_seq", "_state", "_version", "_is_deleted", "window_start", "window_end"}

var measureName = regexp.MustCompile(`^[a-z0-9_]+$`)

// ParseSpec parses one entry of the config's aggregations: the YAML form (name, from,
// group_by, where, window, measures, insert_only, max_groups) or the SQL form (name, sql,
// insert_only, max_groups). field is the entry's path in the config, like "aggregations[0]";
// errors are *config.Error naming the field within it. sourceExists reports whether a source is
// configured; nil accepts any.
func ParseSpec(field string, a config.Aggregation, sourceExists func(string) bool) (*Spec, error) {
	errf := func(sub, format string, args ...any) error {
		f := field
		if sub != "" {
			f += "." + sub
		}
		return &config.Error{Field: f, Message: fmt.Sprintf(format, args...)}
	}
	if !measureName.MatchString(a.Name) {
		return nil, errf("name", "%q must match ^[a-z0-9_]+$", a.Name)
	}
	e := entry{Name: a.Name, From: a.From, SQL: a.SQL}
	if a.Spec.Kind != 0 {
		if err := e.decode(&a.Spec); err != nil {
			if ce, ok := err.(*config.Error); ok {
				if ce.Field == "" {
					ce.Field = field
				} else {
					ce.Field = field + "." + ce.Field
				}
				return nil, ce
			}
			return nil, errf("", "%v", err)
		}
	}
	var s *Spec
	var err error
	if e.SQL != "" {
		for _, k := range []string{"from", "group_by", "where", "window", "measures"} {
			if e.set[k] {
				return nil, errf(k, "set sql or from, group_by, where, window and measures, not both")
			}
		}
		s, err = parseSQL(e.SQL, a.Name)
		if err != nil {
			return nil, &config.Error{Field: field + ".sql", Message: err.Error(), Err: err}
		}
	} else {
		s, err = e.spec(errf)
		if err != nil {
			return nil, err
		}
	}
	s.InsertOnly, s.MaxGroups = e.InsertOnly, e.MaxGroups
	sub := "from"
	if e.SQL != "" {
		sub = "sql"
	}
	if sourceExists != nil && !sourceExists(s.From.Source) {
		return nil, errf(sub, "source %q is not configured", s.From.Source)
	}
	if err := s.validate(); err != nil {
		if e.SQL == "" {
			sub = err.field
		}
		return nil, errf(sub, "%s", err.msg)
	}
	return s, nil
}

// entry is an aggregations entry as written.
type entry struct {
	Name, From, SQL string
	GroupBy         []string
	Where           *string
	Window          *struct{ Column, Size, Hop string }
	Measures        [][2]string // name, expression; in file order
	InsertOnly      bool
	MaxGroups       int
	set             map[string]bool
}

var entryKeys = "name, from, group_by, where, window, measures, insert_only, max_groups or sql"

// decode reads the entry's mapping; errors are *config.Error with the field relative to it.
func (e *entry) decode(n *yaml.Node) error {
	bad := func(f, format string, args ...any) error {
		return &config.Error{Field: f, Message: fmt.Sprintf(format, args...)}
	}
	if n.Kind != yaml.MappingNode {
		return bad("", "must be a mapping")
	}
	e.set = map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, v := n.Content[i].Value, n.Content[i+1]
		e.set[key] = true
		switch key {
		case "name", "from", "sql":
			// Read by config.Aggregation.
		case "group_by":
			switch v.Kind {
			case yaml.ScalarNode:
				e.GroupBy = []string{v.Value}
			case yaml.SequenceNode:
				for j, c := range v.Content {
					if c.Kind != yaml.ScalarNode || c.Value == "" {
						return bad(fmt.Sprintf("group_by[%d]", j), "must be a column name")
					}
					e.GroupBy = append(e.GroupBy, c.Value)
				}
			default:
				return bad(key, "must be a list of column names")
			}
		case "where":
			if v.Kind != yaml.ScalarNode {
				return bad(key, "must be a string")
			}
			e.Where = &v.Value
		case "window":
			if v.Kind != yaml.MappingNode {
				return bad(key, "must be a mapping: {column: created_at, size: 1m[, hop: 30s]}")
			}
			w := &struct{ Column, Size, Hop string }{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				k, c := v.Content[j].Value, v.Content[j+1]
				if c.Kind != yaml.ScalarNode {
					return bad(key+"."+k, "must be a string")
				}
				switch k {
				case "column":
					w.Column = c.Value
				case "size":
					w.Size = c.Value
				case "hop":
					w.Hop = c.Value
				default:
					return bad(key+"."+k, "is not a setting of a window; use column, size or hop")
				}
			}
			e.Window = w
		case "measures":
			if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
				return bad(key, "must be a mapping of names to aggregates, like revenue: sum(amount)")
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				k, c := v.Content[j].Value, v.Content[j+1]
				if c.Kind != yaml.ScalarNode {
					return bad(key+"."+k, "must be an aggregate like sum(amount)")
				}
				e.Measures = append(e.Measures, [2]string{k, c.Value})
			}
		case "insert_only":
			if v.Kind != yaml.ScalarNode || v.Decode(&e.InsertOnly) != nil {
				return bad(key, "must be true or false")
			}
		case "max_groups":
			if v.Kind != yaml.ScalarNode || v.Decode(&e.MaxGroups) != nil || e.MaxGroups < 0 {
				return bad(key, "must be a whole number, 0 (no limit) or more")
			}
		default:
			return bad(key, "is not a setting of an aggregation; use %s", entryKeys)
		}
	}
	return nil
}

// spec builds the Spec of a YAML-form entry.
func (e *entry) spec(errf func(sub, format string, args ...any) error) (*Spec, error) {
	s := &Spec{Name: e.Name, GroupBy: e.GroupBy}
	parts := strings.Split(e.From, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		if e.From == "" {
			return nil, errf("from", "is required (or write the aggregation as sql)")
		}
		return nil, errf("from", "%q must be source.schema.table", e.From)
	}
	s.From = change.TableID{Source: parts[0], Namespace: parts[1], Name: parts[2]}
	if e.Where != nil {
		if strings.TrimSpace(*e.Where) == "" {
			return nil, errf("where", "is empty; leave it out to aggregate every row")
		}
		p, err := ParseWhere(*e.Where)
		if err != nil {
			ce := errf("where", "%v", err).(*config.Error)
			ce.Err = err
			return nil, ce
		}
		s.Where = p
	}
	if w := e.Window; w != nil {
		if w.Column == "" {
			return nil, errf("window.column", "is required: the date or timestamp column that holds each row's event time")
		}
		size, err := ParseSize(w.Size)
		if err != nil {
			return nil, errf("window.size", "%v", err)
		}
		hop := size
		if w.Hop != "" {
			if hop, err = ParseSize(w.Hop); err != nil {
				return nil, errf("window.hop", "%v", err)
			}
		}
		s.Window = &Window{Column: w.Column, Size: size, Hop: hop}
	}
	if len(e.Measures) == 0 {
		return nil, errf("measures", "at least one measure is required, like orders: count()")
	}
	for _, nm := range e.Measures {
		m, err := parseMeasure(nm[0], nm[1])
		if err != nil {
			return nil, errf("measures."+nm[0], "%v", err)
		}
		s.Measures = append(s.Measures, m)
	}
	return s, nil
}

// parseMeasure parses a YAML measure: count(), count(*), count(col), count(DISTINCT col),
// count_distinct(col), sum(col), avg(col), min(col), max(col). Names are case-insensitive;
// col is bare or "double-quoted".
func parseMeasure(name, src string) (Measure, error) {
	toks, err := lex(src)
	if err != nil {
		return Measure{}, err
	}
	unexpected := func(i int, expected string) error {
		return syntaxErr(src, toks[i].pos, "unexpected "+toks[i].describe(), expected)
	}
	m := Measure{Name: name}
	if toks[0].kind != tIdent {
		return m, unexpected(0, "expected count, count_distinct, sum, avg, min or max")
	}
	fn := strings.ToLower(toks[0].raw)
	var ok bool
	if m.Func, ok = measureFuncs[fn]; !ok {
		return m, unexpected(0, "expected count, count_distinct, sum, avg, min or max")
	}
	if toks[1].kind != tLParen {
		return m, unexpected(1, `expected "("`)
	}
	i := 2
	switch {
	case fn == "count" && toks[i].kind == tRParen:
		m.Func = Count
	case fn == "count" && toks[i].kind == tStar:
		m.Func = Count
		i++
	default:
		if fn == "count" && toks[i].keyword("DISTINCT") {
			m.Func = CountDistinct
			i++
		}
		if t := toks[i]; t.kind == tQIdent || t.kind == tIdent && !isKeyword(t.raw) {
			m.Column = t.val
			i++
		} else {
			return m, unexpected(i, "expected a column")
		}
	}
	if toks[i].kind != tRParen {
		return m, unexpected(i, `expected ")"`)
	}
	if toks[i+1].kind != tEOF {
		return m, unexpected(i+1, "expected the end")
	}
	return m, nil
}

// ParseSize parses a window size: a Go duration ("30s", "1m", "1h30m"), a number of days
// ("1d", "7d"), or a number and a unit word ("1 minute", "5 minutes", "2 hours", "1 day",
// "1 week"; second, minute, hour, day, week, in singular or plural, any case). It must be a
// positive whole number of microseconds.
func ParseSize(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	var d time.Duration
	var err error
	if num, unit, ok := strings.Cut(t, " "); ok {
		d, err = unitSize(num, strings.TrimSpace(unit))
	} else if strings.HasSuffix(t, "d") && !strings.HasSuffix(t, "ns") {
		d, err = unitSize(strings.TrimSuffix(t, "d"), "day")
	} else {
		d, err = time.ParseDuration(t)
	}
	switch {
	case err != nil || t == "":
		return 0, fmt.Errorf("%q is not a size; use 30s, 1m, 5m, 1h, 1d or '1 minute'", s)
	case d <= 0:
		return 0, fmt.Errorf("%q must be positive", s)
	case d%time.Microsecond != 0:
		return 0, fmt.Errorf("%q must be a whole number of microseconds", s)
	}
	return d, nil
}

func unitSize(num, unit string) (time.Duration, error) {
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, err
	}
	units := map[string]time.Duration{"microsecond": time.Microsecond, "millisecond": time.Millisecond,
		"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour,
		"week": 7 * 24 * time.Hour}
	u, ok := units[strings.TrimSuffix(strings.ToLower(unit), "s")]
	if !ok || n < 0 || n > int64(1<<62)/int64(u) {
		return 0, fmt.Errorf("bad unit or size")
	}
	return time.Duration(n) * u, nil
}

type specError struct{ field, msg string }

// validate checks what both forms share: names, windows, measures.
func (s *Spec) validate() *specError {
	bad := func(field, format string, args ...any) *specError {
		return &specError{field, fmt.Sprintf(format, args...)}
	}
	names := map[string]string{}
	isReserved := func(n string) bool {
		for _, r := range reserved {
			if n == r && (s.Window != nil || !strings.HasPrefix(r, "window_")) {
				return true
			}
		}
		return false
	}
	for i, g := range s.GroupBy {
		f := fmt.Sprintf("group_by[%d]", i)
		if isReserved(g) {
			return bad(f, "column %q has the name of an output column cdcd adds: %s", g, strings.Join(reserved, ", "))
		}
		if _, dup := names[g]; dup {
			return bad(f, "column %q is grouped by twice", g)
		}
		names[g] = f
	}
	if w := s.Window; w != nil {
		if w.Hop <= 0 || w.Size <= 0 || w.Size%w.Hop != 0 {
			return bad("window.hop", "size %s must be a positive multiple of hop %s", w.Size, w.Hop)
		}
		if w.Size/w.Hop > MaxWindowsPerRow {
			return bad("window.hop", "size %s / hop %s puts each row in %d windows; at most %d", w.Size, w.Hop, w.Size/w.Hop, MaxWindowsPerRow)
		}
		names["window_start"], names["window_end"] = "window", "window"
	}
	if len(s.Measures) == 0 {
		return bad("measures", "at least one measure is required")
	}
	for _, m := range s.Measures {
		f := "measures." + m.Name
		switch {
		case !measureName.MatchString(m.Name) || strings.HasPrefix(m.Name, "_"):
			return bad(f, "measure name %q must match ^[a-z0-9_]+$ and not start with _", m.Name)
		case names[m.Name] != "":
			return bad(f, "measure name %q is also the name of %s", m.Name, describeName(m.Name, names[m.Name]))
		case m.Func < Count || m.Func > CountDistinct:
			return bad(f, "unknown aggregate function")
		case (m.Func == Count) != (m.Column == ""):
			return bad(f, "%s needs an input column", m.Func)
		}
		names[m.Name] = f
	}
	return nil
}

func describeName(name, field string) string {
	switch {
	case field == "window":
		return "a window column"
	case strings.HasPrefix(field, "group_by"):
		return "a group column"
	}
	return "another measure"
}
