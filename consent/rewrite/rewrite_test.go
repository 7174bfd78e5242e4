package rewrite

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/consent/catalog"
)

// Blocked by testJudge: tracker.example is vendor "ads" (marketing).
const (
	trk = "https://tracker.example/x.js"
	ads = ` data-consent-purpose="marketing" data-consent-vendor="ads"`
	fb  = ` data-consent-purpose="marketing" data-consent-vendor="facebook"`
	gtm = ` data-consent-purpose="analytics" data-consent-vendor="gtm"`
	txt = ` type="text/plain"`
)

type rwCase struct {
	name, in, want string // want "" means unchanged
}

var long = strings.Repeat("a", TagLimit)

// Documents in data: URLs that load the tracker, in base64: only judging
// the document finds it.
var (
	htmlTracker = "data:text/html;base64," + base64.StdEncoding.EncodeToString([]byte(`<script src="`+trk+`"></script>`))
	svgTracker  = "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(`<svg><image href="`+trk+`"/></svg>`))
)

// ga is a URL testJudge blocks in style text, gaMarks its marks; stylePad
// fills a style's first HoldLimit bytes.
var (
	ga       = "https://www.google-analytics.com/collect"
	gaMarks  = ` data-consent-purpose="analytics" data-consent-vendor="google-analytics"`
	stylePad = strings.Repeat(".p{color:red}\n", HoldLimit/14+1)
)

