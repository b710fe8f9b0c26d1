// keepscore: the little behaviour that is not htmx. No inline scripts anywhere (strict CSP).
document.addEventListener("htmx:configRequest", function (evt) {
  var token = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (token) { evt.detail.headers["X-CSRFToken"] = token.value; }
});
