/**
 * Deployment files: every Kubernetes manifest in k8s/ validates against the Kubernetes OpenAPI
 * schemas (kubernetes-models), the workloads cover every service and daily job, and
 * docker-compose.yml runs each service, NATS with JetStream and a MongoDB replica set.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { ALL_SERVICES } from "../../../shared/config";
import { JOB_NAMES } from "../../../shared/contracts/scheduler";

const root = join(__dirname, "..", "..", "..");
const k8sDir = join(root, "k8s");
/** A template the operator fills in and applies by hand; validated, not listed for kustomize. */
const SECRET_TEMPLATE = "secret.example.yaml";

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: any;
  [key: string]: unknown;
}

interface Manifest {
  file: string;
  doc: K8sObject;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

function loadManifests(): Manifest[] {
  return yamlFiles(k8sDir)
    .filter((path) => !path.endsWith("kustomization.yaml"))
    .flatMap((path) =>
      parseAllDocuments(readFileSync(path, "utf8")).map((d) => {
        if (d.errors.length) throw new Error(`${path}: ${d.errors.map((e) => e.message).join("; ")}`);
        return { file: relative(k8sDir, path), doc: d.toJS() as K8sObject };
      }),
    )
    .filter((m) => m.doc !== null);
}

/**
 * kubernetes-models ships only ES modules, which Jest's CommonJS runtime cannot load, so the
 * validation runs in a plain Node process (validate-k8s.mjs) and reports back as JSON.
 */
function validate(docs: unknown[]): { ok: boolean; error?: string }[] {
  const out = execFileSync(process.execPath, [join(__dirname, "validate-k8s.mjs")], {
    input: JSON.stringify(docs),
    encoding: "utf8",
  });
  return JSON.parse(out);
}

const manifests = loadManifests();
const ofKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);

