// Incoming orders page: listens to the merchant stream (/ws/merchants/<id>/, the admin session cookie
// authenticates it) and, whenever it says something changed (or on (re)connecting, whose snapshot
// may follow missed events), fetches the table rows as a reload would draw them. Rows whose version
// did not change are kept as they are (a reason being typed survives). An order that was not on the
// page before is highlighted and rings. Accept, reject and ready post to the tablet's own views
// (session + CSRF token); a refusal shows the server's message and code.
(function () {
  "use strict";
  var root = document.getElementById("merchant-orders");
  if (!root || !window.WebSocket || !window.fetch) { return; }
  var status = document.getElementById("live-status");
  var message = document.getElementById("answer-message");
  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  var rowsUrl = root.getAttribute("data-rows-url");
  var delay = 1000;
  var refreshing = false;
  var again = false;
  var audio = null;

  function setStatus(key, live) {
    status.textContent = root.getAttribute("data-text-" + key);
    status.className = live ? "live-on" : "live-off";
  }

  function beep() {
    root.setAttribute("data-rings", String(Number(root.getAttribute("data-rings") || 0) + 1));
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) { return; }
      audio = audio || new Context();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.25, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.4);
    } catch (error) { /* no sound until the page had a click: the highlight still shows */ }
  }

  function merge(html) {
    var fresh = new DOMParser().parseFromString("<table>" + html + "</table>", "text/html");
    var tbody = document.getElementById("incoming-rows");
    var known = {};
    tbody.querySelectorAll("tr[data-order-id]").forEach(function (row) {
      known[row.getAttribute("data-order-id")] = row;
    });
    var next = document.createElement("tbody");
    next.id = "incoming-rows";
    var rang = false;
    fresh.querySelectorAll("#incoming-rows > tr").forEach(function (row) {
      var id = row.getAttribute("data-order-id");
      var old = id ? known[id] : null;
      if (old && old.getAttribute("data-version") === row.getAttribute("data-version")) {
        next.appendChild(old);
        return;
      }
      var adopted = document.importNode(row, true);
      var waiting = adopted.getAttribute("data-status") === "placed";
      if (id && waiting && (!old || old.classList.contains("is-new"))) {
        adopted.classList.add("is-new");
        rang = rang || !old;
      }
      next.appendChild(adopted);
    });
    tbody.parentNode.replaceChild(next, tbody);
    if (rang) { beep(); }
  }

  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(rowsUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(merge)
      .catch(function () { /* the next event or reconnection fetches again */ })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  function show(text) {
    message.textContent = text;
    message.classList.toggle("hidden", !text);
  }

  function answer(form) {
    var action = form.getAttribute("data-action");
    var body = {};
    if (action === "accept") { body.prep_minutes = Number(form.elements.prep_minutes.value); }
    if (action === "reject") { body.reason = form.elements.reason.value; }
    var button = form.querySelector("button");
    button.disabled = true;
    var code = form.closest("tr").querySelector(".code").textContent;
    fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (response.ok) { show(""); return; }
          var error = data.error || {};
          show(code + ": " + (error.message || response.status) + (error.code ? " (" + error.code + ")" : ""));
          message.setAttribute("data-code", error.code || String(response.status));
        });
      })
      .catch(function () { show(code + ": " + root.getAttribute("data-text-failed")); })
      .then(function () { button.disabled = false; refresh(); });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("answer-form")) { return; }
    event.preventDefault();
    answer(form);
  });

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-stream-path"));
    socket.onopen = function () { delay = 1000; setStatus("live", true); };
    socket.onmessage = function (raw) {
      var event;
      try { event = JSON.parse(raw.data); } catch (error) { return; }
      if (!event || event.type === "heartbeat" || event.type === "pong") { return; }
      refresh();
    };
    socket.onclose = function () {
      setStatus("reconnecting", false);
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
}());
