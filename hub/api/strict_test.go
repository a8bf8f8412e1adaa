package api

import (
	"strings"
	"testing"
)

func TestDecodeStrict(t *testing.T) {
	type inner struct {
		A int `json:"a"`
	}
	type body struct {
		Status string  `json:"status"`
		Items  []inner `json:"items"`
		Obj    inner   `json:"obj"`
	}
	for _, c := range []struct{ in, err string }{
		{`{"status":"active","items":[{"a":1},{"a":2}],"obj":{"a":3}}`, ""},
		{`{"status":"active","status":"revoked"}`, `key "status" appears twice in the body`},
		{`{"items":[{"a":1},{"a":1,"a":2}]}`, `key "a" appears twice in items[1]`},
		{`{"obj":{"a":1,"a":1}}`, `key "a" appears twice in obj`},
		{`{"statuss":"revoked"}`, `unknown field "statuss"`},
		{`{"obj":{"b":1}}`, `unknown field "b"`},
		{`{"status":"active"} {}`, `data after the JSON value`},
		{`{"status":`, `not valid JSON`},
		{`[1,2]`, `cannot unmarshal array`},
		// The same key in sibling objects is fine.
		{`{"items":[{"a":1},{"a":1}],"obj":{"a":1}}`, ""},
	} {
		var b body
		err := DecodeStrict([]byte(c.in), &b)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.in, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: got %v, want %q", c.in, err, c.err)
		}
	}
}

func FuzzDecodeStrict(f *testing.F) {
	f.Add([]byte(`{"status":"active","status":"revoked"}`))
	f.Add([]byte(`{"items":[{"a":1},{"a":2,"a":3}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v struct {
			Status string `json:"status"`
			Items  []struct {
				A int `json:"a"`
			} `json:"items"`
		}
		_ = DecodeStrict(data, &v) // must not panic
	})
}
