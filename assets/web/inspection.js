// 视频勘验 on the pages: the applicant's resumable upload (tus-js-client, retried after a dropped connection), the
// reviewer's notes, stills and conclusion at the player's current moment. Every request goes to the JSON API with
// the session's CSRF token; the page reloads to show what was recorded.
(function () {
  "use strict";
  function csrf(el) { return el.closest("[data-csrf]").getAttribute("data-csrf"); }
  function post(url, body, token) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify(body),
    }).then(function (r) {
      if (r.ok) { return r.json(); }
      return r.json().then(function (p) { throw new Error((p.title_zh || "") + " " + (p.detail || r.status)); });
    });
  }
  function say(form, text) {
    var out = form.querySelector("[role=status]");
    if (out) { out.textContent = text; }
  }

  document.querySelectorAll("form[data-tus-endpoint]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var file = form.querySelector("input[type=file]").files[0];
      if (!file || !window.tus) { return; }
      var bar = form.querySelector("progress");
      var upload = new window.tus.Upload(file, {
        endpoint: form.getAttribute("data-tus-endpoint"),
        headers: { "X-CSRF-Token": csrf(form) },
        metadata: { filename: file.name },
        chunkSize: 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
        onProgress: function (sent, total) {
          if (bar) { bar.max = total; bar.value = sent; }
          say(form, Math.floor((sent / total) * 100) + "%");
        },
        onError: function (e) { say(form, String(e.message || e)); },
        onSuccess: function () { say(form, "100%"); window.location.reload(); },
      });
      upload.start();
    });
  });

  function player(form) {
    var id = form.getAttribute("data-video");
    return id ? document.getElementById("video-" + id) : null;
  }
  document.querySelectorAll("form[data-api]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = {};
      new FormData(form).forEach(function (v, k) { if (k !== "_csrf" && v !== "") { data[k] = v; } });
      var p = player(form);
      if (form.hasAttribute("data-at") && p) { data.at_ms = Math.round(p.currentTime * 1000); }
      if (data.points !== undefined) { data.points = data.points.split(/\n+/).filter(function (x) { return x.trim(); }); }
      // 勘验预约: a datetime-local is Beijing time (the bureau's legal time); the other cases as a list.
      if (data.start !== undefined) { data.start = data.start.slice(0, 16) + ":00+08:00"; }
      if (data.minutes !== undefined) { data.minutes = parseInt(data.minutes, 10); }
      if (data.with_cases !== undefined) {
        data.with_cases = data.with_cases.split(/[\s,，、]+/).filter(function (x) { return x; });
      }
      if (data.satisfied !== undefined) { data.satisfied = data.satisfied === "true"; }
      post(form.getAttribute("data-api"), data, csrf(form))
        .then(function () { window.location.reload(); })
        .catch(function (e) { say(form, e.message); });
    });
  });
})();
