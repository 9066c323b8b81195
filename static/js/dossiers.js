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
    var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var input = rows.querySelector("#id_documents-" + index + "-name");
    if (input) input.focus();
  }

  // Intake: the procedure picker narrowed by typing part of a name, code or field; diacritics
  // and case are ignored ("hon nhan" finds "hôn nhân"). Enter picks the first match.
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  }
  function narrowProcedures(search) {
    var select = document.getElementById("id_procedure");
    if (!select) return null;
    var words = fold(search.value).split(/\s+/).filter(Boolean);
    var first = null;
    var shown = 0;
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) return;
      var text = fold(option.text);
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      option.hidden = !match;
      option.disabled = !match;
      if (match) { shown += 1; if (!first) first = option; }
    });
    var help = document.getElementById("procedure-search-help");
    if (help) help.textContent = (help.dataset.template || "").replace("%s", String(shown));
    return first;
  }
  document.addEventListener("input", function (event) {
    if (event.target.id === "procedure-search") narrowProcedures(event.target);
  });
  document.addEventListener("keydown", function (event) {
    if (event.target.id !== "procedure-search") return;
    if (event.key === "Enter") {
      event.preventDefault();
      var first = narrowProcedures(event.target);
      var select = document.getElementById("id_procedure");
      if (first && select) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
        select.focus();
      }
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      var box = document.getElementById("id_procedure");
      if (box) box.focus();
    }
  });

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
