/* consentgate shim: holds back what page code loads at run time for a
   vendor the visitor has not allowed, and releases it on consent. The
   gateway appends `__cgShim(<match data>, <placeholder>);` (docs/banner.md §3). */
function __cgShim(data, PH) {
  "use strict";
  var W = window, D = document, E = Element.prototype, P = "data-consent-";
  if (W.__consentgate || !W.WeakSet) return;
  var me = D.currentScript || D.querySelector("script[data-cg-granted]");
  function words(a) {
    return new Set(((me && me.getAttribute(a)) || "").split(/\s+/).filter(Boolean));
  }
  var purposes = words("data-cg-granted"), vendors = words("data-cg-vendors");
  purposes.add("necessary");

  // rule host → [[vendor, rule length, path prefix or RegExp]]; cookie name → [vendors];
  // normalised vendor id → vendor
  var hosts = new Map(), cookies = new Map(), prefixes = [], ids = new Map();
  function norm(s) { return String(s).toLowerCase().replace(/[-_\s]/g, ""); }
  (data || []).forEach(function (v, i) {
    v.i = i;
    ids.set(norm(v[0]), v);
    v[2].forEach(function (r) {
      var k = r.search(/[/?]/), h = k < 0 ? r : r.slice(0, k), p = k < 0 ? "/" : r.slice(k);
      if (p[0] == "?") p = "/" + p;
      if (p.indexOf("*") >= 0) p = new RegExp("^" + p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/?#]+"));
      hosts.has(h) || hosts.set(h, []);
      hosts.get(h).push([v, r.length, p]);
    });
    v[3].forEach(function (c) {
      if (c[1]) prefixes.push([c[0], v]);
      else (cookies.get(c[0]) || cookies.set(c[0], []).get(c[0])).push(v);
    });
  });

  function allow(v) { return purposes.has(v[1]) || vendors.has(v[0]); }

  // A vendor's service worker (push messaging, hosted on the site's own
  // origin), once registered, runs whatever a page allows: unregister
  // removes every registration with a worker of a vendor that the grants
  // ps and vs (Sets) do not allow; at load, and for the banner before the
  // reload after a choice that takes something back. A path rule is
  // "/path", or "*/name" in any folder (docs/banner.md §3).
  function unregister(ps, vs) {
    var sw, barred = (data || []).filter(function (v) { return v[4] && !ps.has(v[1]) && !vs.has(v[0]); });
    try { sw = barred.length && navigator.serviceWorker; } catch (e) {} // denied to an opaque origin
    return !sw ? Promise.resolve() : sw.getRegistrations().then(function (rs) {
      return Promise.all(rs.filter(function (r) {
        return [r.installing, r.waiting, r.active].some(function (w) {
          var p = w ? new URL(w.scriptURL).pathname : "";
          try { p = decodeURIComponent(p); } catch (e) {}
          return p && barred.some(function (v) {
            return v[4].some(function (s) { return s == p || s[0] == "*" && p.slice(1 - s.length) == s.slice(1); });
          });
        });
      }).map(function (r) { return r.unregister(); }));
    }).catch(function () {});
  }
  unregister(purposes, vendors);

  // A URL's vendor: longest rule wins, then the earlier vendor.
  function match(url) {
    var s = String(url && url.url || url), u, h, pq, best, len = -1, k;
    // a relative URL is the page's own, unless a <base href> names another host
    if (s.indexOf("//") < 0 && D.baseURI.indexOf(location.origin + "/") == 0) return;
    try { u = new URL(s, D.baseURI); } catch (e) { return; }
    if (!/^https?:$/.test(u.protocol)) return;
    h = u.hostname.replace(/\.$/, "");
    pq = u.pathname + u.search;
    for (;;) {
      (hosts.get(h) || []).forEach(function (r) {
        if ((r[1] > len || r[1] == len && r[0].i < best.i) &&
            (r[2].test ? r[2].test(pq) : pq.indexOf(r[2]) == 0)) { best = r[0]; len = r[1]; }
      });
      k = h.indexOf(".");
      if (k < 0) return best;
      h = h.slice(k + 1);
    }
  }
  function blocked(url) {
    var v = hosts.size && match(url);
    return v && !allow(v) ? v : null;
  }

  // Held calls and cookie writes, in order: [vendors, replay].
  var queue = [];
  function later(rows, fn) { queue.push([rows, fn]); }

  // Elements: neutralised exactly as the gateway does (docs/banner.md §4).
  var SA = E.setAttribute, GA = E.getAttribute, HA = E.hasAttribute, RA = E.removeAttribute;
  var URLS = { src: 1, srcset: 1, href: 1, data: 1, poster: 1 };
  // The gateway's renamed attributes (xlink:href is kept as xlink-href, an XML name).
  var REN = { src: 1, srcset: 1, href: 1, "xlink-href": "xlink:href", imagesrcset: 1, style: 1, background: 1, ping: 1, data: 1, poster: 1, srcdoc: 1, type: 1,
    fill: 1, stroke: 1, mask: 1, "clip-path": 1, cursor: 1, filter: 1, "marker-start": 1, "marker-mid": 1, "marker-end": 1 };
  var TAGS = { SCRIPT: 1, IFRAME: 1, FRAME: 1, IMG: 1, EMBED: 1, OBJECT: 1, LINK: 1, SOURCE: 1, AUDIO: 1, VIDEO: 1, TRACK: 1 };
  // T is el's tagName as an HTML document has it: an XHTML (XML) document
  // keeps the case (and prefix) written. An SVG element's stays lower case.
  function T(el) { return el.namespaceURI == "http://www.w3.org/1999/xhtml" ? el.localName.toUpperCase() : el.tagName; }
  var mine = new WeakSet(), held = [];

  function blockedAttr(name, value) {
    var v = null;
    (name == "srcset" ? String(value).split(",") : [value]).some(function (u) {
      return (v = blocked(name == "srcset" ? u.trim().split(/\s+/)[0] : u));
    });
    return v;
  }

  // PH, the frame placeholder, is the gateway's own document (its text
  // empty; banner.js writes it), so a page's CSP admits its style by hash.

  // hold neutralises el if its URL attribute name=value loads a blocked
  // vendor (or el is held already), keeping value in data-consent-<name>.
  function hold(el, name, value) {
    var t = T(el), v, n;
    if (!TAGS[t] || !URLS[name]) return false;
    // rel=me, canonical…: nothing loads
    if (t == "LINK" && /\S/.test(GA.call(el, "rel") || "") &&
        !/stylesheet|preconnect|prefetch|preload|prerender|icon|manifest/i.test(GA.call(el, "rel"))) return false;
    if (!HA.call(el, P + "purpose")) {
      if (!(v = blockedAttr(name, value))) return false;
      mark(el, v);
      for (n in URLS) {
        if (HA.call(el, n)) { SA.call(el, P + n, GA.call(el, n)); RA.call(el, n); }
      }
      if (t == "IFRAME") {
        if (HA.call(el, "srcdoc")) SA.call(el, P + "srcdoc", GA.call(el, "srcdoc"));
        SA.call(el, "srcdoc", PH);
      }
      mine.add(el);
      held.push(el);
    }
    SA.call(el, P + name, value);
    return true;
  }

  // mark gives el the gateway's marks for vendor v (a script's type kept
  // aside, so that it does not run).
  function mark(el, v) {
    if (isScript(el)) {
      if (HA.call(el, "type")) SA.call(el, P + "type", GA.call(el, "type"));
      SA.call(el, "type", "text/plain");
    }
    SA.call(el, P + "purpose", v[1]);
    SA.call(el, P + "vendor", v[0]);
  }

  var SEL = "iframe[src],frame[src],img[src],img[srcset],embed[src],object[data],link[href],source[src],source[srcset]," +
    "audio[src],video[src],video[poster],track[src],style,[style*='(']";
  // scan holds blocked elements in root (scripts only if they have not run),
  // and neutralises blocked url()s in style attributes and elements.
  function scan(root, scripts) {
    var sel = scripts ? SEL + ",script[src]" : SEL, els = [].slice.call(root.querySelectorAll(sel)), c = 0;
    if (root.matches && root.matches(sel)) els.unshift(root);
    els.forEach(function (el) {
      if (HA.call(el, P + "purpose")) return;
      if (unstyled(el)) c++;
      for (var n in URLS) if (HA.call(el, n) && hold(el, n, GA.call(el, n))) return c++;
    });
    return c;
  }

  // CSS set at run time: a url() or a string (image-set(), @import) whose
  // URL is a blocked vendor's gets "consentgate:" in front, as the gateway
  // writes it in style elements (docs/banner.md §4), so that nothing
  // loads; release() takes it out again for the vendors then allowed.
  // CSSTOK: a comment (left alone); a string, maybe a url()'s ($2, $1 the
  // url( before it); an unquoted url()'s URL ($3). url may be spelt with escapes.
  var URLFN = /(?:u|\\0{0,4}[57]5\s?|\\u)(?:r|\\0{0,4}[57]2\s?|\\r)(?:l|\\0{0,4}[46]c\s?|\\l)\(\s*/.source,
    CSSTOK = new RegExp(/\/\*[\s\S]*?(?:\*\/|$)|(U)?("(?:\\[\s\S]|[^\\"\n])*"?|'(?:\\[\s\S]|[^\\'\n])*'?)|U((?:\\[\s\S]|[^\\()\s"'])+)/
      .source.replace(/U/g, URLFN), "gi");
  function unesc(s) {
    return s.replace(/\\([0-9a-f]{1,6})\s?|\\([\s\S])/gi, function (m, h, c) {
      return h ? String.fromCodePoint(Math.min(parseInt(h, 16), 0x10ffff) || 0xfffd) : c;
    });
  }
  // css is CSS text t neutralised, and the vendors it holds back.
  function css(t) {
    var vs = [];
    t = String(t).replace(CSSTOK, function (m, pre, s, u) {
      if (!s && !u) return m;
      var i = m.length - (s ? s.length - 1 : u.length), x = m.slice(i), w = x.search(/\S|$/), v;
      x = x.slice(w);
      if (s && x.slice(-1) == s[0]) x = x.slice(0, -1);
      if (!x || !(v = blocked(unesc(x)))) return m;
      vs.push(v);
      return m.slice(0, i + w) + "consentgate:" + m.slice(i + w);
    });
    return [t, vs];
  }
  // held: style elements, declarations and sheets whose CSS holds URLs back.
  var heldCSS = new Set();
  // styled is CSS text x as it may be set on o (kept in heldCSS if held back).
  function styled(o, x) {
    var r = css(x);
    if (!r[1].length) return x;
    if (o) heldCSS.add(o);
    return r[0];
  }
  // unstyled neutralises el's style attribute and, in a style element, its
  // text; true if it had to.
  function unstyled(el) {
    var t = GA.call(el, "style"), u, c = false;
    if (t && el.style && (u = styled(null, t)) != t) { SA.call(el, "style", u); c = true; }
    if (el.localName == "style" && (u = styled(null, t = el.textContent)) != t) { el.textContent = u; c = true; }
    return c;
  }
  // The style properties that may load a URL, as Chromium names them
  // (camel case, dashed, -webkit-): [name, dashed name], those it knows.
  var STYLE = [], cs = D.createElement("i").style;
  ("background background-image border-image border-image-source list-style list-style-image content cursor " +
   "mask mask-image mask-border mask-border-source shape-outside filter backdrop-filter clip-path marker " +
   "marker-start marker-mid marker-end -webkit-border-image -webkit-mask -webkit-mask-image -webkit-mask-box-image " +
   "-webkit-mask-box-image-source -webkit-box-reflect -webkit-filter -webkit-clip-path -webkit-shape-outside")
    .split(" ").forEach(function (d) {
      var c = d.replace(/-(.)/g, function (m, x) { return x.toUpperCase(); });
      [d, c, c[0].toLowerCase() + c.slice(1)].forEach(function (n, i, a) {
        if (a.indexOf(n) == i && n in cs && !Object.getOwnPropertyDescriptor(CSSStyleDeclaration.prototype, n)) STYLE.push([n, d]);
      });
    });

  function define(proto, prop, set) {
    var d = proto && Object.getOwnPropertyDescriptor(proto, prop);
    if (d && d.set && d.configurable) {
      Object.defineProperty(proto, prop, {
        get: d.get, enumerable: d.enumerable, configurable: true,
        set: function (x) { set.call(this, x, d.set); }
      });
    }
    return d;
  }

  // Markup naming a rule host is neutralised in an inert template first.
  // innerHTML scripts never run; those of a contextual fragment do.
  var tpl = D.createElement("template"), IH = Object.getOwnPropertyDescriptor(E, "innerHTML");
  function names(html) {
    var hs = typeof html == "string" && html.match(/\/\/[\w.-]+/g);
    return hs && hs.some(function (h) {
      for (h = h.slice(2).toLowerCase(); h; h = h.slice(h.indexOf(".") + 1 || h.length)) if (hosts.has(h)) return true;
    });
  }
  function clean(html) {
    if (!names(html)) return html;
    IH.set.call(tpl, html);
    return scan(tpl.content) ? IH.get.call(tpl) : html;
  }
  // document.write: its markup goes on to the parser as written, so only
  // the start tags that would load a blocked vendor are replaced, each
  // by its neutralised form.
  var TAG = /<(script|i?frame|img|embed|object|link|source)(?=[\s/>])(?:[^>"']|"[^"]*"|'[^']*')*>/gi;
  function tags(html) {
    return !names(html) ? html : html.replace(TAG, function (t, n) {
      IH.set.call(tpl, t);
      if (!scan(tpl.content, true)) return t;
      var h = IH.get.call(tpl), end = "</" + n.toLowerCase() + ">";
      return h.slice(-end.length) == end ? h.slice(0, -end.length) : h;
    });
  }
  // A write may end inside such a start tag (or its name), which the
  // parser would finish with what comes next: that tail is held, per
  // document, and judged with the next write. When the script ends, the
  // parser reads on into the page's own markup: the tail goes to it then,
  // unless it names a catalogued host (dropped, lest it load). One
  // written by no script (into an opened document) waits for the next
  // write; close() drops it, as the parser drops an unfinished tag.
  var OPEN = /<(?:([a-z]+)([\s/](?:[^>"']|"[^"]*"|'[^']*')*(?:"[^"]*|'[^']*)?)?)?$/i,
    LOADS = " script iframe frame img embed object link source ", tails = new WeakMap(), soon = Promise.resolve(),
    xurl = new WeakMap();
  // Speculation rules from page code, judged by the URLs they list (docs/
  // banner.md §3): text set on a live rules script is judged first (held in
  // place); a script inserted with rules is swapped for the gateway's
  // neutralised copy as the observer sees it (its rule set goes with it).
  // Document rules that could pick another host's links are narrowed to
  // the site's own paths, as the gateway narrows them in pages.
  var RULES = /^\s*speculationrules\s*$/i;
  function live(el) {
    return isScript(el) && RULES.test(GA.call(el, "type") || "") && !HA.call(el, P + "purpose");
  }
  function obj(x) { return !!x && typeof x == "object" && !Array.isArray(x); }
  // own: a condition only links on the site's own origin meet (the
  // gateway's keepsToOwnPaths).
  function own(c) {
    var k = obj(c) ? Object.keys(c).filter(function (k) { return k != "relative_to"; }) : [], v = c && c[k[0]];
    if (k.length != 1) return false;
    if (k[0] == "and") return Array.isArray(v) && v.some(own);
    if (k[0] == "or") return Array.isArray(v) && v.length > 0 && v.every(own);
    v = [].concat(v);
    return k[0] == "href_matches" && v.length > 0 && v.every(function (p) {
      return typeof p == "string" ? /^\/(?![\/\\])/.test(p) :
        obj(p) && Object.keys(p).every(function (k) { return /^(pathname|search|hash)$/.test(k); });
    });
  }
  // readRules reads rules text once: v, the vendor of a URL they list (or
  // null), and n, the text with its document rules narrowed (null if none
  // needs it; narrowing changes no list of URLs).
  function readRules(text) {
    var set, v = null, changed = false;
    try {
      set = JSON.parse(text);
      (function walk(x) {
        if (v || !x || typeof x != "object") return;
        for (var k in x) {
          if (k == "urls" && Array.isArray(x[k]) && !Array.isArray(x))
            x[k].some(function (u) { return typeof u == "string" && u && (v = blocked(u)); });
          walk(x[k]);
        }
      })(set);
    } catch (e) {}
    if (obj(set)) for (var k in set) if (Array.isArray(set[k])) set[k].forEach(function (r) {
      if (!obj(r) || ("source" in r ? r.source != "document" : !("where" in r)) || "where" in r && own(r.where)) return;
      r.where = "where" in r ? { and: [r.where, { href_matches: "/*" }] } : { href_matches: "/*" };
      changed = true;
    });
    return { v: v, n: changed ? JSON.stringify(set) : null };
  }
  // fillRules judges text set on a rules script: what it sets instead.
  function fillRules(el, x) {
    if (!live(el)) return x;
    var r = readRules(String(x));
    if (r.v && el.isConnected) mark(el, r.v);
    return r.n == null ? x : r.n;
  }
  function rules(root) {
    [].slice.call(root.querySelectorAll("script[type]")).concat(isScript(root) ? [root] : []).forEach(function (el) {
      if (!el.isConnected || !live(el)) return;
      var t = el.textContent, r = readRules(t), n;
      if (!r.v && r.n == null) return;
      n = el.ownerDocument.createElementNS(el.namespaceURI, "script");
      [].forEach.call(el.attributes, function (a) { SA.call(n, a.name, a.value); });
      if (r.v) mark(n, r.v);
      n.textContent = r.n || t;
      if (el.nonce) n.nonce = el.nonce;
      el.replaceWith(n);
    });
  }
  // Anything else (adopted nodes, say): held once inserted.
  var mo = new MutationObserver(function (ms) {
    ms.forEach(function (m) {
      m.addedNodes.forEach(function (n) { if (n.nodeType == 1) { scan(n); rules(n); } });
      if (m.target.nodeType == 1 && isScript(m.target)) rules(m.target);
      if (m.target.localName == "style") unstyled(m.target);
    });
  });
  // Watched: the page's document and those of same-origin frames reached.
  var docs = [], seen = new WeakSet();
  function watch(d) {
    docs.push(d);
    if (hosts.size) mo.observe(d, { childList: true, subtree: true });
    // frames[i] passes no getter: a frame's load (at insertion if no src) does
    d.addEventListener("load", function (e) {
      if (/^i?frame$|^object$/.test(e.target.localName)) void e.target.contentDocument;
    }, true);
  }
  // reach installs the holding, sharing this state, in the realm of frame
  // f's same-origin document d once, unless d has a shim of its own (a page
  // the gateway served); not while f loads its src (its blank document's
  // window is kept for a same-origin page, whose shim must not find ours).
  function reach(d, f) {
    var w = d && d.defaultView;
    if (!w || seen.has(d) || d.URL == "about:blank" && /^(?!about:)./.test(f.src || f.data || "")) return;
    seen.add(d);
    try {
      if (!w.__consentgate) install(w);
      else if (w.__consentgate != W.__consentgate) return;
      w.__consentgate = W.__consentgate;
      watch(d);
    } catch (e) {}
  }

  // wrap replaces constructor w[c] with f, which stands for it (instanceof,
  // constructor, static constants).
  function wrap(w, c, f) {
    var C = w[c];
    f.prototype = C.prototype;
    C.prototype.constructor = f;
    Object.setPrototypeOf(f, C);
    w[c] = f;
  }

  // install wraps what loads in realm w (the page's or a frame's window).
  function install(w) {
    var E = w.Element.prototype, DP = w.Document.prototype;
    if (hosts.size) {
      ("HTMLScriptElement src,HTMLIFrameElement src,HTMLFrameElement src,HTMLImageElement src,HTMLImageElement srcset," +
       "HTMLEmbedElement src,HTMLObjectElement data,HTMLLinkElement href,HTMLSourceElement src,HTMLSourceElement srcset," +
       "HTMLMediaElement src,HTMLVideoElement poster,HTMLTrackElement src")
        .split(",").forEach(function (p) {
          p = p.split(" ");
          define(w[p[0]] && w[p[0]].prototype, p[1], function (x, set) { hold(this, p[1], x) || set.call(this, x); });
        });
      // (Chromium's scripts have their own, for Trusted Types)
      var SP = w.HTMLScriptElement && w.HTMLScriptElement.prototype;
      // (and a style element's text)
      [[SP, "textContent"], [SP, "text"], [SP, "innerText"], [w.Node.prototype, "textContent"],
       [w.HTMLElement.prototype, "innerText"]].forEach(function (p) {
        define(p[0], p[1], function (x, set) { set.call(this, this.localName == "style" ? styled(this, x) : fillRules(this, x)); });
      });
      // … added as a text node
      var NP = w.Node.prototype;
      ["appendChild", "insertBefore"].forEach(function (m) {
        var f = NP[m];
        NP[m] = function (n) {
          var x;
          if (this.localName == "style" && n && n.nodeType == 3 && (x = styled(this, n.data)) != n.data) n.data = x;
          return f.apply(this, arguments);
        };
      });
      var sa = E.setAttribute;
      E.setAttribute = function (n, x) {
        n = String(n).toLowerCase();
        if (n == "style" && this.style) return sa.call(this, "style", styled(this.style, x));
        if (!TAGS[T(this)] || !hold(this, n, x)) return sa.apply(this, arguments);
      };
      // Style declarations (an element's, a rule's): the URL properties,
      // setProperty() and cssText (which el.style = … sets too).
      var CP = w.CSSStyleDeclaration && w.CSSStyleDeclaration.prototype, sp = CP && CP.setProperty;
      if (sp) {
        CP.setProperty = function (n, x) { return sp.call(this, n, styled(this, x), arguments[2]); };
        STYLE.forEach(function (p) {
          Object.defineProperty(CP, p[0], {
            get: function () { return this.getPropertyValue(p[1]); },
            set: function (x) { CP.setProperty.call(this, p[1], x); }, configurable: true
          });
        });
        define(CP, "cssText", function (x, set) { set.call(this, styled(this, x)); });
      }
      // Style sheets: rules inserted, text replaced.
      var SS = w.CSSStyleSheet && w.CSSStyleSheet.prototype;
      [SS, w.CSSGroupingRule && w.CSSGroupingRule.prototype].forEach(function (p, r) {
        var f = p && p.insertRule;
        if (f) p.insertRule = function (x) {
          var a = [].slice.call(arguments);
          a[0] = styled(r ? this.parentStyleSheet : this, x);
          return f.apply(this, a);
        };
      });
      if (SS) ["replace", "replaceSync"].forEach(function (m) {
        var f = SS[m];
        if (f) SS[m] = function (x) { return f.call(this, styled(this, x)); };
      });
      // Typed OM: set and append wait for the vendor.
      var PM = w.StylePropertyMap && w.StylePropertyMap.prototype;
      if (PM) ["set", "append"].forEach(function (m) {
        var f = PM[m];
        PM[m] = function () {
          var o = this, a = arguments, v = css([].slice.call(a, 1).join(" "))[1][0];
          if (!v) return f.apply(o, a);
          later([v], function () { f.apply(o, a); });
        };
      });
      var DW = DP.write, DC = DP.close, IA = E.insertAdjacentHTML;
      if (IH && define(E, "innerHTML", function (x, set) {
        set.call(this, this.localName == "style" ? styled(this, x) : /^(SCRIPT|TEXTAREA|TITLE|XMP)$/.test(T(this)) ? x : clean(x));
      })) {
        E.insertAdjacentHTML = function (p, x) { return IA.call(this, p, clean(x)); };
        if (DW) {
          ["write", "writeln"].forEach(function (m, nl) {
            DP[m] = function () {
              var d = this, r = tails.get(d), c = d.currentScript, s = [].join.call(arguments, "") + (nl ? "\n" : ""), t = -1, x;
              tails.delete(d);
              if (r && r[1] == c) s = r[0] + s;
              if ((x = OPEN.exec(s)) && LOADS.indexOf(" " + (x[1] || "").toLowerCase() + (x[2] ? " " : "")) >= 0) t = x.index;
              x = DW.call(d, tags(t < 0 ? s : s.slice(0, t)));
              // held only now: what scripts written just now write comes first
              if (t >= 0) {
                tails.set(d, r = [s.slice(t), c]);
                if (c) soon.then(function () {
                  if (tails.get(d) == r) { tails.delete(d); names(r[0]) || DW.call(d, r[0]); }
                });
              }
              return x;
            };
          });
          DP.close = function () { tails.delete(this); return DC.apply(this, arguments); };
        }
      }
      var RP = w.Range && w.Range.prototype, CF = RP && RP.createContextualFragment;
      if (CF) {
        RP.createContextualFragment = function () {
          var f = CF.apply(this, arguments);
          scan(f, true);
          return f;
        };
      }

      var F = w.fetch;
      if (F) {
        w.fetch = function (input) {
          var a = arguments, v = blocked(input);
          return v ? new Promise(function (ok, no) {
            later([v], function () { F.apply(w, a).then(ok, no); });
          }) : F.apply(w, a);
        };
      }
      var X = w.XMLHttpRequest && w.XMLHttpRequest.prototype;
      if (X) {
        var XO = X.open, XS = X.send;
        X.open = function (m, u) { xurl.set(this, u); return XO.apply(this, arguments); };
        X.send = function (b) {
          var x = this, v = blocked(xurl.get(x));
          if (!v) return XS.apply(x, arguments);
          later([v], function () { XS.call(x, b); });
        };
      }
      var NP = w.Navigator && w.Navigator.prototype, SB = NP && NP.sendBeacon;
      if (SB) {
        NP.sendBeacon = function (u, b) {
          var n = this, v = blocked(u);
          if (!v) return SB.apply(n, arguments);
          later([v], function () { SB.call(n, u, b); });
          return true;
        };
      }
      // A font face loads (load(), or added to the document's fonts and
      // used) once its vendor is allowed.
      var FF = w.FontFace, FS = w.FontFaceSet && w.FontFaceSet.prototype, faces = new WeakMap();
      if (FF && FS) {
        var FL = FF.prototype.load, FA = FS.add, face = function (o) { var v = faces.get(o); return v && !allow(v) && v; };
        wrap(w, "FontFace", function (n, src) {
          var o = Reflect.construct(FF, arguments, new.target || FF), v = typeof src == "string" && css(src)[1][0];
          if (v) faces.set(o, v);
          return o;
        });
        FF.prototype.load = function () {
          var o = this, v = face(o);
          return v ? new Promise(function (ok, no) { later([v], function () { FL.call(o).then(ok, no); }); }) : FL.call(o);
        };
        FS.add = function (o) {
          var s = this, v = face(o);
          if (!v) return FA.apply(s, arguments);
          later([v], function () { FA.call(s, o); });
          return s;
        };
      }
      // new Audio(url) sets its src as the setter does.
      var AU = w.Audio;
      if (AU) {
        w.Audio = function (u) {
          var a = Reflect.construct(AU, [], new.target || AU);
          if (u !== undefined) a.src = u;
          return a;
        };
        w.Audio.prototype = AU.prototype;
      }
      // A connection cannot wait: a blocked one fails at once, as the
      // browser fails one to a port it forbids.
      ["WebSocket", "EventSource"].forEach(function (c) {
        var C = w[c];
        if (C) wrap(w, c, function (u) {
          if (blocked(String(u).replace(/^\s*ws/i, "http"))) throw new w.DOMException(c + " to " + u + " waits for consent", "SecurityError");
          return Reflect.construct(C, arguments, new.target || C);
        });
      });
    }

    // A catalogued cookie is written once one of its vendors is allowed.
    if (cookies.size || prefixes.length) {
      define(DP, "cookie", function (s, set) {
        var d = this, n = String(s).split(";")[0].split("=")[0].trim(), rows = (cookies.get(n) || []).slice();
        prefixes.forEach(function (p) { if (n.indexOf(p[0]) == 0) rows.push(p[1]); });
        if (rows.length && !rows.some(allow)) later(rows, function () { set.call(d, s); });
        else set.call(d, s);
      });
    }

    // A same-origin frame is reached once page code gets at it (not a held
    // one: the placeholder).
    "HTMLIFrameElement HTMLFrameElement HTMLObjectElement".split(" ").forEach(function (c) {
      var pr = w[c] && w[c].prototype, cd = pr && Object.getOwnPropertyDescriptor(pr, "contentDocument");
      if (cd) ["contentDocument", "contentWindow"].forEach(function (n) {
        var g = Object.getOwnPropertyDescriptor(pr, n);
        if (g && g.get && g.configurable) Object.defineProperty(pr, n, {
          get: function () { HA.call(this, P + "purpose") || reach(cd.get.call(this), this); return g.get.call(this); },
          enumerable: g.enumerable, configurable: true
        });
      });
    });
  }
  install(W);
  watch(D);

  // Markup of client-side consent tools (docs/migration.md): Klaro
  // (data-name), CookieConsent by orestbida (data-category) and Cookiebot
  // (data-cookieconsent), activated as those tools would.
  var all = [], MIG = "script[data-name],script[data-category],script[data-cookieconsent]," +
    "[data-name][data-src],[data-name][data-href],[data-cookieconsent][data-cookieblock-src]";
  var ALIAS = { preferences: "functional", functionality: "functional", statistics: "analytics",
    performance: "analytics", ads: "marketing", advertising: "marketing", targeting: "marketing" };
  var MOVE = { "data-type": "type", "data-src": "src", "data-href": "href", "data-cookieblock-src": "src" };
  var PLAIN = /^\s*text\/plain\s*$/i;
  // scripted: a URL that runs script where it is put (a browser drops tabs
  // and line breaks from a URL, and C0 controls and spaces before it).
  // The gateway renames only URLs that load something; a javascript: URL in
  // a data-consent- attribute came from elsewhere (page content a site's
  // sanitizer kept, since data- attributes do nothing by themselves) and is
  // never restored.
  function scripted(u) { return /^[\x00-\x20]*(javascript|vbscript):/i.test(u.replace(/[\t\n\r]/g, "")); }
  // purpose maps a tool's category to a purpose of the policy; "" if none.
  function purpose(c) {
    c = c.trim().toLowerCase();
    return c == "necessary" || all.indexOf(c) >= 0 ? c : all.indexOf(ALIAS[c]) >= 0 ? ALIAS[c] : "";
  }
  // mig is what el's tool markup needs: [[purposes; "" = every one], vendor],
  // or null if el carries none (a script: none that has not run).
  function mig(el) {
    var c = GA.call(el, "data-cookieconsent"), k = GA.call(el, "data-category"), n = GA.call(el, "data-name"), v;
    // (only elements that load what they name: those tools hold nothing else)
    if (!el.matches(MIG) || !TAGS[T(el)] || T(el) == "SCRIPT" && !PLAIN.test(GA.call(el, HA.call(el, P + "purpose") ? P + "type" : "type"))) return null;
    if (c != null) return /ignore/i.test(c) ? null : [c.split(",").map(purpose)];
    // "!analytics": runs when refused, which consentgate never does
    if (k != null && T(el) == "SCRIPT") return /^\s*!/.test(k) || /^\s*!/.test(GA.call(el, "data-service")) ? null : [[purpose(k)]];
    if (v = ids.get(norm(n))) return [[v[1]], v];
    n = n.trim().toLowerCase();
    return [[n == "necessary" || all.indexOf(n) >= 0 ? n : ""]];
  }
  function need(m, el) {
    return (m[1] ? allow(m[1]) : m[0].every(function (p) {
      return p ? purposes.has(p) : all.length && all.every(function (q) { return purposes.has(q); });
    })) && !Object.keys(MOVE).some(function (a) {
      // a catalogued vendor's URL waits for that vendor's consent too
      return a != "data-type" && HA.call(el, a) && blockedAttr(MOVE[a], GA.call(el, a));
    });
  }

  // Activation.
  // The gateway never holds anything for "necessary", which is always
  // allowed: an element marked so came from elsewhere and stays as it is.
  function ok(el) {
    var m = mig(el), g = HA.call(el, P + "purpose"), p = GA.call(el, P + "purpose");
    return (g || m) && p != "necessary" && (!g || purposes.has(p) || vendors.has(GA.call(el, P + "vendor"))) &&
      (!m || need(m, el));
  }
  // el's attributes as they were before it was neutralised (for a tool's
  // markup: as that tool restores them).
  function orig(el) {
    var o = Object.create(null), k, ours = { type: isScript(el), srcdoc: T(el) == "IFRAME" && HA.call(el, P + "purpose") };
    [].forEach.call(el.attributes, function (a) {
      var n = a.name, x = n.slice(P.length), pre = n.indexOf(P) == 0;
      if (pre && (x == "purpose" || x == "vendor")) return;
      if (pre && REN[x]) {
        n = REN[x] === 1 ? x : REN[x];
        if (scripted(a.value)) return; // no tracker's URL: markup from elsewhere
      } else if (ours[n]) return;
      // <script type="text/plain" data-consent="…"> is meant to run
      if (!ours.type || n != "type" || !PLAIN.test(a.value)) o[n] = a.value;
    });
    if (mig(el)) for (k in MOVE) if (k in o) {
      if (!scripted(o[k])) o[MOVE[k]] = o[k];
      delete o[k];
    }
    return Object.keys(o).map(function (n) { return [n, o[n]]; })
      .sort(function (a, b) { return (b[0] == "type") - (a[0] == "type"); });
  }
  // restore activates el in place (type before src).
  function restore(el) {
    var o = orig(el), p = el.parentNode;
    [].slice.call(el.attributes).forEach(function (a) {
      if (!o.some(function (x) { return x[0] == a.name; })) RA.call(el, a.name);
    });
    o.forEach(function (x) { if (GA.call(el, x[0]) !== x[1]) put(el, x[0], x[1]); });
    var t = T(el);
    if (t == "SOURCE" && p && p.load) p.load();
    // these fetch when inserted, not when their attributes come back
    if ((/^(EMBED|OBJECT)$/.test(t) || t == "LINK" && /\b(preload|prefetch)\b/i.test(el.rel)) && p)
      p.replaceChild(el.cloneNode(true), el);
  }
  // put sets an attribute as the parser would have: xlink:href in the
  // XLink namespace, where SVG looks for it.
  function put(el, n, v) {
    if (n == "xlink:href") el.setAttributeNS("http://www.w3.org/1999/xlink", n, v);
    else SA.call(el, n, v);
  }
  // isScript: an HTML script, or an SVG one (whose tagName is lower case).
  function isScript(el) { return el.localName == "script"; }
  // rerun replaces a parsed script (it runs only once) with a fresh copy in
  // its own namespace (an SVG script loads its href); it resolves when the
  // next may go.
  function rerun(el) {
    return new Promise(function (done) {
      var p = el.parentNode, n = el.ownerDocument.createElementNS(el.namespaceURI, "script"), wait;
      if (!p) return done();
      orig(el).forEach(function (x) { put(n, x[0], x[1]); });
      if (!HA.call(n, "async")) n.async = false;
      wait = (HA.call(n, "src") || HA.call(n, "href") || HA.call(n, "xlink:href")) && !n.async;
      busy.add(n);
      n.textContent = el.textContent;
      if (el.nonce) n.nonce = el.nonce;
      if (wait) { n.addEventListener("load", done); n.addEventListener("error", done); }
      p.replaceChild(n, el);
      if (!wait) done();
    });
  }

  var chain = Promise.resolve(), busy = new WeakSet();
  function activate(el) {
    if (busy.has(el)) return;
    busy.add(el);
    if (!isScript(el)) return restore(el);
    chain = chain.then(function () {
      return mine.has(el) || !el.isConnected ? restore(el) : rerun(el);
    }).catch(function () {});
  }

  // unstyle undoes, in the page's style elements, what the gateway did to
  // url()s and @imports of vendors now allowed: url(consentgate:…) and
  // @consentgate-import (docs/banner.md §4), and so in the CSS page code
  // set (heldCSS). A changed sheet loads them.
  // The gateway writes "consentgate:" where a url()'s or an image-set()
  // string's URL begins (after any quote), and "consentgate-" after the "@"
  // of an @import (its name maybe spelt with escapes).
  var CSSURL = /([("']\s*)consentgate:(\s*["']?)([^"')\s]*)/g, CSSIMPORT = /@consentgate-((?:[\w-]|\\[^\n])+\s*(?:url\(\s*)?(["']?)([^"'\s;)]*))/gi;
  // allowed: the URL's vendor is known here and now allowed (one the shim
  // cannot name stays as the gateway left it, until the next page view).
  function allowed(url) { var v = match(unesc(url)); return !!v && allow(v); }
  function uncss(t) {
    return t.replace(CSSURL, function (m, open, q, url) { return allowed(url) ? open + q + url : m; })
      .replace(CSSIMPORT, function (m, rest, q, url) { return allowed(url) ? "@" + rest : m; });
  }
  // restyle does it in o: a style element, a declaration or a sheet; true
  // if some URL in o stays held.
  function restyle(o) {
    var t, u, i, n;
    try {
      if (o.localName) {
        t = o.textContent;
        if (t.indexOf("consentgate") < 0) return false;
        if ((u = uncss(t)) != t) o.textContent = u;
      } else if (o.getPropertyValue) {
        for (i = o.length; i--;) {
          t = o.getPropertyValue(n = o[i]);
          if ((u = uncss(t)) != t) o.setProperty(n, u, o.getPropertyPriority(n));
        }
        u = o.cssText;
      } else return rerule(o.cssRules, o);
      return u.indexOf("consentgate") >= 0;
    } catch (e) {}
  }
  // rerule puts back the rules in list (of owner) that hold URLs now allowed.
  function rerule(list, owner) {
    for (var i = 0, left = false, r, t, u; i < list.length; i++) {
      r = list[i];
      t = r.cssText;
      if (t.indexOf("consentgate:") < 0) continue;
      if (r.insertRule && !r.style) left = rerule(r.cssRules, r) || left;
      else {
        if ((u = uncss(t)) != t) { owner.deleteRule(i); owner.insertRule(u, i); }
        left = left || u.indexOf("consentgate:") >= 0;
      }
    }
    return left;
  }
  function unstyle() {
    docs.forEach(function (d) {
      [].forEach.call(d.getElementsByTagName("style"), function (st) { heldCSS.add(st); });
      [].forEach.call(d.querySelectorAll("[style*='consentgate:']"), function (el) { el.style && heldCSS.add(el.style); });
    });
    heldCSS.forEach(function (o) { restyle(o) || heldCSS.delete(o); });
  }

  // release activates all now allowed: held calls and cookies, then
  // elements in document order (the page's, then each frame's reached),
  // scripts one by one, then style sheets.
  // every lists the policy's purposes (for tool markup of unknown category).
  function release(ps, vs, every) {
    (ps || []).forEach(function (p) { purposes.add(p); });
    (vs || []).forEach(function (v) { vendors.add(v); });
    if (every) all = every;
    queue = queue.filter(function (q) {
      if (!q[0].some(allow)) return true;
      try { q[1](); } catch (e) {}
    });
    var els = [];
    docs = docs.filter(function (d) { return d.defaultView; });
    docs.forEach(function (d) { els.push.apply(els, d.querySelectorAll("[" + P + "purpose]," + MIG)); });
    held = held.filter(function (el) { return HA.call(el, P + "purpose"); });
    held.forEach(function (el) { if (!el.isConnected) els.push(el); });
    els.forEach(function (el) { if (ok(el)) activate(el); });
    unstyle();
  }

  W.__consentgate = {
    release: release,
    unregister: function (ps, vs) { return unregister(new Set(ps), new Set(vs)); },
    granted: function (p) { return purposes.has(p); },
    blocked: function (url) { return !!blocked(url); },
    activate: activate
  };
}
