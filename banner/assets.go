// Package banner is the visitor-facing side of consentgate: the banner's
// script and stylesheet, the shim that holds trackers back on the client,
// their texts, and the markup the rewriter injects into every page to load
// them. docs/banner.md is the contract between them and the gateway.
package banner

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"strings"
)

//go:embed assets/banner.js assets/banner.css assets/shim.js
var assetFS embed.FS

// Asset is one static file served from the consent prefix under a
// content-hashed name, so it can be cached forever.
type Asset struct {
	Name        string // e.g. "banner.3f9a1c2d4e5f.js"
	ContentType string
	Body        []byte
	ETag        string
}

// Assets are the files one configuration serves: the banner's script and
// stylesheet, the shim with this policy's match data, and the second
// layer's vendor details per language.
type Assets struct {
	Script, Style, Shim Asset
	byName              map[string]Asset
	details             map[string]string // key (see NewAssets) → hashed name
}

const (
	jsType   = "text/javascript; charset=utf-8"
	jsonType = "application/json"
)

// PlaceholderHead opens the document shown in place of a blocked frame (its
// srcdoc): the text follows, then "</p>". The gateway writes it for frames
// blocked in the page and the shim for frames it holds, so that a page's
// CSP admits its one style by one hash.
const PlaceholderHead = `<!doctype html><meta charset="utf-8"><style>html,body{height:100%;margin:0}` +
	`body{display:grid;place-items:safe center;padding:1em;box-sizing:border-box;background:#eee;color:#1a1a1a;` +
	`font:15px/1.4 system-ui,sans-serif;text-align:center}</style><p>`

// PlaceholderHeadIn is PlaceholderHead for a text in lang, which the
// placeholder document names, so that a screen reader reads it aright.
func PlaceholderHeadIn(lang string) string {
	return strings.Replace(PlaceholderHead, "<!doctype html>", "<!doctype html><html"+langAttrs(lang, "")+">", 1)
}

// NewAssets names every file by its content hash. shimData is the JSON the
// shim is called with (see ShimData); details holds the second layers (see
// Details) by a key that names them: a language, with a variant after a dot
// where one language has several.
func NewAssets(shimData []byte, details map[string][]byte) *Assets {
	placeholder, _ := json.Marshal(PlaceholderHead + "</p>") // the empty placeholder, escaped for a script
	shim := append(readAsset("shim.js"), "\n__cgShim("...)
	shim = append(shim, shimData...)
	shim = append(shim, ',')
	shim = append(shim, placeholder...)
	shim = append(shim, ");\n"...)
	a := &Assets{
		Script:  hashed("banner", ".js", jsType, readAsset("banner.js")),
		Style:   hashed("banner", ".css", "text/css; charset=utf-8", readAsset("banner.css")),
		Shim:    hashed("shim", ".js", jsType, shim),
		byName:  make(map[string]Asset, 3+len(details)),
		details: make(map[string]string, len(details)),
	}
	for _, as := range []Asset{a.Script, a.Style, a.Shim} {
		a.byName[as.Name] = as
	}
	for key, body := range details {
		as := hashed("details."+key, ".json", jsonType, body)
		a.byName[as.Name] = as
		a.details[key] = as.Name
	}
	return a
}

func readAsset(file string) []byte {
	body, err := assetFS.ReadFile("assets/" + file)
	if err != nil {
		panic("banner: embedded asset missing: " + file) // a build error, not a runtime condition
	}
	return body
}

func hashed(stem, ext, contentType string, body []byte) Asset {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])[:12]
	return Asset{
		Name:        stem + "." + hash + ext,
		ContentType: contentType,
		Body:        body,
		ETag:        `"` + hash + `"`,
	}
}

// Lookup returns the asset with the given hashed name.
func (a *Assets) Lookup(name string) (Asset, bool) {
	as, ok := a.byName[name]
	return as, ok
}

// DetailsName is the hashed name of the details file given under key.
func (a *Assets) DetailsName(key string) string { return a.details[key] }
