package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file holds what the PostgreSQL and the MariaDB crash tests share: the seeds, the workloads'
// key bookkeeping, the expected state of ClickHouse for the transactions a stored offset covers,
// and the loop that SIGKILLs and restarts the daemon.

// crashRNGs returns the random sources of a crash test's workload and of its kill delays, both
// derived from one seed: CDCD_CRASH_SEED when set (to rerun with a reported seed), else the clock.
// It logs the seed.
func crashRNGs(t *testing.T) (workload, kills *rand.Rand) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CDCD_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (rerun with CDCD_CRASH_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rand.New(rand.NewPCG(seed+1, seed+2))
}

// crashWorkload is the state both crash workloads keep besides their connection and ledger: the
// seeded random source, the keys known to be live, and the figures the tests report. Only the
// workload's goroutine uses it while the workload runs.
type crashWorkload struct {
	rng      *rand.Rand
	live     map[string]map[string]bool // table -> keys live as of the last commit
	nextID   map[string]int64           // table -> the last id inserted
	ops      int                        // statements issued
	rolled   int                        // transactions rolled back
	moves    int                        // key moves issued
	truncate int                        // truncates issued
}

// newCrashWorkload returns a workload's state for the crash tables as their DDL loads them: orders
// 1 to 30000 and accounts 1 to 2000 live, and lineTable (the line items) empty.
func newCrashWorkload(rng *rand.Rand, lineTable string) crashWorkload {
	w := crashWorkload{rng: rng,
		live:   map[string]map[string]bool{"orders": {}, "accounts": {}, lineTable: {}},
		nextID: map[string]int64{"orders": 30000, "accounts": 2000}}
	for i := 1; i <= 30000; i++ {
		w.live["orders"][strconv.Itoa(i)] = true
	}
	for i := 1; i <= 2000; i++ {
		w.live["accounts"][strconv.Itoa(i)] = true
	}
	return w
}

// randomKey returns one of a table's live keys, false when it has none.
func (w *crashWorkload) randomKey(table string) (string, bool) {
	keys := w.live[table]
	if len(keys) == 0 {
		return "", false
	}
	// Sampling a map: iterate from a random skip (fine at these sizes).
	n := w.rng.IntN(min(len(keys), 50))
	for k := range keys {
		if n == 0 {
			return k, true
		}
		n--
	}
	return "", false
}

// commitKeys makes the keys of a committed transaction live or not live.
func (w *crashWorkload) commitKeys(pending pendingKeys) {
	for table, keys := range pending {
		for k, d := range keys {
			switch {
			case d > 0:
				w.live[table][k] = true
			case d < 0:
				delete(w.live[table], k)
			}
		}
	}
}

// pendingKeys counts, per table and key, the inserts (+1) and deletes (-1) of the open
// transaction: the keys it reserves, which become live or dead only when it commits.
type pendingKeys map[string]map[string]int

// mark counts an insert (+1) or a delete (-1) of a key by the open transaction.
func (p pendingKeys) mark(table, key string, delta int) {
	if p[table] == nil {
		p[table] = map[string]int{}
	}
	p[table][key] += delta
}

// crashTxn is what a crash workload knows of one committed transaction, whatever the source.
// Each workload's record embeds it, with what orders the transaction against the source's offsets.
type crashTxn struct {
	before uint64 // a version at or below each of the transaction's: taken just before COMMIT
	// touched are the changes: table, key, and "d" when the change deleted the key, "move" when it
	// moved the key from old to new (key "old>new"); a key "prefix*" deleted each key with the
	// prefix ("d").
	touched   [][3]string
	truncated []string // tables truncated (before the transaction's other changes)
}

// txn returns the record itself; a workload's record has the method through embedding.
func (tx crashTxn) txn() crashTxn { return tx }

// ledgerRecord is a workload's record of a committed transaction (txnRecord, myTxn): the crashTxn
// it embeds, plus what orders it against the stored offset, which only the workload knows.
type ledgerRecord interface{ txn() crashTxn }

// keyState is what ClickHouse must hold for a key that a covered transaction touched.
type keyState struct {
	min       uint64 // a row (live or deleted) at this version or later
	mustExist bool   // false: a key deleted before the snapshot's position may be absent (the snapshot never saw it)
	live      bool   // the key's last covered change left it live
}

