/**
 * The interactive API page: Swagger UI (swagger-ui-dist, served by this gateway, no CDN) over
 * /api/openapi.json. It always shows this API's own document: moleculer-auto-openapi's page takes
 * a `url` query parameter into an inline script, which would reflect a visitor's input (issue 7).
 */
export function openApiPage(schemaPath: string, assetsPath: string): string {
  const json = (v: string) => JSON.stringify(v).replace(/</g, "\\u003c");
  return `<!doctype html>
<html>
  <head>
    <meta charset="utf-8">
    <title>Loan platform API</title>
    <link rel="stylesheet" href="${assetsPath}/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${assetsPath}/swagger-ui-bundle.js"></script>
    <script src="${assetsPath}/swagger-ui-standalone-preset.js"></script>
    <script>
      window.onload = function () {
        SwaggerUIBundle({
          url: ${json(schemaPath)},
          dom_id: "#swagger-ui",
          deepLinking: true,
          presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
          layout: "StandaloneLayout",
        });
      };
    </script>
  </body>
</html>`;
}