var cases = []rwCase{
	// script src
	{"module through an import map", `<script type="importmap">{"imports":{"p":"` + trk + `"}}</script><script type="module">import "p"</script>`,
		`<script type="importmap">{"imports":{"p":"` + trk + `"}}</script><script` + txt + ads + ` data-consent-type="module">import "p"</script>`},
	{"speculation rules", `<script type="speculationrules">{"prefetch":[{"urls":["` + trk + `"]}]}</script>`,
		`<script` + txt + ads + ` data-consent-type="speculationrules">{"prefetch":[{"urls":["` + trk + `"]}]}</script>`},
	{"speculation rules picking every link", `<script type="speculationrules">{"prefetch":[{"where":{"selector_matches":"a"}}]}</script>`,
		`<script type="speculationrules">{"prefetch":[{"where":{"and":[{"selector_matches":"a"},{"href_matches":"/*"}]}}]}</script>`},
	{"script src", `<script src="` + trk + `"></script>`, `<script` + txt + ads + ` data-consent-src="` + trk + `"></script>`},
	{"script src single quoted", `<script src='` + trk + `' async></script>`, `<script` + txt + ads + ` data-consent-src='` + trk + `' async></script>`},
	{"script src unquoted", `<script async src=` + trk + `></script>`, `<script` + txt + ads + ` async data-consent-src=` + trk + `></script>`},
	{"script allowed", `<script src="/app.js"></script><script src="https://cdn.example/lib.js"></script>`, ""},
	{"upper case", `<SCRIPT SRC=` + trk + ` TYPE="text/javascript"></SCRIPT>`, `<SCRIPT` + txt + ads + ` data-consent-SRC=` + trk + ` data-consent-TYPE="text/javascript"></SCRIPT>`},
	{"mixed case", `<ScRiPt sRc="` + trk + `"></sCrIpT>`, `<ScRiPt` + txt + ads + ` data-consent-sRc="` + trk + `"></sCrIpT>`},
	{"duplicate src, first blocked", `<script src="` + trk + `" src="/a.js"></script>`, `<script` + txt + ads + ` data-consent-src="` + trk + `" data-consent-src="/a.js"></script>`},
	{"duplicate src, first allowed", `<script src="/a.js" src="` + trk + `"></script>`, ""},
	{"slash between attributes", `<script/src="` + trk + `"/async></script>`, `<script` + txt + ads + `/data-consent-src="` + trk + `"/async></script>`},
	{"spaces around =", `<script src = "` + trk + `" ></script>`, `<script` + txt + ads + ` data-consent-src = "` + trk + `" ></script>`},
	{"equals first is a name", `<script =src="` + trk + `"></script>`, ""},
	{"quoted > inside", `<script data-x="a>b" src="` + trk + `"></script>`, `<script` + txt + ads + ` data-x="a>b" data-consent-src="` + trk + `"></script>`},
	{"src in another attribute's value", `<script data-x="src=` + trk + `"></script>`, ""},
	{"valueless src", `<script src></script>`, ""},
	{"name src-like", `<script srcx="` + trk + `" xsrc=1></script>`, ""},
	{"self closing", `<script src="` + trk + `"/>x</script>`, `<script` + txt + ads + ` data-consent-src="` + trk + `"/>x</script>`},
	{"newline attributes", "<script\nsrc=\"" + trk + "\"\n></script>", "<script" + txt + ads + "\ndata-consent-src=\"" + trk + "\"\n></script>"},

	// inline scripts
	{"inline blocked", `<script>fbq('init', '1');</script>`, `<script` + txt + fb + `>fbq('init', '1');</script>`},
	{"inline allowed", `<script>var a = 1 < 2;</script>`, ""},
	{"inline with attributes", `<script async id=x>fbq(1)</script>`, `<script` + txt + fb + ` async id=x>fbq(1)</script>`},
	{"inline module", `<script type=module>fbq(1)</script>`, `<script` + txt + fb + ` data-consent-type=module>fbq(1)</script>`},
	{"inline text/javascript", `<script type="TEXT/JavaScript ">fbq(1)</script>`, `<script` + txt + fb + ` data-consent-type="TEXT/JavaScript ">fbq(1)</script>`},
	{"inline ld+json", `<script type="application/ld+json">{"x": "fbq("}</script>`, ""},
	{"inline template", `<script type="text/template"><img src="` + trk + `">fbq(</script>`, ""},
	{"inline text/plain", `<script type="text/plain">fbq(1)</script>`, ""},
	{"inline empty type", `<script type="">fbq(1)</script>`, `<script` + txt + fb + ` data-consent-type="">fbq(1)</script>`},
	{"split end tag", `<script>document.write("<scr"+"ipt src='` + trk + `'></scr"+"ipt>");fbq(1)</script><p>`, `<script` + txt + fb + `>document.write("<scr"+"ipt src='` + trk + `'></scr"+"ipt>");fbq(1)</script><p>`},
	{"script text with tags", `<script>var s = "<img src='` + trk + `'>";</script><img src="` + trk + `">`, `<script>var s = "<img src='` + trk + `'>";</script><img` + ads + ` data-consent-src="` + trk + `">`},
	{"script end tag variants", `<script>fbq(1)</scriptx></script ><p>`, `<script` + txt + fb + `>fbq(1)</scriptx></script ><p>`},
	{"script end tag upper", `<script>a</SCRIPT/><img src="` + trk + `">`, `<script>a</SCRIPT/><img` + ads + ` data-consent-src="` + trk + `">`},
	{"script double escaped", `<script><!--<script>fbq(1)</script>--></script><img src="` + trk + `">`, `<script` + txt + fb + `><!--<script>fbq(1)</script>--></script><img` + ads + ` data-consent-src="` + trk + `">`},
	{"script escaped end", `<script><!-- fbq(1) </script><img src="` + trk + `">`, `<script` + txt + fb + `><!-- fbq(1) </script><img` + ads + ` data-consent-src="` + trk + `">`},
	{"script double escaped unterminated", `<script><!--<script></script><img src="` + trk + `">`, ""},
	{"script escape dashes", `<script><!--- a -- b ---><script></script><img src="` + trk + `">`, `<script><!--- a -- b ---><script></script><img` + ads + ` data-consent-src="` + trk + `">`},
	{"script escaped less-than", `<script><!-- a<1 <script> fbq(1)</script> x</script><img src="` + trk + `">`, `<script` + txt + fb + `><!-- a<1 <script> fbq(1)</script> x</script><img` + ads + ` data-consent-src="` + trk + `">`},
	{"script with src and text", `<script src="/a.js">fbq(1)</script>`, ""},
	{"inline data-consent", `<script data-consent="marketing">var a</script>`, `<script` + txt + ` data-consent-purpose="marketing" data-consent-vendor="" data-consent="marketing">var a</script>`},
	{"data-consent granted", `<img src="` + trk + `" data-consent="functional">`, ""},
	{"data-consent overrides URL", `<iframe data-consent="Marketing" src="/local"></iframe>`, `<iframe data-consent-purpose="marketing" data-consent-vendor="" srcdoc="` + placeholder(Verdict{Purpose: "marketing"}) + `" data-consent="Marketing" data-consent-src="/local"></iframe>`},

	// comments, CDATA, bogus comments
	{"comment", `<!-- <script src="` + trk + `"></script> -->`, ""},
	{"comment then tag", `<!-- a -- b --!><img src="` + trk + `">`, `<!-- a -- b --!><img` + ads + ` data-consent-src="` + trk + `">`},
	{"short comments", `<!--><img src="` + trk + `"><!---><img src="` + trk + `">`, `<!--><img` + ads + ` data-consent-src="` + trk + `"><!---><img` + ads + ` data-consent-src="` + trk + `">`},
	{"comment not ended by ->", `<!-- -><img src="` + trk + `"> -->`, ""},
	{"conditional comment", `<!--[if lt IE 9]><script src="` + trk + `"></script><![endif]-->`, ""},
	{"cdata", `<![CDATA[<script src="` + trk + `">]]></script>`, ""},
	{"bogus comment", `<!x <img src="` + trk + `">`, ""},
	{"processing instruction", `<?xml <img src="` + trk + `"> ?>`, ""},
	{"bogus end tag", `</ <img src="` + trk + `">`, ""},
	{"empty end tag", `</><img src="` + trk + `">`, `</><img` + ads + ` data-consent-src="` + trk + `">`},
	{"doctype", `<!DOCTYPE html><img src="` + trk + `">`, `<!DOCTYPE html><img` + ads + ` data-consent-src="` + trk + `">`},
	{"less than in text", `a < b <1 <<img src="` + trk + `">`, `a < b <1 <<img` + ads + ` data-consent-src="` + trk + `">`},

	// raw text elements
	{"textarea", `<textarea><script src="` + trk + `"></script></textarea>`, ""},
	{"title", `<title><img src="` + trk + `"></title >`, ""},
	{"xmp", `<xmp><img src="` + trk + `"></xmp>`, ""},
	{"iframe content", `<iframe src="/a"><img src="` + trk + `"></iframe>`, ""},
	{"noembed", `<noembed><img src="` + trk + `"></noembed><img src="` + trk + `">`, `<noembed><img src="` + trk + `"></noembed><img` + ads + ` data-consent-src="` + trk + `">`},
	{"noframes", `<noframes><img src="` + trk + `"></NOFRAMES>`, ""},
	{"plaintext", `<plaintext><img src="` + trk + `"></plaintext><img src="` + trk + `">`, ""},
	{"style end tag", `<style>a{}</style x=">"><img src="` + trk + `">`, `<style>a{}</style x=">"><img` + ads + ` data-consent-src="` + trk + `">`},

	// noscript is markup to us
	{"noscript gtm", `<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-X" height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>`,
		`<noscript><iframe` + gtm + ` srcdoc="` + placeholder(newTestJudge().verdict("gtm")) + `" data-consent-src="https://www.googletagmanager.com/ns.html?id=GTM-X" height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>`},
	{"noscript pixel", `<noscript><img height="1" width="1" style="display:none" src="https://www.facebook.com/tr?id=1&ev=PageView&noscript=1"/></noscript>`,
		`<noscript><img` + fb + ` height="1" width="1" style="display:none" data-consent-src="https://www.facebook.com/tr?id=1&ev=PageView&noscript=1"/></noscript>`},

	// other elements
	{"iframe srcdoc renamed", `<iframe srcdoc="<p>hi" src="https://www.youtube.com/embed/x" width=560></iframe>`,
		`<iframe data-consent-purpose="media" data-consent-vendor="youtube" srcdoc="` + placeholder(newTestJudge().verdict("youtube")) + `" data-consent-srcdoc="<p>hi" data-consent-src="https://www.youtube.com/embed/x" width=560></iframe>`},
	{"iframe srcdoc with a tracker", `<iframe srcdoc="&lt;p&gt;hi&lt;script src=&quot;` + trk + `&quot;&gt;&lt;/script&gt;" width=560></iframe>`,
		`<iframe` + ads + ` srcdoc="` + placeholder(newTestJudge().verdict("ads")) + `" data-consent-srcdoc="&lt;p&gt;hi&lt;script src=&quot;` + trk + `&quot;&gt;&lt;/script&gt;" width=560></iframe>`},
	// A frame whose URL is a data: URL of an HTML document loads what it names.
	{"iframe data: URL with a tracker", `<iframe src="data:text/html,%3Cscript%20src=` + trk + `%3E%3C/script%3E"></iframe>`,
		`<iframe` + ads + ` srcdoc="` + placeholder(newTestJudge().verdict("ads")) + `" data-consent-src="data:text/html,%3Cscript%20src=` + trk + `%3E%3C/script%3E"></iframe>`},
	{"object data: URL in base64", `<object data="data:text/html;charset=utf-8 ; BASE64,` + base64.StdEncoding.EncodeToString([]byte(`<img src="`+trk+`">`)) + `"></object>`,
		`<object` + ads + ` data-consent-data="data:text/html;charset=utf-8 ; BASE64,` + base64.StdEncoding.EncodeToString([]byte(`<img src="`+trk+`">`)) + `"></object>`},
	{"iframe data: URL without one", `<iframe src="data:text/html,&lt;p&gt;hi&lt;script src=/a.js&gt;&lt;/script&gt;"></iframe><embed src="data:image/svg+xml,%3Csvg/%3E">`, ""},
	{"iframe srcdoc without one", `<iframe srcdoc="&lt;p&gt;hi&lt;script src=&quot;/app.js&quot;&gt;&lt;/script&gt;"></iframe>`, ""},
	// Browsers decode references in every attribute value, the ones that decide included.
	{"script type as references", `<script type="text&#47;javascript">gtag('config', 'G-1');</script>`,
		`<script type="text/plain" data-consent-purpose="analytics" data-consent-vendor="google-analytics" data-consent-type="text&#47;javascript">gtag('config', 'G-1');</script>`},
	// A style attribute's url() loads an image, on any element.
	{"style url", `<span class="thumb" style="background-image: url(&quot;` + trk + `&quot;)">x</span>`,
		`<span` + ads + ` class="thumb" data-consent-style="background-image: url(&quot;` + trk + `&quot;)">x</span>`},
	{"style URL upper case, unquoted", `<div style="background:#000 URL(` + trk + `) no-repeat">`, `<div` + ads + ` data-consent-style="background:#000 URL(` + trk + `) no-repeat">`},
	{"style url as a reference", `<div style="background:url&#40;` + trk + `)">`, `<div` + ads + ` data-consent-style="background:url&#40;` + trk + `)">`},
	// A background attribute loads an image on a body and table cells; a
	// style loads on any element that renders, the ones the scanner knows
	// by name included. A style that loads nothing stays, so a blocked
	// element keeps its look.
	{"body background", `<body background="` + trk + `" class=x>`, `<body` + ads + ` data-consent-background="` + trk + `" class=x>`},
	{"td background unquoted, upper case", `<table><tr><TD BACKGROUND=` + trk + `>x</td></tr></table>`, `<table><tr><TD` + ads + ` data-consent-BACKGROUND=` + trk + `>x</td></tr></table>`},
	{"table background first-party", `<table background="/bg.png"><tr><td background="">x</td></tr></table>`, ""},
	{"background as references", `<td background="https:&#47;&#47;tracker.example/bg.png">`, `<td` + ads + ` data-consent-background="https:&#47;&#47;tracker.example/bg.png">`},
	// An SVG presentation attribute loads its url() as the property does;
	// a reference to the document's own gradient loads nothing.
	{"svg presentation attributes", `<svg><rect fill="url(#g)" stroke=red/><rect cursor="url(` + trk + `),auto"/><path fill="url(#g)" MASK='url("` + trk + `#m")'/><use marker-end="url(` + trk + `#a)"/></svg>`,
		`<svg><rect fill="url(#g)" stroke=red/><rect` + ads + ` data-consent-cursor="url(` + trk + `),auto"/><path` + ads + ` fill="url(#g)" data-consent-MASK='url("` + trk + `#m")'/><use` + ads + ` data-consent-marker-end="url(` + trk + `#a)"/></svg>`},
	{"body style url", `<body style="background:url(` + trk + `)">`, `<body` + ads + ` data-consent-style="background:url(` + trk + `)">`},
	{"textarea style url", `<textarea style="background:url('` + trk + `')">a<b</textarea>`, `<textarea` + ads + ` data-consent-style="background:url('` + trk + `')">a<b</textarea>`},
	{"img style url, src first-party", `<img src="/a.png" style="background:url(` + trk + `)">`, `<img` + ads + ` data-consent-src="/a.png" data-consent-style="background:url(` + trk + `)">`},
	{"iframe style url", `<iframe src="/local" style="background:url(` + trk + `)"></iframe>`,
		`<iframe` + ads + ` srcdoc="` + placeholder(newTestJudge().verdict("ads")) + `" data-consent-src="/local" data-consent-style="background:url(` + trk + `)"></iframe>`},
	{"blocked img keeps a plain style", `<img style="width:1px" src="` + trk + `">`, `<img` + ads + ` style="width:1px" data-consent-src="` + trk + `">`},
	{"form style url", `<form action="/s" style="background:url(` + trk + `)"></form>`, `<form` + ads + ` action="/s" data-consent-style="background:url(` + trk + `)"></form>`},
	// A link's ping is posted to when the link is followed.
	{"a ping", `<a href="/next" ping="/count https://tracker.example/ping?id=1">next</a>`, `<a` + ads + ` href="/next" data-consent-ping="/count https://tracker.example/ping?id=1">next</a>`},
	{"area ping first-party", `<map><area href="/x" ping="/count" PING="https://tracker.example/p"></map>`, ""},
	{"marked body", `<body data-consent="marketing" style="color:red">x`, ""},
	// After a <base href> naming another host, relative URLs load from it.
	{"base to a tracker", `<base href="https://tracker.example/lib/"><script src="x.js"></script><img src="/p.gif">`,
		`<base href="https://tracker.example/lib/"><script` + txt + ads + ` data-consent-src="x.js"></script><img` + ads + ` data-consent-src="/p.gif">`},
	{"base as references, style url", `<BASE HREF="https:&#47;&#47;tracker.example"><style>.a{background:url(a.png)}</style>`,
		`<BASE HREF="https:&#47;&#47;tracker.example"><style>.a{background:url(consentgate:a.png)}</style>`},
	{"base to a tracker, srcdoc", `<base href="//tracker.example/"><iframe srcdoc="&lt;script src=x.js&gt;&lt;/script&gt;"></iframe>`,
		`<base href="//tracker.example/"><iframe` + ads + ` srcdoc="` + placeholder(newTestJudge().verdict("ads")) + `" data-consent-srcdoc="&lt;script src=x.js&gt;&lt;/script&gt;"></iframe>`},
	// A srcdoc document's own base comes first; a relative one resolves
	// against the page's.
	{"srcdoc with its own base", `<base href="https://cdn.example/"><iframe srcdoc="&lt;base href=https://tracker.example/&gt;&lt;script src=x.js&gt;&lt;/script&gt;"></iframe><img src=x.png>`,
		`<base href="https://cdn.example/"><iframe` + ads + ` srcdoc="` + placeholder(newTestJudge().verdict("ads")) + `" data-consent-srcdoc="&lt;base href=https://tracker.example/&gt;&lt;script src=x.js&gt;&lt;/script&gt;"></iframe><img src=x.png>`},
	{"srcdoc with a relative base", `<base href="https://tracker.example/"><iframe srcdoc="&lt;base href=/lib/&gt;&lt;img src=p.gif&gt;"></iframe>`,
		`<base href="https://tracker.example/"><iframe` + ads + ` srcdoc="` + placeholder(newTestJudge().verdict("ads")) + `" data-consent-srcdoc="&lt;base href=/lib/&gt;&lt;img src=p.gif&gt;"></iframe>`},
	{"before the base", `<script src="a.js"></script><base href="https://tracker.example/">`, ""},
	{"only the first base with an href counts", `<base target=_top><base href="/"><base href="https://tracker.example/"><script src="a.js"></script>`, ""},
	{"base elsewhere", `<base href="https://cdn.example/"><script src="a.js"></script><script src="` + trk + `"></script>`,
		`<base href="https://cdn.example/"><script src="a.js"></script><script` + txt + ads + ` data-consent-src="` + trk + `"></script>`},
	{"marked div, loading nothing", `<div data-consent="marketing" class="promo"><p>x</p></div>`, ""},
	{"style url first-party", `<div style="background:url('/a.png')" onclick="go(1)">`, ""},
	{"style without url", `<a href="/x?a=1&amp;b=2" style="color:red">`, ""},
	{"partytown snippet", `<script type="text/partytown">gtag('config', 'G-1');</script>`,
		`<script type="text/plain" data-consent-purpose="analytics" data-consent-vendor="google-analytics" data-consent-type="text/partytown">gtag('config', 'G-1');</script>`},
	{"link rel as references", `<link rel="style&#115;heet" href="` + trk + `">`, `<link` + ads + ` rel="style&#115;heet" data-consent-href="` + trk + `">`},
	{"embed", `<embed type="video/x" src="` + trk + `">`, `<embed` + ads + ` type="video/x" data-consent-src="` + trk + `">`},
	{"object", `<object data="` + trk + `" type="a/b"></object>`, `<object` + ads + ` data-consent-data="` + trk + `" type="a/b"></object>`},
	{"img srcset", `<img src="/a.png" srcset="/a.png 1x, ` + trk + ` 2x">`, `<img` + ads + ` data-consent-src="/a.png" data-consent-srcset="/a.png 1x, ` + trk + ` 2x">`},
	{"img srcset allowed", `<img srcset="/a.png 1x,/b.png 2x, /c(1).png 3x">`, ""},
	{"img srcset commas", `<img srcset="/a.png,` + trk + `,/b.png">`, `<img` + ads + ` data-consent-srcset="/a.png,` + trk + `,/b.png">`},
	// Browsers decode references before they split a srcset: "&#44;" parts candidates too.
	{"img srcset comma as a reference", `<img srcset="/a.png 3x&#44; ` + trk + ` 1x">`, `<img` + ads + ` data-consent-srcset="/a.png 3x&#44; ` + trk + ` 1x">`},
	{"svg script href", `<svg><script href="` + trk + `"></script></svg>`, `<svg><script type="text/plain"` + ads + ` data-consent-href="` + trk + `"></script></svg>`},
	{"svg script xlink:href", `<svg><script xlink:href="` + trk + `"></script></svg>`, `<svg><script type="text/plain"` + ads + ` data-consent-xlink-href="` + trk + `"></script></svg>`},
	{"svg image href", `<svg><image href="` + trk + `"/></svg>`, `<svg><image` + ads + ` data-consent-href="` + trk + `"/></svg>`},
	{"input type=image", `<input type="image" alt="Go" src="` + trk + `">`, `<input` + ads + ` type="image" alt="Go" data-consent-src="` + trk + `">`},
	{"input allowed", `<input type="image" alt="Go" src="/go.png">`, ""},
	{"preload imagesrcset", `<link rel="preload" as="image" imagesrcset="/a.png 1x, ` + trk + ` 2x">`, `<link` + ads + ` rel="preload" as="image" data-consent-imagesrcset="/a.png 1x, ` + trk + ` 2x">`},
	{"video poster", `<video poster="` + trk + `" src="/v.mp4" controls></video>`, `<video` + ads + ` data-consent-poster="` + trk + `" data-consent-src="/v.mp4" controls></video>`},
	{"image is img", `<IMAGE src="` + trk + `">`, `<IMAGE` + ads + ` data-consent-src="` + trk + `">`},
	{"audio", `<audio src="` + trk + `"></audio>`, `<audio` + ads + ` data-consent-src="` + trk + `"></audio>`},
	{"picture source", `<picture><source srcset="` + trk + `"><img src="/a.png"></picture>`, `<picture><source` + ads + ` data-consent-srcset="` + trk + `"><img src="/a.png"></picture>`},
	{"track", `<track src="` + trk + `" kind=captions>`, `<track` + ads + ` data-consent-src="` + trk + `" kind=captions>`},
	{"frameset frame", `<frameset cols="50%,50%"><frame src="/menu.html"><FRAME name=main SRC=` + trk + `></frameset>`,
		`<frameset cols="50%,50%"><frame src="/menu.html"><FRAME` + ads + ` name=main data-consent-SRC=` + trk + `></frameset>`},
	{"svg feImage", `<svg><filter id="f"><feImage href="` + trk + `"/></filter></svg>`, `<svg><filter id="f"><feImage` + ads + ` data-consent-href="` + trk + `"/></filter></svg>`},
	{"link compression-dictionary", `<link rel="compression-dictionary" href="` + trk + `">`,
		`<link` + ads + ` rel="compression-dictionary" data-consent-href="` + trk + `">`},
	{"link apple-touch-icon", `<link rel="apple-touch-icon" sizes="180x180" href="` + trk + `"><link rel=mask-icon href="` + trk + `" color="#000">`,
		`<link` + ads + ` rel="apple-touch-icon" sizes="180x180" data-consent-href="` + trk + `"><link` + ads + ` rel=mask-icon data-consent-href="` + trk + `" color="#000">`},
	{"link stylesheet", `<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">`, ""}, // functional: granted
	{"link preconnect", `<link rel=preconnect href="` + trk + `">`, `<link` + ads + ` rel=preconnect data-consent-href="` + trk + `">`},
	{"link icon", `<LINK REL="Shortcut  ICON" HREF="` + trk + `">`, `<LINK` + ads + ` REL="Shortcut  ICON" data-consent-HREF="` + trk + `">`},
	{"link canonical", `<link rel="canonical" href="` + trk + `"><link rel=alternate href="` + trk + `"><link href="` + trk + `">`, ""},
	{"unrelated tags skipped", `<a href="` + trk + `">x</a><div data-src="` + trk + `" src="` + trk + `"></div>`, ""},

	// @import
	{"import forms", `<style>@import url(` + trk + `);@import url("` + trk + `") screen;@import url( '` + trk + `' );@import "` + trk + `";@import '` + trk + `';@IMPORT "` + trk + `";@import "/local.css";</style>`,
		`<style>@consentgate-import url(` + trk + `);@consentgate-import url("` + trk + `") screen;@consentgate-import url( '` + trk + `' );@consentgate-import "` + trk + `";@consentgate-import '` + trk + `';@consentgate-IMPORT "` + trk + `";@import "/local.css";</style>`},
	{"style url()", `<style>.a{background:url(` + trk + `) no-repeat}.b{background:url(/local.png)}.c{background-image:URL("` + trk + `")}</style>`,
		`<style>.a{background:url(consentgate:` + trk + `) no-repeat}.b{background:url(/local.png)}.c{background-image:URL("consentgate:` + trk + `")}</style>`},
	{"style url() past the first HoldLimit bytes", `<style>` + strings.Repeat(".a{color:red}", HoldLimit/13+1) + `.b{background:url( ` + trk + ` )}.c{background:url(/ok.png)}.d{background:url("` + trk + `")}</style>`,
		`<style>` + strings.Repeat(".a{color:red}", HoldLimit/13+1) + `.b{background:url( consentgate:` + trk + ` )}.c{background:url(/ok.png)}.d{background:url("consentgate:` + trk + `")}</style>`},
	// Strings in an image-set() load; CSS reads names and URLs with their escapes decoded.
	{"style image-set strings", `<style>.a{background-image:image-set("` + trk + `" 1x, "/b.png" 2x, url(` + trk + `) 3x)}.b{background:-WEBKIT-image-set('` + trk + `' type("image/png") 1x)}</style>`,
		`<style>.a{background-image:image-set("consentgate:` + trk + `" 1x, "/b.png" 2x, url(consentgate:` + trk + `) 3x)}.b{background:-WEBKIT-image-set('consentgate:` + trk + `' type("image/png") 1x)}</style>`},
	{"style url spelt with escapes", `<style>.a{background:u\72l(` + trk + `)}.b{background:\75 RL("` + trk + `")}</style>`,
		`<style>.a{background:u\72l(consentgate:` + trk + `)}.b{background:\75 RL("consentgate:` + trk + `")}</style>`},
	{"style url with escapes in it", `<style>.a{background:url("https:\2f\2ftracker.example/x.png")}.b{background:url(https\:\/\/tracker.example/y.png)}</style>`,
		`<style>.a{background:url("consentgate:https:\2f\2ftracker.example/x.png")}.b{background:url(consentgate:https\:\/\/tracker.example/y.png)}</style>`},
	{"import spelt with an escape", `<style>@\69mport "` + trk + `";@IM\50ORT url("https\3a//tracker.example/a.css");</style>`,
		`<style>@consentgate-\69mport "` + trk + `";@consentgate-IM\50ORT url("https\3a//tracker.example/a.css");</style>`},
	{"escaped paren opens nothing", `<style>.a{content:url\(` + trk + `)}</style>`, ""},
	{"image-set past the first HoldLimit bytes", `<style>` + strings.Repeat(".a{color:red}", HoldLimit/13+1) + `.b{background:image-set("/a.png" 1x,"` + trk + `" 2x)}.c{background:u\72l(` + trk + `)}</style>`,
		`<style>` + strings.Repeat(".a{color:red}", HoldLimit/13+1) + `.b{background:image-set("/a.png" 1x,"consentgate:` + trk + `" 2x)}.c{background:u\72l(consentgate:` + trk + `)}</style>`},
	{"style attribute image-set", `<div style="background-image:image-set(&quot;` + trk + `&quot; 1x)">`, `<div` + ads + ` data-consent-style="background-image:image-set(&quot;` + trk + `&quot; 1x)">`},
	{"style attribute url spelt with an escape", `<div style="background:u\72l(` + trk + `)">`, `<div` + ads + ` data-consent-style="background:u\72l(` + trk + `)">`},
	{"style url() in a comment", `<style>/* .a{background:url(` + trk + `)} */ .b{color:red}</style>`, ""},
	{"import in comment", `<style>/* @import "` + trk + `"; */ @importx "` + trk + `"; @import"` + trk + `";</style>`, `<style>/* @import "` + trk + `"; */ @importx "` + trk + `"; @consentgate-import"` + trk + `";</style>`},
	{"import unterminated style", `<style>@import "` + trk + `";`, `<style>@consentgate-import "` + trk + `";`},
	// A "/*" in a string or a url token opens no comment: what follows is judged.
	{"comment opener in a double-quoted string", `<style>.a{content:"/*"}.b{background:url(` + ga + `)}@import "` + ga + `";</style>`,
		`<style>.a{content:"/*"}.b{background:url(consentgate:` + ga + `)}@consentgate-import "` + ga + `";</style>`},
	{"comment opener in a single-quoted string", `<style>.a{content:'/*'}.b{background:url('` + ga + `')}@import url(` + ga + `);.c{} /* */</style>`,
		`<style>.a{content:'/*'}.b{background:url('consentgate:` + ga + `')}@consentgate-import url(` + ga + `);.c{} /* */</style>`},
	{"comment opener in a url token", `<style>.a{background:url(//cdn.example/a/*b.png)}.b{background:url(` + ga + `)}@import '` + ga + `';/* */</style>`,
		`<style>.a{background:url(//cdn.example/a/*b.png)}.b{background:url(consentgate:` + ga + `)}@consentgate-import '` + ga + `';/* */</style>`},
	{"comment opener after an escaped quote", `<style>.a{content:"\"}/*"}.b{background:url(` + ga + `)}</style>`,
		`<style>.a{content:"\"}/*"}.b{background:url(consentgate:` + ga + `)}</style>`},
	{"comment opener in a string a newline ends", "<style>.a{content:\"/*\n}.b{background:url(" + ga + ")}.c{content:\"*/\"}</style>",
		"<style>.a{content:\"/*\n}.b{background:url(consentgate:" + ga + ")}.c{content:\"*/\"}</style>"},
	// A quote in a comment opens no string; a url() in one loads nothing.
	{"quote in a comment", `<style>/* don't */.b{background:url(` + ga + `)}</style>`, `<style>/* don't */.b{background:url(consentgate:` + ga + `)}</style>`},
	{"url() in a comment with a quote", `<style>/* it's url(` + ga + `) */.c{color:red}</style>`, ""},
	{"import after a comment", `<style>@import/**/"` + ga + `";@import /* " */ url(` + ga + `);</style>`,
		`<style>@consentgate-import/**/"` + ga + `";@consentgate-import /* " */ url(` + ga + `);</style>`},
	{"style attribute with a comment opener in a string", `<div style='content:"/*";background:url(` + ga + `)'>`,
		`<div` + gaMarks + ` data-consent-style='content:"/*";background:url(` + ga + `)'>`},
	{"unquoted url with a hex escape a space ends", `<style>.a{background:url(https://www.google-analytic\73 .com/collect)}</style>`,
		`<style>.a{background:url(consentgate:https://www.google-analytic\73 .com/collect)}</style>`},
	// Past the first HoldLimit bytes too; and a url() or image-set() they cut is judged whole.
	{"long style, url( in a comment before a quote", `<style>` + stylePad + `/* url(" */ .b{background:url(` + ga + `)} .c{content:"x"}</style>`,
		`<style>` + stylePad + `/* url(" */ .b{background:url(consentgate:` + ga + `)} .c{content:"x"}</style>`},
	{"long style, url() string ended by a newline", `<style>` + stylePad + ".a{background:url(\"\n)} .b{background:url(" + ga + `)} .c{content:"x"}</style>`,
		`<style>` + stylePad + ".a{background:url(\"\n)} .b{background:url(consentgate:" + ga + `)} .c{content:"x"}</style>`},
	{"long style, url() in a comment", `<style>` + stylePad + `/* .b{background:url(` + ga + `)} */</style>`, ""},
	{"url() cut by the first HoldLimit bytes", `<style>` + strings.Repeat("x", HoldLimit-10) + `;b:url(` + ga + `)}</style>`,
		`<style>` + strings.Repeat("x", HoldLimit-10) + `;b:url(consentgate:` + ga + `)}</style>`},
	{"image-set() string cut by the first HoldLimit bytes", `<style>` + strings.Repeat("x", HoldLimit-20) + `;b:image-set("` + ga + `" 1x)}</style>`,
		`<style>` + strings.Repeat("x", HoldLimit-20) + `;b:image-set("consentgate:` + ga + `" 1x)}</style>`},

	// charsets
	{"bom and windows-1252", "\xef\xbb\xbf<html><title>caf\xe9 \x80\x9f\xff</title><p>na\xefve</p><img alt=\"\xe9\" src=\"" + trk + "\">",
		"\xef\xbb\xbf<html><title>caf\xe9 \x80\x9f\xff</title><p>na\xefve</p><img" + ads + " alt=\"\xe9\" data-consent-src=\"" + trk + "\">"},
	{"nul bytes", "<img\x00 src=\"" + trk + "\"><img src=\"" + trk + "\x00\">", "<img\x00 src=\"" + trk + "\"><img" + ads + " data-consent-src=\"" + trk + "\x00\">"},

	// unfinished input
	{"unfinished tag", `<p>x<img src="` + trk, ""},
	{"unfinished script", `<script>fbq(1)`, `<script` + txt + fb + `>fbq(1)`},
	{"unfinished script end", `<script>fbq(1)</scr`, `<script` + txt + fb + `>fbq(1)</scr`},
	{"unfinished comment", `<!-- <img src="` + trk + `">`, ""},
	{"lone <", `a <`, ""},

	// limits
	{"oversized tag", `<img alt="` + long + `" src="` + trk + `"><img src="` + trk + `">`, `<img alt="` + long + `"` + ads + ` data-consent-src="` + trk + `"><img` + ads + ` data-consent-src="` + trk + `">`},
	{"oversized tag blocked on its prefix", `<img src="` + trk + `" srcset="` + trk + ` 2x" alt="` + long + `" srcset=x poster=` + trk + `>`,
		`<img` + ads + ` data-consent-src="` + trk + `" data-consent-srcset="` + trk + ` 2x" alt="` + long + `" data-consent-srcset=x data-consent-poster=` + trk + `>`},
	{"oversized data: image", `<img src="data:image/png;base64,` + long + `" alt=x><img src=` + trk + `>`, `<img src="data:image/png;base64,` + long + `" alt=x><img` + ads + ` data-consent-src=` + trk + `>`},
	{"oversized data: image, unquoted", `<img alt=x src= DATA:image/png;base64,` + long + `>`, ""},
	{"oversized URL", `<img alt=x src="https://cdn.example/x.png?` + long + `">`, `<img alt=x data-consent-purpose="" data-consent-vendor="" data-consent-src="https://cdn.example/x.png?` + long + `">`},
	{"oversized tracker URL", `<img src="` + trk + `?` + long + `">`, `<img` + ads + ` data-consent-src="` + trk + `?` + long + `">`},
	{"oversized srcset of data: URLs", `<img src=/a.png srcset="data:image/png;base64,` + long + ` 2x">`, `<img src=/a.png data-consent-purpose="" data-consent-vendor="" data-consent-srcset="data:image/png;base64,` + long + ` 2x">`},
	{"oversized, allowed then blocked", `<img src="/a.png" alt="` + long + `" srcset="` + trk + ` 2x" src=` + trk + ` poster=` + trk + `>`,
		`<img src="/a.png" alt="` + long + `"` + ads + ` data-consent-srcset="` + trk + ` 2x" data-consent-src=` + trk + ` data-consent-poster=` + trk + `>`},
	{"oversized, repeated attribute", `<img src="/a.png" alt="` + long + `" src="` + trk + `">`, ""},
	{"oversized script src", `<script data-x="` + long + `" src="` + trk + `" type=module></script>`, `<script data-x="` + long + `"` + txt + ads + ` data-consent-src="` + trk + `" data-consent-type=module></script>`},
	{"oversized script, type first", `<script type="text/javascript" data-x="` + long + `" src="` + trk + `">fbq(1)</script>`,
		`<script type="text/javascript" data-x="` + long + `"` + txt + ads + ` data-consent-src="` + trk + `">fbq(1)` + TailPoison + `</script>`},
	{"oversized script blocked on its prefix", `<script type=text/javascript src="` + trk + `" data-x="` + long + `">fbq(1)</script>`,
		`<script` + txt + ads + ` data-consent-type=text/javascript data-consent-src="` + trk + `" data-x="` + long + `">fbq(1)</script>`},
	{"oversized script allowed", `<script data-x="` + long + `" src="/app.js">fbq(1)</script>`, ""},
	{"oversized inline script", `<script data-x="` + long + `">fbq(1)</script>`, `<script data-x="` + long + `">fbq(1)` + TailPoison + `</script>`},
	{"oversized inline script, clean", `<script data-x="` + long + `">var a = 1</script>`, ""},
	{"oversized template", `<script data-x="` + long + `" type="text/template">fbq(1)</script>`, ""},
	{"oversized iframe", `<iframe title="` + long + `" src="` + trk + `"></iframe>`,
		`<iframe title="` + long + `" data-consent-purpose="marketing" data-consent-vendor="ads" srcdoc="` + placeholder(Verdict{Vendor: "ads", VendorName: "Ad network", Purpose: "marketing"}) + `" data-consent-src="` + trk + `"></iframe>`},
	{"oversized, granted data-consent", `<img data-consent="functional" alt="` + long + `" src="` + trk + `">`, ""},
	{"oversized, blocked data-consent", `<img data-consent="marketing" alt="` + long + `" src="/a.png">`, `<img data-consent-purpose="marketing" data-consent-vendor="" data-consent="marketing" alt="` + long + `" data-consent-src="/a.png">`},
	{"oversized link that loads nothing", `<link rel=canonical title="` + long + `" href="` + trk + `">`, ""},
	{"oversized link", `<link title="` + long + `" rel=stylesheet href="` + trk + `">`, `<link title="` + long + `" rel=stylesheet` + ads + ` data-consent-href="` + trk + `">`},
	{"oversized form", `<form title="` + long + `" action="` + trk + `"></form>`, ""},
	{"oversized attribute name", `<img ` + long + `=1 src=` + trk + `>`, `<img ` + long + `=1` + ads + ` data-consent-src=` + trk + `>`},
	{"oversized unfinished tag", `<img alt="` + long + `" src="` + trk, ""},
	// A name alone longer than TagLimit (it made the scanner loop forever).
	{"oversized tag name", `<iframe` + long + `x style="background:url(` + trk + `)"><img src=` + trk + `>`,
		`<iframe` + long + `x` + ads + ` data-consent-style="background:url(` + trk + `)"><img` + ads + ` data-consent-src=` + trk + `>`},
	{"oversized unfinished tag name", `<p>a<img` + long + `b`, ""},
	// A frame's document is judged in an oversized tag too: a srcdoc or a
	// data: URL held whole, whether in the first TagLimit bytes or later.
	{"oversized iframe, srcdoc after the padding", `<iframe title="` + long + `" srcdoc="&lt;p&gt;hi&lt;script src=&quot;` + trk + `&quot;&gt;&lt;/script&gt;"></iframe>`,
		`<iframe title="` + long + `"` + ` data-consent-purpose="marketing" data-consent-vendor="ads" srcdoc="` + placeholder(newTestJudge().verdict("ads")) + `" data-consent-srcdoc="&lt;p&gt;hi&lt;script src=&quot;` + trk + `&quot;&gt;&lt;/script&gt;"></iframe>`},
	{"oversized iframe, srcdoc before the padding", `<iframe srcdoc='<img src="` + trk + `">' title="` + long + `"></iframe>`,
		`<iframe` + ads + ` srcdoc="` + placeholder(newTestJudge().verdict("ads")) + `" data-consent-srcdoc='<img src="` + trk + `">' title="` + long + `"></iframe>`},
	{"oversized iframe, clean srcdoc", `<iframe title="` + long + `" srcdoc="&lt;img src=/a.png&gt;"></iframe><iframe srcdoc="&lt;p&gt;" title="` + long + `"></iframe>`, ""},
	{"oversized embed, data: document after the padding", `<embed title="` + long + `" src="` + svgTracker + `">`,
		`<embed title="` + long + `"` + ` data-consent-purpose="marketing" data-consent-vendor="ads" data-consent-src="` + svgTracker + `">`},
	{"oversized object, data: document before the padding", `<object data="` + htmlTracker + `" title="` + long + `"></object>`,
		`<object` + ads + ` data-consent-data="` + htmlTracker + `" title="` + long + `"></object>`},
	// A frame's data: URL too long to hold: a document's fails closed, as
	// any over-long URL does; any other type loads nothing from elsewhere.
	{"over-long data: HTML frame", `<iframe src=" DATA:text/html;charset=utf-8,` + long + `"></iframe>`,
		`<iframe data-consent-purpose="" data-consent-vendor="" srcdoc="` + placeholder(Verdict{}) + `" data-consent-src=" DATA:text/html;charset=utf-8,` + long + `"></iframe>`},
	{"over-long data: SVG embed in base64", `<embed type="image/svg+xml" src="data:image/svg+xml;base64,` + long + `">`,
		`<embed type="image/svg+xml" data-consent-purpose="" data-consent-vendor="" data-consent-src="data:image/svg+xml;base64,` + long + `">`},
	{"over-long data: header", `<object data="data:` + long + `"></object>`, `<object data-consent-purpose="" data-consent-vendor="" data-consent-data="data:` + long + `"></object>`},
	{"over-long data: image in frames", `<iframe src="data:image/png;base64,` + long + `"></iframe><object data="data:text/plain,` + long + `"></object>`, ""},
	// A srcdoc too long to hold is rewritten in place (see srcdoc_test.go).
	{"over-long srcdoc", `<iframe srcdoc="&lt;p&gt;` + long + `&lt;img src=` + trk + `&gt;"></iframe>`,
		`<iframe srcdoc="&lt;p&gt;` + long + `&lt;img data-consent-purpose=&quot;marketing&quot; data-consent-vendor=&quot;ads&quot; data-consent-src=` + trk + `&gt;"></iframe>`},
	// A <base href> in an oversized tag is the base of the URLs after it.
	{"oversized base, href after the padding", `<base target="` + long + `" href="https://tracker.example/"><script src="x.js"></script>`,
		`<base target="` + long + `" href="https://tracker.example/"><script` + txt + ads + ` data-consent-src="x.js"></script>`},
	{"oversized base, href before the padding", `<base href="//tracker.example/lib/" target="` + long + `"><img src="p.gif">`,
		`<base href="//tracker.example/lib/" target="` + long + `"><img` + ads + ` data-consent-src="p.gif">`},
	{"oversized base, over-long href", `<base href="https://tracker.example/` + long + `"><img src="p.gif">`,
		`<base href="https://tracker.example/` + long + `"><img` + ads + ` data-consent-src="p.gif">`},
	{"oversized base after the first", `<base href="/"><base target="` + long + `" href="https://tracker.example/"><img src="p.gif">`, ""},
	{"oversized base without href, then a base", `<base target="` + long + `"><base href="https://tracker.example/"><img src="p.gif">`,
		`<base target="` + long + `"><base href="https://tracker.example/"><img` + ads + ` data-consent-src="p.gif">`},
	{"long script judged on prefix", `<script>fbq(1);` + strings.Repeat("x", HoldLimit) + `</script>`, `<script` + txt + fb + `>fbq(1);` + strings.Repeat("x", HoldLimit) + `</script>`},
	{"long script signature past prefix", `<script>` + strings.Repeat("x", HoldLimit) + `fbq(1)</script>`, `<script>` + strings.Repeat("x", HoldLimit) + `fbq(1)` + TailPoison + `</script>`},
	{"long script signature across the prefix end", `<script>` + strings.Repeat("x", HoldLimit-2) + `fbq(1)</script>`, `<script>` + strings.Repeat("x", HoldLimit-2) + `fbq(1)` + TailPoison + `</script>`},
	{"long script false end tags", `<script>` + strings.Repeat("x", HoldLimit) + `</scx </scrip> fbq(1) </script >`, `<script>` + strings.Repeat("x", HoldLimit) + `</scx </scrip> fbq(1) ` + TailPoison + `</script >`},
	{"long script unfinished", `<script>` + strings.Repeat("x", HoldLimit) + `fbq(1)`, `<script>` + strings.Repeat("x", HoldLimit) + `fbq(1)` + TailPoison},
	{"long script unfinished end tag", `<script>` + strings.Repeat("x", HoldLimit) + `fbq(1)</scr`, `<script>` + strings.Repeat("x", HoldLimit) + `fbq(1)</scr` + TailPoison},
	{"long clean script", `<script>` + strings.Repeat("x", 3*HoldLimit) + `</script>`, ""},
	{"long script, not javascript", `<script type="text/x-template">` + strings.Repeat("x", HoldLimit) + `fbq(1)</script>`, ""},
	{"long style import in prefix", `<style>@import "` + trk + `";` + strings.Repeat("x", HoldLimit) + `</style>`, `<style>@consentgate-import "` + trk + `";` + strings.Repeat("x", HoldLimit) + `</style>`},
	// In SVG and MathML the parser reads markup in a title, textarea, xmp…,
	// and a tag that closes itself has no content (see foreign.go).
	{"svg self-closing title", `<svg><title/></svg><img src=` + trk + `>`, `<svg><title/></svg><img` + ads + ` data-consent-src=` + trk + `>`},
	{"svg title content", `<svg><title><img src=` + trk + `></title></svg>`, `<svg><title><img` + ads + ` data-consent-src=` + trk + `></title></svg>`},
	{"svg self-closing style", `<svg><style/><img src=` + trk + `>`, `<svg><style/><img` + ads + ` data-consent-src=` + trk + `>`},
	{"svg self-closing script", `<svg><script href="/a.js"/><img src=` + trk + `></svg>`, `<svg><script href="/a.js"/><img` + ads + ` data-consent-src=` + trk + `></svg>`},
	{"svg xmp content", `<SVG><xmp><img src=` + trk + `></xmp></SVG>`, `<SVG><xmp><img` + ads + ` data-consent-src=` + trk + `></xmp></SVG>`},
	{"svg in svg", `<svg><svg></svg><title/></svg><img src=` + trk + `>`, `<svg><svg></svg><title/></svg><img` + ads + ` data-consent-src=` + trk + `>`},
	{"svg font without style attributes", `<svg><font><title><img src=` + trk + `>`, `<svg><font><title><img` + ads + ` data-consent-src=` + trk + `>`},
	{"math annotation-xml", `<math><annotation-xml><title><img src=` + trk + `></title></annotation-xml></math>`, `<math><annotation-xml><title><img` + ads + ` data-consent-src=` + trk + `></title></annotation-xml></math>`},
	{"svg style text", `<svg><style>@import "` + trk + `";</style></svg>`, `<svg><style>@consentgate-import "` + trk + `";</style></svg>`},
	// Where HTML takes over again, so does raw text.
	{"svg foreignObject textarea", `<svg><foreignObject><textarea><img src=` + trk + `></textarea></foreignObject></svg>`, ""},
	{"math mtext title", `<math><mtext><title><img src=` + trk + `></title></mtext></math>`, ""},
	{"svg broken out of", `<svg><p></p><title><img src=` + trk + `></title>`, ""},
	{"svg font with color breaks out", `<svg><font color=red></font><title><img src=` + trk + `></title>`, ""},
	{"after svg", `<svg></svg><title><img src=` + trk + `></title>`, ""},
	{"svg self-closing svg", `<svg/><title><img src=` + trk + `></title>`, ""},
	// The parser takes </div> for the end of the div around the SVG, and
	// the SVG's with it; the rewriter, which does not follow HTML
	// elements, stays in SVG and judges the title's text (see foreign.go).
	{"svg closed by its parent", `<div><svg><g></div><title><img src=` + trk + `></title>`, `<div><svg><g></div><title><img` + ads + ` data-consent-src=` + trk + `></title>`},
	{"math annotation-xml html", `<math><annotation-xml encoding="Text/HTML"><title><img src=` + trk + `></title></annotation-xml></math>`, ""},
	{"processing instruction in HTML", `<?xml-stylesheet href="` + trk + `"?>`, ""}, // a bogus comment
	{"long style import past prefix", `<style>` + strings.Repeat("x", HoldLimit) + `@import "` + trk + `";</style>`, ""},
}

