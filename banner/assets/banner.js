/* consentgate banner: asks for consent in two layers, posts the choice to
   the gateway, activates what was allowed (through the shim) and offers
   click-to-load on blocked embeds. Contract: docs/banner.md. Built with DOM
   APIs and textContent only; styles come from banner.css and CSS custom
   properties, never from style attributes. */
(function () {
  "use strict";
  var D = document, W = window, cfgEl = D.getElementById("consentgate-config"), cfg;
  // (an element with id="consentgate" is no earlier banner: only a script
  // makes the property the window's own)
  if (!cfgEl || Object.prototype.hasOwnProperty.call(W, "consentgate")) return;
  try { cfg = JSON.parse(cfgEl.textContent); } catch (e) { return; }
  var t = cfg.texts || {}, lang = cfg.lang || "en", purposes = cfg.purposes || [];
  var state = cfg.state || { purposes: {} };
  // A site may ask about nothing beyond the strictly necessary: then there
  // is no choice to make, and none is offered.
  var asks = purposes.some(function (p) { return p.id != "necessary"; });
  var ACTION = "data-consent-action";
  var root, overlay, dialog, reopen, errBox, layer = 0, lastFocus, pending, details, inerted = [];

  function el(tag, attrs, text, doc) {
    var e = (doc || D).createElement(tag);
    for (var k in attrs || {}) if (attrs[k] != null) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  // own resolves a relative URL against the page's own URL, not its base:
  // a <base href> naming another host must not send a choice there. An
  // absolute URL is left exactly as configured.
  function own(u) {
    if (/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(u)) return u;
    try { return new URL(u, location.href).href; } catch (e) { return u; }
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function fmt(s) {
    var a = arguments, i = 1;
    return String(s || "").replace(/%s/g, function () { return a[i++] || ""; });
  }
  function button(label, action, cls, attrs) {
    var b = el("button", attrs || {}, label);
    b.type = "button";
    b.className = cls || "cg-btn";
    if (action) b.setAttribute(ACTION, action);
    return b;
  }
  function granted(p, s) {
    s = s || state;
    return p == "necessary" || !!(s.purposes && s.purposes[p]);
  }
  function grantedList(s) {
    return purposes.map(function (p) { return p.id; }).filter(function (p) { return granted(p, s); });
  }
  function required(p) { return p.required || p.id == "necessary"; }
  // release activates, through the shim, what the state s allows: also the
  // markup of other consent tools, at load (docs/migration.md).
  function release(s) {
    var g = W.__consentgate;
    if (g) g.release(grantedList(s), s.vendors || [], purposes.map(function (p) { return p.id; }));
    return g;
  }
  function purposeName(id) {
    for (var i = 0; i < purposes.length; i++) if (purposes[i].id == id) return purposes[i].name;
    return id;
  }

  // --- the dialog ---------------------------------------------------------

  function build() {
    var th = cfg.theme || {}, themed = th.background || th.text || th.accent;
    root = el("div", { "class": "cg cg-pos-" + (/^(top|center|bottom-left|bottom-right)$/.test(th.position) ? th.position : "bottom") +
      (themed ? " cg-themed" : ""), lang: cfg.lang, dir: cfg.dir }); // read in its own language, whatever the page's
    [["background", "bg"], ["text", "fg"], ["accent", "accent"]].forEach(function (k) {
      if (th[k[0]]) root.style.setProperty("--cg-" + k[1], th[k[0]]);
    });
    if (th.accent) root.style.setProperty("--cg-on-accent", onColour(th.accent));
    overlay = el("div", { "class": "cg-overlay", hidden: "" });
    dialog = el("div", { "class": "cg-dialog", role: "dialog", "aria-modal": "true",
      "aria-labelledby": "cg-title", "aria-describedby": "cg-desc", tabindex: "-1" });
    reopen = button(t.reopen, "open", "cg-reopen", { hidden: "" });
    add(root, add(overlay, dialog), reopen);
    D.body.appendChild(root);
  }

  // onColour picks black or white text for an operator's accent colour,
  // whichever contrasts more (WCAG relative luminance).
  function onColour(hex) {
    var h = hex.replace("#", ""), L = 0;
    if (h.length < 6) h = h.replace(/./g, "$&$&");
    [0.2126, 0.7152, 0.0722].forEach(function (w, i) {
      var c = parseInt(h.substr(i * 2, 2), 16) / 255;
      L += w * (c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
    });
    // Pure black: with #111 some mid-tone accents fall short of 4.5:1.
    return L > 0.179 ? "#000" : "#fff";
  }

  function note(id, text) { return text && el("p", { id: id, "class": "cg-note" }, text); }
  function intro() {
    var p = el("p", { id: "cg-desc" }, t.text + " ");
    if (cfg.privacy_policy) add(p, el("a", { href: own(cfg.privacy_policy), "class": "cg-link" }, t.policy_link));
    var frag = add(D.createDocumentFragment(), p, state.signal && note("cg-signal", t.signal), note("cg-changed", state.changed));
    // The notes say why the dialog is shown (again): they describe it too.
    dialog.setAttribute("aria-describedby", [].map.call(frag.childNodes, function (e) { return e.id; }).join(" "));
    errBox = el("div", { "class": "cg-err", role: "alert" });
    return add(frag, errBox);
  }

  function render(n) {
    if (!asks) n = 2; // nothing to decide: the settings show what is on, and only close
    layer = n;
    dialog.textContent = "";
    dialog.className = "cg-dialog cg-layer" + n;
    // With nothing to decide the settings inform rather than ask: they
    // take the first layer's title, not "Choose what you allow".
    add(dialog, el("h2", { id: "cg-title", "class": "cg-title" }, n == 1 || !asks ? t.title : t.settings_title), intro());
    if (!asks) {
      var list0 = el("ul", { "class": "cg-purposes" }), done = button(t.close, null, "cg-btn2");
      purposes.forEach(function (p) { list0.appendChild(purposeItem(p)); });
      done.addEventListener("click", back); // nothing is owed: back closes
      add(dialog, list0, add(el("div", { "class": "cg-foot" }), done));
      return;
    }
    if (n == 1) {
      add(dialog, add(el("div", { "class": "cg-actions" }),
        button(t.accept_all, "accept_all"), button(t.reject_all, "reject_all"), button(t.settings, "open")));
      return;
    }
    var list = el("ul", { "class": "cg-purposes" });
    purposes.forEach(function (p) { list.appendChild(purposeItem(p)); });
    var save = button(t.save, null, "cg-btn", { "data-cg-save": "" });
    save.addEventListener("click", saveSelection);
    var foot = el("div", { "class": "cg-foot" });
    if (state.decided && allowsAnything()) add(foot, button(t.withdraw, "withdraw", "cg-btn2"));
    var close = button(t.close, null, "cg-btn2");
    close.addEventListener("click", back);
    add(dialog, list,
      add(el("div", { "class": "cg-actions" }), save, button(t.accept_all, "accept_all"), button(t.reject_all, "reject_all")),
      add(foot, close));
    showOwnVendors();
  }

  // showOwnVendors lists, under their purposes, the services the visitor
  // allowed one by one ("Always allow" on a placeholder), each with a
  // checked box: unchecking it and saving takes that permission back.
  function showOwnVendors() {
    if (!(state.vendors || []).length) return;
    getDetails().then(function (d) {
      (d.purposes || []).forEach(function (p) {
        var ul = D.getElementById("cg-own-" + p.id); // gone if the dialog changed meanwhile
        (p.vendors || []).forEach(function (v) {
          if (!ul || state.vendors.indexOf(v.id) < 0 || D.getElementById("cg-ov-" + v.id)) return;
          var box = el("input", { type: "checkbox", id: "cg-ov-" + v.id, "data-cg-vendor": v.id });
          box.checked = true;
          add(ul, add(el("li"), box, el("label", { "for": "cg-ov-" + v.id }, fmt(t.always_allow, v.name))));
          ul.hidden = false;
        });
      });
    }, function () {}); // without the list, saving keeps them all (saveSelection)
  }

  function purposeItem(p) {
    var id = p.id, on = required(p);
    var box = el("input", { type: "checkbox", role: "switch", id: "cg-p-" + id, "class": "cg-switch",
      "data-cg-purpose": id, "aria-describedby": (on ? "cg-on-" + id + " " : "") + (p.description ? "cg-pd-" + id : "") });
    box.checked = on || granted(id);
    box.disabled = on;
    var more = button(t.show_vendors, null, "cg-more", { "aria-expanded": "false", "aria-controls": "cg-v-" + id,
      "aria-describedby": "cg-pn-" + id });
    var region = el("div", { id: "cg-v-" + id, "class": "cg-vendors", hidden: "" });
    more.addEventListener("click", function () {
      var open = more.getAttribute("aria-expanded") != "true";
      more.setAttribute("aria-expanded", open);
      more.textContent = open ? t.hide_vendors : t.show_vendors;
      region.hidden = !open;
      if (open && !region.firstChild) fillVendors(id, region);
    });
    return add(el("li", { "class": "cg-purpose" }),
      add(el("div", { "class": "cg-head" }),
        add(el("h3", { "class": "cg-pname", id: "cg-pn-" + id }), el("label", { "for": "cg-p-" + id }, p.name)),
        on && el("span", { "class": "cg-on", id: "cg-on-" + id }, t.always_on), box),
      p.description && el("p", { id: "cg-pd-" + id, "class": "cg-pdesc" }, p.description),
      el("ul", { id: "cg-own-" + id, "class": "cg-own", hidden: "" }),
      more, region);
  }

  // getDetails loads the vendor list once (content-hashed, cached).
  function getDetails() {
    if (!details) {
      details = cfg.details ? fetch(own(cfg.details), { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw r.status;
        return r.json();
      }) : Promise.reject(0);
      details.catch(function () { details = null; });
    }
    return details;
  }
  function findVendor(d, id) {
    var found;
    (d.purposes || []).forEach(function (p) {
      (p.vendors || []).forEach(function (v) { if (v.id == id) found = v; });
    });
    return found;
  }

  var UNITS = { min: "minute", h: "hour", d: "day", w: "week", mo: "month", y: "year" };
  function lifetime(s) {
    var m = /^(\d+)(min|h|d|w|mo|y)$/.exec(s || "");
    if (s == "session") return t.session;
    if (!m) return s || "";
    try {
      return new Intl.NumberFormat(lang, { style: "unit", unit: UNITS[m[2]], unitDisplay: "long" }).format(+m[1]);
    } catch (e) { return s; }
  }
  function country(code) {
    try { return new Intl.DisplayNames([lang], { type: "region" }).of(code) || code; } catch (e) { return code; }
  }

  var seq = 0;
  function vendorItem(v) {
    var hid = "cg-vn-" + ++seq, dl = el("dl");
    [[t.company, v.company], [t.country, v.country && country(v.country)]].forEach(function (r) {
      if (r[1]) add(dl, el("dt", null, r[0]), el("dd", null, r[1]));
    });
    var cookies = el("ul", { "class": "cg-cookies" });
    (v.cookies || []).forEach(function (c) {
      add(cookies, add(el("li"), el("code", null, c.name + (c.prefix ? "…" : "")),
        D.createTextNode(" – " + t.lifetime + ": " + lifetime(c.lifetime))));
    });
    add(dl, el("dt", null, t.cookies), add(el("dd"), cookies.firstChild ? cookies : D.createTextNode(t.no_cookies)));
    return add(el("li", { "class": "cg-vendor" }),
      el("h4", { id: hid }, v.name),
      v.description && el("p", null, v.description),
      dl,
      v.policy_url && el("a", { href: v.policy_url, target: "_blank", rel: "noopener noreferrer",
        "class": "cg-link", "aria-describedby": hid }, t.vendor_policy));
  }
  function fillVendors(id, region) {
    region.setAttribute("aria-busy", "true");
    getDetails().then(function (d) {
      var vs = [], own = [], list = el("ul", { "class": "cg-vlist" });
      (d.purposes || []).forEach(function (p) { if (p.id == id) { vs = p.vendors || []; own = p.cookies || []; } });
      // The site's own cookies (the consent cookie) come first, as the
      // entry of the site itself.
      if (own.length) add(list, vendorItem({ name: t.own_site, description: t.own_site_desc, cookies: own }));
      vs.forEach(function (v) { add(list, vendorItem(v)); });
      region.textContent = "";
      add(region, list.firstChild ? list : el("p", null, "–"));
    }, function () {
      region.textContent = "⚠ " + t.error_details;
    }).then(function () { region.removeAttribute("aria-busy"); });
  }

  // --- opening, closing, keyboard ----------------------------------------

  function isOpen() { return overlay && !overlay.hidden; }
  // inertPage makes the page behind a modal dialog inert, so that neither
  // Tab nor a screen reader's cursor reaches it; it leaves alone what the
  // page itself made inert, which restorePage then keeps so.
  function inertPage() {
    if (dialog.getAttribute("aria-modal") != "true") return;
    [].forEach.call(D.body.children, function (e) {
      if (e != root && !e.inert) { e.inert = true; inerted.push(e); }
    });
  }
  function restorePage() {
    inerted.forEach(function (e) { e.inert = false; });
    inerted = [];
  }
  // A decision is still owed on a first visit and after a policy change,
  // when the site asks about anything beyond the strictly necessary (asks).
  function owed() { return asks && (!state.decided || !!state.changed); }

  // open shows layer n and moves the focus into it.
  function open(n, from2) {
    if (!root) build();
    if (!isOpen()) lastFocus = D.activeElement;
    render(n);
    overlay.hidden = false;
    reopen.hidden = true;
    inertPage();
    // The first layer takes the focus itself, so a screen reader reads its
    // title and text and no answer is preselected for Enter; back from the
    // second layer, the Settings button has it.
    var first = n == 1 ? from2 && dialog.querySelector(".cg-actions [" + ACTION + "=open]")
      : dialog.querySelector("input:not([disabled]),button");
    (first || dialog).focus();
  }
  function close() {
    if (!isOpen()) return;
    overlay.hidden = true;
    restorePage();
    layer = 0;
    reopen.hidden = !state.decided;
    var f = lastFocus;
    lastFocus = null;
    if (f && f.focus && f != D.body && D.contains(f)) f.focus();
    else if (overlay.contains(D.activeElement)) D.activeElement.blur();
  }
  // back leaves the second layer: to the first while a decision is owed.
  function back() {
    if (owed()) open(1, true);
    else close();
  }

  function focusables() {
    return [].filter.call(dialog.querySelectorAll("a[href],button:not([disabled]),input:not([disabled])"),
      function (e) { return e.getClientRects().length; });
  }
  D.addEventListener("keydown", function (ev) {
    if (!isOpen()) return;
    if (ev.key == "Escape") {
      if (layer == 2 || !owed()) { ev.preventDefault(); back(); }
    } else if (ev.key == "Tab") {
      var f = focusables(), first = f[0], last = f[f.length - 1], a = D.activeElement;
      if (!first) return ev.preventDefault();
      if (ev.shiftKey && (a == first || a == dialog)) { ev.preventDefault(); last.focus(); }
      else if (!ev.shiftKey && a == last) { ev.preventDefault(); first.focus(); }
      else if (!dialog.contains(a)) { ev.preventDefault(); first.focus(); }
    }
  });
  // Focus that leaves the modal dialog (a click on the page, a screen
  // reader's cursor) is brought back. Outside it, the floating Privacy
  // settings button keeps clear of the element that has focus (WCAG 2.4.11:
  // at 400 % zoom it can cover a link in its corner): to the other corner,
  // or out of sight while it would cover it there too.
  D.addEventListener("focusin", function (ev) {
    if (isOpen() && !dialog.contains(ev.target)) (focusables()[0] || dialog).focus();
    else if (!reopen.hidden && ev.target != reopen) W.requestAnimationFrame(function () { clear(ev.target); });
  });
  // Focus that goes into a frame leaves this window without a focusin here.
  W.addEventListener("blur", function () {
    var f = D.activeElement;
    if (reopen && !reopen.hidden && f && f.tagName == "IFRAME") W.requestAnimationFrame(function () { clear(f); });
  });
  function clear(e) {
    reopen.classList.remove("cg-aside", "cg-away");
    if (!covers(e)) return;
    reopen.classList.add("cg-aside");
    if (covers(e)) reopen.classList.add("cg-away");
  }
  function covers(e) {
    var a = reopen.getBoundingClientRect(), b = e.getBoundingClientRect();
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  // --- choices ------------------------------------------------------------

  function control(e) {
    return e ? String(e.id).replace(/[^\w.:-]/g, "").slice(0, 64) || "page" : "api";
  }

  function choose(body) {
    if (pending) return pending;
    if (errBox) errBox.textContent = "";
    var before = state;
    pending = fetch(own(cfg.prefix + "choice"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok || !j.purposes) throw new Error(j.error || r.status);
        return j;
      });
    }).then(function (ns) {
      pending = null;
      applyState(ns, before, body.withdraw);
      return ns;
    }, function (e) {
      pending = null;
      if (!isOpen()) open(owed() ? 1 : 2);
      // In the visitor's language; the server's own words (English) are
      // for the console.
      errBox.textContent = "⚠ " + t.error_choice;
      if (W.console) console.warn("consentgate: the choice was not saved:", e && e.message || e);
      throw e;
    });
    pending.catch(function () {});
    return pending;
  }

  // tookBack reports whether the new state withdraws something the old one
  // granted: a script cannot be un-run, so the page is reloaded.
  function tookBack(ns, old) {
    var all = purposes.every(function (p) { return granted(p.id, ns); });
    return purposes.some(function (p) { return granted(p.id, old) && !granted(p.id, ns); }) ||
      !all && (old.vendors || []).some(function (v) { return (ns.vendors || []).indexOf(v) < 0; });
  }

  // gained reports whether the new state grants something the old one did
  // not: under the gateway's enforced policy its hosts load from a new page.
  function gained(ns, old) {
    return purposes.some(function (p) { return granted(p.id, ns) && !granted(p.id, old); }) ||
      (ns.vendors || []).some(function (v) { return (old.vendors || []).indexOf(v) < 0; });
  }

  function applyState(ns, old, withdrew) {
    state = ns;
    updateConsentMode(ns);
    var reload = withdrew || tookBack(ns, old) || cfg.reload_on_grant && gained(ns, old),
      g = reload ? W.__consentgate : release(ns);
    D.dispatchEvent(new CustomEvent("consentgate:change", { detail: ns }));
    // The service workers of vendors no longer allowed go first, so that
    // they do not see the reload either; a worker still installing holds
    // its removal up, which the reload does not wait for past 2 s.
    if (reload || !g) return Promise.race([g && g.unregister(grantedList(ns), ns.vendors || []),
      new Promise(function (r) { setTimeout(r, 2000); })]).then(function () { location.reload(); });
    close();
    if (!root) build();
    reopen.hidden = !ns.decided;
    decorateAll();
  }

  function updateConsentMode(ns) {
    var cm = cfg.consent_mode, u = {};
    if (!cm || !cm.map) return;
    for (var k in cm.map) u[k] = granted(cm.map[k], ns) ? "granted" : "denied";
    var gtag = typeof W.gtag == "function" ? W.gtag : function () {
      (W.dataLayer = W.dataLayer || []).push(arguments);
    };
    gtag("consent", "update", u);
  }

  function saveSelection() {
    var ps = {}, vs = {}, body;
    purposes.forEach(function (p) {
      var box = D.getElementById("cg-p-" + p.id);
      ps[p.id] = required(p) || !!(box && box.checked);
    });
    body = { purposes: ps, layer: "second", action: "save_selection", control: "save" };
    // Services allowed one by one stay allowed unless their box, once
    // shown (showOwnVendors), was unchecked.
    (state.vendors || []).forEach(function (v) {
      var box = D.getElementById("cg-ov-" + v);
      if (!box || box.checked) vs[v] = true;
    });
    if (Object.keys(vs).length) body.vendors = vs;
    return choose(body);
  }

  // allowsAnything: something beyond the strictly necessary is allowed,
  // so there is something to withdraw.
  function allowsAnything() {
    return grantedList().some(function (id) { return id != "necessary"; }) || (state.vendors || []).length > 0;
  }

  function act(action, from) {
    var where = from && dialog && dialog.contains(from) ? (layer == 2 ? "second" : "first") : "api";
    var ctl = where == "api" ? control(from) : action;
    // A page's Withdraw control with nothing allowed opens the settings,
    // which show that, rather than record a withdrawal of nothing (the
    // API's withdraw() still withdraws: its caller awaits the answer).
    if (action == "open" || action == "withdraw" && from && !allowsAnything()) return open(2);
    if (action == "withdraw") return choose({ withdraw: true, layer: "withdraw", action: "withdraw", control: ctl });
    if (action == "accept_all" || action == "reject_all") {
      return choose({ all: action == "accept_all", layer: where, action: action, control: ctl });
    }
  }

  D.addEventListener("click", function (ev) {
    var e = ev.target.closest && ev.target.closest("[" + ACTION + "]");
    if (!e || /^(input|select|textarea)$/.test(e.localName)) return;
    var a = e.getAttribute(ACTION);
    if (!/^(accept_all|reject_all|open|withdraw)$/.test(a)) return;
    ev.preventDefault();
    if (ev.detail === 0) swallowEnter();
    act(a, e);
  });
  // swallowEnter drops the keypress of the Enter that clicked a link (a
  // link is clicked on keydown): it would go on to press the button the
  // dialog has just focused.
  function swallowEnter() {
    function stop(k) { if (k.key == "Enter") k.preventDefault(); }
    function done() { D.removeEventListener("keypress", stop, true); D.removeEventListener("keyup", done, true); }
    D.addEventListener("keypress", stop, true);
    D.addEventListener("keyup", done, true);
    setTimeout(done, 500);
  }

  // --- click-to-load placeholders ----------------------------------------

  function blockedFrame(f) {
    return f.localName == "iframe" && f.hasAttribute("data-consent-purpose") && f.hasAttribute("srcdoc");
  }
  // langOf is the language the text under key is written in.
  function langOf(k) { return (cfg.text_langs || {})[k] || lang; }
  function decorate(f) {
    var d;
    try { d = f.contentDocument; } catch (e) {}
    if (!blockedFrame(f) || !d || d.URL != "about:srcdoc" || !d.body || d.getElementById("cg-ph")) return;
    var vendor = f.getAttribute("data-consent-vendor"), purpose = f.getAttribute("data-consent-purpose");
    var g = W.__consentgate, box = el("div", { id: "cg-ph", "class": "cg-ph" }, null, d);
    var sheet, css = ("body{align-content:safe center}.cg-ph{display:flex;flex-wrap:wrap;gap:.5em;justify-content:center;margin:.75em 0 0}" +
      ".cg-ph button{font:inherit;font-weight:600;padding:.45em 1em;border:2px solid #0b57d0;border-radius:.4em;" +
      "background:#0b57d0;color:#fff;cursor:pointer}.cg-ph button+button{background:#fff;color:#0b57d0}" +
      ".cg-ph button:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}" +
      // A frame too short for text and buttons (a like button) keeps the buttons.
      "@media (max-height:150px){body{padding:.2em;font-size:12px}body>p{display:none}.cg-ph{margin:0;flex-wrap:nowrap;min-width:0;max-width:100%}" +
      ".cg-ph button{padding:.1em .5em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;min-width:0}}");
    // Loading once grants nothing, so the gateway's enforced policy would
    // block a vendor's frame: only "always allow" is offered then.
    // A service the site does not list is never loaded (no consent covers it).
    if (purpose == "-unlisted") return;
    // The document names the language of its text (the gateway's does; the
    // shim's empty one is named here), a button in another language its own.
    var de = d.documentElement;
    if (!de.lang) {
      de.lang = langOf("placeholder");
      if (de.lang == lang && cfg.dir) de.dir = cfg.dir;
    }
    function label(b, k) {
      if (langOf(k) != de.lang) b.lang = langOf(k);
      return b;
    }
    if (g && g.activate && !(cfg.reload_on_grant && vendor)) {
      var once = button(t.load_once, null, "cg-once", null);
      once = label(d.importNode(once, true), "load_once");
      once.addEventListener("click", function () { g.activate(f); });
      box.appendChild(once);
    }
    var p = d.querySelector("p");
    if (p && !p.textContent) p.textContent = fmt(t.placeholder, vendor, purposeName(purpose));
    if (vendor) {
      var always = label(d.importNode(button(fmt(t.always_allow, vendor), null, "cg-always"), true), "always_allow");
      always.addEventListener("click", function () {
        var vs = {};
        (state.vendors || []).forEach(function (v) { vs[v] = true; });
        vs[vendor] = true;
        choose({ purposes: Object.assign({}, state.purposes), vendors: vs,
          layer: "placeholder", action: "load_embed", control: "always_allow" });
      });
      box.appendChild(always);
      // The vendor's name (and the texts in this language) from the details.
      getDetails().then(function (dt) {
        var v = findVendor(dt, vendor);
        if (!v) return;
        always.textContent = fmt(t.always_allow, v.name);
        if (p) p.textContent = fmt(t.placeholder, v.name, purposeName(purpose));
      }, function () {});
    }
    // A constructed sheet, which a page's strict style-src (inherited by the
    // srcdoc document) does not block, as it would a <style> element.
    try {
      sheet = new d.defaultView.CSSStyleSheet();
      sheet.replaceSync(css);
      d.adoptedStyleSheets = [sheet];
    } catch (e) { add(d.head || d.body, el("style", null, css, d)); }
    d.body.appendChild(box);
  }
  function decorateAll() {
    [].forEach.call(D.querySelectorAll("iframe[data-consent-purpose][srcdoc]"), decorate);
  }
  // A placeholder's document loads after the page's, or is replaced later
  // (frames the shim held): load events are caught on the way down.
  D.addEventListener("load", function (ev) { if (ev.target.localName == "iframe") decorate(ev.target); }, true);

  // --- public API and start ----------------------------------------------

  W.consentgate = {
    open: function () { open(2); },
    granted: function (p) { return granted(p); },
    acceptAll: function () { return act("accept_all"); },
    rejectAll: function () { return act("reject_all"); },
    withdraw: function () { return act("withdraw"); },
    get state() { return state; }
  };

  function start() {
    release(state);
    build();
    decorateAll();
    if (owed()) open(1);
    else reopen.hidden = !state.decided;
    new MutationObserver(keep).observe(D.documentElement, { childList: true, subtree: true });
  }
  // keep puts the banner back when a single-page navigation (Turbo Drive,
  // htmx's boosted links) has put a new <body> in place of the one it was
  // in, as it was or, while a decision is owed, open: without it a visitor
  // could neither choose nor change or withdraw a choice after one click.
  // While a modal dialog is open, what the page adds to its body (or a
  // new body) is made inert as well.
  function keep(changes) {
    if (changes.some(function (c) { return c.target == D.head && c.addedNodes.length; })) tidyHead();
    if (isOpen() && D.body) inertPage();
    if (root.isConnected || !D.body) return;
    var wasOpen = isOpen();
    D.body.appendChild(root);
    decorateAll();
    if (wasOpen) { restorePage(); inertPage(); dialog.focus(); }
    else if (owed()) open(1);
    else reopen.hidden = !state.decided;
  }
  // tidyHead keeps the newest config block and shim tag: Turbo Drive adds
  // a new page's, changed by a choice, beside the old ones in the head.
  function tidyHead() {
    ["#consentgate-config", "script[data-cg-granted]"].forEach(function (sel) {
      var all = D.head.querySelectorAll(sel);
      for (var i = 0; i < all.length - 1; i++) all[i].remove();
    });
  }
  if (D.body) start();
  else D.addEventListener("DOMContentLoaded", start);
})();
