package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"image"
	"image/color"
	"image/png"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/outbox"
)

// TestExpiredIsDerived: a seal past its validity end is listed as "expired" (never stored:
// the stored status stays active), filters by it, and signing with it is refused with the
// reason seal_expired.
func TestExpiredIsDerived(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		var clock atomic.Int64
		clock.Store(time.Now().UnixNano())
		now := func() time.Time { return time.Unix(0, clock.Load()) }
		h := startLifecycle(t, kind, now)
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		app, err := h.applicantA.Apply(ctx, api.ApplicationRequest{SealType: "04", SealName: "Org A 合同专用章", CSR: csrFor(t, key),
			Contact: "张三 010-12345678", ValidDays: 1, Submit: true})
		if err != nil {
			t.Fatal(err)
		}
		if app, err = h.reviewerB.Decide(ctx, app.ID, "approve", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := h.applicantA.Delivered(ctx, app.ESID); err != nil {
			t.Fatal(err)
		}
		ob, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), outbox.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		defer ob.Close()
		pol := outbox.Policy{Hub: h.applicantA}
		if err := ob.CheckSealUsable(ctx, app.ESID, pol); err != nil {
			t.Fatalf("a fresh seal: %v", err)
		}

		clock.Add(int64(49 * time.Hour)) // past the one-day validity
		s, err := h.applicantA.Seal(ctx, app.ESID)
		if err != nil || s.Status != api.StatusExpired {
			t.Fatalf("seal after its validity: %v %+v", err, s)
		}
		for filter, want := range map[string]int{"": 2, api.StatusExpired: 1, api.StatusActive: 1} {
			seals, err := h.applicantA.ListSeals(ctx, "", filter)
			if err != nil || len(seals) != want {
				t.Fatalf("list %q: %v, %d seals, want %d", filter, err, len(seals), want)
			}
			for _, s := range seals {
				if s.ESID == app.ESID && s.Status != api.StatusExpired {
					t.Fatalf("list %q shows the expired seal as %s", filter, s.Status)
				}
			}
		}
		var se *outbox.SealError
		if err := ob.CheckSealUsable(ctx, app.ESID, pol); !errors.As(err, &se) || se.Code != "seal_expired" {
			t.Fatalf("signing with an expired seal: %v", err)
		}
		// Offline, from the cached hub answer, it stays refused.
		if err := ob.CheckCachedRefusal(app.ESID); !errors.As(err, &se) || se.Code != "seal_expired" {
			t.Fatalf("offline check of an expired seal: %v", err)
		}
		// A final status is not overridden by the validity.
		if _, err := h.applicantA.SetStatus(ctx, app.ESID, api.StatusChange{Status: api.StatusLost, Reason: "遗失"}); err != nil {
			t.Fatal(err)
		}
		if s, _ := h.applicantA.Seal(ctx, app.ESID); s.Status != api.StatusLost {
			t.Fatalf("a lost, expired seal shows %s", s.Status)
		}
	})
}

// TestApplicationFilesChecked: the hub refuses a picture and attachments the applicant's
// side would have refused (api.CheckRequest), naming the field.
func TestApplicationFilesChecked(t *testing.T) {
	h := startLifecycle(t, "sqlite")
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	req := api.ApplicationRequest{SealType: "04", SealName: "Org A 合同专用章", CSR: csrFor(t, key), Contact: "张三", Submit: true}
	opaque := image.NewNRGBA(image.Rect(0, 0, 200, 200))
	for i := range opaque.Pix {
		opaque.Pix[i] = 0xff
	}
	var b bytes.Buffer
	png.Encode(&b, opaque)
	for name, mod := range map[string]func(r *api.ApplicationRequest){
		"opaque picture": func(r *api.ApplicationRequest) { r.Picture = b.Bytes() },
		"JPEG picture":   func(r *api.ApplicationRequest) { r.Picture = []byte("\xff\xd8\xff\xe0 not png") },
		"exe attachment": func(r *api.ApplicationRequest) {
			r.Attachments = []api.Attachment{{Name: "licence.pdf", Data: []byte("MZ\x90\x00 a program")}}
		},
		"validity": func(r *api.ApplicationRequest) { r.ValidDays = 4000 },
	} {
		r := req
		mod(&r)
		_, err := h.applicantA.Apply(ctx, r)
		wantCode(t, name, err, 422, api.CodeInvalidField)
	}
	// A transparent picture passes.
	ring := image.NewNRGBA(image.Rect(0, 0, 200, 200))
	for x := 0; x < 200; x++ {
		ring.Set(x, 100, color.NRGBA{R: 0xd0, A: 0xff})
	}
	b.Reset()
	png.Encode(&b, ring)
	req.Picture = b.Bytes()
	if _, err := h.applicantA.Apply(ctx, req); err != nil {
		t.Fatalf("a transparent picture: %v", err)
	}
}
