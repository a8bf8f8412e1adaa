package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/server"
	"sealdesk/hub/store"
	"sealdesk/internal/demo"
)

// sealhub: `serve` runs the endpoint; the admin commands (org, token, cert, seal) act on the
// database directly as the admin, through the same rules the HTTP API applies.

func init() {
	Register(&Command{Program: "sealhub", Path: []string{"serve"},
		Usage: "--listen ADDR [--db sqlite:PATH|postgres://...] [--key FILE] [--tls-cert F --tls-key F [--client-ca F]] [--demo DIR] [--role provider|registry] [--registry URL --provider-id ID [--registry-key F]]",
		Short: "run the central verification endpoint (HTTP+JSON under /v1)", Run: runHubServe})
	Register(&Command{Program: "sealhub", Path: []string{"org", "add"}, Usage: "--id ID --name NAME --uscc CODE [--db DSN]",
		Short: "register a client organisation", Run: runHubOrgAdd})
	Register(&Command{Program: "sealhub", Path: []string{"org", "list"}, Usage: "[--db DSN] [--json]",
		Short: "list organisations", Run: runHubOrgList})
	Register(&Command{Program: "sealhub", Path: []string{"token", "add"}, Usage: "(--org ID | --admin | --role reviewer|maker|auditor [--org ID]) [--label L] [--out FILE] [--db DSN]",
		Short: "make a bearer token (printed once, or written to --out)", Run: runHubTokenAdd})
	Register(&Command{Program: "sealhub", Path: []string{"token", "list"}, Usage: "[--db DSN] [--json]",
		Short: "list credentials (hash, organisation, role, label, revoked)", Run: runHubTokenList})
	Register(&Command{Program: "sealhub", Path: []string{"token", "revoke"}, Usage: "HASH-PREFIX [--db DSN]",
		Short: "revoke a token or client certificate by the start of its hash", Run: runHubTokenRevoke})
	Register(&Command{Program: "sealhub", Path: []string{"cert", "add"}, Usage: "--org ID --cert CLIENT.pem [--label L] [--db DSN]",
		Short: "register a TLS client certificate as an organisation's credential", Run: runHubCertAdd})
	Register(&Command{Program: "sealhub", Path: []string{"seal", "file"},
		Usage: "--org ID --filing-number N (--seal FILE.esl | --es-id ID --name N --valid-end T) [--cert PEM]... [--db DSN] [--json]",
		Short: "file (register) an SES seal", Run: runHubSealFile})
	Register(&Command{Program: "sealhub", Path: []string{"seal", "revoke"},
		Usage: "ESID --reason R [--status revoked|withdrawn|lost|suspended|active] [--at T] [--db DSN]",
		Short: "revoke a seal (or withdraw, report lost, suspend, reactivate)", Run: runHubSealRevoke})
	Register(&Command{Program: "sealhub", Path: []string{"seal", "list"}, Usage: "[--org ID] [--status S] [--db DSN] [--json]",
		Short: "list filed seals and their status", Run: runHubSealList})
}

func dbFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("SEALHUB_DB")
	if def == "" {
		def = "sqlite:sealhub.db"
	}
	return fs.String("db", def, "store: sqlite:`PATH` or postgres://... (default $SEALHUB_DB or sqlite:sealhub.db)")
}

// openHub opens the store and a Hub over it. The hub key signs status answers and audit
// events; the admin commands use the hub's key when it exists where serve keeps it
// (defaultKeyPath), else a throw-away one (their audit events then do not verify).
func openHub(ctx context.Context, dsn string, key *ecdsa.PrivateKey) (*server.Hub, store.Store, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, nil, Usagef("%v", err)
	}
	if key == nil {
		if p := defaultKeyPath(dsn); fileExists(p) {
			if key, err = server.LoadOrCreateKey(p); err != nil {
				st.Close()
				return nil, nil, Usagef("%v", err)
			}
		}
	}
	if key == nil {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	h, err := server.New(server.Options{Store: st, Key: key, ParseSeal: server.SESParser, VerifyBlob: server.SESVerifier})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return h, st, nil
}

