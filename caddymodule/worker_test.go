package caddymodule_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// workerSite serves, behind `consent` and file_server, the service worker
// scripts of two catalogued push services (Firebase at the root, OneSignal
// in a folder), one of a push service the operator declares, and the
// site's own worker.
func workerSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range workerScripts {
		path := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(name, "/")))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent {
		vendor acme-push {
			name "Acme Push"
			purpose marketing
			service_worker /acme/push-sw.js
		}
	}
	root * %s
	file_server
}`, port, dir))
	return baseURL(port)
}

var workerScripts = map[string]string{
	"/firebase-messaging-sw.js":             "importScripts('https://www.gstatic.com/firebasejs/8.10.1/firebase-messaging.js');\n",
	"/push/onesignal/OneSignalSDKWorker.js": "importScripts('https://cdn.onesignal.com/sdks/web/v16/OneSignalSDK.sw.js');\n",
	"/acme/push-sw.js":                      "self.addEventListener('push', function () {});\n",
	"/sw.js":                                "self.addEventListener('fetch', function () {}); // the site's own\n",
}

// As a browser asks for a service worker's script when page code
// registers it, and when it checks it for an update.
var asServiceWorker = []string{"Accept", "*/*", "Sec-Fetch-Dest", "serviceworker", "Service-Worker", "script"}

// TestVendorServiceWorkersWaitForConsent: the browser cannot install or
// update a push service's worker before the visitor allows the service
// (404, never cached), nor after a withdrawal; the site's own worker, and
// the same files fetched otherwise, pass as they are. Every answer for a
// vendor's worker varies by Cookie and Service-Worker, so that no cache
// hands one visitor's to another.
func TestVendorServiceWorkersWaitForConsent(t *testing.T) {
	base := workerSite(t)
	c := newClient(t)
	vendorWorkers := []string{"/firebase-messaging-sw.js", "/push/onesignal/OneSignalSDKWorker.js", "/acme/push-sw.js"}
	held := func(when string, paths ...string) {
		t.Helper()
		for _, path := range paths {
			resp, body := get(t, c, base+path, asServiceWorker...)
			if resp.StatusCode != http.StatusNotFound || strings.Contains(body, workerScripts[path]) {
				t.Errorf("%s, %s installed as a service worker: %d %q; want 404 without the script", when, path, resp.StatusCode, body)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s, %s held back with Cache-Control %q; want no-store", when, path, cc)
			}
			varies(t, when+", "+path+" held back", resp)
		}
	}
	served := func(when string, headers []string, paths ...string) {
		t.Helper()
		for _, path := range paths {
			resp, body := get(t, c, base+path, headers...)
			if resp.StatusCode != http.StatusOK || body != workerScripts[path] {
				t.Errorf("%s, %s: %d %q; want 200 with the script as it is", when, path, resp.StatusCode, body)
			}
			if path != "/sw.js" {
				varies(t, when+", "+path, resp)
			} else if v := strings.Join(resp.Header.Values("Vary"), ","); strings.Contains(v, "Cookie") || strings.Contains(v, "Service-Worker") {
				t.Errorf("%s, the site's own worker varies by %q; want it untouched", when, v)
			}
		}
	}

	held("before any choice", vendorWorkers...)
	served("before any choice", asServiceWorker, "/sw.js")
	served("before any choice, fetched by a script", asFetch, vendorWorkers...)

	postChoice(t, c, base, `{"purposes":{"functional":true}}`)
	served("with push messaging (functional) allowed", asServiceWorker, "/firebase-messaging-sw.js", "/push/onesignal/OneSignalSDKWorker.js", "/sw.js")
	held("with functional allowed but not marketing", "/acme/push-sw.js")

	postChoice(t, c, base, `{"purposes":{},"vendors":{"acme-push":true}}`)
	served("with Acme Push allowed one by one", asServiceWorker, "/acme/push-sw.js")
	held("with functional taken back", "/firebase-messaging-sw.js", "/push/onesignal/OneSignalSDKWorker.js")

	postChoice(t, c, base, `{"withdraw":true}`)
	held("after withdrawing", vendorWorkers...)
}

func varies(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	vary := strings.Join(resp.Header.Values("Vary"), ",")
	if !strings.Contains(vary, "Cookie") || !strings.Contains(vary, "Service-Worker") {
		t.Errorf("%s: Vary %q; want Cookie and Service-Worker", what, vary)
	}
}