describe("k8s manifests", () => {
  it("all validate against the Kubernetes schemas", () => {
    expect(manifests.length).toBeGreaterThan(20);
    const results = validate(manifests.map((m) => m.doc));
    const failures = results
      .map((r, i) => (r.ok ? undefined : `${manifests[i].file} ${manifests[i].doc.kind}/${manifests[i].doc.metadata?.name}: ${r.error}`))
      .filter(Boolean);
    expect(failures).toEqual([]);
  });

  it("the validator rejects broken manifests and unknown kinds", () => {
    const deployment = (containerPatch: object, specPatch: object = {}) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "broken" },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "x", ...containerPatch }] } },
        ...specPatch,
      },
    });
    const [good, wrongPort, wrongReplicas, noContainers, unknownKind] = validate([
      deployment({}),
      deployment({ ports: [{ containerPort: "http" }] }),
      deployment({}, { replicas: "two" }),
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: { selector: {}, template: { spec: {} } } },
      { apiVersion: "v1", kind: "Pdo", metadata: { name: "typo" } },
    ]);
    expect(good).toEqual({ ok: true });
    expect(wrongPort.error).toMatch(/containerPort must be integer/);
    expect(wrongReplicas.error).toMatch(/replicas must be integer/);
    expect(noContainers.error).toMatch(/required property containers/);
    expect(unknownKind.error).toMatch(/unknown kind/);
  });

  it("kustomization.yaml lists every manifest but the secret template", () => {
    const kustomization = parse(readFileSync(join(k8sDir, "kustomization.yaml"), "utf8")) as { resources: string[] };
    const files = [...new Set(manifests.map((m) => m.file))].filter((f) => f !== SECRET_TEMPLATE).sort();
    expect([...kustomization.resources].sort()).toEqual(files);
  });

  it("has a namespace, config map and secret template with the documented keys", () => {
    expect(ofKind("Namespace").map((n) => n.metadata.name)).toEqual(["loan-platform"]);
    const [config] = ofKind("ConfigMap") as (K8sObject & { data: Record<string, string> })[];
    expect(Object.keys(config.data)).toEqual(
      expect.arrayContaining(["TRANSPORTER", "MONGO_URL", "BUSINESS_TZ", "LOG_LEVEL", "NAMESPACE", "HEALTH_PORT"]),
    );
    const [secret] = ofKind("Secret") as (K8sObject & { stringData: Record<string, string> })[];
    expect(Object.keys(secret.stringData).sort()).toEqual(["AUTH_TOKENS", "INVESTOR_DATA_KEYS", "INVESTOR_DATA_KEY_ID", "SMTP_URL"]);
  });

  it("runs each service as a Deployment with readiness and liveness probes on the health port", () => {
    const deployments = ofKind("Deployment");
    const byService = new Map<string, K8sObject>();
    for (const d of deployments) {
      const [container] = d.spec.template.spec.containers;
      const services = container.env.find((e: { name: string }) => e.name === "SERVICES")?.value;
      byService.set(services, d);
      expect(container.image).toBeTruthy();
      expect(container.readinessProbe.httpGet).toMatchObject({ path: "/ready", port: "health" });
      expect(container.livenessProbe.httpGet).toMatchObject({ path: "/live", port: "health" });
      expect(container.ports).toContainEqual({ name: "health", containerPort: 3001 });
      expect(container.resources.requests).toBeDefined();
    }
    expect([...byService.keys()].sort()).toEqual([...ALL_SERVICES].sort());
    expect(ofKind("Service").map((s) => s.metadata.name)).toContain("gateway");
  });

  it("has Prometheus scrape each pod's internal health port, and no public route to metrics", () => {
    for (const d of ofKind("Deployment")) {
      expect(d.spec.template.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "3001", "prometheus.io/path": "/metrics" });
    }
    const [config] = ofKind("ConfigMap") as (K8sObject & { data: Record<string, string> })[];
    expect(config.data.HEALTH_PORT).toBe("3001");
    // The public Service exposes the gateway port only, never the health port.
    const gateway = ofKind("Service").find((s) => s.metadata.name === "gateway")!;
    expect(gateway.spec.ports.map((p: { targetPort: unknown }) => p.targetPort)).not.toContain(3001);
    expect(gateway.spec.ports.map((p: { targetPort: unknown }) => p.targetPort)).not.toContain("health");
  });

  it("has a CronJob per daily job running the tick entry point in the business time zone", () => {
    const cronJobs = ofKind("CronJob");
    const jobs = cronJobs.map((c) => c.spec.jobTemplate.spec.template.spec.containers[0].command);
    for (const job of JOB_NAMES) expect(jobs).toContainEqual(["node", "dist/bin/tick.js", job]);
    for (const c of cronJobs) expect(c.spec.timeZone).toBe("America/New_York");
    // The chain's first job is asked for after midnight, auto_assign not before 05:00 (DESIGN.md §8).
    const hourOf = (job: string) => {
      const c = cronJobs.find((cj) => cj.spec.jobTemplate.spec.template.spec.containers[0].command[2] === job)!;
      const [minute, hour] = c.spec.schedule.split(" ").map(Number);
      return hour * 60 + minute;
    };
    expect(hourOf("auto_assign")).toBeGreaterThanOrEqual(5 * 60);
    const order = JOB_NAMES.map(hourOf);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // The scheduler's own clock is off where the CronJobs drive the chain.
    const scheduler = ofKind("Deployment").find((d) => d.metadata.name === "scheduler")!;
    expect(scheduler.spec.template.spec.containers[0].env).toContainEqual({ name: "SCHEDULER_CLOCK", value: "off" });
  });

  it("runs NATS with JetStream and MongoDB as StatefulSets behind headless Services", () => {
    const sets = new Map(ofKind("StatefulSet").map((s) => [s.metadata.name, s]));
    expect(sets.get("nats")?.spec.template.spec.containers[0].args).toContain("-js");
    expect(sets.get("mongo")?.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(["--replSet"]));
    const headless = ofKind("Service").filter((s) => s.spec.clusterIP === "None").map((s) => s.metadata.name);
    expect(headless.sort()).toEqual(["mongo", "nats"]);
  });
});

describe("docker-compose.yml", () => {
  // Compose files use YAML merge keys (<<: *app); the yaml package applies them with merge: true.
  const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true }) as {
    services: Record<string, { image?: string; build?: unknown; command?: string[]; environment?: Record<string, string> }>;
  };

  it("runs each service in its own container from the Dockerfile", () => {
    for (const name of ALL_SERVICES) {
      const service = compose.services[name];
      expect(service).toBeDefined();
      expect(service.build).toBe(".");
      expect(service.environment?.SERVICES).toBe(name);
      expect(service.environment?.TRANSPORTER).toBe("nats://nats:4222");
      expect(service.environment?.MONGO_URL).toMatch(/^mongodb:\/\/mongo:27017\/.*replicaSet=rs0/);
    }
  });

  it("runs NATS with JetStream and MongoDB as a replica set", () => {
    expect(compose.services.nats.image).toMatch(/^nats:2\.10/);
    expect(compose.services.nats.command).toContain("-js");
    expect(compose.services.mongo.image).toBe("mongo:7");
    expect(compose.services.mongo.command).toEqual(expect.arrayContaining(["--replSet", "rs0"]));
  });
});
