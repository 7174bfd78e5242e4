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
	// JudgeInline judges the text of an inline <script>, or a piece of it: a
	// script longer than HoldLimit is judged on its prefix, then piece by
	// piece as it streams (pieces overlap). So the verdict must depend only
	// on which signatures (at most MaxInlineSignature bytes) occur in the
	// text: Block for a text must also be Block for any text containing it.
	JudgeInline(script []byte) Verdict
	// JudgePurpose judges an element the page itself marks with
	// data-consent="<purpose>".
	JudgePurpose(purpose []byte) Verdict
}
