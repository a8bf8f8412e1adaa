package cli

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"sealdesk/document"
	"sealdesk/hub/api"
	"sealdesk/hub/registry"
	"sealdesk/hub/registry/registrar"
	"sealdesk/hub/server"
	"sealdesk/hub/store"
	"sealdesk/signer/trust"
)

// Mutual recognition (issue 14): sealhub serve --role provider|registry, the registry admin's
// commands (sealhub registry …) and the client's bundle check (sealctl registry bundle).
// The logic is hub/registry; these only parse flags and print.

func init() {
	Register(&Command{Program: "sealhub", Path: []string{"key", "show"}, Usage: "[--db DSN] [--key FILE]",
		Short: "print this hub's public status key (PEM): a provider gives it to the registry, a registry to its clients", Run: runHubKeyShow})
	Register(&Command{Program: "sealhub", Path: []string{"registry", "accredit"},
		Usage: "--id ID [--name NAME] [--key PROVIDER-KEY.pem] [--maker CERT.pem]... [--ca-root CERT.pem]... [--endpoint URL] [--db DSN]",
		Short: "accredit a seal provider at this registry (new, updated or reinstated)", Run: runRegistryAccredit})
	Register(&Command{Program: "sealhub", Path: []string{"registry", "suspend"}, Usage: "ID [--db DSN]",
		Short: "suspend a provider: its filings are refused and it leaves the trust bundle", Run: runRegistrySuspend})
	Register(&Command{Program: "sealhub", Path: []string{"registry", "list"}, Usage: "[--db DSN] [--json]",
		Short: "list the registry's providers with their status and filings", Run: runRegistryList})
	Register(&Command{Program: "sealhub", Path: []string{"registry", "bundle"}, Usage: "[--out FILE] [--ttl D] [--db DSN]",
		Short: "issue the signed trust bundle now (as GET /v1/registry/bundle serves it)", Run: runRegistryBundle})
	Register(&Command{Program: "sealhub", Path: []string{"registry", "queue"}, Usage: "[--db DSN] [--json]",
		Short: "a provider's filings: how many wait for the registry and how many it acknowledged", Run: runRegistryQueue})
	Register(&Command{Program: "sealctl", Path: []string{"registry", "bundle"}, Usage: "[--json]",
		Short: "fetch and check the trust bundle of the configured registry ($SEALDESK_REGISTRY, $SEALDESK_REGISTRY_KEY)", Run: runClientBundle})
}

// Roles of sealhub serve.
const (
	roleProvider = "provider"
	roleRegistry = "registry"
)

type roleOpts struct {
	role, registryURL, providerID, registryKey *string
	bundleTTL                                  *time.Duration
}

func roleFlags(fs *flag.FlagSet) roleOpts {
	return roleOpts{
		role:        fs.String("role", roleProvider, "provider (makes and serves seals; files them with --registry) or registry (备案: accredits providers, answers status across them, serves the trust bundle)"),
		registryURL: fs.String("registry", "", "provider: the filing registry's `URL`; every new seal and status change is filed there through a durable queue"),
		providerID:  fs.String("provider-id", "", "provider: this provider's `id` at the registry"),
		registryKey: fs.String("registry-key", "", "provider: the registry's public key `file` (PEM); serve refuses a registry that answers with another key"),
		bundleTTL:   fs.Duration("bundle-ttl", 24*time.Hour, "registry: how long a trust bundle is valid"),
	}
}

// roleRun is what a role adds to a running hub.
type roleRun struct {
	queue *registrar.Queue
	reg   *registrar.Registry
	key   *ecdsa.PrivateKey
}

