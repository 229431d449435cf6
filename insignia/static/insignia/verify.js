/* The verifier page: progressive enhancement only (the form works without it).
   - A file dropped anywhere on the page, or chosen, is verified at once.
   - While the check runs the button says so; the verdict gets focus when the result page loads. */
(function () {
  "use strict";

  function init() {
    var form = document.querySelector("[data-verify-form]");
    if (!form) return;
    var input = form.querySelector("input[type=file]");
    var text = form.querySelector("textarea");
    var button = form.querySelector("[data-verify-submit]");
    var busy = false;

    function markBusy() {
      busy = true;
      form.setAttribute("aria-busy", "true");
      if (button) { button.textContent = "Checking…"; button.setAttribute("aria-disabled", "true"); }
    }

    function submit() {
      if (busy) return;
      if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { markBusy(); form.submit(); }
    }

    form.addEventListener("submit", function (event) {
      if (busy) { event.preventDefault(); return; }
      markBusy();
    });

    if (input) {
      input.addEventListener("change", function () {
        if (input.files && input.files.length && !(text && text.value.trim())) submit();
      });
      // A file dropped anywhere on the page goes to the file input (the drop zone itself is handled by app.js).
      document.addEventListener("dragover", function (event) {
        if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") >= 0) {
          event.preventDefault();
        }
      });
      document.addEventListener("drop", function (event) {
        if (event.defaultPrevented || !event.dataTransfer || !event.dataTransfer.files.length) return;
        event.preventDefault();
        if (text) text.value = "";
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }

    var verdict = document.getElementById("verdict");
    if (verdict) verdict.focus({ preventScroll: false });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
