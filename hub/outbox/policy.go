package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
)

// Policy is how CheckSealUsable decides; see the package documentation.
type Policy struct {
	// Hub is asked live when set; nil decides from the cache alone.
	Hub *client.Client
	// MaxAge is how old a cached "active" answer may be for offline signing (default 72 h).
	MaxAge time.Duration
	// Timeout bounds the live question (default 3 s), so an unreachable hub delays signing
	// only briefly before the cache decides.
	Timeout time.Duration
}

// DefaultMaxAge is the freshness an offline "active" answer needs by default.
const DefaultMaxAge = 72 * time.Hour

// ErrSealNotUsable matches (errors.Is) every *SealError.
var ErrSealNotUsable = errors.New("seal not usable")

// SealError says why a seal may not sign now. Code is stable: seal_revoked, seal_suspended,
// seal_withdrawn, seal_lost, seal_not_filed, seal_expired, seal_not_yet_valid, status_stale,
// status_unknown, hub_refused.
type SealError struct {
	SealID string
	Code   string
	Status string    // the hub's status, when known
	Reason string    // the hub's reason for it
	Since  time.Time // when the status took effect, or when the stale answer was produced
	Err    error     // the hub error behind status_unknown / hub_refused
	msg    string
}

func (e *SealError) Error() string        { return e.msg }
func (e *SealError) Unwrap() error        { return e.Err }
func (e *SealError) Is(target error) bool { return target == ErrSealNotUsable }

// Decision is the outcome of a usable seal check, for display (e.g. "active, checked online").
type Decision struct {
	Status     string
	Online     bool
	ProducedAt time.Time
}

// CheckSealUsable returns nil when the seal may sign now, else a *SealError saying why not.
func (o *Outbox) CheckSealUsable(ctx context.Context, sealID string, pol Policy) error {
	_, err := o.Decide(ctx, sealID, pol)
	return err
}

// Decide is CheckSealUsable that also reports what the decision rested on.
func (o *Outbox) Decide(ctx context.Context, sealID string, pol Policy) (Decision, error) {
	if pol.MaxAge <= 0 {
		pol.MaxAge = DefaultMaxAge
	}
	if pol.Timeout <= 0 {
		pol.Timeout = 3 * time.Second
	}
	now := o.opt.Now()
	var liveErr error
	if pol.Hub != nil {
		qctx, cancel := context.WithTimeout(ctx, pol.Timeout)
		_, _, err := o.RefreshStatus(qctx, pol.Hub, sealID)
		cancel()
		if err == nil {
			st, produced, err := o.cached(sealID, pol.Hub.URL())
			if err != nil {
				return Decision{}, err
			}
			return Decision{Status: st.Status, Online: true, ProducedAt: produced}, judge(sealID, st, now)
		}
		if !client.Temporary(err) {
			return Decision{}, &SealError{SealID: sealID, Code: "hub_refused", Err: err,
				msg: fmt.Sprintf("cannot check seal %s: the hub %s refused the status question: %v", sealID, pol.Hub.URL(), err)}
		}
		liveErr = err
	}
	hubURL := ""
	if pol.Hub != nil {
		hubURL = pol.Hub.URL()
	}
	st, produced, err := o.cached(sealID, hubURL)
	if errors.Is(err, sql.ErrNoRows) {
		why := "no hub is configured"
		if liveErr != nil {
			why = fmt.Sprintf("the hub is unreachable (%v)", liveErr)
		}
		return Decision{}, &SealError{SealID: sealID, Code: "status_unknown", Err: liveErr,
			msg: fmt.Sprintf("seal %s: its status is not known here and %s; connect to the hub once (sealctl sync) before signing offline", sealID, why)}
	}
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Status: st.Status, ProducedAt: produced}
	// A refusal never goes stale: a revoked seal stays refused however old the answer.
	if e := judge(sealID, st, now); e != nil {
		return d, e
	}
	if age := now.Sub(produced); age > pol.MaxAge {
		return d, &SealError{SealID: sealID, Code: "status_stale", Status: st.Status, Since: produced, Err: liveErr,
			msg: fmt.Sprintf("seal %s: the last status from the hub is %s old (from %s), more than the %s allowed offline; sync with the hub (sealctl sync) to sign",
				sealID, age.Round(time.Minute), produced.UTC().Format(time.RFC3339), pol.MaxAge)}
	}
	return d, nil
}

