// Init script for assets/api-docs.html (kept out of the HTML so the page works
// under a CSP without 'unsafe-inline' for scripts). Loaded with `defer` after
// /assets/vendor/swagger-ui/swagger-ui-bundle.js, which defines SwaggerUIBundle.
(function () {
  "use strict";

  var SPEC_URL = "/api/v1/openapi.json";

  function start() {
    var root = document.getElementById("swagger-ui");
    if (typeof window.SwaggerUIBundle !== "function") {
      root.textContent =
        "Swagger UI 加载失败（/assets/vendor/swagger-ui/swagger-ui-bundle.js）。" +
        "接口定义见 " + SPEC_URL;
      return;
    }
    window.ui = window.SwaggerUIBundle({
      url: SPEC_URL,
      dom_id: "#swagger-ui",
      deepLinking: true,
      // BaseLayout needs only the bundle (no standalone preset / top bar).
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      // Never send our spec to the public validator service.
      validatorUrl: null,
      // "Try it out" calls go to our own origin and carry the session cookie.
      withCredentials: true,
      displayRequestDuration: true,
      tryItOutEnabled: false
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
