/** Issue 7, point 7: exported metrics carry no paths, user, host or address details. */
import { ServiceBroker } from "moleculer";
import os from "node:os";
import { brokerOptions } from "../../../moleculer.config";
import { readConfig } from "../../../shared/config";
import { prometheusText, withoutHostDetails } from "../../../shared/runtime/prometheus";

it("exports the broker's numbers without host details", async () => {
  const broker = new ServiceBroker({ ...brokerOptions({ ...readConfig({}), logLevel: "error" }), logger: false, nodeID: "metrics-test" });
  broker.createService({ name: "m", actions: { ping: () => "pong" } });
  await broker.start();
  try {
    await broker.call("m.ping");
    const text = await (async () => {
      for (let i = 0; i < 50; i++) {
        const t = prometheusText(broker) ?? "";
        if (t.includes("moleculer_request_total")) return t;
        await new Promise((r) => setTimeout(r, 50));
      }
      return prometheusText(broker) ?? "";
    })();
    expect(text).toContain("moleculer_request_total");
    for (const name of ["process_arguments", "os_hostname", "os_release", "os_user_username", "os_user_homedir", "os_network_address", "os_network_mac", "os_cpu_info_model"]) {
      expect([name, text.includes(`\n${name}{`) || text.includes(`\n${name} `)]).toEqual([name, false]);
    }
    const samples = text.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(samples.some((l) => l.includes(process.cwd()))).toBe(false);
    expect(samples.some((l) => l.includes(`"${os.hostname()}"`))).toBe(false);
    expect(samples.some((l) => l.includes(os.userInfo().homedir))).toBe(false);
  } finally {
    await broker.stop();
  }
});

it("drops any sample whose labels would name a host, node, address or path", () => {
  const text = ['# HELP x', 'a{service="s"} 1', 'b{nodeID="pod-1"} 1', 'c{interface="eth0",address="10.0.0.1"} 1', 'd{k="v",path="/srv"} 1'].join("\n");
  expect(withoutHostDetails(text)).toBe(['# HELP x', 'a{service="s"} 1'].join("\n"));
});
