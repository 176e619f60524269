/** Jest: TypeScript through @swc/jest (types are checked separately by `npm run typecheck`). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2023", parser: { syntax: "typescript" } } }],
    // jose is published as ES modules only; Jest's module system needs it as CommonJS.
    "node_modules/jose/.+\\.js$": ["@swc/jest", { jsc: { target: "es2023" }, module: { type: "commonjs" } }],
  },
  transformIgnorePatterns: ["/node_modules/(?!jose/)"],
  // Two workers fit the 2-core machines; each integration file starts its own servers.
  maxWorkers: process.env.JEST_WORKERS || 2,
  testTimeout: 60000,
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
};
