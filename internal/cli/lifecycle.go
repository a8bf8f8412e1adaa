package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/holder"
	"sealdesk/signer"
)

// The seal lifecycle on the command line: the holder applies, fetches and changes the
// status with sealctl; the reviewer decides with sealhub app. Both talk to a running hub
// over HTTP (the hub holds the maker key), with the token from $SEALDESK_HUB_TOKEN(_FILE)
// or --token-file.

func init() {
	Register(&Command{Path: []string{"seal", "apply"},
		Usage: "--hub URL --key URI [--new-key [--algo ecdsa|rsa|sm2]] --name NAME --type CODE [--picture FILE] [--contact C] [--attach FILE]... [--valid-days N | --validity 2年] [--v1] [--replaces ESID --reissue replace|lost|change] [--draft] [--json]",
		Short: "apply for a seal with a key on the token (prints the application id last)", Run: runSealApply})
	Register(&Command{Path: []string{"seal", "applications"}, Usage: "[--hub URL] [--status S] [--json]",
		Short: "list your organisation's seal applications and their status", Run: runSealApplications})
	Register(&Command{Path: []string{"seal", "submit"}, Usage: "ID [--hub URL] [--attach FILE]... [--picture FILE] [--json]",
		Short: "submit a draft or resubmit a returned application (optionally with new attachments)", Run: runSealSubmit})
	Register(&Command{Path: []string{"seal", "withdraw-application"}, Usage: "ID --reason R [--hub URL] [--json]",
		Short: "withdraw an application before its decision", Run: runSealWithdrawApp})
	Register(&Command{Path: []string{"seal", "fetch"}, Usage: "ID --out FILE.esl [--to-token --key URI] [--hub URL] [--pin-file F] [--json]",
		Short: "download an approved application's seal and certificate (--to-token: onto the key, then reported delivered)", Run: runSealFetch})
	Register(&Command{Path: []string{"seal", "set-status"}, Usage: "ESID --status suspended|active|lost|withdrawn --reason R [--hub URL] [--json]",
		Short: "suspend, resume, report lost or withdraw one of your seals", Run: runSealSetStatus})
	for _, step := range []string{"approve", "reject", "return"} {
		Register(&Command{Program: "sealhub", Path: []string{"app", step}, Usage: "ID " + map[string]string{"approve": "[--note N]", "reject": "--reason R", "return": "--reason R"}[step] + " [--hub URL] [--token-file F] [--json]",
			Short: map[string]string{"approve": "approve an application: the hub makes, files and publishes its seal",
				"reject": "reject an application for good", "return": "return an application to its applicant with a reason"}[step],
			Run: func(ctx context.Context, env *Env) error { return runAppDecide(ctx, env, step) }})
	}
	Register(&Command{Program: "sealhub", Path: []string{"app", "list"}, Usage: "[--pending] [--status S] [--org ID] [--hub URL] [--token-file F] [--json]",
		Short: "list seal applications (reviewer, auditor)", Run: runAppList})
	Register(&Command{Program: "sealhub", Path: []string{"app", "show"}, Usage: "ID [--hub URL] [--token-file F] [--json]",
		Short: "show an application with its history", Run: runAppShow})
}

// hubFlags are the flags every lifecycle command shares.
type hubFlags struct {
	hub, tokenFile *string
	asJSON         *bool
}

func addHubFlags(fs interface {
	String(string, string, string) *string
	Bool(string, bool, string) *bool
}) hubFlags {
	return hubFlags{
		hub:       fs.String("hub", os.Getenv("SEALDESK_HUB"), "hub `URL` (default $SEALDESK_HUB)"),
		tokenFile: fs.String("token-file", "", "bearer token `file` (default $SEALDESK_HUB_TOKEN or $SEALDESK_HUB_TOKEN_FILE)"),
		asJSON:    fs.Bool("json", false, "print JSON"),
	}
}

func (f hubFlags) client() (*client.Client, error) {
	c, err := client.FromEnv(*f.hub, *f.tokenFile)
	if err != nil {
		return nil, Usagef("hub: %v", err)
	}
	if c == nil {
		return nil, Usagef("no hub: give --hub URL or set SEALDESK_HUB")
	}
	return c, nil
}

