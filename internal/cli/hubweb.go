package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"sealdesk/hub/server"
	"sealdesk/hub/web"
)

// sealhub's web face (hub/web): `serve` mounts it over the API; `staff add|list` manage the
// console's accounts.

func init() {
	Register(&Command{Program: "sealhub", Path: []string{"staff", "add"},
		Usage: "--user NAME --role reviewer|org [--org ID] --password-file F [--db DSN]",
		Short: "add a web console account (password stored as an argon2id hash)", Run: runHubStaffAdd})
	Register(&Command{Program: "sealhub", Path: []string{"staff", "list"}, Usage: "[--db DSN] [--json]",
		Short: "list web console accounts", Run: runHubStaffList})
}

type webOpts struct {
	trust     *string
	maxUpload *int64
	offline   *bool
}

func webFlags(fs *flag.FlagSet) *webOpts {
	return &webOpts{
		trust:     fs.String("trust", "", "PEM `file` of trust anchors for the public seal check (with --demo: the workspace's root.pem too)"),
		maxUpload: fs.Int64("max-upload", 25<<20, "largest document the public seal check accepts, in `bytes`"),
		offline:   fs.Bool("offline-check", false, "the public seal check makes no network revocation checks (revocation unknown)"),
	}
}

// handler is the whole hub: the web pages, and the API for every other path.
func (o *webOpts) handler(h *server.Hub, demoDir string, tls bool) (http.Handler, error) {
	opt := web.Options{Hub: h, API: h.Handler(), MaxUpload: *o.maxUpload, Secure: tls}
	opt.Verify.Offline = *o.offline
	if *o.trust != "" {
		b, err := os.ReadFile(*o.trust)
		if err != nil {
			return nil, Usagef("cannot read the trust anchors: %v", err)
		}
		opt.Verify.TrustPEM = append(opt.Verify.TrustPEM, b...)
	}
	if demoDir != "" {
		// The demo's test roots, as `sealctl verify --trust DIR/root.pem` is given them.
		if b, err := os.ReadFile(filepath.Join(demoDir, "root.pem")); err == nil {
			opt.Verify.TrustPEM = append(append(opt.Verify.TrustPEM, '\n'), b...)
		}
	}
	w, err := web.New(opt)
	if err != nil {
		return nil, err
	}
	return w.Handler(), nil
}

func runHubStaffAdd(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "staff add", "--user NAME --role reviewer|org [--org ID] --password-file F [--db DSN]")
	user := fs.String("user", "", "username (lowercase letters, digits, '-')")
	role := fs.String("role", "", "reviewer (acts as the hub admin) or org (acts for --org)")
	org := fs.String("org", "", "the organisation of an org account")
	pwFile := fs.String("password-file", "", "`file` holding the password (first line; at least 10 characters)")
	db := dbFlag(fs)
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return Usagef("staff add takes no arguments (got %q)", args)
	}
	if *pwFile == "" {
		return Usagef("--password-file is required (a password is never a flag value)")
	}
	b, err := os.ReadFile(*pwFile)
	if err != nil {
		return Usagef("cannot read the password: %v", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	h, st, err := openHub(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	s, e := h.AddStaff(ctx, server.Admin, *user, strings.TrimRight(pw, "\r"), *role, *org)
	if e != nil {
		return refusal(e)
	}
	fmt.Fprintf(env.Stdout, "staff account %s (%s%s) added\n", s.Username, s.Role, map[bool]string{true: ", " + s.OrgID}[s.OrgID != ""])
	return nil
}

func runHubStaffList(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "staff list", "[--db DSN] [--json]")
	db := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return Usagef("staff list takes no arguments (got %q)", args)
	}
	h, st, err := openHub(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	l, e := h.ListStaff(ctx, server.Admin)
	if e != nil {
		return refusal(e)
	}
	if *asJSON {
		return PrintJSON(env.Stdout, l)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tROLE\tORG\tCREATED")
	for _, s := range l {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Username, s.Role, s.OrgID, s.Created.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}