func judge(sealID string, st api.SealStatus, now time.Time) error {
	switch st.Status {
	case api.StatusActive:
	case api.StatusUnknown:
		return &SealError{SealID: sealID, Code: "seal_not_filed", Status: st.Status,
			msg: fmt.Sprintf("seal %s is not filed on the hub; signing with an unfiled seal is refused", sealID)}
	default:
		verb := map[string]string{api.StatusRevoked: "revoked", api.StatusSuspended: "suspended",
			api.StatusWithdrawn: "withdrawn", api.StatusLost: "reported lost"}[st.Status]
		reason := ""
		if st.Reason != "" {
			reason = " (reason: " + st.Reason + ")"
		}
		return &SealError{SealID: sealID, Code: "seal_" + st.Status, Status: st.Status, Reason: st.Reason, Since: st.StatusAt,
			msg: fmt.Sprintf("seal %s (%s) was %s on %s%s; signing with it is refused", sealID, st.Name, verb,
				st.StatusAt.UTC().Format(time.RFC3339), reason)}
	}
	if !st.ValidStart.IsZero() && now.Before(st.ValidStart) {
		return &SealError{SealID: sealID, Code: "seal_not_yet_valid", Status: st.Status, Since: st.ValidStart,
			msg: fmt.Sprintf("seal %s is valid only from %s", sealID, st.ValidStart.UTC().Format(time.RFC3339))}
	}
	if !st.ValidEnd.IsZero() && now.After(st.ValidEnd) {
		return &SealError{SealID: sealID, Code: "seal_expired", Status: st.Status, Since: st.ValidEnd,
			msg: fmt.Sprintf("seal %s expired on %s; renew it before signing", sealID, st.ValidEnd.UTC().Format(time.RFC3339))}
	}
	return nil
}

// CheckCachedRefusal is the check for standalone signing (no hub configured): it refuses a
// seal whose cached, hub-signed status says it may not sign (revoked, suspended, withdrawn,
// lost, not filed, or outside its validity), however old that answer is, and allows a seal the
// outbox knows nothing about or knows as active. A cached answer that no longer verifies under
// its hub's pinned key is an error, not a pass: the cache was tampered with.
func (o *Outbox) CheckCachedRefusal(sealID string) error {
	st, _, err := o.cached(sealID, "")
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return judge(sealID, st, o.opt.Now())
}

// cached returns the cached status of a seal after checking the hub's signature on it again
// with the key pinned for that hub (hubURL "" accepts the answer of any pinned hub).
func (o *Outbox) cached(sealID, hubURL string) (api.SealStatus, time.Time, error) {
	var signed string
	err := o.db.QueryRow(`SELECT a.signed FROM status s JOIN answers a ON a.id = s.answer_id WHERE s.es_id = $1`, sealID).Scan(&signed)
	if err != nil {
		return api.SealStatus{}, time.Time{}, err
	}
	var ans struct {
		Hub string `json:"hub"`
		api.SignedStatus
	}
	if err := json.Unmarshal([]byte(signed), &ans); err != nil {
		return api.SealStatus{}, time.Time{}, fmt.Errorf("outbox: the cached status of seal %s is corrupt: %w", sealID, err)
	}
	if hubURL != "" && ans.Hub != hubURL {
		return api.SealStatus{}, time.Time{}, sql.ErrNoRows
	}
	pemText, err := o.pinnedKeyPEM(ans.Hub)
	if err != nil {
		return api.SealStatus{}, time.Time{}, err
	}
	pub, err := api.ParseHubKey(pemText)
	if err != nil {
		return api.SealStatus{}, time.Time{}, fmt.Errorf("outbox: no pinned key for %s to check the cached status of seal %s", ans.Hub, sealID)
	}
	p, err := ans.Open(pub)
	if err != nil {
		return api.SealStatus{}, time.Time{}, fmt.Errorf("outbox: cached status of seal %s: %w", sealID, err)
	}
	for _, st := range p.Statuses {
		if st.ESID == sealID {
			return st, p.ProducedAt, nil
		}
	}
	return api.SealStatus{}, time.Time{}, fmt.Errorf("outbox: the cached answer does not mention seal %s", sealID)
}

// CachedStatus returns the cached, re-verified status of a seal (for display and for
// `sealctl verify --hub` offline), and when the hub produced it.
func (o *Outbox) CachedStatus(sealID string) (api.SealStatus, time.Time, error) {
	return o.cached(sealID, "")
}
