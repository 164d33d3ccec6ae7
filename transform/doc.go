// Package transform maintains incremental aggregations: GROUP BY with count, sum, avg, min, max
// and count_distinct, optionally over event-time windows, kept exact under inserts, updates,
// deletes, truncates and replays of the change stream.
//
// transform owns the aggregate state and its algebra. It is pure logic: no I/O, no goroutines.
// It must never read the ClickHouse row tables to retract a change (they may already hold a later
// value), and never count an event twice.
//
// # Declaring an aggregation
//
// An entry of the config's aggregations list, in YAML:
//
//	aggregations:
//	  - name: revenue_by_account          # table agg_revenue_by_account
//	    from: shop.public.orders          # source.schema.table
//	    group_by: [account_id]            # optional; none means one group (per window)
//	    where: "status = 'paid'"          # optional; the where language below
//	    window: {column: created_at, size: 1m}   # optional; add hop: 30s for hopping windows
//	    measures:                         # output columns, in this order
//	      orders: count()                 # also count(*)
//	      paying: count(customer_id)      # rows where customer_id is not NULL
//	      revenue: sum(amount)
//	      avg_order: avg(amount)
//	      biggest: max(amount)
//	      smallest: min(amount)
//	      buyers: count_distinct(customer_id)   # also count(DISTINCT customer_id)
//	    insert_only: false                # see "Old rows" below
//	    max_groups: 0                     # 0: no limit; see "Memory"
//
// or in SQL, with the same meaning (insert_only and max_groups stay YAML keys beside sql):
//
//	aggregations:
//	  - name: revenue_by_account
//	    sql: |
//	      SELECT account_id, window_start, window_end,
//	             count(*) AS orders, sum(amount) AS revenue, avg(amount) AS avg_order,
//	             max(amount) AS biggest, min(amount) AS smallest,
//	             count(DISTINCT customer_id) AS buyers
//	      FROM shop.public.orders
//	      WHERE status = 'paid'
//	      GROUP BY account_id, tumble(created_at, INTERVAL '1 minute')
//
// The SQL is parsed by the TiDB parser (MySQL dialect) with ANSI_QUOTES and NO_BACKSLASH_ESCAPES,
// so 'strings' are standard (two single quotes stand for one; \ is a character) and "double" or `back` quotes
// delimit identifiers. Two conveniences are applied first, never inside strings, quoted names or
// comments: a three-part table name source.schema.table after FROM (any part may be quoted)
// becomes one identifier the parser accepts, and INTERVAL '1 minute', INTERVAL '5' MINUTE or
// INTERVAL 5 MINUTE inside tumble() and hop() becomes the size '1 minute'.
//
// Accepted SQL: one SELECT of group columns, the pseudo-columns window_start and window_end
// (optional: they are always in the output), and aggregates count(*), count(1), count(col),
// count(DISTINCT col) (or count_distinct(col)), sum(col), avg(col), min(col), max(col), each
// with AS name; FROM one table, optionally with an alias to qualify columns with; an optional
// WHERE translated to the where language (BETWEEN is accepted and becomes >= AND <=); GROUP BY
// the group columns (the same set as the SELECT list's) plus at most one tumble(col, size) or
// hop(col, size, hop) — size first, then the distance between window starts. Rejected, with the
// construct and its position named: joins, subqueries, functions, HAVING, ORDER BY, LIMIT,
// DISTINCT, UNION, WITH, window functions, aliases of group columns, floating-point literals.
// Output columns come in this order whatever the SELECT order: group columns in GROUP BY order,
// window_start, window_end, then the measures in SELECT order.
//
// Window sizes are Go durations ("30s", "1m", "1h30m"), days ("1d") or a number and a unit
// word ("1 minute", "5 minutes", "2 hours", "1 week"). Size must be a positive multiple of hop,
// and a row belongs to at most 1000 windows.
//
// Names: measure names match [a-z0-9_]+, do not start with _, and differ from the group
// columns and window_start/window_end. Group columns may not be called _group, _state,
// _version or _is_deleted. Column references match the source's names exactly, or
// case-insensitively when that is unambiguous. Errors name the config field and, for where
// and sql, the offending token and its 1-based position:
//
//	config: aggregations[0].where: unexpected "AND" at 14: expected a value
//
// # The where language
//
//	predicate  = or
//	or         = and { OR and }
//	and        = not { AND not }
//	not        = NOT not | "(" predicate ")" | condition
//	condition  = column ( cmp literal
//	                    | [NOT] IN "(" literal { "," literal } ")"
//	                    | IS [NOT] NULL
//	                    | )                           (a column alone: see below)
//	cmp        = "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//	literal    = 'string' | [-] number | TRUE | FALSE | NULL
//	number     = digits [ "." [digits] ] | "." digits        (exact: no floating point)
//	column     = identifier | "double-quoted identifier"      ("" is a quote inside)
//
// A column alone is a condition when it is boolean (true when TRUE) or numeric (true when not 0,
// as MySQL reads its BOOL, a TINYINT(1)); WHERE paid is paid = TRUE. Other types are a Bind error.
// Keywords are case-insensitive; a column named like one must be quoted. In strings, two single
// quotes stand for one. The logic is SQL's three-valued: a comparison with NULL (either side) is unknown,
// NOT unknown is unknown, and a row passes only when the predicate is true. x NOT IN (1, NULL)
// is therefore never true. Comparisons are by the column's type: integers and decimals compare
// exactly with integer and decimal literals (x < 5.5 on an integer column is x <= 5); float
// columns with the literal rounded to the column's precision; strings, JSON, enums and bytes
// with string literals, byte-wise; booleans with TRUE and FALSE (FALSE < TRUE); dates and
// timestamps with 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS[.ffffff][Z|+hh:mm]' (no zone: UTC;
// timestamp without time zone columns hold their wall clock as UTC); time with
// 'HH:MM:SS[.ffffff]'; UUIDs with their text. Any other pairing is a Bind error naming the
// column and the literal. Array columns only take IS [NOT] NULL.
//
// # Measures and output
//
// The aggregate table (Bind returns its layout) has the group columns with their source types,
// Nullable; window_start and window_end (timestamptz, UTC) when windowed; one column per
// measure; and the sink's _group String (the group key, its ORDER BY), _state String (the
// group's state, for restarts), _version UInt64 and _is_deleted UInt8, in a
// ReplacingMergeTree(_version). Its _current view shows the latest row of each group unless
// deleted. The measures' types:
//
//	count(), count(col), count_distinct(col)   UInt64, never NULL
//	sum over integers                          Decimal(38, 0)
//	sum over decimal(p, s), p <= 38            Decimal(38, s)
//	sum over other decimals                    decimal (unconstrained: ClickHouse String), exact,
//	                                           without trailing zeros
//	sum over floats                            Float64: the exact sum, rounded once
//	avg over integers                          Decimal(38, 6)
//	avg over decimal(p, s), p <= 38            Decimal(38, min(s+6, 38-(p-s))), so the integer
//	                                           digits still fit
//	avg over other decimals                    decimal, rounded to s+6 places (16 when
//	                                           unconstrained), without trailing zeros
//	avg over floats                            Float64: the exact sum / count, rounded once
//	min(col), max(col)                         the column's type
//
// Averages of integers and decimals are the exact sum divided by the count, rounded half to
// even. Sums are exact whatever the number of additions and retractions (a float sum holds the
// exact binary value, so adding and retracting never drifts; NaN and infinities are counted
// apart: NaN, or both infinities, give NaN). sum, avg, min and max are NULL when every value of
// the group is NULL (NULLs are ignored); counts are never NULL. min and max take integers, floats
// (NaN sorts above every number), decimals, strings and enums (byte-wise), bytes, booleans,
// dates, timestamps, time and UUIDs; sum and avg take integers, decimals and floats;
// count_distinct takes anything but arrays (decimals 1.5 and 1.50 are one value). Measures of
// a group with rows cannot exceed their types except a sum of more than 38 digits, which cdcd
// still computes exactly and the sink cannot store.
//
// A new schema generation may widen an output column (a wider integer, float32 to float64, a
// decimal with at least the integer digits and the scale, string to enum); any other change of
// an output type, or of the kind of values held (int to text under a sum), is a Bind error.
//
// # Windows
//
// Windows are event time: the window column's value, a date (its midnight UTC) or a timestamp
// (an instant; timestamp without time zone is taken as UTC). Window starts are multiples of hop
// from the Unix epoch; a row belongs to the size/hop windows [start, start+size) containing its
// time. A row whose window column is NULL belongs to no window and counts nowhere. An event
// counts in the window of its time whenever it arrives: a late insert, or an update that moves
// the time, changes the windows concerned, however old. Windows are never closed or evicted.
//
// # Semantics and exactly-once
//
// Inserts add the row; deletes retract the old row; updates retract the old row and add the new
// one, also when the update moves the row to another group or window or in or out of the
// filter. TRUNCATE empties every group. A group whose count reaches 0 is flushed as deleted (it
// leaves the _current view) and dropped from memory; it comes back as a new group when a row
// returns.
//
// Every group remembers the position (Version, Seq) of the last event applied to it, and its
// row carries that Version. An event at or below a group's position is a no-op for that group
// (an update touches its old and new groups, each checked on its own); so is every event at or
// below the horizon (SetHorizon) or not after the last event this process applied. Replaying
// any suffix of the stream therefore changes nothing that already counts it, even after a crash
// between the aggregate insert and the offset insert. Restore loads the state back from the
// aggregate table itself: live rows, plus deleted rows above the offset so that replays of the
// events before them stay no-ops. Rows must be flushed at transaction boundaries: a restored
// row counts as having applied every event of its Version.
//
// A new aggregation on a running pipeline is backfilled: the pipeline reads the source's current
// rows at a snapshot position v, applies them as inserts with strictly increasing positions at or
// below v (Version v, Seq 0, 1, ...), calls SetHorizon(v), then streams from after v.
//
// # Old rows
//
// Retracting an update or delete needs the row's old values, which transform takes only from
// the event's before image. A table that does not send whole old rows (PostgreSQL without
// REPLICA IDENTITY FULL, MySQL without binlog_row_image=FULL) fails Bind with the fix, unless the
// aggregation is declared insert_only: true. An insert-only aggregation still applies updates
// and deletes that come with a whole old row; one without it is an error naming the table and
// the event's version. A PostgreSQL TOAST value left out of the new row is taken from the old row.
//
// # Memory
//
// Each group costs about 180 bytes for count and sums (constant: sums are int64 fixed-point
// until they overflow into big integers), plus, for min, max and count_distinct, about 60 bytes
// per distinct value of the input column in the group (one multiset per column serves all
// three). Stats reports the groups held, the bytes and the bytes per group; the pipeline logs
// them. Every flushed row carries the group's whole state, so a group with many distinct values
// under min/max/count_distinct writes that many values each batch it changes in.
//
// Groups are never evicted: dropping one would make the aggregate wrong, and reloading it on
// demand would put a ClickHouse read on the hot path. When an aggregation would hold more than
// max_groups groups, Apply returns a *GroupLimitError, which is terminal: the pipeline stops
// with a message naming the aggregation, and the operator raises max_groups (with
// memory_limit) or makes the groups coarser (fewer group_by columns, larger windows). Set
// max_groups to what the memory allows: groups × bytes per group. Windows keep every window they
// ever saw, so a windowed aggregation grows with time: size max_groups for the retention wanted.
package transform
