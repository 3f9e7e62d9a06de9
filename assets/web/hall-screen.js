// The hall screen: redraws the calling table from server-sent events and reads each new call out where the browser
// has the Web Speech API. EventSource reconnects on its own (the server asks for 2 s); if the browser gives up
// (readyState CLOSED), start again after 5 s.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-events");
  var lang = body.getAttribute("data-lang") === "en" ? "en-US" : "zh-CN";
  var status = document.getElementById("status");
  var seen = {};
  // What is on the screen at load has been announced already.
  Array.prototype.forEach.call(document.querySelectorAll("#calling tr"), function (tr) {
    seen[tr.textContent] = true;
  });

  function speak(text) {
    if (!("speechSynthesis" in window) || !text) return;
    try {
      var u = new SpeechSynthesisUtterance(text);
      u.lang = lang;
      window.speechSynthesis.speak(u);
    } catch (e) { /* no voice: the screen still shows the call */ }
  }

  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
  }

  function draw(board) {
    var tbody = document.getElementById("calling");
    var rows = document.createDocumentFragment();
    (board.calling || []).forEach(function (c) {
      var tr = document.createElement("tr");
      cell(tr, c.number);
      cell(tr, c.window);
      tr.setAttribute("data-announce", c.announce);
      var key = c.number + "|" + c.window + "|" + c.calls;
      if (!seen[key]) {
        seen[key] = true;
        tr.className = "new";
        speak(c.announce);
      }
      rows.appendChild(tr);
    });
    tbody.replaceChildren(rows);
    document.getElementById("waiting").textContent = String(board.waiting);
    var ul = document.getElementById("sections");
    var items = document.createDocumentFragment();
    (board.waiting_by_section || []).forEach(function (s) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = s[0];
      var n = document.createElement("strong");
      n.textContent = String(s[1]);
      li.appendChild(name);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(n);
      items.appendChild(li);
    });
    ul.replaceChildren(items);
  }

  // Calls already on the screen count as announced, with their call counts from the first event.
  var first = true;
  function connect() {
    var es = new EventSource(url);
    es.addEventListener("board", function (ev) {
      var board = JSON.parse(ev.data);
      if (first) {
        (board.calling || []).forEach(function (c) { seen[c.number + "|" + c.window + "|" + c.calls] = true; });
        first = false;
      }
      draw(board);
      status.textContent = status.getAttribute("data-connected");
      body.setAttribute("data-live", "1");
    });
    es.onerror = function () {
      status.textContent = status.getAttribute("data-lost");
      body.setAttribute("data-live", "0");
      if (es.readyState === EventSource.CLOSED) {
        setTimeout(connect, 5000);
      }
    };
  }
  connect();
})();
