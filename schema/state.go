package schema

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
)

// state is the embedded registry's content: the result of replaying its log.
type state struct {
	seq      uint64 // Seq of the last record applied
	global   Level
	subjects map[string]*subjectState
	ids      map[int]*schemaEntry // every id ever assigned; ids are never reused
	byCanon  map[string]int       // normalized schema → its id
	maxID    int
}

// schemaEntry is one schema, shared by every version that has its id.
type schemaEntry struct {
	id   int
	text string // as first registered
	p    *parsed
	refs int // versions (live or soft-deleted) with this id
}

type subjectState struct {
	level    Level           // "" when the subject has no level of its own
	versions []*versionState // ascending; permanently deleted ones are gone
}

type versionState struct {
	version int
	id      int
	deleted bool // soft-deleted
}

func newState(global Level) *state {
	return &state{global: global, subjects: map[string]*subjectState{}, ids: map[int]*schemaEntry{},
		byCanon: map[string]int{}}
}

// replay builds the state from a log in Store.Load order.
func replay(global Level, recs []Record) (*state, error) {
	st := newState(global)
	for i := 0; i < len(recs); i++ {
		// Of records with one Seq, the last appended is the one that was acknowledged.
		if i+1 < len(recs) && recs[i+1].Seq == recs[i].Seq {
			continue
		}
		if err := st.apply(recs[i]); err != nil {
			return nil, fmt.Errorf("schema registry: replay record %d: %w", recs[i].Seq, err)
		}
	}
	return st, nil
}

// apply changes the state by one record. It checks what a corrupt or foreign log could break.
func (st *state) apply(r Record) error {
	if r.Seq <= st.seq {
		return fmt.Errorf("record out of order after record %d", st.seq)
	}
	switch r.Kind {
	case RecordSchema:
		if err := st.addVersion(r); err != nil {
			return err
		}
	case RecordDelete:
		sub := st.subjects[r.Subject]
		if sub == nil {
			return fmt.Errorf("delete of unknown subject %q", r.Subject)
		}
		st.deleteSubject(sub, r.Permanent)
	case RecordConfig:
		if r.Subject == "" {
			if r.Level == "" {
				return fmt.Errorf("global level removed")
			}
			st.global = r.Level
			break
		}
		st.subject(r.Subject).level = r.Level
	default:
		return fmt.Errorf("unknown record kind %q", r.Kind)
	}
	st.seq = r.Seq
	return nil
}

func (st *state) addVersion(r Record) error {
	if r.Subject == "" || r.ID <= 0 || r.Version <= 0 {
		return fmt.Errorf("schema record without subject, id or version")
	}
	sub := st.subject(r.Subject)
	if n := len(sub.versions); n > 0 && sub.versions[n-1].version >= r.Version {
		return fmt.Errorf("subject %q: version %d after version %d", r.Subject, r.Version, sub.versions[n-1].version)
	}
	ent := st.ids[r.ID]
	if ent == nil {
		p, err := parseSchema(r.Schema)
		if err != nil {
			return fmt.Errorf("schema id %d: %w", r.ID, err)
		}
		ent = &schemaEntry{id: r.ID, text: r.Schema, p: p}
		st.ids[r.ID] = ent
		if _, ok := st.byCanon[p.canon]; !ok {
			st.byCanon[p.canon] = r.ID
		}
		st.maxID = max(st.maxID, r.ID)
	}
	ent.refs++
	sub.versions = append(sub.versions, &versionState{version: r.Version, id: r.ID})
	return nil
}

func (st *state) deleteSubject(sub *subjectState, permanent bool) {
	if !permanent {
		for _, v := range sub.versions {
			v.deleted = true
		}
		return
	}
	kept := sub.versions[:0]
	for _, v := range sub.versions {
		if v.deleted {
			st.ids[v.id].refs--
			continue
		}
		kept = append(kept, v)
	}
	sub.versions = kept
}

// subject returns the subject's state, creating it.
func (st *state) subject(name string) *subjectState {
	sub := st.subjects[name]
	if sub == nil {
		sub = &subjectState{}
		st.subjects[name] = sub
	}
	return sub
}

// level is the level in force for subject.
func (st *state) level(subject string) Level {
	if sub := st.subjects[subject]; sub != nil && sub.level != "" {
		return sub.level
	}
	return st.global
}

// live returns the subject's versions that are not deleted, ascending.
func (sub *subjectState) live() []*versionState {
	if sub == nil {
		return nil
	}
	var out []*versionState
	for _, v := range sub.versions {
		if !v.deleted {
			out = append(out, v)
		}
	}
	return out
}

// visible returns the versions a reader sees: live ones, or with deleted all that remain.
func (sub *subjectState) visible(deleted bool) []*versionState {
	if deleted {
		if sub == nil {
			return nil
		}
		return sub.versions
	}
	return sub.live()
}

// nextVersion is the version a new schema gets: versions are not reused until permanently deleted.
func (sub *subjectState) nextVersion() int {
	if n := len(sub.versions); n > 0 {
		return sub.versions[n-1].version + 1
	}
	return 1
}

// versioned returns the subject's live versions with their schemas, for a compatibility check.
func (st *state) versioned(sub *subjectState) []versioned {
	live := sub.live()
	out := make([]versioned, len(live))
	for i, v := range live {
		out[i] = versioned{version: v.version, schema: st.ids[v.id].p.avro}
	}
	return out
}

// subjectNames lists subjects with live versions, or with deleted any versions, sorted.
func (st *state) subjectNames(deleted bool) []string {
	out := []string{}
	for name, sub := range st.subjects {
		if len(sub.visible(deleted)) > 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// find returns the version of subject whose schema is p, among the visible ones.
func (st *state) find(sub *subjectState, p *parsed, deleted bool) *versionState {
	vs := sub.visible(deleted)
	if i := slices.IndexFunc(vs, func(v *versionState) bool { return st.ids[v.id].p.canon == p.canon }); i >= 0 {
		return vs[i]
	}
	return nil
}

func errSubjectNotFound(subject string) error {
	return &APIError{Status: http.StatusNotFound, Code: CodeSubjectNotFound,
		Message: fmt.Sprintf("Subject '%s' not found.", subject)}
}

func errVersionNotFound(subject string, version int) error {
	return &APIError{Status: http.StatusNotFound, Code: CodeVersionNotFound,
		Message: fmt.Sprintf("Version %d not found in subject '%s'.", version, subject)}
}

func errSchemaNotFound(what string) error {
	return &APIError{Status: http.StatusNotFound, Code: CodeSchemaNotFound,
		Message: fmt.Sprintf("Schema %s not found.", what)}
}
