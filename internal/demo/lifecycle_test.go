package demo

import (
	"context"
	"os"
	"testing"

	"sealdesk/hub/api"
	"sealdesk/hub/store"
	"sealdesk/signer/keys"
	"sealdesk/signer/ses"
)

// checkLifecycle: the demo organisation obtained lifecycle-seal.esl through apply → approve
// → fetch (it is active on the hub, made for an approved application, and on the token with
// the holder's key), and one more application waits for review.
func checkLifecycle(t *testing.T, ws *Workspace, cfg *keys.Config) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+ws.Path("hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	apps, err := st.ListApplications(ctx, store.ApplicationQuery{OrgID: DemoOrgID})
	if err != nil || len(apps) != 2 {
		t.Fatalf("demo applications: %v %+v", err, apps)
	}
	approved, pending := apps[0], apps[1]
	if approved.Status != api.AppApproved || !api.AppPending(pending.Status) {
		t.Fatalf("demo applications: %s and %s, want approved and one waiting", approved.Status, pending.Status)
	}
	seal, err := st.GetSeal(ctx, approved.ESID)
	if err != nil || seal.Status != api.StatusActive || seal.ApplicationID != approved.ID {
		t.Fatalf("the demo seal on the hub: %v %+v", err, seal)
	}
	der, err := os.ReadFile(ws.Path(LifecycleSealFile))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := ses.ParseSeal(der); err != nil || s.Info.ESID != approved.ESID {
		t.Fatalf("%s: %v", LifecycleSealFile, err)
	}
	var holderURI string
	for _, k := range ws.Manifest.Keys {
		if k.Label == DemoHolderObject {
			holderURI = k.URI
		}
	}
	id, err := keys.OpenWith(ctx, cfg, holderURI, []byte(ws.PIN))
	if err != nil {
		t.Fatalf("the holder key on the demo token: %v", err)
	}
	defer id.Close()
	if len(id.Seals) != 1 || string(id.Seals[0]) != string(der) {
		t.Fatalf("the holder key has %d seals, want the fetched one", len(id.Seals))
	}
}
