// Progressive enhancement for the forms; everything works without this file.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // After a refused submission, bring keyboard and screen-reader users to the error summary.
    var summary = document.querySelector(".erreurs");
    if (summary) {
      summary.focus();
    }
    // Links of the summary focus the field itself, not only scroll to it.
    var links = document.querySelectorAll(".erreurs a[href^='#']");
    Array.prototype.forEach.call(links, function (link) {
      link.addEventListener("click", function (event) {
        var field = document.getElementById(link.getAttribute("href").slice(1));
        if (field) {
          event.preventDefault();
          field.focus();
          field.scrollIntoView({ block: "center" });
        }
      });
    });
  });
})();
