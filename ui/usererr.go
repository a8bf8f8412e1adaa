package ui

import (
	"errors"
	"strings"
	"time"

	"sealdesk/document"
	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/outbox"
	"sealdesk/internal/session"
)

// userError says what went wrong in the user's language: the core's classification and the
// registry's stable codes, not the developer's error text. Errors nobody has words for yet keep
// their own text after a plain prefix.
func userError(err error) string {
	if err == nil {
		return ""
	}
	var se *outbox.SealError
	if errors.As(err, &se) {
		key := "seal." + se.Code
		if _, ok := messages[key]; !ok {
			key = "seal.unusable"
		}
		s := T(key)
		if se.Reason != "" {
			s += Tf("seal.reason", se.Reason)
		}
		if !se.Since.IsZero() {
			s += Tf("seal.since", localTime(se.Since))
		}
		return s
	}
	// An OFD refused for a non-SM2 key: the core's own reason, in the UI language.
	var ne *document.NonSM2Error
	if errors.As(err, &ne) {
		return ne.Text(CurrentLang() != English)
	}
	switch session.Classify(err) {
	case session.KindKeyRemoved:
		return T("sign.removed")
	case session.KindPINLocked:
		return T("pin.locked")
	case session.KindCancelled:
		return T("sign.cancelled")
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		return Tf("hub.refused", ae.Code)
	}
	if client.Temporary(err) || strings.Contains(err.Error(), "connection refused") {
		return T("hub.unreachable")
	}
	return err.Error()
}

// localTime shows t in the computer's time zone, as people read clocks.
func localTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// localTimeString re-reads an RFC 3339 time (as reports carry them) in local time; anything
// else is returned as it is.
func localTimeString(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return localTime(t)
	}
	return s
}

// certName is a certificate subject's common name, or the whole subject when it has none.
func certName(cn, subject string) string {
	if cn != "" {
		return cn
	}
	return subject
}
