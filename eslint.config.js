// ESLint flat config: the recommended JS and typescript-eslint rules over the TypeScript sources.
const js = require("@eslint/js");
const tseslint = require("typescript-eslint");

module.exports = tseslint.config(
  { ignores: ["node_modules/", "dist/", ".tools/", "coverage/", "**/target/", "tmp/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  { files: ["**/*.js"], languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable", process: "readonly", __dirname: "readonly", console: "readonly" } }, rules: { "@typescript-eslint/no-require-imports": "off" } },
  // The dashboard page's scripts run in the browser (series.js also in Node, for its tests).
  {
    files: ["dashboard/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: Object.fromEntries(["window", "self", "document", "fetch", "sessionStorage", "module"].map((g) => [g, g === "module" ? "writable" : "readonly"])),
    },
  },
);
