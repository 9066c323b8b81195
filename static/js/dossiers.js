/* Dossiers pages: small behaviours, no inline scripts (CSP). */
(function () {
  "use strict";

  // Intake: the reason for not choosing postal return only matters when it is not BCCI.
  function syncDeclineFields() {
    var box = document.getElementById("decline-fields");
    if (!box) return;
    var chosen = document.querySelector("input[name=return_channel]:checked");
    var byPost = chosen && chosen.value === "bcci";
    box.hidden = byPost;
    var note = document.getElementById("div_id_decline_note");
    var reason = document.getElementById("id_decline_reason");
    if (note && reason) note.hidden = byPost || reason.value !== "other";
  }

  // Intake: one more empty document row, cloned from the formset's empty form.
  function addDocumentRow() {
    var template = document.getElementById("document-row-template");
    var total = document.getElementById("id_documents-TOTAL_FORMS");
    var rows = document.getElementById("document-rows");
    if (!template || !total || !rows) return;
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var input = rows.querySelector("#id_documents-" + index + "-name");
    if (input) input.focus();
  }

  document.addEventListener("change", function (event) {
    if (event.target.name === "return_channel" || event.target.id === "id_decline_reason") syncDeclineFields();
  });
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-add-document]");
    if (target) { event.preventDefault(); addDocumentRow(); }
    if (event.target.closest("[data-print]")) { event.preventDefault(); window.print(); }
  });
  document.addEventListener("DOMContentLoaded", syncDeclineFields);
  document.addEventListener("htmx:afterSwap", syncDeclineFields);
})();
