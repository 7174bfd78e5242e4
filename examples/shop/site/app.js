// Greenpaw Organics demo shop: the shop's own (first-party) script.
//
// The cart lives in a session cookie named "gp_cart" on this site only. The
// privacy page lists it as strictly necessary: without it there is no cart.
// Nothing here talks to any other server.
(function () {
  'use strict';

  var COOKIE = 'gp_cart';

  // Prices in euro cents.
  var PRODUCTS = {
    'dog-food-2kg': { name: 'Grain-free dog food, 2 kg', price: 2490 },
    'cat-treats': { name: 'Freeze-dried chicken cat treats, 80 g', price: 690 },
    'bird-seed': { name: 'Wild bird seed mix, 1.5 kg', price: 840 },
    'chew-toy': { name: 'Natural rubber chew toy', price: 1150 }
  };

  function readCart() {
    var cart = {};
    document.cookie.split(';').forEach(function (part) {
      var kv = part.trim().split('=');
      if (kv[0] !== COOKIE || !kv[1]) {
        return;
      }
      decodeURIComponent(kv[1]).split('|').forEach(function (item) {
        var p = item.split(':');
        var qty = parseInt(p[1], 10);
        if (PRODUCTS[p[0]] && qty > 0) {
          cart[p[0]] = Math.min(qty, 99);
        }
      });
    });
    return cart;
  }

  function writeCart(cart) {
    var items = Object.keys(cart).map(function (sku) { return sku + ':' + cart[sku]; });
    // A session cookie: no Expires, gone when the browser closes.
    document.cookie = COOKIE + '=' + encodeURIComponent(items.join('|')) + '; Path=/; SameSite=Lax';
  }

  function euro(cents) {
    return (cents / 100).toLocaleString('en-IE', { style: 'currency', currency: 'EUR' });
  }

  function total(cart) {
    return Object.keys(cart).reduce(function (sum, sku) {
      return sum + PRODUCTS[sku].price * cart[sku];
    }, 0);
  }

  function count(cart) {
    return Object.keys(cart).reduce(function (n, sku) { return n + cart[sku]; }, 0);
  }

  function updateBadges(cart) {
    var n = String(count(cart));
    document.querySelectorAll('[data-cart-count]').forEach(function (el) {
      el.textContent = n;
    });
  }

  // Keep Klarna's on-site message in step with the cart total, when that
  // message is present (and, once consented or necessary, loaded).
  function updateKlarna(cents) {
    document.querySelectorAll('klarna-placement[data-cart-total]').forEach(function (el) {
      el.setAttribute('data-purchase-amount', String(cents));
    });
    if (window.Klarna && window.Klarna.OnsiteMessaging) {
      window.Klarna.OnsiteMessaging.refresh();
    }
  }

  function renderCart(cart) {
    var body = document.getElementById('cart-items');
    if (!body) {
      return;
    }
    var skus = Object.keys(cart);
    body.textContent = '';
    if (skus.length === 0) {
      var row = body.insertRow();
      var cell = row.insertCell();
      cell.colSpan = 4;
      cell.textContent = 'Your cart is empty.';
    }
    skus.forEach(function (sku) {
      var row = body.insertRow();
      row.insertCell().textContent = PRODUCTS[sku].name;
      var qty = row.insertCell();
      qty.className = 'num';
      qty.textContent = String(cart[sku]);
      var sum = row.insertCell();
      sum.className = 'num';
      sum.textContent = euro(PRODUCTS[sku].price * cart[sku]);
      var actions = row.insertCell();
      var remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'secondary';
      remove.textContent = 'Remove';
      remove.setAttribute('aria-label', 'Remove ' + PRODUCTS[sku].name);
      remove.addEventListener('click', function () {
        delete cart[sku];
        writeCart(cart);
        refresh(cart);
      });
      actions.appendChild(remove);
    });
    document.querySelectorAll('[data-cart-total-text]').forEach(function (el) {
      el.textContent = euro(total(cart));
    });
    var checkout = document.getElementById('to-checkout');
    if (checkout) {
      checkout.hidden = skus.length === 0;
    }
  }

  function renderSummary(cart) {
    var list = document.getElementById('order-summary');
    if (!list) {
      return;
    }
    list.textContent = '';
    Object.keys(cart).forEach(function (sku) {
      var li = document.createElement('li');
      li.textContent = cart[sku] + ' × ' + PRODUCTS[sku].name + ' — ' + euro(PRODUCTS[sku].price * cart[sku]);
      list.appendChild(li);
    });
    if (!list.firstChild) {
      var li = document.createElement('li');
      li.textContent = 'Nothing in your cart yet.';
      list.appendChild(li);
    }
    document.querySelectorAll('[data-cart-total-text]').forEach(function (el) {
      el.textContent = euro(total(cart));
    });
    var field = document.getElementById('order-items');
    if (field) {
      field.value = Object.keys(cart).map(function (sku) { return sku + ':' + cart[sku]; }).join('|');
    }
  }

  function refresh(cart) {
    updateBadges(cart);
    renderCart(cart);
    renderSummary(cart);
    if (document.querySelector('klarna-placement[data-cart-total]')) {
      updateKlarna(total(cart));
    }
  }

  function addToCart(sku) {
    var cart = readCart();
    cart[sku] = Math.min((cart[sku] || 0) + 1, 99);
    writeCart(cart);
    refresh(cart);
    var status = document.getElementById('cart-status');
    if (status) {
      status.textContent = PRODUCTS[sku].name + ' added to your cart.';
    }
  }

  document.addEventListener('click', function (ev) {
    var btn = ev.target.closest('[data-add-to-cart]');
    if (btn) {
      addToCart(btn.getAttribute('data-add-to-cart'));
    }
  });

  // The sign-in page is reached again after a (demo) sign-in POST.
  var signedIn = document.getElementById('signed-in');
  if (signedIn && /[?&]signed_in=/.test(window.location.search)) {
    signedIn.hidden = false;
  }

  // The order confirmation page empties the cart.
  if (document.querySelector('[data-clear-cart]')) {
    writeCart({});
  }

  refresh(readCart());
})();
