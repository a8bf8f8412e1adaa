package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"sealdesk/document"
	"sealdesk/internal/report"
)

func init() {
	Register(&Command{
		Path:  []string{"verify"},
		Usage: "FILE [--json] [--report OUT.pdf] [--trust ROOTS.pem] [--cert SIGNER.pem] [--hub URL] [--offline]",
		Short: "verify every signature of a PDF or OFD file",
		Run:   runVerify,
	})
}

// registryCheck, when set (by the hub integration), adds the registry facts to a report.
var registryCheck func(ctx context.Context, hubURL string, rep *document.VerifyReport) error

func runVerify(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "verify", "FILE [--json] [--report OUT.pdf] [--trust ROOTS.pem] [--cert SIGNER.pem] [--hub URL] [--offline]")
	asJSON := fs.Bool("json", false, "print the report as one JSON object (docs/CLI.md)")
	trust := fs.String("trust", "", "PEM `file` of extra trust anchors for this run")
	cert := fs.String("cert", "", "PEM `file` with the signer certificate, for bare signatures that carry none")
	hubURL := fs.String("hub", os.Getenv("SEALDESK_HUB"), "seal registry `URL`: adds each seal's registry status")
	offline := fs.Bool("offline", false, "no network revocation checks (revocation is reported unknown)")
	reportOut := fs.String("report", "", "also write the verification report as a PDF `file` (the app's export)")
	langFlag := fs.String("lang", "", "language of the text output and the report: zh or en (default: from the locale)")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return Usagef("verify takes one FILE (got %d arguments)", len(args))
	}
	opts := &document.VerifyOptions{Offline: *offline}
	if *trust != "" {
		if opts.TrustPEM, err = os.ReadFile(*trust); err != nil {
			return Usagef("cannot read the trust anchors: %v", err)
		}
	}
	if *cert != "" {
		if opts.SignerCertPEM, err = os.ReadFile(*cert); err != nil {
			return Usagef("cannot read the signer certificate: %v", err)
		}
	}
	if st, err := os.Stat(args[0]); err == nil && st.Size() >= progressFrom {
		opts.Progress = verifyProgress(env.Stderr, args[0])
	}
	rep, err := document.VerifyFile(ctx, args[0], opts)
	if err != nil {
		return Usagef("%v", err)
	}
	if *hubURL != "" {
		if registryCheck == nil {
			return Usagef("--hub: the hub client is not built in")
		}
		if err := registryCheck(ctx, *hubURL, rep); err != nil {
			rep.Problems = append(rep.Problems, document.Problem{Code: document.RegistryCode("unreachable"), Message: err.Error()})
		}
		rep.Decide()
	}
	lang := report.LangFromEnv()
	switch *langFlag {
	case "":
	case "zh", "en":
		lang = report.Lang(*langFlag)
	default:
		return Usagef("--lang takes zh or en, not %q", *langFlag)
	}
	if *reportOut != "" {
		if err := document.WriteFileAtomic(*reportOut, func(w io.Writer) error {
			return report.WritePDF(w, rep, report.Options{Lang: lang})
		}); err != nil {
			return Usagef("cannot write the report %s: %v", *reportOut, err)
		}
	}
	if *asJSON {
		if err := PrintJSON(env.Stdout, rep); err != nil {
			return err
		}
	} else {
		printReport(env.Stdout, rep, lang)
	}
	if !rep.Valid {
		return Silent(ExitNo)
	}
	return nil
}