// coveredState is what ClickHouse must hold, with the daemon dead, for the transactions that a
// stored offset covers.
type coveredState struct {
	covered     int                             // committed transactions the offset covers
	keys        map[string]map[string]*keyState // table -> key -> what ClickHouse must hold
	truncatedAt map[string]uint64               // table -> the version of its last covered truncate: no older row may remain
	// laterTruncate is table -> the version of its first truncate the offset does not cover.
	// ClickHouse may legitimately be ahead of the offset: such a truncate may already be applied,
	// removing rows the covered transactions wrote, so keys older than it are not checked.
	laterTruncate map[string]uint64
}

// expectCovered computes what ClickHouse must hold for the transactions of a ledger (in commit
// order) that a stored offset covers. covered says whether the offset covers a transaction; the
// covered transactions are those before the first it does not. afterSnapshot says whether a
// transaction committed after the position of the snapshot that completed: a key it deleted must
// have a deleted row, whereas a key deleted before that position may have none.
func expectCovered[T ledgerRecord](txns []T, covered, afterSnapshot func(T) bool) coveredState {
	s := coveredState{keys: map[string]map[string]*keyState{}, truncatedAt: map[string]uint64{},
		laterTruncate: map[string]uint64{}}
	for _, rec := range txns {
		tx := rec.txn()
		for _, tb := range tx.truncated {
			if _, ok := s.laterTruncate[tb]; !ok && !covered(rec) {
				s.laterTruncate[tb] = tx.before
			}
		}
	}
	for _, rec := range txns {
		if !covered(rec) {
			break
		}
		tx := rec.txn()
		s.covered++
		for _, tb := range tx.truncated {
			s.truncatedAt[tb] = tx.before
			s.keys[tb] = map[string]*keyState{}
		}
		for _, tk := range tx.touched {
			keys := s.keys[tk[0]]
			if keys == nil {
				keys = map[string]*keyState{}
				s.keys[tk[0]] = keys
			}
			for i, k := range strings.Split(tk[1], ">") {
				if prefix, ok := strings.CutSuffix(k, "*"); ok {
					// Deleted every line of an order: its live lines get a deleted row.
					for key, st := range keys {
						if strings.HasPrefix(key, prefix) && st.live {
							*st = keyState{min: tx.before, mustExist: afterSnapshot(rec), live: false}
						}
					}
					continue
				}
				deleted := tk[2] == "d" || (tk[2] == "move" && i == 0)
				keys[k] = &keyState{min: tx.before, mustExist: !deleted || afterSnapshot(rec), live: !deleted}
			}
		}
	}
	return s
}

