// Search as you type on the people page. Without this script the form's Search button does
// the same: it asks for the page with ?q=; with it, the results table alone (&fragment=1) is
// fetched a moment after the typing pauses and swapped in, and the count is announced.
(function () {
  "use strict";
  var form = document.querySelector("form[data-live-search]");
  if (!form || !window.fetch || !window.history) { return; }
  var input = form.querySelector("input[name=q]");
  var status = document.getElementById("results-status");
  var action = form.getAttribute("action");
  var pause = 250; // milliseconds after the last keystroke
  var timer = null;
  var asked = 0; // only the answer to the latest question is shown

  function address(query, fragment) {
    var params = [];
    if (query) { params.push("q=" + encodeURIComponent(query)); }
    if (fragment) { params.push("fragment=1"); }
    return action + (params.length ? "?" + params.join("&") : "");
  }

  function show(query, html, ticket) {
    if (ticket !== asked) { return; }
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var fresh = holder.content.querySelector("#results");
    var current = document.getElementById("results");
    if (!fresh || !current) { return; } // signed out meanwhile: the Search button still works
    current.replaceWith(fresh);
    status.textContent = fresh.getAttribute("data-summary");
    window.history.replaceState(null, "", address(query, false));
  }

  function search() {
    var query = input.value.trim();
    var ticket = ++asked;
    fetch(address(query, true), { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("not the results"); }
        return response.text();
      })
      .then(function (html) { show(query, html, ticket); })
      .catch(function () { /* the Search button still works */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, pause);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    search();
  });
})();
