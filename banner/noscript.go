package banner

import (
	"cmp"
	"html"
	"strings"
)

// Noscript renders the banner for visitors without JavaScript: a plain form
// posting to the choice endpoint, which sends them back to the same page.
// It goes right after the <body> start tag: the choice while the visitor
// has not decided (NewNoscript), then the way to change or withdraw it
// (NewNoscriptDecided).
type Noscript struct {
	// parts are the form's markup up to the return path, cut where the
	// site's origin goes in front of a path on the site (the form's action,
	// a privacy policy given as a path); tail follows the return path.
	parts [][]byte
	tail  []byte
}

// NewNoscript prepares the choice form for one language; underSignal adds
// what the banner says to a browser that sends GPC or DNT.
func NewNoscript(p Page, underSignal bool) *Noscript {
	text := p.text("text")
	if underSignal {
		text += " " + p.text("signal")
	}
	return newNoscript(p, text+" "+p.text("noscript"), p.submit("accept_all", "accept_all")+" "+p.submit("reject_all", "reject_all"))
}

// submit is a form button that posts action, labelled with the text
// under key.
func (p Page) submit(action, key string) string {
	return `<button type="submit" name="action" value="` + action + `">` + p.text(key) + `</button>`
}

// text is the escaped text under key, in a span that names its language
// where that is not the page's (an operator's language that lacks it).
func (p Page) text(key string) string {
	t := html.EscapeString(p.Texts[key])
	if from := p.TextLangs[key]; from != "" && from != p.Lang {
		return `<span` + langAttrs(from, p.Lang) + `>` + t + `</span>`
	}
	return t
}

// langAttrs are the attributes of an element in lang within one in
// outer ("" for none): its language, and its direction where that differs.
func langAttrs(lang, outer string) string {
	a := ` lang="` + html.EscapeString(lang) + `"`
	if dir := Dir(lang); dir != Dir(outer) {
		a += ` dir="` + cmp.Or(dir, "ltr") + `"`
	}
	return a
}

// NewNoscriptDecided prepares, for one language, the form a visitor who
// has decided keeps on every page: it says the choice is saved and offers
// Accept all (unless everything is allowed) and Withdraw consent (when
// anything is), so that without JavaScript too a choice can be changed
// and withdrawn at any time.
func NewNoscriptDecided(p Page, accept, withdraw bool) *Noscript {
	var buttons []string
	if accept {
		buttons = append(buttons, p.submit("accept_all", "accept_all"))
	}
	if withdraw {
		buttons = append(buttons, p.submit("withdraw", "withdraw"))
	}
	return newNoscript(p, p.text("reopen")+": "+p.text("noscript_decided"), strings.Join(buttons, " "))
}

// newNoscript prepares a form of one paragraph (escaped HTML), followed by
// the privacy policy link, and buttons. The form names its language (and
// direction), which may not be the page's.
func newNoscript(p Page, paragraph, buttons string) *Noscript {
	esc := html.EscapeString
	parts := []string{`<noscript><form class="cg-noscript"` + langAttrs(p.Lang, "") + ` method="post" action="`}
	cur := esc(p.Prefix) + `choice"><p>` + paragraph
	if p.PrivacyPolicy != "" {
		cur += ` <a href="`
		if strings.HasPrefix(p.PrivacyPolicy, "/") { // a path on the site (Handler checks it is no "//host")
			parts, cur = append(parts, cur), ""
		}
		cur += esc(p.PrivacyPolicy) + `">` + p.text("policy_link") + `</a>`
	}
	parts = append(parts, cur+`</p><input type="hidden" name="return" value="`)
	n := &Noscript{tail: []byte(`">` + buttons + `</form></noscript>`)}
	for _, s := range parts {
		n.parts = append(n.parts, []byte(s))
	}
	return n
}

// Append appends the form for a page at returnTo (its path and query).
func (n *Noscript) Append(dst []byte, returnTo string) []byte {
	return n.AppendFrom(dst, "", returnTo)
}

// AppendFrom is Append with the form's paths on the site made absolute
// with origin ("https://shop.example"): the form for a page whose <base
// href> names another host, against which the paths would resolve.
func (n *Noscript) AppendFrom(dst []byte, origin, returnTo string) []byte {
	for i, part := range n.parts {
		if i > 0 {
			dst = append(dst, html.EscapeString(origin)...)
		}
		dst = append(dst, part...)
	}
	dst = append(dst, html.EscapeString(returnTo)...)
	return append(dst, n.tail...)
}
