package schema

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve serves Handler on addr (host:port) until ctx ends, then shuts down gracefully within a
// few seconds. It returns an error at once if addr cannot be bound, and nil after a shutdown.
func (e *Embedded) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("schema registry: listen on %s: %w", addr, err)
	}
	return e.ServeListener(ctx, ln)
}

// ServeListener is Serve on a listener the caller has bound (so it can report a bind failure
// before starting anything else). It closes ln.
func (e *Embedded) ServeListener(ctx context.Context, ln net.Listener) error {
	addr := ln.Addr().String()
	srv := &http.Server{
		Handler:           e.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("schema registry: serve on %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-served
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("schema registry: shut down %s: %w", addr, err)
	}
	return nil
}
