/* Badge designer live preview (progressive enhancement: without script the preview updates on save).
   As designer fields change, ask the server for the preview SVG and swap it in once it has loaded;
   a refused value (e.g. half-typed initials) keeps the last good preview and says why. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-designer]");
  if (!form) { return; }
  var preview = document.getElementById("designer-preview");
  var status = document.getElementById("designer-preview-status");
  var base = form.getAttribute("data-preview-base");
  var names = ["shape", "primary", "secondary", "icon", "initials", "ribbon", "name"];
  var timer = null;
  var latest = "";

  function value(name) {
    var field = form.elements.namedItem(name);
    return field && "value" in field ? field.value : "";
  }

  function refresh() {
    var params = new URLSearchParams();
    names.forEach(function (name) { params.set(name, value(name)); });
    var url = base + "?" + params.toString();
    if (url === latest) { return; }
    latest = url;
    var probe = new Image();
    probe.onload = function () {
      if (latest === url) { preview.src = url; status.textContent = "Preview"; }
    };
    probe.onerror = function () {
      if (latest === url) { status.textContent = "Preview not updated: check the designer fields."; }
    };
    probe.src = url;
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 200);
  }

  names.forEach(function (name) {
    var field = form.elements.namedItem(name);
    if (field && field.addEventListener) {
      field.addEventListener("input", schedule);
      field.addEventListener("change", schedule);
    }
  });

  // Show only the image section that applies (both stay usable without script).
  var sections = form.querySelectorAll("[data-image-section]");
  function showSource() {
    var chosen = form.querySelector("input[name=image_source]:checked");
    var source = chosen ? chosen.value : "design";
    Array.prototype.forEach.call(sections, function (section) {
      section.hidden = section.getAttribute("data-image-section") !== source;
    });
  }
  Array.prototype.forEach.call(form.querySelectorAll("input[name=image_source]"), function (radio) {
    radio.addEventListener("change", showSource);
  });
  showSource();
}());
