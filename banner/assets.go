// Package banner is the visitor-facing side of consentgate: the banner's
// script and stylesheet, their texts, and the hook the rewriter injects into
// every page to load them.
package banner

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"strings"
)

//go:embed assets/banner.js assets/banner.css
var assetFS embed.FS

// Asset is one static file served from the consent prefix under a
// content-hashed name, so it can be cached forever.
type Asset struct {
	Name        string // e.g. "banner.3f9a1c2d.js"
	ContentType string
	Body        []byte
	ETag        string
}

// Assets are the banner's files.
type Assets struct {
	Script Asset
	Style  Asset
}

// LoadAssets reads the embedded files and names them by content hash.
func LoadAssets() *Assets {
	return &Assets{
		Script: load("banner.js", "text/javascript; charset=utf-8"),
		Style:  load("banner.css", "text/css; charset=utf-8"),
	}
}

func load(file, contentType string) Asset {
	body, err := assetFS.ReadFile("assets/" + file)
	if err != nil {
		panic("banner: embedded asset missing: " + file) // a build error, not a runtime condition
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])[:12]
	dot := strings.LastIndexByte(file, '.')
	return Asset{
		Name:        file[:dot] + "." + hash + file[dot:],
		ContentType: contentType,
		Body:        body,
		ETag:        `"` + hash + `"`,
	}
}

// Lookup returns the asset with the given hashed name.
func (a *Assets) Lookup(name string) (Asset, bool) {
	for _, as := range []Asset{a.Script, a.Style} {
		if as.Name == name {
			return as, true
		}
	}
	return Asset{}, false
}
