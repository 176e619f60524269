/* global process */
/**
 * Validates Kubernetes objects with kubernetes-models (the Kubernetes OpenAPI schemas compiled to
 * validators). Run by manifests.test.ts as a plain Node process because the library ships only
 * ES modules, which Jest's CommonJS runtime cannot load without --experimental-vm-modules.
 *
 * stdin: a JSON array of objects. stdout: a JSON array of { ok, error? }, one per object.
 */
let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;

const results = [];
for (const doc of JSON.parse(input)) results.push(await validate(doc));
process.stdout.write(JSON.stringify(results));

async function validate(doc) {
  const { apiVersion, kind } = doc ?? {};
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z]+$/.test(kind)) {
    return { ok: false, error: "apiVersion and kind are required" };
  }
  // "v1" is the core group; "apps/v1", "batch/v1", "networking.k8s.io/v1" map to folders as named.
  let Model;
  try {
    Model = (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
  } catch {
    Model = undefined;
  }
  if (typeof Model !== "function") return { ok: false, error: `unknown kind ${apiVersion}/${kind}` };
  try {
    new Model(doc).validate();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
