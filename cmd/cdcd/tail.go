package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/decode"
	"github.com/cdcd-dev/cdcd/schema"
)

const tailUsage = `cdcd tail --config FILE --source NAME [--table SCHEMA.TABLE] [--limit N]

Prints the source's live changes, from now on, one JSON object per line, like a console consumer:
each change is encoded as an Avro record in the Confluent wire format under the schema registered
for its table, then decoded back through the registry by its schema id. It reads its own
temporary stream and never moves the daemon's position. The registry is registry.url, or the
running daemon's embedded registry at registry.listen.`

func cmdTail(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tail", tailUsage, stderr)
	path := fs.String("config", "", "the configuration `file`")
	name := fs.String("source", "", "the source `name`")
	table := fs.String("table", "", "only this `table` (schema.table)")
	limit := fs.Int("limit", 0, "stop after `n` records (0: until interrupted)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" {
		fs.Usage()
		return badInput("--source is required")
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	s, k, err := sourceByName(cfg, *name)
	if err != nil {
		return err
	}
	if k.tail == nil {
		return badInput("source %q: tail is not supported for %s sources", s.Name, s.Kind())
	}
	log := newLogger(cfg, stderr)
	reg, err := tailRegistry(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &tailPrinter{w: stdout, reg: reg, subject: subjectOf(cfg), table: *table, limit: *limit, done: cancel,
		schemas: map[*change.Table]*tailSchema{}, renderers: map[int]*decode.Renderer{}}
	fmt.Fprintf(stderr, "cdcd tail: streaming %s from now; Ctrl-C stops\n", s.Name)
	err = k.tail(s, log).Run(ctx, capture.Start{}, p)
	if ctx.Err() != nil {
		return p.err
	}
	return err
}

// tailRegistry is the registry tail decodes through: the external one, or the daemon's embedded
// registry over HTTP.
func tailRegistry(cfg *config.Config) (schema.Registry, error) {
	url := cfg.Registry.URL
	if url == "" {
		if cfg.Registry.Listen == "" {
			return nil, badInput("registry: tail reads the embedded registry over HTTP, but registry.listen is off; set it, or set registry.url")
		}
		url = "http://" + cfg.Registry.Listen
	}
	return schema.NewExternal(schema.Options{URL: url, Username: cfg.Registry.Username, Password: cfg.Registry.Password,
		CAFile: cfg.Registry.CAFile, Timeout: 10 * time.Second})
}

type tailSchema struct {
	ts *decode.TableSchema
	id int
}

// tailPrinter is the Emitter of cdcd tail.
type tailPrinter struct {
	w       io.Writer
	reg     schema.Registry
	subject func(change.TableID) string
	table   string
	limit   int
	done    func()

	schemas   map[*change.Table]*tailSchema
	renderers map[int]*decode.Renderer
	buf       []byte
	n         int
	err       error
}

func (p *tailPrinter) Schema(ctx context.Context, t *change.Table) error {
	ts, err := decode.Schema(t, decode.Options{})
	if err != nil {
		return change.Terminal(err)
	}
	id, _, err := p.reg.Register(ctx, p.subject(t.ID), ts.JSON)
	if err != nil {
		if schema.IsUnavailable(err) {
			return change.Terminal(fmt.Errorf("%w (is the daemon, which serves the embedded registry, running?)", err))
		}
		return change.Terminal(err)
	}
	p.schemas[t] = &tailSchema{ts: ts, id: id}
	return nil
}

func (p *tailPrinter) Change(ctx context.Context, ev change.Event) error {
	if p.table != "" && ev.Table.ID.SourceName() != p.table {
		return nil
	}
	if ev.Op == change.Truncate {
		return p.print(map[string]any{"op": "truncate", "table": ev.Table.ID.SourceName(), "version": ev.Version})
	}
	sc := p.schemas[ev.Table]
	if sc == nil {
		return fmt.Errorf("tail: no schema for table %s", ev.Table.ID)
	}
	// Unchanged TOAST values: taken from the old row when it is whole, else printed as unchanged.
	var unchanged []string
	if ev.Op == change.Update {
		row := append([]any(nil), ev.After...)
		for i, v := range row {
			if change.IsUnchanged(v) {
				if ev.BeforeFull && ev.Before != nil {
					row[i] = ev.Before[i]
				} else {
					row[i] = nil
					unchanged = append(unchanged, ev.Table.Columns[i].Name)
				}
			}
		}
		ev.After = row
	}
	var err error
	p.buf, err = sc.ts.AppendWire(p.buf[:0], sc.id, &ev)
	if err != nil {
		return p.print(map[string]any{"table": ev.Table.ID.SourceName(), "op": ev.Op.String(), "error": err.Error()})
	}
	id, payload, err := decode.ParseWire(p.buf)
	if err != nil {
		return err
	}
	r, err := p.renderer(ctx, id)
	if err != nil {
		return err
	}
	js, err := r.Render(payload)
	if err != nil {
		return err
	}
	out := map[string]any{"table": ev.Table.ID.SourceName(), "schema_id": id, "record": json.RawMessage(js)}
	if len(unchanged) > 0 {
		out["unchanged"] = unchanged
	}
	return p.print(out)
}

// renderer decodes through the registry: the schema is fetched by the record's id.
func (p *tailPrinter) renderer(ctx context.Context, id int) (*decode.Renderer, error) {
	if r, ok := p.renderers[id]; ok {
		return r, nil
	}
	text, err := p.reg.SchemaByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("tail: schema %d from the registry: %w", id, err)
	}
	r, err := decode.NewRenderer(text)
	if err != nil {
		return nil, err
	}
	p.renderers[id] = r
	return r, nil
}

func (p *tailPrinter) print(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(p.w, "%s\n", b); err != nil {
		p.err = err
		p.done()
		return err
	}
	p.n++
	if p.limit > 0 && p.n >= p.limit {
		p.done()
	}
	return nil
}

func (p *tailPrinter) Commit(ctx context.Context, pos change.Position) error       { return nil }
func (p *tailPrinter) Idle(ctx context.Context, pos change.Position) error         { return nil }
func (p *tailPrinter) Snapshotted(context.Context, []change.TableID, uint64) error { return nil }

var _ capture.Emitter = (*tailPrinter)(nil)
