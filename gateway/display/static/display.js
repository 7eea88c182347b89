// Operator display: renders whole snapshots from the station's event stream.
// Scanned data is untrusted: it only ever goes into textContent.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const query = window.location.search;  // keeps ?scanner=...
  const hook = { updates: 0, renderedAt: 0, state: null };
  window.__scangw = hook;  // for tests and for a look in the devtools
  let lastAt = 0;

  function setClass(prefix, value) {
    for (const name of Array.from(body.classList)) {
      if (name.startsWith(prefix)) body.classList.remove(name);
    }
    body.classList.add(prefix + value);
  }

  function renderMode(mode) {
    const remove = mode === "remove";
    setClass("mode-", remove ? "remove" : "add");
    $("mode-icon").textContent = remove ? "−" : "+";
    $("mode-word").textContent = remove ? "REMOVE" : "ADD";
    $("mode-hint").textContent = remove
      ? "scans TAKE SERIALS OFF the line"
      : "scans are added to the line";
  }

  function renderLine(state) {
    const line = state.line;
    if (!line) {
      $("document").textContent = "No order open: scan an order";
      $("count-registered").textContent = "–";
      $("count-quantity").textContent = "–";
      $("count-item").textContent = "";
      body.classList.remove("line-full");
      return;
    }
    $("document").textContent = line.order_id + " · line " + line.number +
      " (" + line.position + " of " + line.lines + ")";
    $("count-registered").textContent = String(line.registered);
    $("count-quantity").textContent = String(line.quantity);
    $("count-item").textContent = line.item_id;
    body.classList.toggle("line-full", line.registered >= line.quantity);
  }

  const ICONS = { good: "✔", bad: "✖", info: "ℹ" };

  function renderLast(last) {
    if (!last) {
      setClass("verdict-", "none");
      return;
    }
    setClass("verdict-", last.verdict);
    $("verdict-icon").textContent = ICONS[last.verdict] || "?";
    $("verdict-word").textContent = last.word;
    $("verdict-message").textContent = last.message;
    $("verdict-data").textContent = last.data;
    lastAt = last.at;
    renderAge();
  }

  function renderAge() {
    if (!lastAt) return;
    const seconds = Math.max(0, Math.round(Date.now() / 1000 - lastAt));
    $("verdict-age").textContent = seconds < 2 ? "just now"
      : seconds < 120 ? seconds + " s ago" : Math.round(seconds / 60) + " min ago";
  }

  function renderAlerts(alerts) {
    const box = $("alerts");
    const items = alerts.map((alert) => {
      const row = document.createElement("div");
      row.className = "alert alert-" + alert.kind;
      row.dataset.alert = alert.id;
      const icon = document.createElement("span");
      icon.className = "alert-icon";
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = "⚠";
      const text = document.createElement("div");
      text.className = "alert-body";
      for (const [cls, value] of [["alert-title", alert.title], ["alert-text", alert.message],
                                  ["alert-resolved", alert.resolved]]) {
        if (!value) continue;
        const part = document.createElement("div");
        part.className = cls;
        part.textContent = value;
        text.appendChild(part);
      }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "ack";
      button.textContent = "✔ SEEN";
      button.addEventListener("click", () => post("api/alerts/" + encodeURIComponent(alert.id) + "/ack", {}, button));
      row.append(icon, text, button);
      return row;
    });
    box.replaceChildren(...items);
  }

  function render(state) {
    hook.state = state;
    $("station").textContent = state.station + (state.scanner ? " / " + state.scanner : "");
    body.classList.toggle("link-up", state.uplink);
    body.classList.toggle("link-down", !state.uplink);
    $("link-icon").textContent = state.uplink ? "●" : "⚠";
    $("link-text").textContent = state.uplink ? "store link OK" : "store link DOWN";
    renderMode(state.mode);
    renderLine(state);
    renderLast(state.last);
    renderAlerts(state.alerts);
    hook.updates += 1;
    hook.renderedAt = Date.now();
  }

  let toastTimer = 0;
  function toast(text) {
    const box = $("toast");
    box.textContent = text;
    box.classList.add("shown");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => box.classList.remove("shown"), 4000);
  }

  async function post(path, payload, button) {
    button.classList.add("busy");
    try {
      const response = await fetch(path + query, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload), credentials: "same-origin",
      });
      if (!response.ok) {
        let why = response.status + " " + response.statusText;
        try { why = (await response.json()).error || why; } catch (e) { /* not JSON */ }
        toast("Not done: " + why);
      }
    } catch (e) {
      toast("Not done: no connection to the station");
    } finally {
      button.classList.remove("busy");
    }
  }

  for (const button of document.querySelectorAll("button[data-command]")) {
    button.addEventListener("click", () => post("api/command", { command: button.dataset.command }, button));
  }

  function connect() {
    const stream = new EventSource("events" + query);
    stream.onopen = () => body.classList.remove("offline");
    stream.onmessage = (event) => {
      body.classList.remove("offline");
      render(JSON.parse(event.data));
    };
    stream.onerror = () => {
      body.classList.add("offline");
      if (stream.readyState === EventSource.CLOSED) {
        setTimeout(connect, 2000);  // the browser gave up (e.g. a 401): try again
      }
    };
  }

  setInterval(renderAge, 1000);
  connect();
})();
