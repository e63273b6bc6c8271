// The activity form (templates/admin/activation/activities/form.html): only the part of the
// chosen audience (estates, or a rule) is shown.
(function () {
  var radios = document.querySelectorAll('input[data-audience]');
  function show() {
    var chosen = document.querySelector('input[data-audience]:checked');
    document.querySelectorAll('[data-audience-part]').forEach(function (part) {
      part.hidden = chosen && part.dataset.audiencePart !== chosen.value;
    });
  }
  radios.forEach(function (r) { r.addEventListener('change', show); });
  show();
})();
