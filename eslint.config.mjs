// ESLint (flat config): typescript-eslint's recommended rules over the TypeScript sources. Formatting
// is Prettier's job; the architecture's layer rules are dependency-cruiser's (.dependency-cruiser.cjs).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "artifacts/", "cache/", "typechain-types/", "coverage/", "data/", "server/chain/abis.generated.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      // Unused arguments named with a leading underscore are part of a signature (Express handlers).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        module: "writable",
        process: "readonly",
        __dirname: "readonly",
        console: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Tests use chai's property assertions (`expect(x).to.be.true`) and loose fixtures; so do the
    // benchmarks' JSON clients.
    files: ["test/**/*.ts", "scripts/bench/**/*.ts", "scripts/bench-*.ts"],
    rules: {
      "@typescript-eslint/no-unused-expressions": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