func placeholder(v Verdict) string { return string(DefaultPlaceholder(nil, v)) }

func TestRewrite(t *testing.T) {
	checkCases(t, cases, Options{Judge: newTestJudge()})
}

// checkCases rewrites each case whole and a byte at a time.
func checkCases(t *testing.T, cases []rwCase, opt Options) {
	t.Helper()
	for _, c := range cases {
		want := c.want
		if want == "" {
			want = c.in
		}
		if got := string(Rewrite(nil, []byte(c.in), opt)); got != want {
			t.Errorf("%s:\n  in %.300q\n got %.300q\nwant %.300q", c.name, c.in, got, want)
		}
		// The same one byte at a time.
		var out bytes.Buffer
		r := New(&out, opt)
		for i := range len(c.in) {
			r.Write([]byte{c.in[i]})
		}
		r.Close()
		if got := out.String(); got != want {
			t.Errorf("%s, byte by byte:\n got %.300q\nwant %.300q", c.name, got, want)
		}
	}
}

func TestInjection(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"head", `<!DOCTYPE html><html><head><meta charset=utf-8><title>t</title></head><body>x</body></html>`,
			`<!DOCTYPE html><html><head>E<meta charset=utf-8><title>t</title>H</head><body>x</body></html>`},
		{"head with attributes", `<HTML><HEAD lang="a>b"><SCRIPT></SCRIPT></HEAD >`, `<HTML><HEAD lang="a>b">E<SCRIPT></SCRIPT>H</HEAD >`},
		{"script before head", `<html><script src=/a.js></script><head></head>`, `<html>E<script src=/a.js></script><head>H</head>`},
		{"link before head", `<link rel=stylesheet href=a.css><head>`, `E<link rel=stylesheet href=a.css><head>H`},
		{"style before head", `<meta charset=x><style></style>`, `<meta charset=x>E<style></style>H`},
		{"body without head", `<html><body class="x">hi</body>`, `<html>E<body class="x">Hhi</body>`},
		{"end head without head", `<title>t</title></head><body>`, `<title>t</title>EH</head><body>`},
		{"neither", `hello`, `helloEH`},
		{"empty", ``, `EH`},
		{"only once", `<head></head><head></head><body></body>`, `<head>EH</head><head></head><body></body>`},
		{"not in comments or text", `<!--<head></head>--><script>"<body>"</script><textarea></head></textarea>`, `<!--<head></head>-->E<script>"<body>"</script><textarea></head></textarea>H`},
		{"headx is not head", `<headx></headx><body>`, `E<headx></headx><body>H`},
		{"unfinished body tag", `<body x`, `E<body xH`},
		// Without <head>, the first element of the content (whatever its
		// name) ends the head: the hooks go before it, so an inline handler
		// on it cannot run first. The charset and title stay in front.
		{"content without head", `<!doctype html><meta charset=utf-8><title>t</title><img src="data:," onerror="fetch('//t.example/')"><p>x`, `<!doctype html><meta charset=utf-8><title>t</title>E<img src="data:," onerror="fetch('//t.example/')"><p>xH`},
		{"content in html without head", `<HTML lang=en><Meta charset=utf-8><div onclick=x>`, `<HTML lang=en><Meta charset=utf-8>E<div onclick=x>H`},
		{"noscript first", `<noscript><link rel=stylesheet href=a.css></noscript>`, `E<noscript><link rel=stylesheet href=a.css></noscript>H`},
		// The hook's relative URLs must not resolve against another host.
		{"base naming a host", `<head><meta charset=utf-8><base href="https://cdn.example/"><title>t</title></head>`, `<head>E<meta charset=utf-8>H<base href="https://cdn.example/"><title>t</title></head>`},
		{"base naming a host, no head", `<base href=//cdn.example/><script src=a.js></script>`, `EH<base href=//cdn.example/><script src=a.js></script>`},
		{"relative base", `<head><base href="/app/"></head>`, `<head>E<base href="/app/">H</head>`},
		// An oversized base's href may come after its first TagLimit bytes
		// have gone out: the hook goes in front of it in any case.
		{"oversized base", `<head><base target="` + long + `" href="https://cdn.example/"></head>`, `<head>EH<base target="` + long + `" href="https://cdn.example/"></head>`},
		{"oversized relative base", `<head><base href="/app/" target="` + long + `"></head>`, `<head>EH<base href="/app/" target="` + long + `"></head>`},
		{"oversized base after a base", `<head><base href="/app/"><base target="` + long + `"></head>`, `<head>E<base href="/app/"><base target="` + long + `">H</head>`},
	}
	for _, tt := range tests {
		got := string(Rewrite(nil, []byte(tt.in), Options{Early: []byte("E"), Hook: []byte("H")}))
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	// Without Early, the hook alone; without either, nothing.
	if got := string(Rewrite(nil, []byte(`<head></head>`), Options{Hook: []byte("H")})); got != `<head>H</head>` {
		t.Errorf("hook only: %q", got)
	}
	if got := string(Rewrite(nil, []byte(`<head></head>`), Options{Early: []byte("E")})); got != `<head>E</head>` {
		t.Errorf("early only: %q", got)
	}
}

