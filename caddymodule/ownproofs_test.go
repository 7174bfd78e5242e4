package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestVisitorDownloadsEveryRecord: a consent id with more records than the
// store reads at once (a script posting choices with one cookie) still
// downloads whole and in order, through the visitor's own endpoint and the
// auditor's look-up, which hand them out a record at a time. After an
// erasure done by the auditor, the visitor whose browser still holds the
// cookie gets an empty list, as valid JSON.
func TestVisitorDownloadsEveryRecord(t *testing.T) {
	const posts = 1200 // more than two of the store's batches of 512
	site, admin, _ := auditGateway(t, "many-records")
	c := newClient(t)
	for i := range posts {
		body := `{"all":true}`
		if i%2 == 1 {
			body = `{"all":false}`
		}
		postChoice(t, c, site, body)
	}

	resp, body := get(t, c, site+"/.consent/proofs")
	var own ownRecords
	if err := json.Unmarshal([]byte(body), &own); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("own proofs: %d %v (%d bytes)", resp.StatusCode, err, len(body))
	}
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="consent-records.json"` {
		t.Errorf("own proofs headers: %v", resp.Header)
	}
	if len(own.Records) != posts {
		t.Fatalf("downloaded %d records, want %d", len(own.Records), posts)
	}
	events := map[string]bool{}
	for i, r := range own.Records {
		if r.ConsentID != own.ConsentID || events[r.EventID] {
			t.Fatalf("record %d: consent %q (want %q), event %s seen before: %v", i, r.ConsentID, own.ConsentID, r.EventID, events[r.EventID])
		}
		events[r.EventID] = true
		if i > 0 && r.Supersedes != own.Records[i-1].EventID {
			t.Fatalf("record %d supersedes %s, want the one before it (%s): out of order", i, r.Supersedes, own.Records[i-1].EventID)
		}
	}

	var shown ownRecords
	postID(t, admin, "show", own.ConsentID, http.StatusOK, &shown)
	if len(shown.Records) != posts || shown.ConsentID != own.ConsentID {
		t.Fatalf("the auditor's look-up shows %d records of %q, want %d", len(shown.Records), shown.ConsentID, posts)
	}
	for i, r := range shown.Records {
		if r.EventID != own.Records[i].EventID {
			t.Fatalf("look-up record %d is %s, the download's %s", i, r.EventID, own.Records[i].EventID)
		}
	}

	var erased struct{ Erased int }
	postID(t, admin, "erase", own.ConsentID, http.StatusOK, &erased)
	if erased.Erased != posts {
		t.Fatalf("erased %d records, want %d", erased.Erased, posts)
	}
	resp, body = get(t, c, site+"/.consent/proofs")
	var after ownRecords
	if err := json.Unmarshal([]byte(body), &after); err != nil || resp.StatusCode != http.StatusOK ||
		after.ConsentID != own.ConsentID || after.Records == nil || len(after.Records) != 0 {
		t.Fatalf("after the auditor's erasure: %d %v %q, want an empty list", resp.StatusCode, err, body)
	}
	var none map[string]any
	postID(t, admin, "show", own.ConsentID, http.StatusNotFound, &none)
}

// TestUnreadableRecordsAreNoDownload: when the store cannot be read, the
// visitor gets a 503 that says so, not a file to keep as their record.
func TestUnreadableRecordsAreNoDownload(t *testing.T) {
	g := startRedisGateway(t, "unreadable")
	c := newClient(t)
	postChoice(t, c, g.site, `{"all":true}`)
	g.node.Stop()
	resp, body := get(t, c, g.site+"/.consent/proofs")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be read right now") {
		t.Errorf("own proofs with the store down: %d %s", resp.StatusCode, body)
	}
	if d := resp.Header.Get("Content-Disposition"); d != "" {
		t.Errorf("the error is offered as a download (%s): %s", d, body)
	}
}
