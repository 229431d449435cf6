/* Insignia: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  /** Show a short message in the toast region (announced politely to screen readers). */
  function toast(message, timeout) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var item = document.createElement("div");
    item.className = "toast";
    item.textContent = message;
    region.appendChild(item);
    window.setTimeout(function () { item.remove(); }, timeout || 4000);
  }
  window.insigniaToast = toast;

  /** Copy the value of the element a [data-copy] button points to. */
  function copyFrom(button) {
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) return;
    var text = "value" in target ? target.value : target.textContent;
    var done = function () { toast("Copied to the clipboard."); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(target, done); });
    } else {
      fallbackCopy(target, done);
    }
  }
  function fallbackCopy(target, done) {
    if (target.select) { target.select(); }
    try { if (document.execCommand("copy")) { done(); return; } } catch (e) { /* fall through */ }
    toast("Select the text and press Ctrl+C (or ⌘C) to copy.");
  }

  /** Ask for confirmation in the shared <dialog> before a [data-confirm] form submits. */
  function confirmSubmit(form, event) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function" || form.dataset.confirmed === "yes") return;
    event.preventDefault();
    document.getElementById("confirm-dialog-title").textContent = form.getAttribute("data-confirm-title") || "Are you sure?";
    document.getElementById("confirm-dialog-body").textContent = form.getAttribute("data-confirm");
    document.getElementById("confirm-dialog-ok").textContent = form.getAttribute("data-confirm-ok") || "Confirm";
    var opener = document.activeElement;
    dialog.returnValue = "";
    dialog.addEventListener("close", function onClose() {
      dialog.removeEventListener("close", onClose);
      if (dialog.returnValue === "confirm") {
        form.dataset.confirmed = "yes";
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      } else if (opener && opener.focus) {
        opener.focus();
      }
    });
    dialog.showModal();
    var cancel = dialog.querySelector("button[value=cancel]");
    if (cancel) cancel.focus();
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-copy], [data-dialog-open], [data-dialog-close], [data-toast]");
    if (el) {
      if (el.hasAttribute("data-copy")) { copyFrom(el); }
      if (el.hasAttribute("data-toast")) { toast(el.getAttribute("data-toast")); }
      if (el.hasAttribute("data-dialog-open")) {
        var dialog = document.getElementById(el.getAttribute("data-dialog-open"));
        if (dialog && dialog.showModal) dialog.showModal();
      }
      if (el.hasAttribute("data-dialog-close")) {
        var parent = el.closest("dialog");
        if (parent) parent.close(el.value || "");
      }
    }
    // Close open menus when clicking elsewhere.
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-confirm")) confirmSubmit(form, event);
  });

  /** Drop zones: highlight while dragging, put dropped files into the real input, show the chosen name. */
  function initDropZone(zone) {
    var input = zone.querySelector("input[type=file]");
    var label = zone.querySelector("[data-drop-zone-file]");
    if (!input) return;
    var show = function () {
      if (label) label.textContent = input.files.length ? "Chosen: " + Array.prototype.map.call(input.files, function (f) { return f.name; }).join(", ") : "";
    };
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("is-dragover"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("is-dragover"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    input.addEventListener("change", show);
  }

  /** A table that scrolls sideways: name its region and show a hint above it while it overflows. */
  function initTableScroll(wrap, index) {
    var table = wrap.querySelector("table");
    if (!table) return;
    var card = wrap.closest("section, .card");
    var heading = card && card.querySelector("h2, h3");
    var caption = table.querySelector("caption");
    var name = (caption || heading || { textContent: "Table" }).textContent.trim();
    var hint = document.createElement("p");
    hint.className = "table-scroll-hint";
    hint.id = "table-scroll-hint-" + index;
    hint.textContent = "Scroll sideways to see every column \u2192";
    hint.hidden = true;
    wrap.parentNode.insertBefore(hint, wrap);
    function update() {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      hint.hidden = !scrolls;
      if (scrolls) {
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", name);
        wrap.setAttribute("aria-describedby", hint.id);
      } else {
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
        wrap.removeAttribute("aria-describedby");
      }
    }
    update();
    if (window.ResizeObserver) { new ResizeObserver(update).observe(wrap); } else { window.addEventListener("resize", update); }
  }

  function init() {
    document.querySelectorAll("[data-drop-zone]").forEach(initDropZone);
    document.querySelectorAll(".table-wrap").forEach(initTableScroll);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
