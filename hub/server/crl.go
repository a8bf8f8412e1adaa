package server

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"regexp"
	"strconv"

	"sealdesk/hub/api"
)

// crlName is what GET /v1/crl/{name} accepts: one plain file name ending in .crl, so a request
// can never reach outside Options.CRLDir (os.Root enforces the same again).
var crlName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.crl$`)

// maxCRL bounds what the hub sends: CRL files are written by the operator, but a huge or
// mistaken file should not be streamed to every verifier.
const maxCRL = 32 << 20

// addCRLRoute registers GET /v1/crl/{name}: the DER CRL file <name> from Options.CRLDir. The
// route is public (CRLs are public and signed by their issuer; verifiers fetch them without
// credentials) and is not rate limited per credential for the same reason.
func (h *Hub) addCRLRoute(mux *http.ServeMux) {
	mux.Handle("/v1/crl/{name}", http.HandlerFunc(h.serveCRL))
}

func (h *Hub) serveCRL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, api.Errf(api.CodeMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path))
		return
	}
	name := r.PathValue("name")
	if h.opt.CRLDir == "" {
		writeError(w, api.Errf(api.CodeNotFound, "this hub publishes no CRLs (start it with --demo DIR or a CRL directory); asked for %q", name))
		return
	}
	if !crlName.MatchString(name) {
		writeError(w, api.Errf(api.CodeNotFound, "no CRL named %q: a CRL name is a plain file name ending in .crl", name))
		return
	}
	root, err := os.OpenRoot(h.opt.CRLDir)
	if err != nil {
		writeError(w, api.Errf(api.CodeInternal, "the CRL directory cannot be opened"))
		return
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			writeError(w, api.Errf(api.CodeNotFound, "no CRL named %q", name))
		} else {
			writeError(w, api.Errf(api.CodeInternal, "CRL %q cannot be read", name))
		}
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		writeError(w, api.Errf(api.CodeNotFound, "no CRL named %q", name))
		return
	}
	if st.Size() > maxCRL {
		writeError(w, api.Errf(api.CodeInternal, "CRL %q is larger than %d bytes", name, maxCRL))
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	// Short caching: verifiers keep a CRL until its nextUpdate anyway, and a re-issued file
	// (a new demo workspace) should reach shared caches quickly.
	w.Header().Set("Cache-Control", "public, max-age=300")
	http.ServeContent(w, r, "", st.ModTime(), f)
}