// Body content (the banner's noscript form) goes right after the body start
// tag, behind the hook when that lands there too, else at the end.
func TestBodyInjection(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"head and body", `<head></head><body class=a>x</body>`, `<head>EH</head><body class=a>Bx</body>`},
		{"body only", `<p>t<BODY>x`, `E<p>t<BODY>HBx`},
		{"no body", `<head></head><p>x`, `<head>EH</head><p>xB`},
		{"body in a comment or script", `<!--<body>--><script>"<body>"</script><body>`, `<!--<body>-->E<script>"<body>"</script><body>HB`},
		{"unfinished body tag", `<body x`, `E<body xHB`},
		{"twice", `<body><body>`, `E<body>HB<body>`},
		// A form posting to a relative action would post to the base's host:
		// the form with absolute URLs (A) goes in its place.
		{"after a base naming a host", `<head><base href="https://cdn.example/"></head><body>x`, `<head>EH<base href="https://cdn.example/"></head><body>Ax`},
		{"after a base naming a host, no body", `<base href="//cdn.example/"><p>x`, `EH<base href="//cdn.example/"><p>xA`},
		{"after a relative base", `<head><base href="/a/"></head><body>x`, `<head>E<base href="/a/">H</head><body>Bx`},
		{"after a base with no href", `<head><base target="_top"></head><body>x`, `<head>E<base target="_top">H</head><body>Bx`},
	}
	for _, tt := range tests {
		got := string(Rewrite(nil, []byte(tt.in), Options{Early: []byte("E"), Hook: []byte("H"), Body: []byte("B"), BodyAfterBase: []byte("A")}))
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	// Without the absolute form, none goes in after a base naming a host.
	if got := string(Rewrite(nil, []byte(`<base href="https://cdn.example/"><body>x`), Options{Body: []byte("B")})); got != `<base href="https://cdn.example/"><body>x` {
		t.Errorf("no BodyAfterBase: got %q", got)
	}
}