// setup checks the role flags and, for a filing provider, installs its queue as the hub's
// registrar (before server.New).
func (o roleOpts) setup(ctx context.Context, env *Env, st store.Store, key *ecdsa.PrivateKey, opt *server.Options) (*roleRun, error) {
	r := &roleRun{key: key}
	switch *o.role {
	case roleProvider:
		if *o.registryURL == "" {
			if *o.providerID != "" || *o.registryKey != "" {
				return nil, Usagef("--provider-id and --registry-key need --registry URL")
			}
			return r, nil
		}
		if *o.providerID == "" {
			return nil, Usagef("--registry needs --provider-id (this provider's id at the registry)")
		}
		if *o.registryKey != "" {
			if err := checkRegistryKey(ctx, env, *o.registryURL, *o.registryKey); err != nil {
				return nil, err
			}
		}
		q, err := registrar.NewQueue(st, strings.TrimRight(*o.registryURL, "/"), *o.providerID, key)
		if err != nil {
			return nil, Usagef("%v", err)
		}
		opt.Registrar, r.queue = q, q
	case roleRegistry:
		if *o.registryURL != "" || *o.providerID != "" || *o.registryKey != "" {
			return nil, Usagef("--registry, --provider-id and --registry-key are a provider's flags, not the registry's")
		}
		reg, err := registrar.New(st, key)
		if err != nil {
			return nil, Usagef("%v", err)
		}
		reg.BundleTTL = *o.bundleTTL
		r.reg = reg
	default:
		return nil, Usagef("--role %q: want provider or registry", *o.role)
	}
	return r, nil
}

// checkRegistryKey compares the registry's key with the pinned one when the registry is
// reachable; an unreachable registry is only reported (filings wait in the queue).
func checkRegistryKey(ctx context.Context, env *Env, url, keyFile string) error {
	pin, err := registry.LoadKey(keyFile)
	if err != nil {
		return Usagef("--registry-key: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, strings.TrimRight(url, "/")+registry.PathKey, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(env.Stderr, "sealhub: the registry %s is not reachable now (%v); filings wait in the queue\n", url, err)
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	got, err := api.ParseHubKey(string(b))
	if err != nil || !got.Equal(pin) {
		return Usagef("the registry at %s does not answer with the key in %s: refusing to file there", url, keyFile)
	}
	return nil
}

// handler mounts the role's routes under /v1/registry/ beside the hub's own.
func (r *roleRun) handler(h *server.Hub, inner http.Handler) http.Handler {
	mux := http.NewServeMux()
	if r.reg != nil {
		mux.Handle("/v1/registry/", r.reg.Handler())
	} else {
		// Every provider answers its own seals' status at T, for clients whose registry is
		// unreachable (registry.Resolver.StatusAt).
		mux.Handle("/v1/registry/", registrar.ProviderHandler(h, r.key))
	}
	mux.Handle("/", inner)
	return mux
}

// start runs the filing queue until ctx ends.
func (r *roleRun) start(ctx context.Context) {
	if r.queue != nil {
		go r.queue.Run(ctx)
	}
}

func (r *roleRun) describe(o roleOpts) string {
	switch {
	case r.reg != nil:
		return "role registry"
	case r.queue != nil:
		return fmt.Sprintf("role provider %s, filing with %s", *o.providerID, *o.registryURL)
	}
	return "role provider (no registry)"
}

// hubKey opens the key of the hub whose store is dsn (as serve finds it).
func hubKey(keyFile, dsn string) (*ecdsa.PrivateKey, error) {
	if keyFile == "" {
		keyFile = defaultKeyPath(dsn)
	}
	if !fileExists(keyFile) {
		return nil, Usagef("no hub key at %s (sealhub serve makes it; or give --key FILE)", keyFile)
	}
	k, err := server.LoadOrCreateKey(keyFile)
	if err != nil {
		return nil, Usagef("%v", err)
	}
	return k, nil
}

func runHubKeyShow(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "key show", "[--db DSN] [--key FILE]")
	db := dbFlag(fs)
	keyFile := fs.String("key", "", "the hub key `file` (default: where serve keeps it)")
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	k, err := hubKey(*keyFile, *db)
	if err != nil {
		return err
	}
	pemText, err := api.PublicKeyPEM(&k.PublicKey)
	if err != nil {
		return err
	}
	_, err = io.WriteString(env.Stdout, pemText)
	return err
}

// openRegistry opens the registry service on its store (admin commands act on the database
// directly, like the other admin commands).
func openRegistry(ctx context.Context, dsn string) (*registrar.Registry, store.Store, error) {
	key, err := hubKey("", dsn)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, nil, Usagef("%v", err)
	}
	reg, err := registrar.New(st, key)
	if err != nil {
		st.Close()
		return nil, nil, Usagef("%v", err)
	}
	return reg, st, nil
}

