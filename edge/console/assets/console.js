// dockgate console: live updates over Server-Sent Events, the door board's
// alert sound, and the keyboard-wedge scan field. Everything works without
// it but the live updates: forms post and pages reload.
(function () {
  "use strict";
  var body = document.body;
  var who = body.dataset.who || "";
  if (who) body.classList.add("logged-in");

  // Name fields: the logged-in name, else the one last typed here.
  function fillNames(root) {
    var name = who || localStorage.getItem("dockgate.name") || "";
    root.querySelectorAll("input[name=by]").forEach(function (el) {
      if (!el.value) el.value = name;
      el.addEventListener("change", function () { localStorage.setItem("dockgate.name", el.value); });
    });
  }
  fillNames(document);

  // Sound: a browser plays sound only after a person's gesture, so the
  // board has a button; the choice is remembered on this tablet.
  var audio = null, soundOn = localStorage.getItem("dockgate.sound") === "on";
  var soundBtn = document.getElementById("sound");
  function showSound() {
    if (!soundBtn) return;
    soundBtn.setAttribute("aria-pressed", soundOn ? "true" : "false");
    soundBtn.textContent = soundOn ? "♪ Sound on: turn off" : "♪ Sound off: turn on";
  }
  function ensureAudio() {
    if (!audio) {
      var AC = window.AudioContext || window.webkitAudioContext;
      if (AC) audio = new AC();
    }
    if (audio && audio.state === "suspended") audio.resume();
  }
  if (soundBtn) {
    soundBtn.addEventListener("click", function () {
      soundOn = !soundOn;
      localStorage.setItem("dockgate.sound", soundOn ? "on" : "off");
      if (soundOn) ensureAudio();
      showSound();
    });
    document.addEventListener("pointerdown", function () { if (soundOn) ensureAudio(); }, { once: true });
    document.addEventListener("keydown", function () { if (soundOn) ensureAudio(); }, { once: true });
    showSound();
  }
  function beep() {
    if (!soundOn) return;
    ensureAudio();
    if (!audio) return;
    var t = audio.currentTime;
    [0, 0.25, 0.5].forEach(function (d) {
      var o = audio.createOscillator(), g = audio.createGain();
      o.type = "square"; o.frequency.value = 880;
      g.gain.setValueAtTime(0.25, t + d); g.gain.setValueAtTime(0, t + d + 0.18);
      o.connect(g); g.connect(audio.destination);
      o.start(t + d); o.stop(t + d + 0.2);
    });
  }
  // The alarm sounds every 3 s while an alert waits for acknowledgement.
  setInterval(function () { if (document.querySelector(".alert-banner")) beep(); }, 3000);

  // Live updates.
  var topics = (body.dataset.topics || "").split(" ").filter(Boolean);
  var state = document.getElementById("live-state");
  function setState(s, text) { if (state) { state.dataset.state = s; state.textContent = text; } }
  if (topics.length && window.EventSource) {
    var q = topics.map(function (t) { return "topic=" + encodeURIComponent(t); }).join("&");
    var es = new EventSource("/events?" + q);
    es.onopen = function () { setState("live", "● live"); };
    es.onerror = function () { setState("down", "○ reconnecting"); };
    es.addEventListener("board", function (e) {
      var board = document.getElementById("board");
      if (!board) return;
      var before = alertIDs(board);
      // Keep a name being typed into an acknowledgement.
      var focused = document.activeElement && board.contains(document.activeElement) ? document.activeElement : null;
      if (focused && focused.name === "by") return;
      board.innerHTML = e.data;
      fillNames(board);
      startCountdowns(board);
      if (window.htmx) htmx.process(board);
      var after = alertIDs(board);
      if (after.some(function (id) { return before.indexOf(id) < 0; })) beep();
    });
    es.addEventListener("changed", function () {
      // Another page: refresh its live part, leaving forms alone.
      var live = document.getElementById("live");
      if (!live || !window.htmx) return;
      htmx.ajax("GET", location.pathname + location.search, { target: "#live", select: "#live", swap: "outerHTML" });
    });
  }
  // A lit light's time left counts down between the board's updates (the
  // board is sent again when the light goes out).
  function startCountdowns(root) {
    var now = Date.now();
    root.querySelectorAll(".left[data-left]").forEach(function (el) {
      el.dataset.end = String(now + Number(el.dataset.left) * 1000);
    });
  }
  startCountdowns(document);
  setInterval(function () {
    var now = Date.now();
    document.querySelectorAll(".left[data-end]").forEach(function (el) {
      el.textContent = Math.max(0, Math.ceil((Number(el.dataset.end) - now) / 1000)) + " s left";
    });
  }, 1000);
  function alertIDs(root) {
    return Array.prototype.map.call(root.querySelectorAll(".alert-banner"), function (el) { return el.dataset.alert; });
  }

  // The scan field: a keyboard-wedge scanner types the label and Enter.
  // Enter shows what was read and moves on to the cartons; Ctrl+] (GS on
  // many scanners) types ␝, which the gateway reads as GS.
  var scan = document.getElementById("scan");
  if (scan) {
    scan.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        e.preventDefault();
        if (window.htmx) htmx.trigger(scan, "scanned");
        var next = document.getElementById("cartons");
        if (next) next.focus();
      } else if (e.key === "]" && e.ctrlKey) {
        e.preventDefault();
        var s = scan.selectionStart, v = scan.value;
        scan.value = v.slice(0, s) + "\u241d" + v.slice(scan.selectionEnd);
        scan.setSelectionRange(s + 1, s + 1);
        scan.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
  }
})();
