/**
 * Issue 13 point 6: the repository documents itself. The README links only to files inside the
 * repository, and every relative link of the README, docs/ and k8s/README.md resolves to a file
 * or folder that exists.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(__dirname, "..", "..", "..");
const documents = ["README.md", "k8s/README.md", "shared/finance/README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** Markdown link targets. */
function linksOf(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

describe("documentation links", () => {
  it("has the architecture, the money rules and the runbook in docs/", () => {
    for (const doc of ["docs/architecture.md", "docs/money-rules.md", "docs/operations.md"]) expect(documents).toContain(doc);
  });

  it("README links only to files inside the repository", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const links = linksOf(readme);
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) {
      expect([link, /^[a-z]+:/i.test(link)]).toEqual([link, false]);
      const target = resolve(root, link.split("#")[0]);
      expect([link, relative(root, target).startsWith("..")]).toEqual([link, false]);
    }
    expect(readme).not.toMatch(/\.\.\/shared\//);
  });

  it.each(documents)("every relative link of %s resolves inside the repository", (doc) => {
    for (const link of linksOf(readFileSync(join(root, doc), "utf8"))) {
      if (/^[a-z]+:/i.test(link) || link.startsWith("#")) continue;
      const target = resolve(dirname(join(root, doc)), link.split("#")[0]);
      expect([link, !relative(root, target).startsWith("..") && existsSync(target)]).toEqual([link, true]);
    }
  });

  it("names only modules that exist in the money rules and the architecture", () => {
    for (const doc of ["docs/money-rules.md", "docs/architecture.md"]) {
      const text = readFileSync(join(root, doc), "utf8");
      const paths = [...text.matchAll(/`((?:shared|services|bin|k8s)\/[\w./-]+\.(?:ts|json|yaml))`/g)].map((m) => m[1]);
      expect(paths.length).toBeGreaterThan(5);
      for (const p of paths) expect([p, existsSync(join(root, p))]).toEqual([p, true]);
      // Bare module names in a rule's row resolve under shared/finance/.
      const finance = [...text.matchAll(/`((?:daycount|accrual|schedule|servicing|portfolio|programs)\/\w+\.ts)`/g)].map((m) => m[1]);
      for (const p of finance) expect([p, existsSync(join(root, "shared/finance", p))]).toEqual([p, true]);
    }
  });
});