func readCertsDER(files []string, what string) ([][]byte, error) {
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, Usagef("%s: %v", what, err)
		}
		certs, err := trust.ParseCertificates(b)
		if err != nil || len(certs) == 0 {
			return nil, Usagef("%s %s: no certificate (PEM or DER): %v", what, f, err)
		}
		for _, c := range certs {
			out = append(out, c.Raw)
		}
	}
	return out, nil
}

func runRegistryAccredit(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "registry accredit", "--id ID [--name NAME] [--key PROVIDER-KEY.pem] [--maker CERT]... [--ca-root CERT]... [--endpoint URL] [--db DSN]")
	id := fs.String("id", "", "the provider's `id` (it files with sealhub serve --provider-id ID)")
	name := fs.String("name", "", "the provider's `name`")
	keyFile := fs.String("key", "", "the provider's public hub key `file` (PEM; sealhub key show at the provider); required for a new provider")
	makers := StringList(fs, "maker", "a seal-maker certificate `file` of the provider (PEM or DER; repeatable; replaces the list)")
	roots := StringList(fs, "ca-root", "a CA root certificate `file` of the provider's holders (repeatable; replaces the list)")
	endpoint := fs.String("endpoint", "", "the provider's public `URL` (clients ask it when the registry is unreachable)")
	db := dbFlag(fs)
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	if *id == "" {
		return Usagef("give --id ID")
	}
	reg, st, err := openRegistry(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	p := registry.Provider{ID: *id}
	if old, err := reg.Provider(ctx, *id); err == nil {
		p = *old
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	} else if *keyFile == "" {
		return Usagef("provider %s is new: give --key PROVIDER-KEY.pem", *id)
	}
	if *name != "" {
		p.Name = *name
	}
	if *endpoint != "" {
		p.Endpoint = strings.TrimRight(*endpoint, "/")
	}
	if *keyFile != "" {
		k, err := registry.LoadKey(*keyFile)
		if err != nil {
			return Usagef("--key: %v", err)
		}
		p.KeyPEM, _ = api.PublicKeyPEM(k)
	}
	if len(*makers) > 0 {
		if p.MakerCerts, err = readCertsDER(*makers, "--maker"); err != nil {
			return err
		}
	}
	if len(*roots) > 0 {
		if p.CARoots, err = readCertsDER(*roots, "--ca-root"); err != nil {
			return err
		}
	}
	if err := reg.Accredit(ctx, p); err != nil {
		return Usagef("%v", err)
	}
	fmt.Fprintf(env.Stdout, "provider %s accredited (%d seal-maker certificates, %d CA roots)\n", p.ID, len(p.MakerCerts), len(p.CARoots))
	return nil
}

func runRegistrySuspend(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "registry suspend", "ID [--db DSN]")
	db := dbFlag(fs)
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return Usagef("registry suspend takes one provider id")
	}
	reg, st, err := openRegistry(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := reg.SetProviderStatus(ctx, args[0], registry.Suspended); errors.Is(err, store.ErrNotFound) {
		return Nof("provider %s is not known to this registry", args[0])
	} else if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "provider %s suspended: its filings are refused and it leaves the trust bundle\n", args[0])
	return nil
}

// providerRow is one line of sealhub registry list.
type providerRow struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	Endpoint   string    `json:"endpoint,omitempty"`
	MakerCerts int       `json:"makerCerts"`
	CARoots    int       `json:"caRoots"`
	Filings    int       `json:"filings"`
	Updated    time.Time `json:"updated"`
}

