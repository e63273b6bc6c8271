// The interactive API docs (/api/docs, templates/swagger_ui.html): Swagger UI on the document,
// with the page's OPENAPI_SWAGGER_UI_CONFIG, and without the badge fetched from swagger.io.
(function () {
  var container = document.getElementById('swagger-ui-container');
  var config = {url: container.dataset.specUrl, dom_id: '#swagger-ui-container', validatorUrl: null};
  var extra = JSON.parse(container.dataset.config || '{}');
  for (var key in extra) config[key] = extra[key];
  window.addEventListener('load', function () { window.ui = SwaggerUIBundle(config); });
})();
