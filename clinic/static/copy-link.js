/* "Copy link" for a read-only field (the invitation page), as progressive enhancement:
   without JavaScript, or where the Clipboard API is missing (a page not served over
   HTTPS), the button stays hidden and the link is plain selectable text. The result is
   said in words in a live region ("Copied", or what to do instead), never by colour. */
(function () {
  "use strict";

  function say(status, words) {
    if (!status) return;
    // Emptied first so the same words, said twice, are announced twice.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = words; }, 50);
  }

  function enhance(button) {
    var field = document.getElementById(button.getAttribute("data-copy-from"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!field || !navigator.clipboard || !window.isSecureContext) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(
        function () { say(status, "Copied"); },
        function () {
          field.focus();
          field.select();
          say(status, "Could not copy: the link is selected, copy it with your keyboard or menu.");
        }
      );
    });
    // Selecting the whole link on focus makes copying it by hand one step too.
    field.addEventListener("focus", function () { field.select(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-copy-from]");
    for (var i = 0; i < buttons.length; i += 1) enhance(buttons[i]);
  });
})();
