/* consentgate banner: reads its config from the JSON block the gateway
   injects, asks once, posts the choice to the consent endpoint. */
(function () {
  "use strict";
  var el = document.getElementById("consentgate-config");
  if (!el) return;
  var cfg;
  try { cfg = JSON.parse(el.textContent); } catch (e) { return; }
  var t = cfg.texts || {};

  function post(body) {
    return fetch(cfg.prefix + "choice", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { if (r.ok) location.reload(); });
  }

  function button(action, label, body) {
    var b = document.createElement("button");
    b.type = "button";
    b.setAttribute("data-consent-action", action);
    b.textContent = label;
    b.addEventListener("click", function () { post(body); });
    return b;
  }

  function show() {
    var box = document.createElement("div");
    box.className = "cg-banner";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", t.title || "Privacy");
    var p = document.createElement("p");
    p.textContent = (t.text || "") + " ";
    if (cfg.privacy_policy) {
      var a = document.createElement("a");
      a.href = cfg.privacy_policy;
      a.textContent = t.policy_link || "Privacy policy";
      p.appendChild(a);
    }
    var row = document.createElement("div");
    row.className = "cg-actions";
    row.appendChild(button("accept_all", t.accept_all || "Accept all", { all: true }));
    row.appendChild(button("reject_all", t.reject_all || "Reject all", { all: false }));
    box.appendChild(p);
    box.appendChild(row);
    document.body.appendChild(box);
  }

  // Operator pages may carry their own controls (a footer link, a privacy page).
  document.addEventListener("click", function (ev) {
    var target = ev.target.closest && ev.target.closest("[data-consent-action]");
    if (!target || target.closest(".cg-banner")) return;
    var action = target.getAttribute("data-consent-action");
    if (action === "accept_all") { ev.preventDefault(); post({ all: true }); }
    else if (action === "reject_all") { ev.preventDefault(); post({ all: false }); }
    else if (action === "withdraw") { ev.preventDefault(); post({ withdraw: true }); }
    else if (action === "open") { ev.preventDefault(); if (!document.querySelector(".cg-banner")) show(); }
  });

  if (!cfg.state || !cfg.state.decided) {
    if (document.body) show(); else document.addEventListener("DOMContentLoaded", show);
  }
})();