// missing returns, sorted, the keys of a table whose rows in ClickHouse do not show what the
// covered transactions need; have is the table's newest version of each key (chKeyVersions).
func (s coveredState) missing(table string, have map[string]uint64) []string {
	var out []string
	for k, st := range s.keys[table] {
		if lt, ok := s.laterTruncate[table]; ok && st.min < lt {
			continue
		}
		v, ok := have[k]
		if !ok && !st.mustExist {
			continue
		}
		if v < st.min {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// chKeyVersions returns the newest _version of each key of a ClickHouse table, the key's columns
// joined by "," as the workloads write keys.
func (e *env) chKeyVersions(t *testing.T, chTable string, key []string) map[string]uint64 {
	t.Helper()
	var keyExpr []string
	for _, k := range key {
		keyExpr = append(keyExpr, "toString("+chIdent(k)+")")
	}
	joined := keyExpr[0]
	if len(keyExpr) > 1 {
		joined = "concat(" + strings.Join(keyExpr, ", ',', ") + ")"
	}
	have := map[string]uint64{}
	for _, r := range e.chRows(t, "SELECT "+joined+", toString(max(_version)) FROM "+e.table(chTable)+" GROUP BY "+strings.Join(keyExpr, ", ")) {
		have[r[0]] = parseUint(r[1])
	}
	return have
}

// offsetSeq returns the newest offset row's seq of a source, 0 when none (or no table yet).
func (e *env) offsetSeq(source string) uint64 {
	if n, err := e.chCount("SELECT count() FROM system.tables WHERE database = '" + e.chDB + "' AND name = '_cdcd_offsets'"); err != nil || n == 0 {
		return 0
	}
	n, _ := e.chCount("SELECT max(seq) FROM " + e.table("_cdcd_offsets") + " WHERE source = '" + source + "'")
	return n
}

// waitNewOffset waits (up to timeout, without failing) for a source's offset to move past seq.
func (e *env) waitNewOffset(t testing.TB, source string, seq uint64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && e.offsetSeq(source) <= seq {
		time.Sleep(20 * time.Millisecond)
	}
}

// lastSnapshotRead returns a field's value (consistent_point, gtid) in the last `msg="snapshot
// read"` line of the daemons' outputs: the position of the last snapshot that completed, "" when
// none has.
func lastSnapshotRead(logs []string, field string) string {
	v := ""
	for _, out := range logs {
		for _, line := range strings.Split(out, "\n") {
			if !strings.Contains(line, `msg="snapshot read"`) {
				continue
			}
			if i := strings.Index(line, " "+field+"="); i >= 0 {
				v = strings.Fields(line[i+len(field)+2:])[0]
			}
		}
	}
	return v
}

// killPlan says how a crash test is to kill its daemon.
type killPlan struct {
	cfg      string     // the daemon's config, for the restarts
	source   string     // the config's source, whose stored offset shows the daemon's progress
	minKills int        // kills to make at least, even once the workload has finished
	rng      *rand.Rand // draws the delays between kills
	// firstKill waits for the moment of the first kill, which is meant to land in the snapshot.
	firstKill func(d *daemon)
	// check runs after each kill, with the daemon dead, given the output of every daemon killed so
	// far; it returns the covered transactions it checked and the violations it found.
	check func(logs []string) (covered, violations int)
}

// killOutcome is what a crash test's kill loop did and found.
type killOutcome struct {
	kills      int      // SIGKILLs
	checked    int      // covered transactions checked at the kills, summed
	violations int      // violations found at the kills, summed
	logs       []string // each killed daemon's output, in order
	d          *daemon  // the daemon started after the last kill, still running
}

// killRepeatedly SIGKILLs the running daemon d and restarts it until the workload has reported on
// done and at least plan.minKills kills were made. After the first kill, while the workload runs, each
// kill waits for the restarted daemon to store a new offset (up to 30 s), so that on a slow machine
// the kills do not all land before anything is stored (the check would then cover nothing); then
// for a random 200 ms to 1.5 s. It fails the test if the workload fails or the daemon exits by
// itself.
func (e *env) killRepeatedly(t *testing.T, d *daemon, done <-chan error, plan killPlan) killOutcome {
	t.Helper()
	var o killOutcome
	finished := false
	var prevSeq uint64
	for !finished || o.kills < plan.minKills {
		if o.kills == 0 {
			plan.firstKill(d)
		} else {
			if !finished {
				e.waitNewOffset(t, plan.source, prevSeq, 30*time.Second)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("workload: %v", err)
				}
				finished = true
			case <-time.After(time.Duration(200+plan.rng.IntN(1300)) * time.Millisecond):
			}
		}
		if d.exited() {
			t.Fatalf("cdcd exited by itself:\n%s", tail(d.out.String(), 40))
		}
		d.kill()
		o.kills++
		o.logs = append(o.logs, d.out.String())
		c, v := plan.check(o.logs)
		o.checked += c
		o.violations += v
		prevSeq = e.offsetSeq(plan.source)
		d = startDaemon(t, plan.cfg)
	}
	o.d = d
	return o
}

// report logs a test's measured figures (rows compared, kills, mismatches) and, when
// CDCD_TEST_REPORT names a file, appends them there too: make test prints that file after a
// passing run, where go test shows no logs.
func report(t testing.TB, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	path := os.Getenv("CDCD_TEST_REPORT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Errorf("test report %s: %v", path, err)
		return
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s: %s\n", t.Name(), line); err != nil {
		t.Errorf("test report %s: %v", path, err)
	}
}