func TestSplitWrites(t *testing.T) {
	parts := []string{"<he", "ad><scr", "ipt sr", `c="https://trac`, `ker.example/x.js"`, "></scr", "ipt><scri", "pt>fb", "q(1)</", "script", "><!-", "- <img src=", trk, "> --", "><", "/he", "ad>"}
	var out bytes.Buffer
	r := New(&out, Options{Judge: newTestJudge(), Early: []byte("E"), Hook: []byte("H")})
	for _, p := range parts {
		r.Write([]byte(p))
	}
	r.Close()
	want := `<head>E<script` + txt + ads + ` data-consent-src="` + trk + `"></script><script` + txt + fb + `>fbq(1)</script><!-- <img src=` + trk + `> -->H</head>`
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
	if r.Blocked() != 2 {
		t.Errorf("Blocked() = %d, want 2", r.Blocked())
	}
}

// TestTailPoisonInTwoWrites: a long script judged by its tail gets
// TailPoison right before its end tag wherever the page is cut in two, a
// '<' of its text ending the first write included.
func TestTailPoisonInTwoWrites(t *testing.T) {
	page := `<script>` + strings.Repeat("x", HoldLimit) + `a<b<<c fbq(1) <x</script><p>`
	want := `<script>` + strings.Repeat("x", HoldLimit) + `a<b<<c fbq(1) <x` + TailPoison + `</script><p>`
	for cut := len(page) - 30; cut < len(page); cut++ {
		var out bytes.Buffer
		r := New(&out, Options{Judge: newTestJudge()})
		r.Write([]byte(page[:cut]))
		r.Write([]byte(page[cut:]))
		r.Close()
		if out.String() != want {
			t.Errorf("cut at %d: got …%q", cut, out.String()[HoldLimit:])
		}
	}
}

