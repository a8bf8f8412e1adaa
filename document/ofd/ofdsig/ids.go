package ofdsig

import (
	"fmt"
	"strconv"
	"strings"
)

// nextSignID picks the ID of a new signature from MaxSignId and the IDs in use, keeping the
// style the document already has ("s006" → "s007", "002" → "003", "2" → "3"); a document
// without signatures starts at "s001" (ST_ID must be an xs:ID, so it starts with a letter).
func nextSignID(maxSignID string, used []string) string {
	prefix, width, n := "s", 3, 0
	seen := map[string]bool{}
	consider := func(id string, style bool) {
		p, digits := splitID(id)
		if digits == "" {
			return
		}
		v, err := strconv.Atoi(digits)
		if err != nil {
			return
		}
		if style {
			prefix, width = p, len(digits)
			if !strings.HasPrefix(digits, "0") {
				width = 0
			}
		}
		n = max(n, v)
	}
	for i, id := range used {
		seen[id] = true
		consider(id, maxSignID == "" && i == len(used)-1)
	}
	if maxSignID != "" {
		consider(maxSignID, true)
	}
	for {
		n++
		id := prefix + fmt.Sprintf("%0*d", width, n)
		if !seen[id] {
			return id
		}
	}
}

// splitID splits "s006" into "s" and "006".
func splitID(id string) (prefix, digits string) {
	id = strings.TrimSpace(id)
	i := len(id)
	for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
		i--
	}
	return id[:i], id[i:]
}
