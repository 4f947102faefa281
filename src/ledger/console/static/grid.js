// The attendance form: a button to tick at once everyone not yet recorded (most people attend
// most weeks). Only an enhancement: without this script each box is ticked on its own.
(function () {
  "use strict";
  var form = document.querySelector("form[data-attendance]");
  if (!form) { return; }
  var fresh = form.querySelectorAll("input[type=checkbox][data-new]");
  if (fresh.length < 2) { return; }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button button-secondary";
  button.textContent = "Tick everyone not yet recorded";
  button.addEventListener("click", function () {
    for (var i = 0; i < fresh.length; i++) { fresh[i].checked = true; }
    fresh[0].focus();
  });
  var hint = form.querySelector("#week-hint");
  var holder = document.createElement("p");
  holder.appendChild(button);
  hint.parentNode.insertBefore(holder, hint.nextSibling);
})();
