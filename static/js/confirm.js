// Consequential buttons ask first: a form, or the submit button that sends it, with
// data-confirm="…" shows that question, and the form is sent only when it is accepted. (The
// Content-Security-Policy refuses inline onclick/onsubmit handlers: pages carry no script.)
document.addEventListener('submit', function (event) {
  var button = event.submitter;
  var question = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