// refusal turns a hub refusal into the CLI's exit codes: "not found" and conflicts are
// answers (1), invalid input is a usage error (2).
func refusal(e *api.ErrorBody) error {
	switch e.Code {
	case api.CodeNotFound, api.CodeAlreadyExists, api.CodeInvalidTransition, api.CodeConflict:
		return Nof("%s (%s)", e.Message, e.Code)
	}
	return Usagef("%s (%s)", e.Message, e.Code)
}

func runHubServe(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "serve", "--listen ADDR [--db DSN] [--key FILE] [--tls-cert F --tls-key F [--client-ca F]] [--demo DIR]")
	listen := fs.String("listen", "127.0.0.1:8443", "`address` to listen on")
	db := dbFlag(fs)
	keyFile := fs.String("key", "", "status- and audit-signing key `file` (ECDSA P-256 PKCS#8 PEM; made when missing; default: $SEALHUB_KEY, hub-key.pem or PATH.key.pem beside a SQLite store, else ./sealhub-key.pem)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate `file` (PEM); serves HTTPS")
	tlsKey := fs.String("tls-key", "", "TLS key `file` (PEM)")
	clientCA := fs.String("client-ca", "", "CA `file` (PEM) for TLS client certificates (mutual TLS)")
	demoDir := fs.String("demo", "", "demo workspace `DIR`: make sure its organisation, token and seal are on this hub, and publish its crl/ at /v1/crl/")
	rate := fs.Float64("rate", 100, "requests per second allowed per credential (negative: no limit)")
	maxBody := fs.Int64("max-body", 4<<20, "largest request body in `bytes`")
	lc := lifecycleFlags(fs)
	wf := webFlags(fs)
	ro := roleFlags(fs)
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return Usagef("serve takes no arguments (got %q)", args)
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return Usagef("--tls-cert and --tls-key go together")
	}
	if *keyFile == "" {
		*keyFile = defaultKeyPath(*db)
		if *demoDir != "" && os.Getenv("SEALHUB_KEY") == "" {
			*keyFile = filepath.Join(*demoDir, "hub-key.pem")
		}
	}
	key, err := server.LoadOrCreateKey(*keyFile)
	if err != nil {
		return Usagef("%v", err)
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return Usagef("%v", err)
	}
	defer st.Close()
	crlDir := "" // the demo workspace's CRLs, named by its certificates' distribution points
	if *demoDir != "" {
		crlDir = filepath.Join(*demoDir, demo.CRLDir)
	}
	opt := server.Options{Store: st, Key: key, ParseSeal: server.SESParser, VerifyBlob: server.SESVerifier,
		Rate: *rate, MaxBody: *maxBody, CRLDir: crlDir}
	role, err := ro.setup(ctx, env, st, key, &opt)
	if err != nil {
		return err
	}
	closeLC, err := lc.apply(ctx, env, &opt)
	if err != nil {
		return err
	}
	defer closeLC()
	if *demoDir != "" && opt.Maker == nil {
		// The demo hub's maker and CA keys live on the workspace's SoftHSM2 token.
		pin, err := os.ReadFile(filepath.Join(*demoDir, "pin.txt"))
		if err == nil {
			closeDemo, err := demo.OpenHubMaker(ctx, *demoDir, []byte(strings.TrimSpace(string(pin))), &opt)
			if err != nil {
				return Usagef("demo workspace %s: %v", *demoDir, err)
			}
			defer closeDemo()
		}
	}
	h, err := server.New(opt)
	if err != nil {
		return err
	}
	// Several instances may serve one database: same status key, shared rate limits,
	// heartbeats (hub/server/cluster.go).
	leave, err := h.Join(ctx)
	if err != nil {
		return Usagef("%v", err)
	}
	defer leave()
	if *demoDir != "" {
		if err := demo.SeedHub(ctx, *demoDir, h); err != nil {
			return Usagef("demo workspace %s: %v", *demoDir, err)
		}
	}
	handler, err := wf.handler(h, *demoDir, *tlsCert != "")
	if err != nil {
		return err
	}
	srv := server.NewServer(*listen, role.handler(h, handler))
	if *clientCA != "" {
		pemCA, err := os.ReadFile(*clientCA)
		if err != nil {
			return Usagef("cannot read --client-ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemCA) {
			return Usagef("--client-ca %s holds no PEM certificate", *clientCA)
		}
		// Client certificates are optional: bearer tokens still work beside them.
		srv.TLSConfig = &tls.Config{ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return Usagef("cannot listen on %s: %v", *listen, err)
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	kid := h.HubKey().KeyID
	fmt.Fprintf(env.Stdout, "sealhub: serving %s://%s (store %s, status key %s)\n", scheme, ln.Addr(), redactDSN(*db), kid)
	fmt.Fprintf(env.Stdout, "sealhub: seal check %s://%s/ · staff console %s://%s/console/\n", scheme, ln.Addr(), scheme, ln.Addr())
	fmt.Fprintf(env.Stdout, "sealhub: %s\n", role.describe(ro))
	role.start(ctx)
	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("sealhub: %w", err)
		}
	case <-ctx.Done():
		// Readiness fails first so a load balancer stops sending before the listener closes.
		h.SetDraining(true)
		time.Sleep(drainDelay)
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		fmt.Fprintln(env.Stdout, "sealhub: stopped")
	}
	return nil
}

