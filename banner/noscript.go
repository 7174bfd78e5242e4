package banner

import "html"

// Noscript renders the banner for visitors without JavaScript: a plain form
// posting to the choice endpoint, which sends them back to the same page.
// It goes right after the <body> start tag while the visitor has not
// decided.
type Noscript struct {
	head, tail []byte // around the return path
}

// NewNoscript prepares the form for one language.
func NewNoscript(p Page) *Noscript {
	esc := html.EscapeString
	t := p.Texts
	head := `<noscript><form class="cg-noscript" method="post" action="` + esc(p.Prefix) + `choice"><p>` +
		esc(t["text"]) + " " + esc(t["noscript"])
	if p.PrivacyPolicy != "" {
		head += ` <a href="` + esc(p.PrivacyPolicy) + `">` + esc(t["policy_link"]) + `</a>`
	}
	head += `</p><input type="hidden" name="return" value="`
	tail := `"><button type="submit" name="action" value="accept_all">` + esc(t["accept_all"]) +
		`</button> <button type="submit" name="action" value="reject_all">` + esc(t["reject_all"]) +
		`</button></form></noscript>`
	return &Noscript{head: []byte(head), tail: []byte(tail)}
}

// Append appends the form for a page at returnTo (its path and query).
func (n *Noscript) Append(dst []byte, returnTo string) []byte {
	dst = append(dst, n.head...)
	dst = append(dst, html.EscapeString(returnTo)...)
	return append(dst, n.tail...)
}
