package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DecodeStrict reads one JSON value from data into v and refuses what a lenient decoder would
// let through on a request that changes state: a key given twice in one object (encoding/json
// keeps the last, so {"status":"active","status":"revoked"} would revoke), a key v does not
// have (a misspelt field silently ignored), and anything after the value. The standard library
// has no duplicate-key check (encoding/json/v2, which does, is still experimental), so the
// token walk below does it.
func DecodeStrict(data []byte, v any) error {
	if err := checkDuplicateKeys(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return errors.New("not valid JSON: it ends too early")
		}
		// encoding/json says `json: unknown field "x"`; keep its words, drop its prefix.
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// checkDuplicateKeys walks the tokens of data and fails on the first object that names a key
// twice, saying where (the path of the object).
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		path   string
		next   string // the key whose value comes next (objects), or the index (arrays)
		index  int
		expect bool // objects: the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not valid JSON: %v", err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expect {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			key := tok.(string) // the decoder guarantees a string key here
			if top.keys[key] {
				where := top.path
				if where == "" {
					where = "the body"
				}
				return fmt.Errorf("key %q appears twice in %s", key, where)
			}
			top.keys[key] = true
			top.next, top.expect = key, false
			continue
		}
		childPath := ""
		if top != nil {
			if top.object {
				childPath = top.path + "." + top.next
				top.expect = true
			} else {
				childPath = fmt.Sprintf("%s[%d]", top.path, top.index)
				top.index++
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, path: strings.TrimPrefix(childPath, "."), expect: true})
		case json.Delim('['):
			stack = append(stack, &frame{path: strings.TrimPrefix(childPath, ".")})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}