// defaultKeyPath is where the hub key of store dsn lives unless --key says otherwise:
// $SEALHUB_KEY; for SQLite hub-key.pem beside the database when there is one (the demo
// workspace), else PATH.key.pem; else ./sealhub-key.pem.
func defaultKeyPath(dsn string) string {
	if v := os.Getenv("SEALHUB_KEY"); v != "" {
		return v
	}
	if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		if beside := filepath.Join(filepath.Dir(p), "hub-key.pem"); fileExists(beside) {
			return beside
		}
		return p + ".key.pem"
	}
	return "sealhub-key.pem"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// redactDSN hides a PostgreSQL password in what is printed.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			if c := strings.Index(dsn[i+3:at], ":"); c >= 0 {
				return dsn[:i+3+c] + ":***" + dsn[at:]
			}
		}
	}
	return dsn
}

func runHubOrgAdd(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "org add", "--id ID --name NAME --uscc CODE [--db DSN]")
	id := fs.String("id", "", "organisation `id` (lowercase letters, digits, '-')")
	name := fs.String("name", "", "organisation `name`")
	uscc := fs.String("uscc", "", "unified social credit `code` (18 characters, check digit verified)")
	db := dbFlag(fs)
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	h, st, err := openHub(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	o, e := h.CreateOrg(ctx, server.Admin, api.Org{ID: *id, Name: *name, USCC: *uscc})
	if e != nil {
		return refusal(e)
	}
	fmt.Fprintf(env.Stdout, "organisation %s (%s, %s) registered\n", o.ID, o.Name, o.USCC)
	return nil
}

func runHubOrgList(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "org list", "[--db DSN] [--json]")
	db := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	h, st, err := openHub(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	orgs, e := h.ListOrgs(ctx, server.Admin)
	if e != nil {
		return refusal(e)
	}
	if *asJSON {
		return PrintJSON(env.Stdout, orgs)
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSCC\tNAME")
	for _, o := range orgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", o.ID, o.USCC, o.Name)
	}
	return tw.Flush()
}