// hubError turns a hub refusal into the CLI's exit codes (see refusal).
func hubError(err error) error {
	var he *api.Error
	if errors.As(err, &he) {
		switch he.Code {
		case api.CodeNotApproved, api.CodeOwnOrg, api.CodeRoleNotAllowed, api.CodeForbidden:
			return Nof("%s (%s)", he.Message, he.Code)
		}
		return refusal(&he.ErrorBody)
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	return Usagef("%v", err)
}

// readAttachments reads and checks the --attach files (holder.ReadAttachment: what the app's
// form checks too).
func readAttachments(paths []string) ([]api.Attachment, error) {
	var out []api.Attachment
	for _, p := range paths {
		a, err := holder.ReadAttachment(p)
		if err != nil {
			return nil, Usagef("attachment: %v", err)
		}
		out = append(out, a)
	}
	return out, nil
}

func runSealApply(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "seal apply", "--hub URL --key URI [--new-key] --name NAME --type CODE [--picture FILE] ...")
	hf := addHubFlags(fs)
	keyURI := fs.String("key", "", "the holder's key: pkcs11:token=…;object=LABEL")
	newKey := fs.Bool("new-key", false, "generate the key named by the URI's object on the token first (C_GenerateKeyPair)")
	algo := fs.String("algo", "ecdsa", "with --new-key: ecdsa, rsa or sm2 (sm2 through the module's vendor mechanism)")
	name := fs.String("name", "", "the seal's `name`, e.g. 某单位合同专用章")
	typ := fs.String("type", "", "seal type `CODE` from the hub's table (default table: 01 单位专用章, 02 财务专用章, 03 发票专用章, 04 合同专用章, 05 法定代表人名章, 99 其他)")
	picture := fs.String("picture", "", "seal picture `PNG` (default: the hub draws one at the type's standard size)")
	unit := fs.String("unit", "", "the unit's name (default: your organisation's registered name)")
	uscc := fs.String("uscc", "", "unified social credit code (default: your organisation's)")
	contact := fs.String("contact", "", "contact person and telephone")
	attach := StringList(fs, "attach", "attachment `file`, e.g. the business licence scan (repeat)")
	validDays := fs.Int("valid-days", 0, "validity in days (default 730)")
	validity := fs.String("validity", "", "validity as people write it: days (730, 730天) or years (2年, 2y); overrides --valid-days")
	v1 := fs.Bool("v1", false, "make a GM/T 0031 (v1) seal instead of GB/T 38540 (v4)")
	replaces := fs.String("replaces", "", "re-issue: the `ESID` of the seal this one replaces")
	reissue := fs.String("reissue", "", "with --replaces: replace (更换), lost (遗失补刻) or change (章面变更)")
	draft := fs.Bool("draft", false, "keep the application as a draft instead of submitting it")
	pinFile := fs.String("pin-file", "", "read the token PIN from `file`")
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	switch {
	case *keyURI == "":
		return Usagef("no key: give --key pkcs11:token=…;object=LABEL")
	case *name == "":
		return Usagef("no seal name: give --name")
	case *typ == "":
		return Usagef("no seal type: give --type CODE")
	case *contact == "":
		*contact = "-"
	}
	if *validity != "" {
		days, err := api.ParseValidity(*validity)
		if err != nil {
			return Usagef("--validity: %v", err)
		}
		*validDays = days
	}
	hub, err := hf.client()
	if err != nil {
		return err
	}
	req := api.ApplicationRequest{UnitName: *unit, USCC: *uscc, SealType: *typ, SealName: *name, Contact: *contact,
		ValidDays: *validDays, Replaces: *replaces, ReissueKind: *reissue, Submit: !*draft}
	if *v1 {
		req.SESVersion = 1
	}
	if *picture != "" {
		if req.Picture, err = holder.ReadPicture(*picture); err != nil {
			return Usagef("%v", err)
		}
	}
	if req.Attachments, err = readAttachments(*attach); err != nil {
		return err
	}
	pin, err := ReadPIN(env, *pinFile, "PIN")
	if err != nil {
		return err
	}
	defer clear(pin)
	app, err := holder.Apply(ctx, hub, holder.ApplyOptions{KeyURI: *keyURI, PIN: pin, NewKey: *newKey, Algorithm: signer.KeyAlgorithm(*algo), Request: req})
	if err != nil {
		return hubError(err)
	}
	if *hf.asJSON {
		return PrintJSON(env.Stdout, app)
	}
	fmt.Fprintf(env.Stdout, "application %s: %s (%s %s)\n%s\n", app.ID, app.Status, app.SealType, app.SealName, app.ID)
	return nil
}

