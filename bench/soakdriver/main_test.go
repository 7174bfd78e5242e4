package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestHangsAndCutsAreTold: a request the server never answers counts as
// timed out, one whose connection the server drops as interrupted (with
// its time), so check can fail a hang and place a cut against the kills.
func TestHangsAndCutsAreTold(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			<-r.Context().Done()
		case "/cut":
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}
	}))
	defer srv.Close()
	d := &driver{client: &http.Client{Timeout: 300 * time.Millisecond}}
	get := func(path string) outcome {
		_, _, how, _ := d.do(context.Background(), func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			return req
		})
		return how
	}
	before := float64(time.Now().UnixNano()) / 1e9
	if how := get("/hang"); how != timedOut || d.timedOut.Load() != 1 || d.interrupted.Load() != 0 {
		t.Errorf("a hanging request: %v, timed out %d, interrupted %d", how, d.timedOut.Load(), d.interrupted.Load())
	}
	if how := get("/cut"); how != cutOff || d.interrupted.Load() != 1 || len(d.cuts) != 1 || d.cuts[0].At < before || d.cuts[0].Req != "GET /cut" {
		t.Errorf("a cut connection: %v, interrupted %d: %+v", how, d.interrupted.Load(), d.cuts)
	}
}

// TestEventWindows: cuts are allowed only inside a kill window (kill to
// started) or a shutdown window (stop to started, reload to reloaded),
// with a little slack, and what was served counts only in the whole
// seconds Redis was down.
func TestEventWindows(t *testing.T) {
	events := []event{
		{"down", 100.5}, {"up", 104.2}, // whole seconds 101, 102, 103
		{"kill", 110.0}, {"started", 111.0},
		{"down", 120.0}, {"kill", 121.0}, {"started", 122.0}, {"up", 123.5}, // 121, 122
		{"reload", 130.0}, {"reloaded", 130.2},
		{"stop", 140.0}, {"started", 141.0},
	}
	var cuts []Cut
	for _, at := range []float64{110.2, 111.4, 121.9, 109.0, 115.0, 122.6, 130.1, 131.0, 140.5, 141.2} {
		cuts = append(cuts, Cut{At: at})
	}
	inKill, inStop, outside := placeCuts(events, cuts)
	if inKill != 3 || inStop != 3 || len(outside) != 4 || outside[0].At != 109 || outside[1].At != 115 || outside[2].At != 122.6 || outside[3].At != 131 {
		t.Errorf("cuts: %d in kills, %d in shutdowns, outside %v; want 3, 3 and those at 109, 115, 122.6, 131", inKill, inStop, outside)
	}
	if _, _, outside := placeCuts(nil, cuts); len(outside) != len(cuts) {
		t.Errorf("without events, %d cuts outside, want all %d", len(outside), len(cuts))
	}
	perSecond := map[int64][2]int64{100: {9, 9}, 101: {1, 0}, 103: {2, 1}, 104: {9, 9}, 121: {0, 3}, 123: {9, 9}}
	pages, acks, secs := servedWhileDown(events, perSecond)
	if pages != 3 || acks != 4 || secs != 5 {
		t.Errorf("served while down: %d pages, %d acks in %d s; want 3, 4, 5", pages, acks, secs)
	}
}
