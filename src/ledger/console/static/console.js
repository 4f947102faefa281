// Small enhancements only: every page works without this script.
(function () {
  "use strict";
  // Move focus to the error summary, so a screen reader announces it and its links are next.
  var summary = document.querySelector("[data-focus]");
  if (summary) { summary.focus(); }
})();