func TestFlushKeepsUnfinishedTag(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Judge: newTestJudge()})
	r.Write([]byte(`<p>hello</p><img src="https://tracker`))
	r.Flush()
	if out.String() != `<p>hello</p>` {
		t.Fatalf("after Flush: %q", out.String())
	}
	r.Write([]byte(`.example/x.js"><script>fbq(`))
	r.Flush()
	if want := `<p>hello</p><img` + ads + ` data-consent-src="` + trk + `">`; out.String() != want {
		t.Fatalf("after Flush: %q, want %q", out.String(), want)
	}
	r.Close()
	if want := `<p>hello</p><img` + ads + ` data-consent-src="` + trk + `"><script` + txt + fb + `>fbq(`; out.String() != want {
		t.Fatalf("after Close: %q, want %q", out.String(), want)
	}
}

func TestCounters(t *testing.T) {
	r := New(&bytes.Buffer{}, Options{Judge: newTestJudge()})
	r.Write([]byte(`<img src="` + trk + `"><img alt="` + long + `" src="` + trk + `"><style>@import "` + trk + `";</style>`))
	r.Close()
	if r.Blocked() != 3 || r.Oversized() != 1 {
		t.Errorf("Blocked() = %d, Oversized() = %d; want 3, 1", r.Blocked(), r.Oversized())
	}
}

