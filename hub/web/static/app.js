// sealhub's pages work without this script; it adds drag-and-drop, an early size check (the
// server checks again) and a busy state while a document is checked.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("check-form");
  if (form) {
    var input = document.getElementById("file");
    var drop = document.getElementById("drop");
    var text = document.getElementById("drop-text");
    var msg = document.getElementById("client-msg");
    var show = function () {
      msg.hidden = true;
      if (input.files.length > 0) { text.textContent = input.files[0].name; }
    };
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (t) {
      drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length > 0) {
        input.files = e.dataTransfer.files;
        show();
      }
    });
    form.addEventListener("submit", function (e) {
      if (input.files.length > 0 && input.files[0].size > parseInt(form.dataset.limit, 10)) {
        e.preventDefault();
        msg.textContent = form.dataset.tooLarge;
        msg.hidden = false;
        return;
      }
      var b = document.getElementById("submit");
      b.disabled = true;
      b.textContent = form.dataset.checking;
    });
  }
  var sf = document.getElementById("status-form");
  if (sf) {
    sf.addEventListener("submit", function (e) {
      var a = document.getElementById("action").value;
      if (a === "revoke" && !window.confirm(sf.dataset.confirm || "Revoke? This is final.")) { e.preventDefault(); }
    });
  }
});