func runHubTokenAdd(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "token add", "(--org ID | --admin) [--label L] [--out FILE] [--db DSN]")
	org := fs.String("org", "", "organisation `id` the token acts for")
	admin := fs.Bool("admin", false, "make an admin token instead")
	role := fs.String("role", api.RoleOrg, "role: org (applicant), reviewer, maker, auditor (--org optional for all but org)")
	label := fs.String("label", "", "a `name` for the token (shown in the audit trail)")
	out := fs.String("out", "", "write the token to `FILE` (mode 0600) instead of printing it")
	db := dbFlag(fs)
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	req := api.TokenRequest{OrgID: *org, Role: *role, Label: *label}
	if *admin {
		if *org != "" {
			return Usagef("--admin and --org exclude each other")
		}
		req.Role = api.RoleAdmin
	} else if *org == "" && *role == api.RoleOrg {
		return Usagef("give --org ID (or --admin, or --role reviewer|maker|auditor)")
	}
	h, st, err := openHub(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	tok, e := h.IssueToken(ctx, server.Admin, req)
	if e != nil {
		return refusal(e)
	}
	if *out != "" {
		if err := os.WriteFile(*out, []byte(tok.Token+"\n"), 0o600); err != nil {
			return Usagef("cannot write the token: %v", err)
		}
		fmt.Fprintf(env.Stdout, "token for %s written to %s\n", orDashStr(tok.OrgID, "admin"), *out)
		return nil
	}
	fmt.Fprintln(env.Stdout, tok.Token)
	return nil
}

func runHubTokenList(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "token list", "[--db DSN] [--json]")
	db := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	h, st, err := openHub(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	cs, e := h.ListCredentials(ctx, server.Admin)
	if e != nil {
		return refusal(e)
	}
	if *asJSON {
		return PrintJSON(env.Stdout, cs)
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HASH\tORG\tROLE\tLABEL\tCREATED\tREVOKED")
	for _, c := range cs {
		revoked := "-"
		if !c.Revoked.IsZero() {
			revoked = c.Revoked.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Hash[:min(len(c.Hash), 21)], orDashStr(c.OrgID, "-"), c.Role, c.Label,
			c.Created.Format(time.RFC3339), revoked)
	}
	return tw.Flush()
}

func runHubTokenRevoke(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "token revoke", "HASH-PREFIX [--db DSN]")
	db := dbFlag(fs)
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return Usagef("token revoke takes the start of one credential hash (see 'sealhub token list')")
	}
	h, st, err := openHub(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	c, e := h.RevokeCredential(ctx, server.Admin, args[0])
	if e != nil {
		return refusal(e)
	}
	fmt.Fprintf(env.Stdout, "credential %s (%s, %s) revoked\n", c.Hash[:min(len(c.Hash), 21)], orDashStr(c.OrgID, "admin"), c.Label)
	return nil
}

func orDashStr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func runHubCertAdd(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "cert add", "--org ID --cert CLIENT.pem [--label L] [--db DSN]")
	org := fs.String("org", "", "organisation `id`")
	certFile := fs.String("cert", "", "client certificate `file` (PEM)")
	label := fs.String("label", "", "a `name` for the credential")
	db := dbFlag(fs)
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	b, err := os.ReadFile(*certFile)
	if err != nil {
		return Usagef("cannot read the client certificate: %v", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return Usagef("%s: no PEM CERTIFICATE", *certFile)
	}
	h, st, err := openHub(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	if e := h.AddCredential(ctx, server.Admin, server.CertCredentialHash(blk.Bytes), api.TokenRequest{OrgID: *org, Role: api.RoleOrg, Label: *label}); e != nil {
		return refusal(e)
	}
	fmt.Fprintf(env.Stdout, "client certificate registered for %s\n", *org)
	return nil
}

func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, Usagef("--%s %q: want RFC 3339 (2026-01-02T15:04:05Z) or a date (2026-01-02)", name, v)
}