// recordJudge records what it is asked.
type recordJudge struct {
	calls []string
	v     Verdict
}

func (j *recordJudge) JudgeURL(k catalog.Kind, u []byte) Verdict {
	j.calls = append(j.calls, k.String()+" "+string(u))
	return j.v
}
func (j *recordJudge) JudgeInline(s []byte) Verdict {
	j.calls = append(j.calls, "inline "+string(s))
	return j.v
}
func (j *recordJudge) JudgePurpose(p []byte) Verdict {
	j.calls = append(j.calls, "purpose "+string(p))
	return j.v
}

func TestJudgeCalls(t *testing.T) {
	in := `<script src="a&amp;b.js"></script><script>x()</script><script type=text/x-template>t</script>` +
		`<iframe src=f></iframe><embed src=e><object data=o></object>` +
		`<img src=i srcset="s1 1x, s2 2x"><video src=v poster=p></video><audio src=au></audio><source src=so><track src=tr>` +
		`<link rel=stylesheet href=l1><link rel=canonical href=l2><link rel=preload href=l3 data-consent=Functional>` +
		`<style>@import "im";</style><img src=""><img src="i2" src="dup">`
	j := &recordJudge{}
	var urls []string
	Rewrite(nil, []byte(in), Options{Judge: j, OnURL: func(k catalog.Kind, u []byte, v Verdict) { urls = append(urls, k.String()+" "+string(u)) }})
	want := []string{"script a&amp;b.js", "inline x()", "frame f", "frame e", "frame o",
		"image i", "image s1", "image s2", "image v", "image p", "image au", "image so", "image tr",
		"link l1", "purpose Functional", "link im", "image i2"}
	if strings.Join(j.calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls\n got %q\nwant %q", j.calls, want)
	}
	var wantURLs []string
	for _, c := range want {
		if !strings.HasPrefix(c, "inline ") && !strings.HasPrefix(c, "purpose ") {
			wantURLs = append(wantURLs, c)
		}
	}
	if strings.Join(urls, "|") != strings.Join(wantURLs, "|") {
		t.Errorf("OnURL\n got %q\nwant %q", urls, wantURLs)
	}
}