func runRegistryList(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "registry list", "[--db DSN] [--json]")
	db := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	reg, st, err := openRegistry(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	ps, err := reg.Providers(ctx)
	if err != nil {
		return err
	}
	counts, err := reg.FilingCounts(ctx)
	if err != nil {
		return err
	}
	rows := make([]providerRow, 0, len(ps))
	total := 0
	for _, p := range ps {
		rows = append(rows, providerRow{ID: p.ID, Name: p.Name, Status: p.Status, Endpoint: p.Endpoint, MakerCerts: len(p.MakerCerts),
			CARoots: len(p.CARoots), Filings: counts[p.ID], Updated: p.Updated})
	}
	for _, n := range counts {
		total += n
	}
	if *asJSON {
		return PrintJSON(env.Stdout, map[string]any{"providers": rows, "filings": total})
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tFILINGS\tMAKERS\tENDPOINT\tNAME")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", r.ID, r.Status, r.Filings, r.MakerCerts, orDashStr(r.Endpoint, "-"), r.Name)
	}
	fmt.Fprintf(tw, "\t\t%d filings in all\n", total)
	return tw.Flush()
}

func runRegistryBundle(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "registry bundle", "[--out FILE] [--ttl D] [--db DSN]")
	out := fs.String("out", "", "write the signed bundle to `FILE` (atomically) instead of stdout")
	ttl := fs.Duration("ttl", 24*time.Hour, "validity of the bundle")
	db := dbFlag(fs)
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	reg, st, err := openRegistry(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	reg.BundleTTL = *ttl
	sb, err := reg.Bundle(ctx)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(sb, "", "  ")
	b = append(b, '\n')
	if *out == "" {
		_, err = env.Stdout.Write(b)
		return err
	}
	if err := document.WriteFileAtomic(*out, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return Usagef("%v", err)
	}
	fmt.Fprintf(env.Stdout, "trust bundle written to %s\n", *out)
	return nil
}

func runRegistryQueue(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "registry queue", "[--db DSN] [--json]")
	db := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return Usagef("%v", err)
	}
	defer st.Close()
	rs, ok := st.(store.RegistryStore)
	if !ok {
		return Usagef("store %s keeps no filing queue", redactDSN(*db))
	}
	pending, acked, err := rs.QueueCounts(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return PrintJSON(env.Stdout, map[string]int{"pending": pending, "acknowledged": acked})
	}
	fmt.Fprintf(env.Stdout, "%d filings wait for the registry, %d acknowledged\n", pending, acked)
	return nil
}

// bundleInfo is what sealctl registry bundle prints.
type bundleInfo struct {
	Registry   string   `json:"registry"`
	Version    int64    `json:"version"`
	Issued     string   `json:"issued"`
	Expires    string   `json:"expires"`
	AgeSeconds int64    `json:"ageSeconds"`
	Providers  []string `json:"providers"`
	Cache      string   `json:"cache"`
}

func runClientBundle(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "registry bundle", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	cfg, err := registry.ConfigFromEnv()
	if err != nil {
		return Usagef("%v", err)
	}
	if cfg == nil {
		return Usagef("no registry configured: set %s (URL) and %s (its public key file)", registry.EnvURL, registry.EnvKey)
	}
	r, err := cfg.Resolver()
	if err != nil {
		return Usagef("%v", err)
	}
	b, err := r.Bundle(ctx)
	if errors.Is(err, registry.ErrBundleSignature) || errors.Is(err, registry.ErrBundleExpired) {
		return Nof("%v", err)
	}
	if err != nil {
		return err
	}
	info := bundleInfo{Registry: cfg.URL, Version: b.Version, Issued: b.Issued.Format(time.RFC3339), Expires: b.Expires.Format(time.RFC3339),
		AgeSeconds: int64(b.Age(time.Now()).Seconds()), Providers: []string{}, Cache: r.Config().CacheFile}
	for _, p := range b.Providers {
		info.Providers = append(info.Providers, p.ID)
	}
	if *asJSON {
		return PrintJSON(env.Stdout, info)
	}
	fmt.Fprintf(env.Stdout, "trust bundle of %s: version %d, issued %s (%s ago), expires %s\naccredited providers: %s\n",
		info.Registry, info.Version, info.Issued, b.Age(time.Now()).Round(time.Second), info.Expires, strings.Join(info.Providers, ", "))
	return nil
}
