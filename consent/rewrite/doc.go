// Package rewrite is consentgate's streaming HTML rewriter: it neutralises
// the elements that would load a third party the visitor has not consented
// to, and injects the banner.
//
// # Streaming
//
// A Rewriter never holds the page. Between writes it keeps at most an
// unfinished tag (judged start tags up to TagLimit, or one attribute of a
// longer one) or the held text of an inline script or style (up to
// HoldLimit), in one buffer that otherwise
// gathers the output of a write: under 64 KiB whatever the page (under
// 160 KiB while an over-long srcdoc is rewritten in place). Held bytes
// are never re-scanned when more arrive, and only the start tags of judged
// elements are parsed (once complete). A write in which nothing changes is
// passed on straight from the caller's slice; otherwise its output is
// gathered into as few writes as the buffer allows, all before Write
// returns. Rewrite gives the same output for a page held in memory,
// whatever the write sizes.
//
// The output equals the input byte for byte except where the rewriter
// acts. It reads ASCII bytes only and never re-encodes, so any
// ASCII-compatible charset (and a byte-order mark) passes through.
//
// # Tokenizing
//
// Tags, comments, bogus comments and raw text are found by the HTML5
// tokenizer rules as golang.org/x/net/html's Tokenizer implements them
// (tested against it): case-insensitive names, quoted and unquoted
// attributes, "<!--" comments ending at "-->", "--!>", "<!-->" or "<!--->",
// "<!...>", "<?...>" and "</" followed by a non-letter as bogus comments,
// CDATA as a bogus comment, and the text of script (with its escaped and
// double-escaped states), style, xmp, iframe, noembed, noframes, textarea,
// title and plaintext. One deliberate difference: the content of <noscript>
// is parsed as markup, not raw text, because tracking pixels and Tag
// Manager frames hide there. Only the start tags of the elements below are
// parsed; all other tags are skipped.
//
// In SVG and MathML inside a page, the tree builder has the tokenizer read
// markup where it would read raw text (a title, textarea, xmp, iframe…),
// and a tag that closes itself (<title/>, <style/>) has no content. The
// Rewriter follows that from the tags that open and close SVG and MathML,
// their HTML integration points and the HTML tags that break out of them
// (see foreign.go, tested against x/net/html's parser). A script's and a
// style's text there stay raw text, to be judged.
//
// With Options.XML (an XHTML or SVG document) the input is read as an XML
// parser reads it: markup inside every element but a script and a style,
// and no content after a tag that closes itself.
//
// # Judging
//
// Each element below asks the Judge, unless it carries data-consent, in
// which case Judge.JudgePurpose decides:
//
//   - <script src> (and href or xlink:href, from which a script inside
//     <svg> loads): KindScript. An inline script of a JavaScript type
//     (absent, empty, module, a JavaScript MIME type, or text/partytown,
//     which Partytown runs in a worker) is judged on its
//     text; a longer one on its first HoldLimit bytes, then piece by piece
//     as the rest streams (see TailPoison). A module is also judged by the
//     URLs its held text imports from, as written and as the page's import
//     maps before it map them, as KindScript (imports.go, importmap.go).
//     An import map is never neutralised: it loads nothing itself.
//     Speculation rules are judged by the URLs their list rules name, as
//     KindLink (speculation.go); so are those of a rules file
//     (Options.Rules, rulesfile.go), which loses the blocked ones. Their
//     document rules, which name no URL, are narrowed to the site's own
//     paths when they could pick another host's links (documentrules.go).
//   - <iframe src>, <embed src>, <object data>: KindFrame. An iframe's
//     srcdoc, and a frame's data: URL of an HTML, XHTML or SVG document,
//     are judged as the document they hold: whatever in it would be
//     blocked blocks the frame.
//   - <img src srcset> (and <image>, which parsers turn into <img>, or an
//     SVG image with href or xlink:href), <video>, <audio>, <source>,
//     <track> (src, srcset, poster; every srcset candidate), <input src>
//     (type=image loads it): KindImage.
//   - <link href> (and imagesrcset, a preload's candidates) whose rel
//     includes stylesheet, preconnect, dns-prefetch, preload, prefetch,
//     modulepreload, prerender, icon, manifest (and Safari's icons) or
//     compression-dictionary: KindLink.
//   - @import url(X), url("X") or "X" in an inline <style> (its first
//     HoldLimit bytes): KindLink; every other url() there, all through
//     the text: KindImage. Comments are where CSS reads them: a "/*"
//     inside a string or a url token opens none.
//   - url() in the style attribute of any element: KindImage; so is one in
//     an SVG presentation attribute (fill, stroke, mask, clip-path, cursor,
//     filter, marker-start, marker-mid, marker-end) other than a
//     reference into the document itself (url(#gradient)).
//   - <?xml-stylesheet href?> in an XML document (Options.XML): KindLink;
//     blocked, its href is renamed like an attribute, which leaves an
//     instruction the browser ignores.
//   - <form action>: KindForm, only reported to Options.OnURL (for the
//     third-party scan); a form is never neutralised, since it sends
//     nothing until the visitor submits it.
//
// URLs are passed as written: quotes stripped, not entity-decoded (the
// judge reads them as browsers do). A srcset is decoded before it is split
// into candidates, since a reference may spell the comma between two; its
// candidates are passed with each '&' written as "&amp;". The values that
// decide whether an element loads at all (a script's type, a link's rel,
// data-consent) are read with their references decoded, as browsers read
// them. Only the first occurrence of an attribute is judged, as only it is
// used.
//
// # Neutralising
//
// A blocked element gets data-consent-purpose and data-consent-vendor
// inserted after its tag name, and its URL attributes renamed with the
// prefix "data-consent-" (every occurrence; xlink:href becomes
// data-consent-xlink-href, an XML name); values are kept, so the banner
// can restore the element. A script also gets type="text/plain" (its own
// type attributes renamed), and so does an <?xml-stylesheet?>, which
// would otherwise load the document itself as a style sheet; an iframe a
// srcdoc placeholder naming the vendor (an existing srcdoc renamed). A
// blocked @import becomes @consentgate-import, which browsers drop, and a
// blocked url() in a style element url(consentgate:…) or
// url("consentgate:…"), which names nothing a browser fetches (an
// image-set() string too: "consentgate:…"); a style attribute is renamed
// like a URL attribute, and so is a presentation attribute that loads.
//
// A judged start tag longer than TagLimit cannot be held whole; it is
// judged as it streams and fails closed: its first TagLimit bytes as a
// tag, then each later URL attribute (or srcdoc) on its own, with the
// marks going in front of the first one that blocks; a URL too long to
// judge is blocked unless it is a data: URL of anything but a frame's
// document, and a script left to run its own text has the text judged as
// a long script's is. A srcdoc too long to hold is rewritten in place: its
// document goes through a nested Rewriter as it streams (see
// srcdocstream.go); in that document, one more is blocked instead. An
// oversized <base> takes the hook in front of it. See oversized.go and
// Oversized.
//
// # Injecting
//
// Options.Early goes right after the <head> start tag, or before the first
// start tag other than <html>, <meta>, <title> and <base> if that comes
// first (as soon as its name is read, even if the input ends inside the
// tag): a page without <head> gets the hooks before its first element that
// could run a handler, with its charset and title still in front.
// Options.Hook goes before </head>, or else after the <body> start tag.
// Options.Body goes after the <body> start tag (after Hook, if Hook goes
// there too), or Options.BodyAfterBase in its place after a <base href>
// naming another host. Whichever has not found its place by Close is
// written there, in the order Early, Hook, Body; in an XML document it is
// left out, since after the root element it would break the document.
package rewrite