func TestEscapedInsertions(t *testing.T) {
	j := &recordJudge{v: Verdict{Block: true, Vendor: `v"<&>'`, VendorName: "Vendör <b>", Purpose: `p"`}}
	got := string(Rewrite(nil, []byte(`<iframe src=x></iframe><img src=y>`), Options{Judge: j}))
	want := `<iframe data-consent-purpose="p&quot;" data-consent-vendor="v&quot;&lt;&amp;&gt;&#39;" srcdoc="` +
		placeholder(j.v) + `" data-consent-src=x></iframe><img data-consent-purpose="p&quot;" data-consent-vendor="v&quot;&lt;&amp;&gt;&#39;" data-consent-src=y>`
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	ph := placeholder(j.v)
	if !strings.Contains(ph, "Vend&amp;#xf6;r &amp;lt;b&amp;gt;") || strings.ContainsAny(ph, `"<>'`) {
		t.Errorf("placeholder not escaped twice: %q", ph)
	}
	if !strings.Contains(ph, "&amp;quot;p&amp;quot;&amp;quot;") {
		t.Errorf("placeholder does not name the purpose: %q", ph)
	}

	custom := Options{Judge: j, Placeholder: func(dst []byte, v Verdict) []byte { return append(dst, "blocked:"+v.Vendor[:1]...) }}
	if got := string(Rewrite(nil, []byte(`<iframe src=x>`), custom)); !strings.Contains(got, `srcdoc="blocked:v"`) {
		t.Errorf("custom placeholder: %q", got)
	}
}

func TestResetReuse(t *testing.T) {
	opt := Options{Judge: newTestJudge(), Hook: []byte("H")}
	var a, b bytes.Buffer
	r := New(&a, opt)
	r.Write([]byte(`<script>fbq(`)) // left held
	r.Reset(&b, opt)
	r.Write([]byte(`<p><img src="` + trk + `">`))
	r.Close()
	if want := `<p><img` + ads + ` data-consent-src="` + trk + `">H`; b.String() != want || a.Len() != 0 {
		t.Errorf("after Reset: %q (%q), want %q", b.String(), a.String(), want)
	}
	if r.Blocked() != 1 {
		t.Errorf("Blocked() after Reset = %d", r.Blocked())
	}
	if _, err := r.Write([]byte("x")); err != ErrClosed {
		t.Errorf("Write after Close: %v", err)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errFail
	}
	w.n--
	return len(p), nil
}

var errFail = bytes.ErrTooLarge

func TestWriteError(t *testing.T) {
	r := New(&failWriter{}, Options{})
	big := bytes.Repeat([]byte("<p>text</p>"), 1000)
	if _, err := r.Write(big); err != errFail {
		t.Fatalf("Write: %v", err)
	}
	if _, err := r.Write(big); err != errFail {
		t.Fatalf("second Write: %v", err)
	}
	if err := r.Close(); err != errFail {
		t.Fatalf("Close: %v", err)
	}
}

// TestOversizedTagsFailClosed: a tracker padded with a long attribute
// (before, between or after its own attributes) is not left live as a
// browser reads the output (x/net/html's tokenizer), however the page is
// cut into writes; an image whose src is a large data: URL still shows.
func TestOversizedTagsFailClosed(t *testing.T) {
	type element struct {
		name  string
		attrs []string
		text  string // script text, with the end tag
	}
	elements := []element{
		{"script", []string{`src="` + trk + `"`, `async`}, "</script>"},
		{"script", []string{`type="text/javascript"`, `src="` + trk + `"`}, "fbq(1)</script>"},
		{"script", []string{`id=x`}, "fbq('init', '1')</script>"},
		{"img", []string{`src="` + trk + `"`, `width=1`}, ""},
		{"img", []string{`src="/a.png"`, `srcset="/b.png 1x, ` + trk + ` 2x"`}, ""},
		{"iframe", []string{`src="https://www.youtube.com/embed/x"`, `title=t`}, "</iframe>"},
		{"embed", []string{`src="` + trk + `"`}, ""},
		{"object", []string{`data="` + trk + `"`}, "</object>"},
		{"video", []string{`src="/v.mp4"`, `poster="` + trk + `"`}, "</video>"},
		{"link", []string{`rel=stylesheet`, `href="https://fonts.googleapis.com/css"`}, ""},
		{"iframe", []string{`srcdoc="&lt;p&gt;hi&lt;img src=&quot;` + trk + `&quot;&gt;"`, `title=t`}, "</iframe>"},
		{"iframe", []string{`src="` + htmlTracker + `"`}, "</iframe>"},
		{"embed", []string{`type="image/svg+xml"`, `src="` + svgTracker + `"`}, ""},
		{"img", []string{`src="` + trk + `?` + long + `"`}, ""},
	}
	pad := `data-pad="` + long + `"`
	rng := rand.New(rand.NewPCG(7, 7))
	j := newTestJudge()
	for _, e := range elements {
		for at := 0; at <= len(e.attrs); at++ {
			attrs := slices.Insert(slices.Clone(e.attrs), at, pad)
			page := []byte("<p>before<" + e.name + " " + strings.Join(attrs, " ") + ">" + e.text + "<p>after")
			whole := Rewrite(nil, page, Options{Judge: j})
			for _, maxChunk := range []int{1, 300, 20000, 64 << 10} {
				got, err := streamed(page, Options{Judge: j}, rng, maxChunk, whole)
				if err != nil || !bytes.Equal(got, whole) {
					t.Fatalf("<%s> padded at %d, writes of up to %d: differs from the whole rewrite (%v)", e.name, at, maxChunk, err)
				}
			}
			for _, l := range liveReferences(whole) {
				if v := j.judgeLive(l); v.Block {
					t.Errorf("<%s %.60s> padded at %d: %.80s left live (%s)", e.name, strings.Join(e.attrs, " "), at, l.what, v.Vendor)
				}
			}
		}
	}

	image := `<img alt="a chart" src="data:image/png;base64,` + strings.Repeat("iVBORw0K", 3*TagLimit/8) + `">`
	var r Rewriter
	if got := string(r.RewriteAll(nil, []byte(image), Options{Judge: j})); got != image || r.Oversized() != 1 {
		t.Errorf("a large data: image was changed (oversized %d): %.120q", r.Oversized(), got)
	}
}

// TestSheet: a style sheet is judged as the text of a <style> element, in
// its first HoldLimit bytes and in the rest, however it is written in
// pieces; "</style>" in it ends nothing, and nothing is injected.
func TestSheet(t *testing.T) {
	pad := strings.Repeat(".a{color:red}\n", HoldLimit/14+1)
	sheet := `@import url("` + trk + `");@import "/local.css";` + "\n" + `.b{background:url(` + trk + `)}</style><script src="` + trk + `"></script>` + pad + `.c{background:image-set("` + trk + `" 1x)}.d{background:url(/ok.png)}`
	want := `@consentgate-import url("` + trk + `");@import "/local.css";` + "\n" + `.b{background:url(consentgate:` + trk + `)}</style><script src="` + trk + `"></script>` + pad + `.c{background:image-set("consentgate:` + trk + `" 1x)}.d{background:url(/ok.png)}`
	opt := Options{Judge: newTestJudge(), Sheet: true}
	if got := string(Rewrite(nil, []byte(sheet), opt)); got != want {
		t.Errorf("whole:\n got %.400q\nwant %.400q", got, want)
	}
	for _, size := range []int{1, 7, 300} {
		var out bytes.Buffer
		r := New(&out, opt)
		for i := 0; i < len(sheet); i += size {
			r.Write([]byte(sheet[i:min(i+size, len(sheet))]))
		}
		r.Close()
		if out.String() != want {
			t.Errorf("in writes of %d bytes: differs at byte %d", size, mismatch(out.Bytes(), []byte(want)))
		}
	}
	if got := string(Rewrite(nil, []byte(sheet), Options{Judge: nopJudge{}, Sheet: true, Hook: []byte("H")})); got != sheet {
		t.Errorf("judging nothing, a sheet changed: %.200q", got)
	}
}
