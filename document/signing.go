package document

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sealdesk/signer"
)

// SignedPath picks where the signed copy of in goes: in dir (the input's own directory when
// dir is "") as NAME-signed.EXT, or NAME-signed-2.EXT, … when that name is taken — never over
// an existing file. The CLI and the app share this rule.
func SignedPath(in, dir string) string {
	if dir == "" {
		dir = filepath.Dir(in)
	}
	ext := filepath.Ext(in)
	base := strings.TrimSuffix(filepath.Base(in), ext)
	for i := 1; ; i++ {
		name := base + "-signed" + ext
		if i > 1 {
			name = fmt.Sprintf("%s-signed-%d%s", base, i, ext)
		}
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p
		}
	}
}

// DefaultProfile is the profile used when none is chosen: ofd-ses4 for OFD files; for PDF,
// pdf-gm (GM/T 0010 CMS, what Chinese PDF readers expect) with SM2 keys and PAdES otherwise.
func DefaultProfile(path string, alg signer.KeyAlgorithm) (Profile, error) {
	f, _, err := Detect(path)
	if err != nil {
		return "", err
	}
	if f == OFD {
		return ProfileOFDSES4, nil
	}
	if alg == signer.SM2 {
		return ProfilePDFGM, nil
	}
	return ProfilePAdES, nil
}