func printApps(w io.Writer, apps []api.Application) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tORG\tSTATUS\tTYPE\tSEAL NAME\tESID\tUPDATED\tREASON")
	for _, a := range apps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.OrgID, a.Status, a.SealType, a.SealName, orDashStr(a.ESID, "-"),
			a.Updated.Format(time.RFC3339), a.Reason)
	}
	return tw.Flush()
}

func runSealApplications(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "seal applications", "[--hub URL] [--status S] [--json]")
	hf := addHubFlags(fs)
	status := fs.String("status", "", "only applications with this `status`")
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	hub, err := hf.client()
	if err != nil {
		return err
	}
	apps, err := hub.Applications(ctx, "", *status, false)
	if err != nil {
		return hubError(err)
	}
	if *hf.asJSON {
		return PrintJSON(env.Stdout, api.ApplicationList{Applications: apps})
	}
	return printApps(env.Stdout, apps)
}

func oneID(fs interface{ NArg() int }, args []string, what string) (string, error) {
	if len(args) != 1 {
		return "", Usagef("give one %s", what)
	}
	return args[0], nil
}

func printApp(env *Env, asJSON bool, a *api.Application) error {
	if asJSON {
		return PrintJSON(env.Stdout, a)
	}
	fmt.Fprintf(env.Stdout, "application %s (%s): %s\n  %s %s — %s (%s)\n", a.ID, a.OrgID, a.Status, a.SealType, a.SealName, a.UnitName, a.USCC)
	if a.ESID != "" {
		fmt.Fprintf(env.Stdout, "  seal %s, filing %s\n", a.ESID, a.FilingNumber)
	}
	if a.Replaces != "" {
		fmt.Fprintf(env.Stdout, "  replaces %s (%s)\n", a.Replaces, a.ReissueKind)
	}
	for _, h := range a.History {
		fmt.Fprintf(env.Stdout, "  %s  %-11s %s (%s) %s\n", h.At.Format(time.RFC3339), h.Status, h.Actor, h.Role, h.Reason)
	}
	return nil
}

func runSealSubmit(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "seal submit", "ID [--hub URL] [--attach FILE]... [--picture FILE] [--json]")
	hf := addHubFlags(fs)
	attach := StringList(fs, "attach", "replace the attachments with these `file`s (repeat)")
	picture := fs.String("picture", "", "replace the seal picture (`PNG`)")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, args, "application id")
	if err != nil {
		return err
	}
	hub, err := hf.client()
	if err != nil {
		return err
	}
	var app *api.Application
	if len(*attach) == 0 && *picture == "" {
		app, err = hub.Decide(ctx, id, "submit", "")
	} else {
		cur, err := hub.Application(ctx, id)
		if err != nil {
			return hubError(err)
		}
		req := cur.ApplicationRequest
		if len(*attach) > 0 {
			if req.Attachments, err = readAttachments(*attach); err != nil {
				return err
			}
		}
		if *picture != "" {
			if req.Picture, err = holder.ReadPicture(*picture); err != nil {
				return Usagef("%v", err)
			}
		}
		req.Submit = true
		app, err = hub.EditApplication(ctx, id, req)
	}
	if err != nil {
		return hubError(err)
	}
	return printApp(env, *hf.asJSON, app)
}

func runSealWithdrawApp(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "seal withdraw-application", "ID --reason R [--hub URL] [--json]")
	hf := addHubFlags(fs)
	reason := fs.String("reason", "", "why")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, args, "application id")
	if err != nil {
		return err
	}
	hub, err := hf.client()
	if err != nil {
		return err
	}
	app, err := hub.Decide(ctx, id, "withdraw", *reason)
	if err != nil {
		return hubError(err)
	}
	return printApp(env, *hf.asJSON, app)
}

