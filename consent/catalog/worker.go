package catalog

import (
	"errors"
	"fmt"
	"strings"
)

// checkWorkerPattern validates a service worker path pattern.
func checkWorkerPattern(p string) error {
	path := strings.TrimPrefix(p, "*")
	if len(path) < 2 || path[0] != '/' || strings.HasSuffix(path, "/") || strings.Contains(path, "//") {
		return errors.New(`want "/path" or "*/name", a path on the site's own origin that does not end in '/'`)
	}
	for i := 0; i < len(path); i++ {
		// No query (only the path is compared) and no escapes (the path is
		// compared decoded).
		if c := path[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"#%*<>?\`, c) >= 0 {
			return fmt.Errorf("byte %q is not allowed", c)
		}
	}
	return nil
}

// OwnsWorker reports whether the service worker script at path, on the
// site's own origin, is one of the vendor's. path is decoded and has no
// query.
func (v Vendor) OwnsWorker(path string) bool {
	for _, p := range v.ServiceWorkers {
		if suffix, ok := strings.CutPrefix(p, "*"); ok && strings.HasSuffix(path, suffix) || p == path {
			return true
		}
	}
	return false
}
