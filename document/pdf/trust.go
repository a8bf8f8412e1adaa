package pdf

import (
	"encoding/pem"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
)

// checkTrust builds a chain from the signer certificate through the certificates the signature
// carries to the anchors given for this run, at the signing time. Without anchors trust is
// "unknown". Revocation stays "unknown" (offline).
//
// TODO(trust): switch to signer/trust (chain + validity + revocation) once that package lands;
// this is the minimal chain check the verifier needs meanwhile.
func checkTrust(sr *document.SignatureReport, leaf *smx509.Certificate, certs []*smx509.Certificate, at time.Time, anchors *smx509.CertPool, dss []*smx509.Certificate) {
	certs = append(append([]*smx509.Certificate(nil), certs...), dss...)
	if anchors == nil {
		sr.Trust = document.Unknown
		sr.AddProblem(CodeTrustUnknown, "no trust anchors were given (use --trust); the signer's chain was not checked")
		return
	}
	inter := smx509.NewCertPool()
	for _, c := range certs {
		if c != nil && c != leaf {
			inter.AddCert(c)
		}
	}
	_, err := leaf.Verify(smx509.VerifyOptions{Roots: anchors, Intermediates: inter, CurrentTime: at,
		KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}})
	if err != nil {
		sr.Trust = document.Failed
		sr.AddProblem(CodeTrustFailed, "the signer certificate does not chain to a trusted root at %s: %v", at.UTC().Format(time.RFC3339), err)
		return
	}
	sr.Trust = document.OK
}

// dssCertificates returns the certificates of the document security store (/DSS /Certs):
// validation data that may complete a chain, never trust anchors.
func dssCertificates(v *View) []*smx509.Certificate {
	cat, _, err := v.Catalog()
	if err != nil {
		return nil
	}
	dss := v.Dict(cat["DSS"])
	if dss == nil {
		return nil
	}
	var out []*smx509.Certificate
	for _, o := range v.Array(dss["Certs"]) {
		st, ok := v.Resolve(o).(*Stream)
		if !ok || st.Length > 1<<20 {
			continue
		}
		der, err := v.rd.StreamData(st)
		if err != nil {
			continue
		}
		if c, err := smx509.ParseCertificate(der); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// pemBlock returns the DER of the next CERTIFICATE block of b and the rest.
func pemBlock(b []byte) ([]byte, []byte) {
	for {
		blk, rest := pem.Decode(b)
		if blk == nil {
			return nil, nil
		}
		if blk.Type == "CERTIFICATE" {
			return blk.Bytes, rest
		}
		b = rest
	}
}
