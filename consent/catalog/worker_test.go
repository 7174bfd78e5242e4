package catalog

import (
	"slices"
	"testing"
)

func TestOwnsWorker(t *testing.T) {
	v := Vendor{ID: "push", ServiceWorkers: []string{"/firebase-messaging-sw.js", "*/OneSignalSDKWorker.js"}}
	tests := []struct {
		path string
		want bool
	}{
		{"/firebase-messaging-sw.js", true},
		{"/app/firebase-messaging-sw.js", false}, // "/path" is that path only
		{"/firebase-messaging-sw.json", false},
		{"/OneSignalSDKWorker.js", true},
		{"/push/onesignal/OneSignalSDKWorker.js", true}, // "*/name" in any folder
		{"/MyOneSignalSDKWorker.js", false},             // a whole name, not its end
		{"/onesignalsdkworker.js", false},               // paths are case-sensitive
		{"/sw.js", false},
		{"/", false},
	}
	for _, tt := range tests {
		if got := v.OwnsWorker(tt.path); got != tt.want {
			t.Errorf("OwnsWorker(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// The push messaging services of the built-in catalogue name the workers
// their set-up guides tell a site to host.
func TestBuiltinServiceWorkers(t *testing.T) {
	want := map[string]string{
		"firebase":   "/firebase-messaging-sw.js",
		"onesignal":  "/push/onesignal/OneSignalSDKWorker.js",
		"cleverpush": "/cleverpush-worker.js",
	}
	vendors := Builtin()
	for id, path := range want {
		i := slices.IndexFunc(vendors, func(v Vendor) bool { return v.ID == id })
		if i < 0 || !vendors[i].OwnsWorker(path) {
			t.Errorf("%s does not own its service worker %s", id, path)
		}
	}
	// A site's own worker goes by a name of its own: no vendor claims the
	// usual ones (CleverPush's fallback "/worker.js" among them).
	for _, v := range vendors {
		for _, own := range []string{"/sw.js", "/service-worker.js", "/worker.js", "/serviceworker.js"} {
			if v.OwnsWorker(own) {
				t.Errorf("%s claims %s, the usual name of a site's own worker", v.ID, own)
			}
		}
	}
}
