package rewrite

import "github.com/consentgate/consentgate/consent/catalog"

// Verdict is a Judge's answer about one element.
type Verdict struct {
	// Block is true when the element must be neutralised.
	Block bool
	// Vendor is the vendor id ("" for elements claimed only by data-consent).
	Vendor string
	// VendorName is the vendor's display name, for placeholders.
	VendorName string
	// Purpose is the purpose id the element belongs to.
	Purpose string
}

// Judge decides, for one response, which elements are blocked. It is
// implemented by the policy's per-request decision; the rewriter knows nothing
// about consent beyond this interface. Implementations must not retain the
// byte slices they are given.
type Judge interface {
	// JudgeURL judges a URL the page would load (script src, iframe src, ...),
	// exactly as written in the attribute (not entity-decoded, maybe relative).
	JudgeURL(kind catalog.Kind, url []byte) Verdict
	// JudgeInline judges the text of an inline <script> (or its prefix when the
	// script is longer than the rewriter's hold limit).
	JudgeInline(script []byte) Verdict
	// JudgePurpose judges an element the page itself marks with
	// data-consent="<purpose>".
	JudgePurpose(purpose []byte) Verdict
}
