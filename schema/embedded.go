package schema

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
)

// Embedded is cdcd's own schema registry. The pipeline calls it in-process (Register, SchemaByID);
// Handler serves it to any Confluent client. Every change is appended to its Store before it takes
// effect or is answered, so an id is never handed out that was not persisted. Safe for concurrent
// use; changes are serialized.
type Embedded struct {
	store        Store
	defaultLevel Level

	writeMu sync.Mutex  // held for a whole change: check, append, apply
	stale   atomic.Bool // an append failed: reload before the next change (set with writeMu held)

	mu sync.RWMutex // guards st against readers while a change is applied or a reload swaps it
	st *state
}

var _ Registry = (*Embedded)(nil)

// NewEmbedded loads store's log and returns the registry it describes. defaultLevel (NONE,
// BACKWARD, ...; "" for DefaultLevel) is the global compatibility level until a PUT /config
// changes it; a level set through the API is kept in the log and wins over defaultLevel.
func NewEmbedded(ctx context.Context, store Store, defaultLevel string) (*Embedded, error) {
	level := DefaultLevel
	if defaultLevel != "" {
		var err error
		if level, err = ParseLevel(defaultLevel); err != nil {
			return nil, fmt.Errorf("schema registry: %w", err)
		}
	}
	if store == nil {
		return nil, errors.New("schema registry: no store")
	}
	e := &Embedded{store: store, defaultLevel: level}
	e.stale.Store(true)
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	if err := e.refresh(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// Register implements Registry. Equal schemas (same normalized JSON, see parsed.canon) share one
// id across subjects, as in Confluent's registry.
func (e *Embedded) Register(ctx context.Context, subject, schema string) (id, version int, err error) {
	if subject == "" {
		return 0, 0, errors.New("schema registry: register: empty subject")
	}
	if id, version, ok := e.registered(subject, schema); ok {
		return id, version, nil
	}
	p, err := parseSchema(schema)
	if err != nil {
		return 0, 0, fmt.Errorf("schema registry: register subject %q: %w", subject, err)
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	if err := e.refresh(ctx); err != nil {
		return 0, 0, err
	}
	st := e.st
	sub := st.subjects[subject]
	if v := st.find(sub, p, false); v != nil {
		return v.id, v.version, nil
	}
	rec := Record{Kind: RecordSchema, Subject: subject, Version: 1, Schema: schema}
	if sub != nil {
		rec.Version = sub.nextVersion()
	}
	level := st.level(subject)
	if failed, reason := checkLevel(level, p.avro, st.versioned(sub)); failed != 0 {
		return 0, 0, &IncompatibleError{Subject: subject, Version: failed, Next: rec.Version, Level: level, NewSchema: schema, Reason: reason}
	}
	if known, ok := st.byCanon[p.canon]; ok {
		rec.ID, rec.Schema = known, st.ids[known].text
	} else {
		rec.ID = st.maxID + 1
	}
	if err := e.commit(ctx, rec); err != nil {
		return 0, 0, err
	}
	return rec.ID, rec.Version, nil
}

// registered is Register's fast path: schema is, byte for byte, a live version of subject. Not
// after a failed append, whose change may have been stored.
func (e *Embedded) registered(subject, schema string) (id, version int, ok bool) {
	if e.stale.Load() {
		return 0, 0, false
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, v := range e.st.subjects[subject].live() {
		if e.st.ids[v.id].text == schema {
			return v.id, v.version, true
		}
	}
	return 0, 0, false
}

// SchemaByID implements Registry. Schemas of soft-deleted versions stay readable; once every
// version with the id is permanently deleted the id is not found (40403).
func (e *Embedded) SchemaByID(ctx context.Context, id int) (string, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if ent := e.st.ids[id]; ent != nil && ent.refs > 0 {
		return ent.text, nil
	}
	return "", errSchemaNotFound(fmt.Sprint(id))
}

// refresh reloads the state from the store after a failed append (the record may have been
// stored). Called with writeMu held.
func (e *Embedded) refresh(ctx context.Context) error {
	if !e.stale.Load() {
		return nil
	}
	recs, err := e.store.Load(ctx)
	if err != nil {
		return &unavailableError{op: "load the registry's log", err: err}
	}
	st, err := replay(e.defaultLevel, recs)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.st = st
	e.mu.Unlock()
	e.stale.Store(false)
	return nil
}

// commit persists rec as the next record and then applies it. Called with writeMu held.
func (e *Embedded) commit(ctx context.Context, rec Record) error {
	rec.Seq = e.st.seq + 1
	if err := e.store.Append(ctx, rec); err != nil {
		e.stale.Store(true)
		return &unavailableError{op: fmt.Sprintf("persist %s change of subject %q", rec.Kind, rec.Subject), err: err}
	}
	e.mu.Lock()
	err := e.st.apply(rec)
	e.mu.Unlock()
	if err != nil {
		e.stale.Store(true) // cannot happen: the change was checked against this state
		return fmt.Errorf("schema registry: apply record %d: %w", rec.Seq, err)
	}
	return nil
}

// setLevel sets the global level (subject "") or a subject's.
func (e *Embedded) setLevel(ctx context.Context, subject, level string) (Level, error) {
	l, err := ParseLevel(level)
	if err != nil {
		return "", &APIError{Status: http.StatusUnprocessableEntity, Code: CodeInvalidCompatibility,
			Message: "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"}
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	if err := e.refresh(ctx); err != nil {
		return "", err
	}
	if (subject == "" && e.st.global == l) || (subject != "" && e.st.subjects[subject] != nil && e.st.subjects[subject].level == l) {
		return l, nil
	}
	return l, e.commit(ctx, Record{Kind: RecordConfig, Subject: subject, Level: l})
}

// deleteLevel removes a subject's own level and returns it.
func (e *Embedded) deleteLevel(ctx context.Context, subject string) (Level, error) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	if err := e.refresh(ctx); err != nil {
		return "", err
	}
	sub := e.st.subjects[subject]
	if sub == nil || sub.level == "" {
		return "", errLevelNotSet(subject)
	}
	old := sub.level
	return old, e.commit(ctx, Record{Kind: RecordConfig, Subject: subject})
}

// deleteSubject soft-deletes a subject's live versions or, with permanent, removes its
// soft-deleted ones, as Confluent does: a permanent delete needs a soft delete first.
func (e *Embedded) deleteSubject(ctx context.Context, subject string, permanent bool) ([]int, error) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	if err := e.refresh(ctx); err != nil {
		return nil, err
	}
	sub := e.st.subjects[subject]
	if sub == nil || len(sub.versions) == 0 {
		return nil, errSubjectNotFound(subject)
	}
	live := sub.live()
	var gone []*versionState
	switch {
	case permanent && len(live) > 0:
		return nil, &APIError{Status: http.StatusNotFound, Code: CodeSubjectNotSoftDeleted,
			Message: fmt.Sprintf("Subject '%s' was not deleted first before being permanently deleted", subject)}
	case permanent:
		gone = sub.versions
	case len(live) == 0:
		return nil, &APIError{Status: http.StatusNotFound, Code: CodeSubjectSoftDeleted,
			Message: fmt.Sprintf("Subject '%s' was soft deleted.Set permanent=true to delete permanently", subject)}
	default:
		gone = live
	}
	versions := make([]int, len(gone))
	for i, v := range gone {
		versions[i] = v.version
	}
	return versions, e.commit(ctx, Record{Kind: RecordDelete, Subject: subject, Permanent: permanent})
}

func errLevelNotSet(subject string) error {
	return &APIError{Status: http.StatusNotFound, Code: CodeSubjectLevelNotSet,
		Message: fmt.Sprintf("Subject '%s' does not have subject-level compatibility configured", subject)}
}