// printReport prints the report for a person: in English the facts and each problem's code
// and detailed message (as before); in Chinese the catalogue's plain sentence for each code.
func printReport(w io.Writer, rep *document.VerifyReport, lang report.Lang) {
	if lang == report.Chinese {
		printReportZh(w, rep)
		return
	}
	fmt.Fprintf(w, "%s (%s): %d signature(s)\n", rep.File, strings.ToUpper(string(rep.Format)), len(rep.Signatures))
	for _, s := range rep.Signatures {
		verdict := "VALID"
		if !s.Valid {
			verdict = "NOT VALID"
		}
		fmt.Fprintf(w, "\nsignature %d: %s  [%s]  indication: %s\n", s.Index+1, verdict, s.Profile, s.Indication)
		if s.Name != "" {
			fmt.Fprintf(w, "  field:         %s\n", s.Name)
		}
		fmt.Fprintf(w, "  signer:        %s\n", s.Signer)
		if s.SignedAt != "" {
			fmt.Fprintf(w, "  signed at:     %s (%s)\n", s.SignedAt, orDash(s.TimeSource))
		}
		fmt.Fprintf(w, "  integrity:     %s\n", s.Integrity)
		fmt.Fprintf(w, "  changes after: %s\n", s.ChangesAfter)
		fmt.Fprintf(w, "  trust:         %s (revocation %s)\n", s.Trust, orDash(string(s.Revocation)))
		if s.Registry != "" {
			fmt.Fprintf(w, "  registry:      %s\n", s.Registry)
		}
		if s.Seal != nil {
			fmt.Fprintf(w, "  seal:          %s %q v%d, valid %s – %s, checks %s\n", s.Seal.ESID, s.Seal.Name,
				s.Seal.Version, s.Seal.ValidStart, s.Seal.ValidEnd, s.Seal.Checks)
		}
		fmt.Fprintf(w, "  covers whole document: %v\n", s.CoversWholeDocument)
		for _, p := range s.Problems {
			fmt.Fprintf(w, "  ! %s: %s\n", p.Code, p.Message)
		}
	}
	if len(rep.Uncovered) > 0 {
		fmt.Fprintf(w, "\nnot covered by any signature:\n")
		for _, u := range rep.Uncovered {
			fmt.Fprintf(w, "  %s\n", u)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "! %s: %s\n", p.Code, p.Message)
	}
	fmt.Fprintf(w, "\nindication: %s\n", rep.Indication)
	if rep.Valid {
		fmt.Fprintln(w, "result: every signature is valid")
	} else if len(rep.Signatures) == 0 {
		fmt.Fprintln(w, "result: the document has no signature")
	} else {
		fmt.Fprintln(w, "result: NOT every signature is valid")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// progressFrom is the file size from which `sealctl verify` shows its progress on stderr.
const progressFrom = 512 << 20

// verifyProgress prints "NAME: verifying… N %" on stderr at each tenth of the file.
func verifyProgress(w io.Writer, name string) func(read, size int64) {
	shown := int64(-1)
	return func(read, size int64) {
		if tenth := read * 10 / size; tenth > shown {
			shown = tenth
			fmt.Fprintf(w, "%s: verifying… %d %%\n", name, tenth*10)
		}
	}
}

func printReportZh(w io.Writer, rep *document.VerifyReport) {
	const l = report.Chinese
	fmt.Fprintf(w, "%s（%s）：%d 个签章\n", rep.File, strings.ToUpper(string(rep.Format)), len(rep.Signatures))
	for i := range rep.Signatures {
		s := &rep.Signatures[i]
		fmt.Fprintf(w, "\n签章 %d：%s  [%s]\n", s.Index+1, report.IndicationText(s.Indication, l), s.Profile)
		for _, kv := range report.Lines(s, l) {
			fmt.Fprintf(w, "  %s：%s\n", kv[0], kv[1])
		}
		for _, t := range report.Reasons(s, l) {
			fmt.Fprintf(w, "  ! %s\n", t)
		}
		for _, t := range report.Notes(s, l) {
			fmt.Fprintf(w, "  · %s\n", t)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "! %s\n", report.Text(p.Code, l))
	}
	if len(rep.Signatures) == 0 {
		fmt.Fprintf(w, "\n结论：%s\n", report.Label("none", l))
		return
	}
	fmt.Fprintf(w, "\n结论：%s\n", report.IndicationText(rep.Indication, l))
}