func runSealFetch(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "seal fetch", "ID --out FILE.esl [--to-token --key URI] [--hub URL] [--pin-file F] [--json]")
	hf := addHubFlags(fs)
	out := fs.String("out", "", "write the seal to `FILE.esl`")
	toToken := fs.Bool("to-token", false, "write the certificate, its chain and the seal onto the token beside --key, and report the seal delivered")
	keyURI := fs.String("key", "", "with --to-token: the key the application was made with (pkcs11:…)")
	pinFile := fs.String("pin-file", "", "read the token PIN from `file`")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, args, "application id")
	if err != nil {
		return err
	}
	if *out == "" && !*toToken {
		return Usagef("give --out FILE.esl and/or --to-token --key URI")
	}
	if *toToken && *keyURI == "" {
		return Usagef("--to-token needs --key URI (the key the application was made with)")
	}
	hub, err := hf.client()
	if err != nil {
		return err
	}
	o := holder.FetchOptions{Out: *out, ToToken: *toToken, KeyURI: *keyURI}
	if *toToken {
		if o.PIN, err = ReadPIN(env, *pinFile, "PIN"); err != nil {
			return err
		}
		defer clear(o.PIN)
	}
	res, err := holder.Fetch(ctx, hub, id, o)
	if err != nil {
		return hubError(err)
	}
	if *hf.asJSON {
		res.Package.Seal, res.Package.Certificate, res.Package.Chain = nil, nil, nil
		return PrintJSON(env.Stdout, res)
	}
	fmt.Fprintf(env.Stdout, "seal %s (filing %s)", res.Package.ESID, res.Package.FilingNumber)
	if res.File != "" {
		fmt.Fprintf(env.Stdout, " written to %s", res.File)
	}
	if res.OnToken {
		fmt.Fprint(env.Stdout, "; on the token")
	}
	if res.Delivered {
		fmt.Fprintf(env.Stdout, "; delivered, now %s", res.Seal.Status)
	}
	fmt.Fprintln(env.Stdout)
	return nil
}

func runSealSetStatus(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "seal set-status", "ESID --status suspended|active|lost|withdrawn --reason R [--hub URL] [--json]")
	hf := addHubFlags(fs)
	status := fs.String("status", "", "suspended, active (resume), lost or withdrawn")
	reason := fs.String("reason", "", "why (required except to resume)")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, args, "seal ESID")
	if err != nil {
		return err
	}
	switch *status {
	case api.StatusSuspended, api.StatusActive, api.StatusLost, api.StatusWithdrawn:
	default:
		return Usagef("--status %q: want suspended, active, lost or withdrawn", *status)
	}
	hub, err := hf.client()
	if err != nil {
		return err
	}
	s, err := hub.SetStatus(ctx, id, api.StatusChange{Status: *status, Reason: *reason})
	if err != nil {
		return hubError(err)
	}
	if *hf.asJSON {
		return PrintJSON(env.Stdout, s)
	}
	fmt.Fprintf(env.Stdout, "seal %s is %s since %s\n", s.ESID, s.Status, s.StatusAt.Format(time.RFC3339))
	return nil
}

func runAppList(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "app list", "[--pending] [--status S] [--org ID] [--hub URL] [--token-file F] [--json]")
	hf := addHubFlags(fs)
	pending := fs.Bool("pending", false, "only applications waiting for a decision")
	status := fs.String("status", "", "only applications with this `status`")
	org := fs.String("org", "", "only this organisation's")
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	hub, err := hf.client()
	if err != nil {
		return err
	}
	apps, err := hub.Applications(ctx, *org, *status, *pending)
	if err != nil {
		return hubError(err)
	}
	if *hf.asJSON {
		return PrintJSON(env.Stdout, api.ApplicationList{Applications: apps})
	}
	return printApps(env.Stdout, apps)
}

func runAppShow(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "app show", "ID [--hub URL] [--token-file F] [--json]")
	hf := addHubFlags(fs)
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, args, "application id")
	if err != nil {
		return err
	}
	hub, err := hf.client()
	if err != nil {
		return err
	}
	a, err := hub.Application(ctx, id)
	if err != nil {
		return hubError(err)
	}
	if *hf.asJSON {
		a.Picture, a.CSR = nil, nil
		for i := range a.Attachments {
			a.Attachments[i].Data = nil
		}
	}
	return printApp(env, *hf.asJSON, a)
}

func runAppDecide(ctx context.Context, env *Env, step string) error {
	fs := FlagSet(env, "app "+step, "ID [--reason R | --note N] [--hub URL] [--token-file F] [--json]")
	hf := addHubFlags(fs)
	reason := fs.String("reason", "", "the reason the applicant sees")
	note := fs.String("note", "", "approve: a note recorded with the approval")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, args, "application id")
	if err != nil {
		return err
	}
	if step == "approve" && *reason == "" {
		*reason = *note
	} else if step != "approve" && *reason == "" {
		return Usagef("%s needs --reason R (the applicant sees it)", step)
	}
	hub, err := hf.client()
	if err != nil {
		return err
	}
	a, err := hub.Decide(ctx, id, step, *reason)
	if err != nil {
		return hubError(err)
	}
	if *hf.asJSON {
		a.Picture, a.CSR = nil, nil
		for i := range a.Attachments {
			a.Attachments[i].Data = nil
		}
	}
	return printApp(env, *hf.asJSON, a)
}
