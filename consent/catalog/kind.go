package catalog

// Kind is the kind of reference an element makes to a third party. Match
// rules may be restricted to one kind (a host that serves a harmless script
// may also serve a tracking pixel).
type Kind uint8

const (
	// KindScript is <script src>.
	KindScript Kind = iota
	// KindFrame is <iframe src>, <embed src> and <object data>.
	KindFrame
	// KindImage is <img src/srcset>, pixels, <video>/<audio>/<source> and posters.
	KindImage
	// KindLink is <link href> (stylesheet, preconnect, dns-prefetch, preload,
	// prefetch, modulepreload) and @import inside an inline <style>.
	KindLink
	// KindForm is <form action>; only used by the third-party scan, never blocked.
	KindForm
	numKinds
)

var kindNames = [numKinds]string{"script", "frame", "image", "link", "form"}

// String returns the kind's name as used in the catalogue file.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "unknown"
}

// ParseKind is the inverse of String.
func ParseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), true
		}
	}
	return 0, false
}