func runHubSealFile(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "seal file", "--org ID --filing-number N (--seal FILE.esl | --es-id ID --name N --valid-end T) [--cert PEM]... [--db DSN] [--json]")
	org := fs.String("org", "", "owner organisation `id`")
	filing := fs.String("filing-number", "", "the registry's filing `number` (备案号)")
	uscc := fs.String("uscc", "", "owner's unified social credit `code` (default: the organisation's)")
	sealFile := fs.String("seal", "", "DER SES seal `file`: its id, name, validity and certificates are read from it")
	esID := fs.String("es-id", "", "seal `id` (esID), when no --seal is given")
	name := fs.String("name", "", "seal `name`, when no --seal is given")
	validStart := fs.String("valid-start", "", "validity start (`time`), when no --seal is given; default now")
	validEnd := fs.String("valid-end", "", "validity end (`time`), when no --seal is given")
	certs := StringList(fs, "cert", "signer certificate `file` (PEM) the seal binds; repeatable")
	asJSON := fs.Bool("json", false, "print the filed seal as JSON")
	db := dbFlag(fs)
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	req := api.FileSealRequest{OrgID: *org, FilingNumber: *filing, OwnerUSCC: *uscc, ESID: *esID, Name: *name}
	var err error
	if *sealFile != "" {
		if req.Seal, err = os.ReadFile(*sealFile); err != nil {
			return Usagef("cannot read the seal: %v", err)
		}
	} else if req.ValidStart, err = parseTimeFlag("valid-start", *validStart); err != nil {
		return err
	} else if req.ValidStart.IsZero() {
		req.ValidStart = time.Now().UTC().Truncate(time.Second)
	}
	if req.ValidEnd, err = parseTimeFlag("valid-end", *validEnd); err != nil {
		return err
	}
	for _, f := range *certs {
		b, err := os.ReadFile(f)
		if err != nil {
			return Usagef("cannot read the certificate: %v", err)
		}
		for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
			if blk.Type == "CERTIFICATE" {
				req.Certificates = append(req.Certificates, blk.Bytes)
			}
		}
	}
	h, st, err := openHub(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	if req.OwnerUSCC == "" && *org != "" {
		if o, err := st.GetOrg(ctx, *org); err == nil {
			req.OwnerUSCC = o.USCC
		}
	}
	s, e := h.FileSeal(ctx, server.Admin, req)
	if e != nil {
		return refusal(e)
	}
	if *asJSON {
		return PrintJSON(env.Stdout, s)
	}
	fmt.Fprintf(env.Stdout, "seal %s %q filed as %s for %s (valid %s – %s)\n", s.ESID, s.Name, s.FilingNumber, s.OrgID,
		s.ValidStart.Format(time.RFC3339), s.ValidEnd.Format(time.RFC3339))
	return nil
}

func runHubSealRevoke(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "seal revoke", "ESID --reason R [--status revoked|withdrawn|lost|suspended|active] [--at T] [--db DSN]")
	reason := fs.String("reason", "", "why (recorded and shown to signers)")
	status := fs.String("status", api.StatusRevoked, "new `status`: revoked, withdrawn, lost, suspended or active")
	at := fs.String("at", "", "when it took effect (`time`; default now; not in the future)")
	db := dbFlag(fs)
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return Usagef("seal revoke takes one seal id (got %d arguments)", len(args))
	}
	t, err := parseTimeFlag("at", *at)
	if err != nil {
		return err
	}
	h, st, err := openHub(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	s, e := h.SetStatus(ctx, server.Admin, args[0], api.StatusChange{Status: *status, Reason: *reason, At: t})
	if e != nil {
		return refusal(e)
	}
	fmt.Fprintf(env.Stdout, "seal %s is now %s (since %s, reason: %s)\n", s.ESID, s.Status, s.StatusAt.Format(time.RFC3339), s.StatusReason)
	return nil
}

func runHubSealList(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "seal list", "[--org ID] [--status S] [--db DSN] [--json]")
	org := fs.String("org", "", "only this organisation's seals")
	status := fs.String("status", "", "only seals with this `status`")
	asJSON := fs.Bool("json", false, "print JSON")
	db := dbFlag(fs)
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	h, st, err := openHub(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	seals, e := h.ListSeals(ctx, server.Admin, *org, *status)
	if e != nil {
		return refusal(e)
	}
	if *asJSON {
		return PrintJSON(env.Stdout, map[string]any{"seals": seals})
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ESID\tORG\tSTATUS\tSINCE\tVALID UNTIL\tFILING\tNAME")
	for _, s := range seals {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ESID, s.OrgID, s.Status, s.StatusAt.Format(time.RFC3339),
			s.ValidEnd.Format("2006-01-02"), s.FilingNumber, s.Name)
	}
	return tw.Flush()
}
