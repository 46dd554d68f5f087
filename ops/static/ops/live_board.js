// Live orders board of the ops dashboard: listens to the ops city feed (/ws/ops/city/, the admin
// session cookie authenticates it) and updates the rows in place; reconnects with backoff.
(function () {
  "use strict";
  var root = document.getElementById("ops-dashboard");
  if (!root || !window.WebSocket) { return; }
  var board = document.querySelector("#live-board tbody");
  var status = document.getElementById("live-status");
  var banner = document.getElementById("headroom-banner");
  var TERMINAL = ["delivered", "rejected", "cancelled", "delivery_failed"];
  // Texts in the page's language, from the template (data-text-*).
  function text(name) { return root.getAttribute("data-text-" + name) || ""; }
  // Dong as loship/money.py writes them (55.000 ₫), for rows that arrive over the feed.
  function vnd(amount) {
    if (amount === undefined || amount === null || amount === "") { return ""; }
    var n = Math.round(Number(amount));
    return (n < 0 ? "-" : "") + String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ".") + " ₫";
  }
  var delay = 1000;

  function setStatus(text, live) {
    status.textContent = text;
    status.className = live ? "live-on" : "live-off";
  }

  function cell(text, className) {
    var td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "" : String(text);
    if (className) { td.className = className; }
    return td;
  }

  function applyOrder(event) {
    var id = String(event.order_id);
    var row = board.querySelector('tr[data-order-id="' + id + '"]');
    var version = Number(event.sequence || event.version || 0);
    if (row && version && Number(row.getAttribute("data-version") || 0) > version) { return; }
    var now = new Date().toLocaleTimeString("en-GB");
    if (!row) {
      row = document.createElement("tr");
      row.setAttribute("data-order-id", id);
      row.appendChild(cell(event.code || "#" + id));
      row.appendChild(cell(event.status, "status"));
      row.appendChild(cell(event.merchant_name || (text("merchant") + " " + (event.merchant_id || "?"))));
      row.appendChild(cell(vnd(event.total_vnd)));
      row.appendChild(cell(now, "updated"));
      board.insertBefore(row, board.firstChild);
    } else {
      if (event.status) { row.querySelector(".status").textContent = event.status; }
      row.querySelector(".updated").textContent = now;
    }
    if (version) { row.setAttribute("data-version", String(version)); }
    row.classList.add("changed");
    window.setTimeout(function () { row.classList.remove("changed"); }, 3000);
    if (TERMINAL.indexOf(event.status) >= 0) { row.classList.add("terminal"); }
  }

  function applyAlert(event) {
    var p = document.createElement("p");
    p.setAttribute("data-figure", event.figure || "");
    p.textContent = text("alert") + " " + text("alert-detail")
      .replace("{label}", event.label || event.figure)
      .replace("{load}", Number(event.load).toFixed(1))
      .replace("{limit}", Number(event.limit).toFixed(1));
    banner.appendChild(p);
    banner.classList.remove("hidden");
  }

  function handle(event) {
    if (!event || typeof event !== "object") { return; }
    if (event.type === "ops.headroom_alert") { applyAlert(event); return; }
    if (event.order_id !== undefined && event.order_id !== null) { applyOrder(event); return; }
    if (Array.isArray(event.orders)) { event.orders.forEach(function (o) { if (o.order_id === undefined) { o.order_id = o.id; } applyOrder(o); }); }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-feed-path"));
    socket.onopen = function () { delay = 1000; setStatus(text("live"), true); };
    socket.onmessage = function (message) {
      try { handle(JSON.parse(message.data)); } catch (error) { /* not JSON: ignore */ }
    };
    socket.onclose = function () {
      setStatus(text("reconnecting"), false);
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
}());
