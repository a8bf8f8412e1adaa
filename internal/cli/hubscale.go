package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"sealdesk/hub/store"
)

// sealhub records partitions|retire: the PostgreSQL signing log's monthly partitions
// (hub/store/partition.go) and retention by detaching whole months.

func init() {
	Register(&Command{Program: "sealhub", Path: []string{"records", "partitions"}, Usage: "[--db postgres://...] [--json]",
		Short: "list the signing log's monthly partitions (PostgreSQL)", Run: runHubPartitions})
	Register(&Command{Program: "sealhub", Path: []string{"records", "retire"}, Usage: "--before YYYY-MM [--db postgres://...] [--json]",
		Short: "detach the signing log's months before YYYY-MM (kept as tables for archiving, never deleted)", Run: runHubRetire})
}

func openPartitions(ctx context.Context, dsn string) (store.Partitions, func(), error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, nil, Usagef("%v", err)
	}
	p, ok := st.(store.Partitions)
	if !ok {
		st.Close()
		return nil, nil, Usagef("this store has no monthly partitions")
	}
	return p, func() { st.Close() }, nil
}

func runHubPartitions(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "records partitions", "[--db DSN] [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	db := dbFlag(fs)
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	p, closeFn, err := openPartitions(ctx, *db)
	if err != nil {
		return err
	}
	defer closeFn()
	parts, err := p.RecordPartitions(ctx)
	if err != nil {
		return Usagef("%v", err)
	}
	if *asJSON {
		return PrintJSON(env.Stdout, map[string]any{"partitions": parts})
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MONTH\tPARTITION\tROWS (ESTIMATE)\tMiB")
	for _, x := range parts {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\n", x.Month, x.Name, max(x.Rows, 0), float64(x.Bytes)/(1<<20))
	}
	return tw.Flush()
}

func runHubRetire(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "records retire", "--before YYYY-MM [--db DSN] [--json]")
	before := fs.String("before", "", "retire the months before this `YYYY-MM` (UTC)")
	asJSON := fs.Bool("json", false, "print JSON")
	db := dbFlag(fs)
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	t, err := time.Parse("2006-01", *before)
	if err != nil {
		return Usagef("--before %q: want a month such as 2019-01", *before)
	}
	p, closeFn, err := openPartitions(ctx, *db)
	if err != nil {
		return err
	}
	defer closeFn()
	names, err := p.RetireRecords(ctx, t)
	if *asJSON && err == nil {
		return PrintJSON(env.Stdout, map[string]any{"retired": names})
	}
	for _, n := range names {
		fmt.Fprintf(env.Stdout, "detached %s\n", n)
	}
	if err != nil {
		return Usagef("%v", err)
	}
	if len(names) == 0 {
		fmt.Fprintf(env.Stdout, "no month before %s is attached\n", *before)
	}
	return nil
}

// drainDelay is how long a stopping sealhub answers /v1/ready with 503 before it closes its
// listener (a load balancer's health check interval is typically 1-5 s).
var drainDelay = 2 * time.Second
